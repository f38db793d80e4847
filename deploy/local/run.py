#!/usr/bin/env python3
"""The local runner behind ``make run``: the whole system on one machine, as processes.

1. finds RabbitMQ (``AMQP_URI`` if set, else localhost:5672), or starts it
   (``rabbitmq-server -detached``), or installs it (``apt-get install rabbitmq-server``, as
   root), or says exactly what to do;
2. runs every database migration (each service and the gateway, SQLite files in
   ``CRM_DATA_DIR`` unless ``<SERVICE>_DATABASE_URL`` is set);
3. declares every queue the services consume from (``crm-setup-queues``) and sets up the
   partner bus (``crm-partner-bridge setup``: the partner vhost, ``crm.public``, the users of
   ``CRM_PARTNERS``; ``CRM_PARTNER_BUS=0`` turns it off; docs/partners.md);
4. starts every service found under ``services/`` (``nameko run``; ``CRM_REPLICAS`` copies of
   each), the partner bridge and the gateway on ``GATEWAY_PORT``; restarts a process that dies;
5. prints the URL and the admin login, and stops everything on Ctrl-C or SIGTERM.

New services join by existing: ``services/<name>/<name>/service.py`` with a ``config.yml``
and an ``alembic.ini`` next to it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def say(msg: str) -> None:
    print(f"[crm] {msg}", flush=True)


# -- broker ------------------------------------------------------------------------------


def broker_reachable(uri: str, timeout: float = 2.0) -> bool:
    parts = urllib.parse.urlsplit(uri)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), timeout):
            return True
    except OSError:
        return False


def wait_for_broker(uri: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if broker_reachable(uri):
            return True
        time.sleep(1)
    return False


INSTALL_HELP = """RabbitMQ is not running and could not be started here. Do one of:
  sudo apt-get update && sudo apt-get install -y rabbitmq-server && sudo rabbitmq-server -detached
  docker run -d --name rabbitmq -p 5672:5672 rabbitmq:3-management
or point AMQP_URI at a running broker, e.g. AMQP_URI=amqp://user:pass@host:5672/ make run"""


def ensure_broker() -> str:
    uri = os.environ.get("AMQP_URI")
    if uri:
        if not wait_for_broker(uri, 30):
            sys.exit(f"[crm] AMQP_URI={redact(uri)} is not reachable.")
        return uri
    uri = "amqp://guest:guest@127.0.0.1:5672/"
    if broker_reachable(uri):
        return uri
    if not shutil.which("rabbitmq-server"):
        if os.geteuid() == 0 and shutil.which("apt-get"):
            say("RabbitMQ is not installed: installing it with apt-get (rabbitmq-server)")
            subprocess.run(["apt-get", "update", "-q"], check=False)
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            result = subprocess.run(["apt-get", "install", "-y", "-q", "rabbitmq-server"], env=env)
            if result.returncode != 0:
                sys.exit("[crm] " + INSTALL_HELP)
        else:
            sys.exit("[crm] " + INSTALL_HELP)
    say("starting RabbitMQ (rabbitmq-server -detached)")
    subprocess.run(["rabbitmq-server", "-detached"], check=False)
    if not wait_for_broker(uri, 90):
        sys.exit("[crm] " + INSTALL_HELP)
    return uri


def redact(uri: str) -> str:
    parts = urllib.parse.urlsplit(uri)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}:{parts.port or 5672}"
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return uri


# -- discovery -----------------------------------------------------------------------------


def discover_services() -> list[str]:
    names = []
    for path in sorted((ROOT / "services").glob("*/*/service.py")):
        pkg = path.parent
        if pkg.name == pkg.parent.name and pkg.name != "common" and (pkg.parent / "config.yml").exists():
            names.append(pkg.name)
    return names


# -- set-up steps --------------------------------------------------------------------------


def migrate(directory: Path, env: dict) -> None:
    ini = directory / "alembic.ini"
    if not ini.exists():
        return
    result = subprocess.run(
        [str(BIN / "alembic"), "-c", str(ini), "upgrade", "head"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"[crm] migrations of {directory.name} failed")


def setup_queues(env: dict) -> None:
    result = subprocess.run(
        [str(BIN / "crm-setup-queues"), "--services-dir", str(ROOT / "services")],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit("[crm] queue setup failed")
    say(result.stdout.strip())


def setup_partner_bus(env: dict) -> bool:
    """``crm-partner-bridge setup``; whether the bridge can run. A broker this runner cannot
    administer (no ``RABBIT_MGMT_URL``, no ``rabbitmqctl``) only turns the partner bus off, unless
    partners are configured (``CRM_PARTNERS``): then it stops the start."""
    if env.get("CRM_PARTNER_BUS", "1") == "0":
        return False
    result = subprocess.run(
        [sys.executable, "-m", "crm_common.partner_bridge", "setup"],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        if env.get("CRM_PARTNERS", "").strip():
            sys.exit("[crm] partner bus setup failed")
        say("partner bus not set up (see above; CRM_PARTNER_BUS=0 silences this): no partner bridge")
        return False
    say(result.stdout.strip())
    return True


# -- processes -----------------------------------------------------------------------------


class Proc:
    def __init__(self, name: str, argv: list[str], env: dict, cwd: Path, log_path: Path | None):
        self.name, self.argv, self.env, self.cwd, self.log_path = name, argv, env, cwd, log_path
        self.popen: subprocess.Popen | None = None
        self.restarts = 0
        self.started_at = 0.0

    def start(self) -> None:
        out = open(self.log_path, "ab") if self.log_path else None
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            try:
                os.killpg(self.popen.pid, sig)  # type: ignore[union-attr]
            except ProcessLookupError:
                pass


def wait_ready(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as r:
                if r.status == 200:
                    return True
        except Exception:
            pass
        time.sleep(0.5)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the whole CRM locally")
    parser.add_argument("--broker-only", action="store_true", help="only find or start RabbitMQ")
    parser.add_argument("--setup-only", action="store_true", help="broker, migrations and queues, then exit")
    parser.add_argument(
        "--logs",
        choices=["console", "files"],
        default=os.environ.get("CRM_RUN_LOGS", "console"),
        help="where process output goes (files: CRM_DATA_DIR/logs/<name>.log)",
    )
    args = parser.parse_args(argv)

    amqp = ensure_broker()
    if args.broker_only:
        say(f"RabbitMQ is up at {redact(amqp)}")
        return 0
    data_dir = Path(os.environ.get("CRM_DATA_DIR", ROOT / "var")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = int(os.environ.get("GATEWAY_PORT", "8000"))
    services = discover_services()
    replicas = max(1, int(os.environ.get("CRM_REPLICAS", "1")))
    env = dict(
        os.environ,
        AMQP_URI=amqp,
        CRM_DATA_DIR=str(data_dir),
        CRM_SERVICES=",".join(services),
        GATEWAY_PORT=str(port),
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("GATEWAY_HOST", "127.0.0.1")
    if env.get("CRM_ENV", "development").lower() != "production":
        # development on one machine: webhooks to local receivers (docs/security.md)
        env.setdefault("CRM_WEBHOOKS_ALLOW_PRIVATE", "1")
    if not env.get("CRM_CONTEXT_KEY"):
        # the key every process signs and checks caller contexts with: this installation's own,
        # generated once in CRM_DATA_DIR/context-key (mode 0600) and reused (crm_common.signing)
        from crm_common.keyfile import load_or_create_secret
        from crm_common.signing import KEY_FILE

        env["CRM_CONTEXT_KEY"] = load_or_create_secret(data_dir / KEY_FILE, "caller-context key")

    say(f"services: {', '.join(services)}; data in {data_dir}; broker {redact(amqp)}")
    for name in services:
        migrate(ROOT / "services" / name, env)
    migrate(ROOT / "gateway", env)
    say("migrations applied")
    setup_queues(env)
    partner_bus = setup_partner_bus(env)
    if args.setup_only:
        return 0

    logs_dir = data_dir / "logs"
    logs_dir.mkdir(exist_ok=True)
    procs: list[Proc] = []
    for name in services:
        cfg = ROOT / "services" / name / "config.yml"
        for i in range(replicas):
            penv = dict(env, CRM_SERVICE_NAME=name)
            procs.append(
                Proc(
                    f"{name}#{i + 1}" if replicas > 1 else name,
                    [str(BIN / "nameko"), "run", "--config", str(cfg), f"{name}.service"],
                    penv,
                    ROOT / "services" / name,
                    logs_dir / f"{name}-{i + 1}.log" if args.logs == "files" else None,
                )
            )
    if partner_bus:
        procs.append(
            Proc(
                "partner-bridge",
                [sys.executable, "-m", "crm_common.partner_bridge", "run"],
                dict(env, CRM_SERVICE_NAME="partner-bridge"),
                ROOT,
                logs_dir / "partner-bridge.log" if args.logs == "files" else None,
            )
        )
    procs.append(
        Proc(
            "gateway",
            [str(BIN / "crm-gateway")],
            dict(env, CRM_SERVICE_NAME="gateway"),
            ROOT,
            logs_dir / "gateway.log" if args.logs == "files" else None,
        )
    )

    stopping = False

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    for p in procs:
        p.start()
    if wait_ready(port, 90):
        admin = os.environ.get("CRM_ADMIN_USERNAME", "admin")
        pw = "(from CRM_ADMIN_PASSWORD)" if os.environ.get("CRM_ADMIN_PASSWORD") else "admin"
        say(f"ready: http://127.0.0.1:{port}  (API docs: http://127.0.0.1:{port}/docs)")
        say(f"log in as {admin} / {pw}; Ctrl-C stops everything")
    elif not stopping:
        say(
            f"the gateway is not ready after 90 s; see http://127.0.0.1:{port}/readyz "
            f"{'and ' + str(logs_dir) if args.logs == 'files' else ''}"
        )

    while not stopping:
        for p in procs:
            if not p.alive() and not stopping:
                code = p.popen.returncode if p.popen else None
                p.restarts += 1
                delay = min(2 ** min(p.restarts, 5), 30) if time.monotonic() - p.started_at < 30 else 1
                say(f"{p.name} exited with {code}; restarting in {delay}s (restart #{p.restarts})")
                time.sleep(delay)
                if not stopping:
                    p.start()
        time.sleep(0.5)

    say("stopping")
    for p in procs:
        p.signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(p.alive() for p in procs):
        time.sleep(0.2)
    for p in procs:
        if p.alive():
            say(f"{p.name} did not stop in time; killing it")
            p.signal(signal.SIGKILL)
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
