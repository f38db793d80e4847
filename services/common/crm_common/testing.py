"""Test fixtures shared by every service's tests (a pytest plugin: ``pytest_plugins =
["crm_common.testing"]`` in a conftest).

* ``crm_amqp_uri`` — a throwaway RabbitMQ vhost for the test session, removed afterwards (made
  with ``rabbitmqctl``, or the management API at ``RABBIT_MGMT_URL`` when given). The broker
  is ``TEST_AMQP_URI`` (default ``amqp://guest:guest@127.0.0.1:5672/``).
* ``pg_url`` — a throwaway PostgreSQL database for the session (``TEST_PG_URL``, default
  ``postgresql://postgres@127.0.0.1:5432/postgres``), dropped afterwards; tests using it are
  skipped when PostgreSQL is not reachable.
* ``sqlite_url`` — a fresh SQLite file per test.

Caller context: the test process gets a random ``CRM_CONTEXT_KEY`` (unless one is set) when this
plugin loads, so the services, gateways and systems a test starts share it with the test's own
clients. Call services with :class:`ClusterRpcProxy` (re-exported from :mod:`crm_common.rpc`):
it signs ``context_data`` for each method called, as the gateway does. Publish events as a
service would with :func:`publish_event` (signed like the outbox relay; :func:`signed_headers`
for hand-made messages): handlers park unsigned events.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
import uuid

import pytest

# every process a test starts inherits it (services verify, the gateway and test clients sign)
os.environ.setdefault("CRM_CONTEXT_KEY", uuid.uuid4().hex + uuid.uuid4().hex)

BROKER = os.environ.get("TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
PG_ADMIN = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _mgmt(method: str, path: str, body: dict | None = None) -> None:
    base = os.environ["RABBIT_MGMT_URL"].rstrip("/")
    parts = urllib.parse.urlsplit(base)
    req = urllib.request.Request(
        f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"content-type": "application/json"},
    )
    cred = f"{parts.username or 'guest'}:{parts.password or 'guest'}".encode()
    req.add_header("authorization", "Basic " + base64.b64encode(cred).decode())
    urllib.request.urlopen(req, timeout=10).read()


def create_vhost(vhost: str) -> None:
    user = urllib.parse.urlsplit(BROKER).username or "guest"
    if os.environ.get("RABBIT_MGMT_URL"):
        q = urllib.parse.quote(vhost, safe="")
        _mgmt("PUT", f"/api/vhosts/{q}")
        _mgmt("PUT", f"/api/permissions/{q}/{user}", {"configure": ".*", "write": ".*", "read": ".*"})
        return
    if not shutil.which("rabbitmqctl"):
        raise RuntimeError(
            "cannot make a test vhost: no rabbitmqctl here; set RABBIT_MGMT_URL to the broker's "
            "management API (e.g. http://guest:guest@127.0.0.1:15672)"
        )
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )


def delete_vhost(vhost: str) -> None:
    if os.environ.get("RABBIT_MGMT_URL"):
        _mgmt("DELETE", f"/api/vhosts/{urllib.parse.quote(vhost, safe='')}")
        return
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, capture_output=True)


def vhost_uri(vhost: str) -> str:
    parts = urllib.parse.urlsplit(BROKER)
    return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(vhost, safe="")))


@pytest.fixture(scope="session")
def crm_amqp_uri():
    vhost = f"crm-test-{uuid.uuid4().hex[:12]}"
    create_vhost(vhost)
    try:
        yield vhost_uri(vhost)
    finally:
        delete_vhost(vhost)


def pg_available() -> bool:
    try:
        import psycopg2

        psycopg2.connect(PG_ADMIN, connect_timeout=3).close()
        return True
    except Exception:
        return False


def create_pg_database(name: str) -> str:
    import psycopg2

    conn = psycopg2.connect(PG_ADMIN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    parts = urllib.parse.urlsplit(PG_ADMIN)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def drop_pg_database(name: str) -> None:
    import psycopg2

    conn = psycopg2.connect(PG_ADMIN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture(scope="session")
def pg_url():
    if not pg_available():
        pytest.skip("PostgreSQL is not reachable at TEST_PG_URL")
    name = f"crm_test_{uuid.uuid4().hex[:12]}"
    url = create_pg_database(name)
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request, tmp_path):
    """A fresh database of each kind: an SQLite file, and a PostgreSQL database (skipped when
    PostgreSQL is not reachable)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if not pg_available():
        pytest.skip("PostgreSQL is not reachable at TEST_PG_URL")
    name = f"crm_test_{uuid.uuid4().hex[:12]}"
    url = create_pg_database(name)
    try:
        yield url
    finally:
        drop_pg_database(name)


# -- the whole system as processes (end-to-end tests, benchmarks) ---------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningSystem:
    def __init__(self, base_url: str, amqp_uri: str, data_dir, admin_password: str, context_key: str = ""):
        self.base_url = base_url
        self.amqp_uri = amqp_uri
        self.data_dir = data_dir
        self.admin_password = admin_password
        self.context_key = context_key  # the system's CRM_CONTEXT_KEY (signs caller contexts)


def run_system(root, data_dir, env_overrides: dict | None = None, ready_seconds: float = 120):
    """Start every service and the gateway with the project's local runner
    (``deploy/local/run.py``, the same code path as ``make run``) on a throwaway vhost, yield a
    :class:`RunningSystem`, and stop it all (and remove the vhost) afterwards. The system's
    ``CRM_CONTEXT_KEY`` is this process's (``env_overrides`` may set another one)."""
    import contextlib
    import signal
    import sys
    import time
    from pathlib import Path

    @contextlib.contextmanager
    def _run():
        vhost = f"crm-sys-{uuid.uuid4().hex[:10]}"
        create_vhost(vhost)
        port = free_port()
        admin_password = f"adm-{uuid.uuid4().hex[:12]}"
        env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
        env.update(
            AMQP_URI=vhost_uri(vhost),
            CRM_DATA_DIR=str(data_dir),
            GATEWAY_PORT=str(port),
            CRM_ADMIN_USERNAME="admin",
            CRM_ADMIN_PASSWORD=admin_password,
            CRM_DAILY_DISABLED="1",
            # suites and benchmarks keep one access token for their whole run (hours, fuzzing)
            CRM_JWT_TTL_MINUTES="720",
            CRM_CONTEXT_KEY=os.environ["CRM_CONTEXT_KEY"],
        )
        env.update(env_overrides or {})
        runner = subprocess.Popen(
            [sys.executable, str(Path(root) / "deploy/local/run.py"), "--logs", "files"],
            env=env,
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + ready_seconds
            while runner.poll() is None and time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"{base}/readyz", timeout=3) as r:
                        if r.status == 200:
                            break
                except Exception:
                    pass
                time.sleep(0.5)
            else:
                os.killpg(runner.pid, signal.SIGTERM)
                out = runner.communicate(timeout=30)[0]
                logs = "".join(
                    p.read_text(errors="replace")[-3000:] for p in (Path(data_dir) / "logs").glob("*.log")
                )
                raise RuntimeError(f"the system did not become ready:\n{out[-5000:]}\n{logs}")
            yield RunningSystem(
                base, vhost_uri(vhost), Path(data_dir), admin_password, env.get("CRM_CONTEXT_KEY", "")
            )
        finally:
            if runner.poll() is None:
                os.killpg(runner.pid, signal.SIGTERM)
                try:
                    runner.communicate(timeout=40)
                except subprocess.TimeoutExpired:
                    os.killpg(runner.pid, signal.SIGKILL)
                    runner.communicate()
            delete_vhost(vhost)
            with contextlib.suppress(Exception):  # the partner bus the runner set up
                delete_vhost(f"{vhost}-partner")

    return _run()


# -- helpers for a service's own tests -------------------------------------------------------


def new_caller(*roles: str, user_id: int | None = None, department: str | None = None):
    """A :class:`~crm_common.context.CallerContext` as the gateway sends it."""
    from .context import CallerContext

    return CallerContext(
        user_id=user_id,
        username=f"user{user_id}" if user_id else None,
        roles=tuple(roles),
        department=department,
        request_id=uuid.uuid4().hex,
    )


@pytest.fixture
def make_caller():
    """``make_caller("sales_rep", user_id=5)`` → a CallerContext as the gateway sends it."""
    return new_caller


def __getattr__(name: str):
    # imported on use: the plugin itself must not pull Nameko's RPC machinery into every run
    if name == "ClusterRpcProxy":
        from .rpc import ClusterRpcProxy

        return ClusterRpcProxy
    raise AttributeError(name)


def outbox_payloads(handle, event_type: str) -> list[dict]:
    """Payloads of the events of ``event_type`` a service wrote to its outbox, oldest first."""
    from sqlalchemy import select

    table = handle.infra.outbox
    with handle.read() as s:
        rows = s.execute(select(table.c.body).where(table.c.type == event_type).order_by(table.c.id))
        return [json.loads(r.body)["payload"] for r in rows]


# -- events as a service's outbox relay publishes them --------------------------------------


def signed_headers(source: str, event_type: str, event_id: str, body: bytes | str) -> dict[str, str]:
    """The headers the outbox relay of ``source`` gives an event (``event_id``, ``event_type``,
    ``x-crm-signature`` over these exact body bytes, with this process's key)."""
    from .signing import event_headers

    return event_headers(source, event_type, event_id, body)


def publish_event(
    amqp_uri: str,
    source: str,
    envelope: dict,
    *,
    event_type: str | None = None,
    signed: bool = True,
    headers: dict | None = None,
    times: int = 1,
) -> dict:
    """Publish ``envelope`` on ``<source>.events`` (routing key ``event_type``, default the
    envelope's ``type``) as the outbox relay of ``source`` does: JSON body, persistent, signed
    (``signed=False``: without a signature, as a forger would; ``headers`` are added last).
    ``times``: the same message more than once (at-least-once delivery). Returns the envelope."""
    from kombu import Connection

    from .outbox import event_exchange

    event_type = event_type or envelope["type"]
    body = json.dumps(envelope).encode("utf-8")
    all_headers: dict = {"event_id": str(envelope.get("event_id")), "event_type": event_type}
    if signed:
        all_headers = signed_headers(source, event_type, str(envelope.get("event_id")), body)
    all_headers.update(headers or {})
    exchange = event_exchange(source)
    with Connection(amqp_uri) as conn:
        producer = conn.Producer()
        for _ in range(times):
            producer.publish(
                body,
                exchange=exchange,
                routing_key=event_type,
                content_type="application/json",
                content_encoding="utf-8",
                headers=all_headers,
                delivery_mode=2,
                declare=[exchange],
                retry=True,
            )
    return envelope
