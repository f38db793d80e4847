"""The fault-test harness: the whole system as processes this test controls one by one.

It reuses the building blocks of the local runner (``deploy/local/run.py``: service discovery,
migrations, queue set-up, :class:`Proc`) but, unlike ``make run``, restarts nothing on its own:
a test kills a process with SIGKILL (``kill -9`` of its process group) and starts it again when
it chooses. Also here:

* :class:`PrivateRabbit` — a RabbitMQ node of its own (own node name, ports, data and log
  directories, no plugins) that a test may stop and start again on the same data directory,
  so the machine's shared broker at 127.0.0.1:5672 is never touched;
* :class:`PgOutage` — "stops" one service's PostgreSQL database on a shared server:
  ``ALTER DATABASE … WITH ALLOW_CONNECTIONS false`` plus ``pg_terminate_backend`` of its
  sessions, then allows connections again;
* :class:`Prober` — a client loop hitting one gateway endpoint, recording status codes and
  durations (a client timeout counts as a hang);
* :func:`dlq_depths` — the depth of every dead-letter queue and ``crm.malformed``.

Run with ``make test-faults`` (everything) or ``make test-faults-quick`` (the CI subset).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from crm_common.testing import free_port

ROOT = Path(__file__).resolve().parents[2]


def _load_runner():
    spec = importlib.util.spec_from_file_location("crm_local_runner", ROOT / "deploy" / "local" / "run.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


runner = _load_runner()

# the gateway endpoint that reaches each service (probed while the service is down)
PROBE_PATHS = {
    "customers": "/api/v1/customers?page_size=1",
    "contracts": "/api/v1/contracts?page_size=1",
    "approvals": "/api/v1/approvals?page_size=1",
    "billing": "/api/v1/invoices?page_size=1",
    "inventory": "/api/v1/products?page_size=1",
    "notify": "/api/v1/notifications?page_size=1",
    "gateway": "/api/v1/customers?page_size=1",
}


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), 1):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------
# The system
# --------------------------------------------------------------------------------------


class Cluster:
    """Every service of ``services/`` and the gateway, one process each, on ``amqp_uri``."""

    def __init__(self, amqp_uri: str, data_dir: Path, overrides: dict[str, str] | None = None):
        self.amqp_uri = amqp_uri
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.admin_password = f"adm-{os.urandom(6).hex()}"
        self.services = runner.discover_services()
        env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
        env.update(
            AMQP_URI=amqp_uri,
            CRM_DATA_DIR=str(self.data_dir),
            CRM_SERVICES=",".join(self.services),
            GATEWAY_PORT=str(self.port),
            GATEWAY_HOST="127.0.0.1",
            PYTHONUNBUFFERED="1",
            CRM_ADMIN_USERNAME="admin",
            CRM_ADMIN_PASSWORD=self.admin_password,
            CRM_DAILY_DISABLED="1",
        )
        env.update(overrides or {})
        self.env = env
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, runner.Proc] = {}
        for name in self.services:
            self.procs[name] = runner.Proc(
                name,
                [str(runner.BIN / "nameko"), "run", "--config", str(ROOT / "services" / name / "config.yml"),
                 f"{name}.service"],
                dict(env, CRM_SERVICE_NAME=name),
                ROOT / "services" / name,
                logs / f"{name}.log",
            )  # fmt: skip
        self.procs["gateway"] = runner.Proc(
            "gateway",
            [str(runner.BIN / "crm-gateway")],
            dict(env, CRM_SERVICE_NAME="gateway"),
            ROOT,
            logs / "gateway.log",
        )

    def setup(self) -> None:
        """Migrations of every database and every queue, as ``make run`` does before starting."""
        for name in self.services:
            runner.migrate(ROOT / "services" / name, self.env)
        runner.migrate(ROOT / "gateway", self.env)
        runner.setup_queues(self.env)

    def start_all(self, ready_seconds: float = 180) -> None:
        for proc in self.procs.values():
            proc.start()
        if not self.wait_ready(ready_seconds):
            raise RuntimeError(f"the system did not become ready:\n{self.log_tail()}")

    def wait_ready(self, seconds: float) -> bool:
        return runner.wait_ready(self.port, seconds)

    def kill(self, name: str) -> None:
        """``kill -9`` of the process (its whole process group), and reap it."""
        proc = self.procs[name]
        proc.signal(signal.SIGKILL)
        if proc.popen is not None:
            proc.popen.wait(30)

    def start(self, name: str) -> None:
        self.procs[name].start()

    def alive(self) -> dict[str, bool]:
        return {name: p.alive() for name, p in self.procs.items()}

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(p.alive() for p in self.procs.values()):
            time.sleep(0.2)
        for proc in self.procs.values():
            proc.signal(signal.SIGKILL)
            if proc.popen is not None:
                try:
                    proc.popen.wait(10)
                except subprocess.TimeoutExpired:
                    pass

    def log_text(self, name: str) -> str:
        path = self.data_dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the log of every process that died, and the last warnings and errors of
        the others (for an assertion message)."""
        parts = []
        for name, proc in self.procs.items():
            text = self.log_text(name)
            if not proc.alive():
                parts.append(f"--- {name} (dead)\n{text[-chars:]}")
                continue
            worrying = [line[:400] for line in text.splitlines() if '"level": "info"' not in line]
            parts.append(f"--- {name}\n" + "\n".join(worrying[-8:]))
        return "\n".join(parts)


# --------------------------------------------------------------------------------------
# A private RabbitMQ node
# --------------------------------------------------------------------------------------


class PrivateRabbit:
    """A RabbitMQ node of this test's own, stopped and started again on the same data
    directory (durable queues and persistent messages survive). The Debian packaging runs the
    node as the ``rabbitmq`` user, so its directory lives outside pytest's private temp dirs and
    belongs to that user."""

    def __init__(self) -> None:
        if not shutil.which("rabbitmq-server") or not shutil.which("rabbitmqctl"):
            raise FileNotFoundError("rabbitmq-server is not installed on this machine")
        self.dir = Path(tempfile.mkdtemp(prefix="crm-faults-rabbit-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.dist_port = free_port()
        self.node = f"crmfaults{os.urandom(4).hex()}@localhost"
        (self.dir / "mnesia").mkdir()
        (self.dir / "log").mkdir()
        (self.dir / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (self.dir / "rabbitmq-env.conf").write_text("")
        (self.dir / "enabled_plugins").write_text("[].\n")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "rabbitmq", "rabbitmq")
            for path in self.dir.rglob("*"):
                shutil.chown(path, "rabbitmq", "rabbitmq")
        self.env = dict(
            os.environ,
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(self.dir / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.dir / "log"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.dir / "enabled_plugins"),
            RABBITMQ_CONFIG_FILE=str(self.dir / "rabbitmq.conf"),
            RABBITMQ_CONF_ENV_FILE=str(self.dir / "rabbitmq-env.conf"),
            ERL_EPMD_ADDRESS="127.0.0.1",
        )
        self.popen: subprocess.Popen | None = None
        self.amqp_uri = f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self, seconds: float = 120) -> float:
        """Start the node; return how long it took to accept connections."""
        began = time.monotonic()
        out = open(self.dir / "server.out", "ab")
        self.popen = subprocess.Popen(
            ["rabbitmq-server"], env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        while time.monotonic() - began < seconds:
            if self.popen.poll() is not None:
                break
            if port_open(self.port) and self._ctl("await_startup").returncode == 0:
                return time.monotonic() - began
            time.sleep(0.5)
        raise RuntimeError(
            f"private RabbitMQ did not start:\n{(self.dir / 'server.out').read_text()[-3000:]}"
        )

    def _ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["rabbitmqctl", "-n", self.node, *args], env=self.env, capture_output=True, text=True, timeout=60
        )

    def stop(self) -> None:
        """A clean broker stop (``rabbitmqctl stop``), then wait for the process to end."""
        self._ctl("stop")
        if self.popen is not None:
            try:
                self.popen.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)

    def close(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.stop()
            if self.popen.poll() is None:
                os.killpg(self.popen.pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------------------
# A database outage on a shared PostgreSQL server
# --------------------------------------------------------------------------------------


class PgOutage:
    """Make one database unavailable: no new connections, every session terminated."""

    def __init__(self, admin_url: str, database: str):
        self.admin_url = admin_url
        self.database = database

    def _execute(self, sql: str, *params) -> None:
        import psycopg2

        conn = psycopg2.connect(self.admin_url)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
        finally:
            conn.close()

    def stop(self) -> None:
        self._execute(f'ALTER DATABASE "{self.database}" WITH ALLOW_CONNECTIONS false')
        self._execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            self.database,
        )

    def start(self) -> None:
        self._execute(f'ALTER DATABASE "{self.database}" WITH ALLOW_CONNECTIONS true')


# --------------------------------------------------------------------------------------
# Clients that record what they got
# --------------------------------------------------------------------------------------


@dataclass
class Answer:
    at: float  # monotonic time the request was sent
    method: str
    path: str
    status: int | str  # HTTP status, or "refused" (nothing listening), "timeout" (a hang)
    seconds: float


@dataclass
class Record:
    """Every answer a test's clients got, for the checks: never a 500, never a hang."""

    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)

    def bad(self) -> list[Answer]:
        """Answers a client must never get: a 5xx other than 503/504, a client timeout."""
        return [
            a
            for a in self.answers
            if a.status == "timeout"
            or (isinstance(a.status, int) and a.status >= 500 and a.status not in (503, 504))
        ]

    def count(self, *statuses) -> int:
        return sum(1 for a in self.answers if a.status in statuses)


class Api:
    """An authenticated HTTP client recording every answer (status and duration) in a Record."""

    CLIENT_TIMEOUT = 45.0  # well above the gateway's RPC timeout: a timeout here is a hang

    def __init__(self, base_url: str, token: str, record: Record):
        self.record = record
        self.http = httpx.Client(
            base_url=base_url, timeout=self.CLIENT_TIMEOUT, headers={"Authorization": f"Bearer {token}"}
        )

    def request(self, method: str, path: str, **kwargs) -> httpx.Response | None:
        """The response, or None when nothing answered (refused, or a client timeout)."""
        return self.exchange(method, path, **kwargs)[0]

    def exchange(self, method: str, path: str, **kwargs) -> tuple[httpx.Response | None, Answer]:
        began = time.monotonic()
        status: int | str
        response = None
        try:
            response = self.http.request(method, path, **kwargs)
            status = response.status_code
        except httpx.TimeoutException:
            status = "timeout"
        except httpx.TransportError:
            status = "refused"
        answer = Answer(began, method, path, status, time.monotonic() - began)
        self.record.add(answer)
        return response, answer

    def close(self) -> None:
        self.http.close()


def token(base_url: str, username: str, password: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            r = httpx.post(
                f"{base_url}/api/v1/auth/token", data={"username": username, "password": password}, timeout=30
            )
            if r.status_code == 200:
                return r.json()["access_token"]
            last = r.text
        except httpx.TransportError as exc:
            last = repr(exc)
        time.sleep(0.5)
    raise AssertionError(f"no token for {username}: {last}")


class Prober(threading.Thread):
    """Hits one gateway endpoint every ``interval`` seconds while running; records answers."""

    def __init__(self, api: Api, path: str, interval: float = 0.3):
        super().__init__(daemon=True)
        self.api = api
        self.path = path
        self.interval = interval
        self.stopping = threading.Event()
        self.answers: list[Answer] = []

    def run(self) -> None:
        while not self.stopping.is_set():
            self.answers.append(self.api.exchange("GET", self.path)[1])
            self.stopping.wait(self.interval)

    def first_success_after(self, moment: float, seconds: float) -> float | None:
        """Seconds from ``moment`` to the first 2xx sent after it (None if none within ``seconds``)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for a in list(self.answers):
                if a.at >= moment and isinstance(a.status, int) and 200 <= a.status < 300:
                    return a.at + a.seconds - moment
            time.sleep(0.2)
        return None

    def stop(self) -> None:
        self.stopping.set()
        self.join(60)


# --------------------------------------------------------------------------------------
# Dead-letter queues
# --------------------------------------------------------------------------------------


def dlq_depths(amqp_uri: str) -> dict[str, int]:
    """Messages waiting in every ``*.dlq`` queue of every service and in ``crm.malformed``."""
    code = (
        "import json, sys\n"
        "from kombu import Connection, Queue\n"
        "from crm_common.dlq import _queue_names\n"
        "out = {}\n"
        "with Connection(sys.argv[1]) as conn:\n"
        "    for name in _queue_names(sys.argv[2]):\n"
        "        try:\n"
        "            out[name] = Queue(name, durable=True)(conn.channel()).queue_declare(passive=True).message_count\n"
        "        except Exception:\n"
        "            out[name] = -1\n"
        "print(json.dumps(out))\n"
    )
    # a child process: importing every service module here would drag eventlet into the test
    result = subprocess.run(
        [sys.executable, "-c", code, amqp_uri, str(ROOT / "services")],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, CRM_DAILY_DISABLED="1"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
