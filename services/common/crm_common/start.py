"""``crm-start``: how a container (and anything else that wants to) starts a CRM process, the
same way everywhere — the images, docker compose, the Kubernetes manifests.

    crm-start service customers      # wait for the broker (and database), migrate, declare the
                                     # service's queues, then exec `nameko run`
    crm-start service customers --no-setup   # only wait and exec (an init container migrated)
    crm-start gateway                # migrate the gateway's database, exec `crm-gateway`
    crm-start migrate customers      # wait, migrate, declare queues, exit (Job / init container)
    crm-start migrate gateway        # the gateway's migrations (no broker needed)
    crm-start health customers       # exec probe: the heartbeat file is fresh (exit 0) or not (1)
    crm-start health gateway         # HTTP GET /healthz (``--ready``: /readyz) on GATEWAY_PORT
    crm-start wait                   # only wait for the broker

NAME defaults to ``CRM_SERVICE_NAME`` (set in each image), so an image's command is just
``crm-start service`` and its health check ``crm-start health``.

Directories: ``CRM_SERVICES_DIR`` (default ``./services``) holds ``<name>/config.yml`` and
``<name>/alembic.ini``; ``CRM_GATEWAY_DIR`` (default ``<services dir>/../gateway``) holds the
gateway's ``alembic.ini``. Waiting: ``CRM_WAIT_SECONDS`` (default 120) for the broker
(``AMQP_URI``) and, when ``<NAME>_DATABASE_URL`` is a network URL, for the database server.
Migrations of several replicas starting at once are serialised by a PostgreSQL advisory lock.

Liveness of a Nameko service: :class:`Heartbeat`, a dependency provider that rewrites
``CRM_HEARTBEAT_FILE`` every ``CRM_HEARTBEAT_SECONDS`` (default 10) from a green thread of the
running container, so a dead or wedged event loop stops refreshing it; ``crm-start health``
fails when the file is older than ``--max-age`` (default ``CRM_HEARTBEAT_MAX_AGE`` or 6 beats).
A live event loop is not enough: the provider also watches the service's workers (every
entrypoint call), and while one has been running longer than ``CRM_WORKER_STUCK_SECONDS``
(default 120; 0 turns the check off; the daily jobs get 30 times that) it writes a ``stuck``
state instead, which the probe reports as a failure at once, so a process whose workers wedge
(blocked on a lock, waiting for something that never comes) is restarted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path

from nameko.extensions import DependencyProvider

DEFAULT_HEARTBEAT_FILE = "/tmp/crm-heartbeat"
STUCK_ENV = "CRM_WORKER_STUCK_SECONDS"
DEFAULT_STUCK_SECONDS = 120.0
# entrypoints that may legitimately run long (a catch-up daily run): multiples of the limit
LONG_RUNNING = {"run_daily": 30, "daily_tick": 30}


def say(msg: str) -> None:
    print(f"[crm-start] {msg}", file=sys.stderr, flush=True)


# -- heartbeat -------------------------------------------------------------------------------


def heartbeat_file() -> Path:
    return Path(os.environ.get("CRM_HEARTBEAT_FILE") or DEFAULT_HEARTBEAT_FILE)


def heartbeat_interval() -> float:
    raw = os.environ.get("CRM_HEARTBEAT_SECONDS")
    return float(raw) if raw else 10.0


def worker_stuck_seconds() -> float:
    """How long a worker may run before the service counts as wedged (0: never)."""
    raw = os.environ.get(STUCK_ENV, "").strip()
    try:
        return max(float(raw), 0.0) if raw else DEFAULT_STUCK_SECONDS
    except ValueError:
        say(f"{STUCK_ENV}={raw!r} is not a number of seconds; using {DEFAULT_STUCK_SECONDS:g}")
        return DEFAULT_STUCK_SECONDS


def beat(path: Path | None = None, stuck: str | None = None) -> None:
    """Write the heartbeat file (atomically: a probe never reads half a file); with ``stuck``
    (what is stuck), a state the probe reads as a failure."""
    path = path or heartbeat_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{time.time():.3f}" + (f" stuck: {stuck}" if stuck else "") + "\n")
    os.replace(tmp, path)


def heartbeat_problem(path: Path | None = None) -> str | None:
    """What the heartbeat file says is stuck, if anything."""
    try:
        text = (path or heartbeat_file()).read_text()
    except OSError:
        return None
    _, found, problem = text.partition(" stuck: ")
    return problem.strip() or "a worker" if found else None


class Heartbeat(DependencyProvider):
    """Refreshes the heartbeat file while the Nameko container runs; removes it on stop.

    Wire it once into ``ServiceBase`` (``heartbeat = Heartbeat()``); services see nothing of it
    (the injected value is ``None``). Without ``CRM_HEARTBEAT_FILE`` it writes the default
    path only when ``CRM_HEARTBEAT=1``, so tests and ``make run`` are not affected.
    """

    def __init__(self, interval: float | None = None, stuck_seconds: float | None = None):
        self.interval = interval
        self.stuck_seconds = stuck_seconds
        self._gt = None
        self._path: Path | None = None
        self._running: dict[int, tuple[float, str]] = {}  # worker → (started, entrypoint)
        self._reported: set[int] = set()

    def setup(self):
        enabled = os.environ.get("CRM_HEARTBEAT_FILE") or os.environ.get("CRM_HEARTBEAT") == "1"
        self._path = heartbeat_file() if enabled else None

    def start(self):
        if self._path is not None:
            beat(self._path)
            self._gt = self.container.spawn_managed_thread(self._run, identifier="crm-heartbeat")

    def _run(self):
        import eventlet

        interval = self.interval or heartbeat_interval()
        while True:
            eventlet.sleep(interval)
            self.check()

    # -- workers ---------------------------------------------------------------------------
    def worker_setup(self, worker_ctx):
        self._running[id(worker_ctx)] = (time.monotonic(), worker_ctx.entrypoint.method_name)

    def worker_teardown(self, worker_ctx):
        self._running.pop(id(worker_ctx), None)
        self._reported.discard(id(worker_ctx))

    def stuck(self, now: float | None = None) -> list[tuple[int, str, float]]:
        """The workers running longer than their limit: (key, entrypoint, seconds), oldest first."""
        limit = worker_stuck_seconds() if self.stuck_seconds is None else self.stuck_seconds
        if limit <= 0:
            return []
        now = time.monotonic() if now is None else now
        found = [
            (key, name, now - started)
            for key, (started, name) in list(self._running.items())
            if now - started > limit * LONG_RUNNING.get(name, 1)
        ]
        return sorted(found, key=lambda w: -w[2])

    def check(self, now: float | None = None) -> str | None:
        """One beat: a fresh heartbeat, or the ``stuck`` state while a worker overruns its
        limit (logged once per worker); what is stuck, if anything."""
        stuck = self.stuck(now)
        problem = None
        if stuck:
            _, name, age = stuck[0]
            problem = f"{len(stuck)} worker(s) running too long, {name} for {age:.0f}s"
            for key, name, age in stuck:
                if key not in self._reported:
                    self._reported.add(key)
                    say(
                        f"{getattr(self.container, 'service_name', 'service')}.{name} has run for {age:.0f}s: liveness fails"
                    )
        if self._path is not None:
            try:
                beat(self._path, problem)
            except OSError as exc:  # a full or read-only disk: the probe will say so
                say(f"heartbeat not written: {exc}")
        return problem

    def stop(self):
        if self._gt is not None:
            self._gt.kill()
            self._gt = None
        if self._path is not None:
            with contextlib.suppress(OSError):
                self._path.unlink()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return None


def heartbeat_age(path: Path | None = None) -> float | None:
    try:
        return time.time() - (path or heartbeat_file()).stat().st_mtime
    except OSError:
        return None


# -- waiting ---------------------------------------------------------------------------------


def _reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout):
            return True
    except OSError:
        return False


def wait_for(what: str, url: str, default_port: int, seconds: float) -> None:
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    deadline = time.monotonic() + seconds
    delay = 0.5
    while not _reachable(host, port):
        if time.monotonic() > deadline:
            raise SystemExit(f"[crm-start] {what} at {host}:{port} not reachable after {seconds:.0f}s")
        say(f"waiting for {what} at {host}:{port}")
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


def wait_seconds() -> float:
    return float(os.environ.get("CRM_WAIT_SECONDS") or 120)


def wait_broker() -> None:
    from .config import amqp_uri

    wait_for("RabbitMQ", amqp_uri(), 5672, wait_seconds())


def database_env(name: str) -> str:
    return f"{name.upper()}_DATABASE_URL"


def wait_database(name: str) -> None:
    url = os.environ.get(database_env(name), "")
    if url.startswith("postgresql"):
        wait_for(f"the {name} database", url, 5432, wait_seconds())


# -- directories -----------------------------------------------------------------------------


def services_dir() -> Path:
    return Path(os.environ.get("CRM_SERVICES_DIR") or "services").resolve()


def app_dir(name: str) -> Path:
    if name == "gateway":
        return Path(os.environ.get("CRM_GATEWAY_DIR") or services_dir().parent / "gateway").resolve()
    return services_dir() / name


def _bin(program: str) -> str:
    """A console script of this environment (next to the interpreter), else from PATH."""
    local = Path(sys.executable).parent / program
    return str(local) if local.exists() else (shutil.which(program) or program)


# -- migrations and queues -------------------------------------------------------------------


@contextlib.contextmanager
def migration_lock(name: str) -> Iterator[None]:
    """A PostgreSQL advisory lock per database, so that replicas migrate one at a time (the
    others then find the schema current). SQLite: nothing to do (one process migrates)."""
    url = os.environ.get(database_env(name), "")
    if not url.startswith("postgresql"):
        yield
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    key = zlib.crc32(f"crm-migrate-{name}".encode())
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        engine.dispose()


def run_step(argv: list[str], cwd: Path, what: str) -> None:
    result = subprocess.run(argv, cwd=cwd)
    if result.returncode != 0:
        raise SystemExit(f"[crm-start] {what} failed (exit {result.returncode}): {' '.join(argv)}")


def migrate(name: str) -> None:
    directory = app_dir(name)
    if not (directory / "alembic.ini").exists():
        say(f"{directory}/alembic.ini not found: no migrations for {name}")
        return
    wait_database(name)
    with migration_lock(name):
        run_step(
            [_bin("alembic"), "-c", "alembic.ini", "upgrade", "head"], directory, f"migrations of {name}"
        )
    say(f"{name}: migrations applied")


def setup_queues(name: str) -> None:
    run_step([_bin("crm-setup-queues"), f"{name}.service"], app_dir(name), f"queue setup of {name}")


def prepare(name: str) -> None:
    if name == "gateway":  # the gateway needs only its database (it serves 503 until the broker is up)
        migrate(name)
        return
    wait_broker()
    migrate(name)
    setup_queues(name)


# -- starting --------------------------------------------------------------------------------


def exec_service(name: str) -> None:
    directory = app_dir(name)
    os.environ.setdefault("CRM_SERVICE_NAME", name)
    argv = [_bin("nameko"), "run", "--config", str(directory / "config.yml"), f"{name}.service"]
    say(f"starting {name}: {' '.join(argv)}")
    os.chdir(directory)
    os.execv(argv[0], argv)


def exec_gateway() -> None:
    os.environ.setdefault("CRM_SERVICE_NAME", "gateway")
    os.environ["GATEWAY_MIGRATE_ON_START"] = "false"  # done just before (or by the init container)
    argv = [_bin("crm-gateway")]
    say("starting the gateway")
    os.execv(argv[0], argv)


def health(name: str, max_age: float | None, ready: bool) -> int:
    if name == "gateway":
        port = os.environ.get("GATEWAY_PORT", "8000")
        path = "/readyz" if ready else "/healthz"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
                return 0 if r.status == 200 else 1
        except Exception as exc:
            print(f"gateway {path}: {exc}")
            return 1
    limit = max_age or float(os.environ.get("CRM_HEARTBEAT_MAX_AGE") or 6 * heartbeat_interval())
    age = heartbeat_age()
    if age is None:
        print(f"{name}: no heartbeat file {heartbeat_file()} (not started yet, or stopped)")
        return 1
    if age > limit:
        print(f"{name}: heartbeat {age:.0f}s old (limit {limit:.0f}s)")
        return 1
    problem = heartbeat_problem()
    if problem:
        print(f"{name}: stuck: {problem}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm-start", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    default_name = os.environ.get("CRM_SERVICE_NAME")
    p = sub.add_parser("service", help="prepare (unless --no-setup) and run a Nameko service")
    p.add_argument("name", nargs="?" if default_name else None, default=default_name)
    p.add_argument("--no-setup", action="store_true", help="skip migrations and queue setup")
    p = sub.add_parser("gateway", help="prepare (unless --no-setup) and run the gateway")
    p.add_argument("--no-setup", action="store_true", help="skip migrations")
    p = sub.add_parser("migrate", help="wait, migrate and declare queues, then exit")
    p.add_argument("name", nargs="?" if default_name else None, default=default_name)
    p = sub.add_parser("health", help="probe: exit 0 when healthy")
    p.add_argument("name", nargs="?" if default_name else None, default=default_name)
    p.add_argument("--max-age", type=float, default=None, help="heartbeat age limit (s)")
    p.add_argument("--ready", action="store_true", help="gateway: /readyz instead of /healthz")
    sub.add_parser("wait", help="wait for the broker")
    args = parser.parse_args(argv)

    if args.cmd == "health":
        return health(args.name, args.max_age, args.ready)
    if args.cmd == "wait":
        wait_broker()
        return 0
    if args.cmd == "migrate":
        prepare(args.name)
        return 0
    if args.cmd == "gateway":
        if not args.no_setup:
            migrate("gateway")
        exec_gateway()
    if args.cmd == "service":
        if not (app_dir(args.name) / "config.yml").exists():
            parser.error(f"no {app_dir(args.name)}/config.yml (CRM_SERVICES_DIR={services_dir()})")
        if args.no_setup:
            wait_broker()
        else:
            prepare(args.name)
        exec_service(args.name)
    return 0  # pragma: no cover (exec does not return)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
