"""Gateway test fixtures: a throwaway vhost (``crm_amqp_uri`` from crm_common.testing), the real
Nameko test services of ``gateway_test_service.py`` running in a subprocess on it, and the app
with a fresh SQLite database per test."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
GATEWAY_DIR = TESTS_DIR.parent
os.environ.setdefault("CRM_VALIDATE_EVENTS", "1")  # published events checked against the catalogue
# Run from the repository root, `gateway/` (no __init__.py) would shadow the package as a
# namespace package ahead of a finder-based editable install: put the project dir first.
if str(GATEWAY_DIR) not in sys.path:
    sys.path.insert(0, str(GATEWAY_DIR))
_ns = sys.modules.get("gateway")
if _ns is not None and getattr(_ns, "__file__", None) is None:
    del sys.modules["gateway"]

import httpx  # noqa: E402
import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402
from gateway.main import create_app  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from kombu import Connection  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SECRET = secrets.token_hex(32)  # a low-entropy or published key is refused at start
ADMIN_PASSWORD = "admin-password-1"
TEST_SERVICES = ("gateway_test", "customers")


def consumers(amqp_uri: str, queue: str) -> int:
    try:
        with Connection(amqp_uri, connect_timeout=3) as conn:
            _, _, count = conn.default_channel.queue_declare(queue, passive=True)
            return count
    except Exception:
        return 0


@contextlib.contextmanager
def nameko_process(amqp_uri: str, workdir: Path, targets: list[str], queues: list[str], env: dict | None = None,
                   max_workers: int = 10, start_seconds: float = 60):  # fmt: skip
    """``nameko run <targets>`` (modules of gateway/tests) as a real process on ``amqp_uri``,
    until each of ``queues`` has a consumer; stopped on exit. ``env`` is added to (and wins
    over) this process's environment; its log is ``workdir/nameko.log``."""
    config = workdir / "config.yml"
    config.write_text(f"AMQP_URI: '{amqp_uri}'\nmax_workers: {max_workers}\n")
    full_env = {
        **os.environ,
        "CRM_DAILY_DISABLED": "1",
        "CRM_LOG_FORMAT": "text",
        "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]),
        **(env or {}),
    }
    log_path = workdir / "nameko.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [str(VENV_BIN / "nameko"), "run", "--config", str(config), *targets],
            cwd=str(TESTS_DIR),
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + start_seconds
        while not all(consumers(amqp_uri, q) for q in queues):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(targets)} did not start:\n" + log_path.read_text())
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def own_vhost(prefix: str):
    """A throwaway vhost of its own (a stand-in that must not share the session's queues)."""
    from crm_common.testing import create_vhost, delete_vhost, vhost_uri

    vhost = f"{prefix}-{os.urandom(5).hex()}"
    create_vhost(vhost)
    try:
        yield vhost_uri(vhost)
    finally:
        delete_vhost(vhost)


@pytest.fixture(scope="session")
def nameko_services(crm_amqp_uri, tmp_path_factory):
    """The test services as a real `nameko run` process on the session's vhost."""
    targets = ["gateway_test_service:EchoService", "gateway_test_service:FakeCustomersService"]
    queues = [f"rpc-{s}" for s in TEST_SERVICES]
    with nameko_process(crm_amqp_uri, tmp_path_factory.mktemp("nameko"), targets, queues, max_workers=50):
        yield crm_amqp_uri


def make_settings(amqp_uri: str, db_path: Path, **overrides) -> Settings:
    values = dict(
        amqp_uri=amqp_uri,
        gateway_database_url=f"sqlite:///{db_path}",
        crm_jwt_secret=SECRET,
        crm_admin_username="admin",
        crm_admin_password=ADMIN_PASSWORD,
        crm_services=list(TEST_SERVICES),
        crm_rpc_timeout=5,
    )
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def running_app(settings: Settings):
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture
def app_factory(nameko_services, tmp_path):
    """``async with app_factory(**settings) as client`` — the gateway on a fresh database."""

    def factory(**overrides):
        return running_app(make_settings(nameko_services, tmp_path / "gateway.db", **overrides))

    return factory


@pytest_asyncio.fixture
async def client(app_factory):
    async with app_factory() as c:
        yield c


async def login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest_asyncio.fixture
async def admin_headers(client):
    return await login(client, "admin", ADMIN_PASSWORD)


async def create_user(client, admin_headers, **overrides) -> dict:
    body = {
        "username": "rep1",
        "password": "rep-password-1",
        "roles": ["sales_rep"],
        "full_name": "Rep One",
        "department": "east",
    }
    body.update(overrides)
    r = await client.post("/api/v1/users", json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    return r.json()
