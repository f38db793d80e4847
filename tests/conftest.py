"""End-to-end fixtures: the whole system started by the local runner (``deploy/local/run.py``,
the same code path as ``make run``) as processes, on a throwaway RabbitMQ vhost and a
temporary data directory, driven over HTTP as a front end would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from crm_common.testing import create_vhost, delete_vhost, vhost_uri

ROOT = Path(__file__).resolve().parents[1]
ADMIN_PASSWORD = "e2e-admin-Pa55word!"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(fn, timeout=20.0, interval=0.1, message="condition"):
    """Poll ``fn`` until it returns a truthy value (asynchronous effects), with a deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} not met within {timeout}s (last: {last!r})")


class System:
    def __init__(self, base_url: str, amqp_uri: str, data_dir: Path):
        self.base_url = base_url
        self.amqp_uri = amqp_uri
        self.data_dir = data_dir
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self._tokens: dict[str, str] = {}

    def token(self, username: str, password: str) -> str:
        key = f"{username}:{password}"
        if key not in self._tokens:
            r = self.http.post("/api/v1/auth/token", data={"username": username, "password": password})
            assert r.status_code == 200, r.text
            self._tokens[key] = r.json()["access_token"]
        return self._tokens[key]

    def client(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            timeout=60,
            headers={"Authorization": f"Bearer {self.token(username, password)}"},
        )

    def create_user(self, roles, password="user-Pa55word!", **extra) -> dict:
        username = f"{roles[0]}_{uuid.uuid4().hex[:8]}"
        with self.client() as admin:
            r = admin.post(
                "/api/v1/users",
                json={"username": username, "password": password, "roles": list(roles), **extra},
            )
            assert r.status_code == 201, r.text
        user = r.json()
        user["password"] = password
        return user

    def as_user(self, user: dict) -> httpx.Client:
        return self.client(user["username"], user["password"])

    def log_text(self, name: str) -> str:
        return "".join(p.read_text(errors="replace") for p in (self.data_dir / "logs").glob(f"{name}*.log"))


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    vhost = f"crm-e2e-{uuid.uuid4().hex[:10]}"
    create_vhost(vhost)
    data_dir = tmp_path_factory.mktemp("crm-data")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    env.update(
        AMQP_URI=vhost_uri(vhost),
        CRM_DATA_DIR=str(data_dir),
        GATEWAY_PORT=str(port),
        CRM_ADMIN_USERNAME="admin",
        CRM_ADMIN_PASSWORD=ADMIN_PASSWORD,
        CRM_DAILY_DISABLED="1",
        CRM_OUTBOX_POLL_SECONDS="0.5",
        CRM_RPC_TIMEOUT="10",
    )
    runner = subprocess.Popen(
        [sys.executable, str(ROOT / "deploy/local/run.py"), "--logs", "files"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        ready = False
        while time.monotonic() < deadline and runner.poll() is None:
            try:
                if httpx.get(f"{base}/readyz", timeout=3).status_code == 200:
                    ready = True
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        if not ready:
            os.killpg(runner.pid, signal.SIGTERM)
            out = runner.communicate(timeout=30)[0]
            logs = "".join(p.read_text(errors="replace")[-3000:] for p in (data_dir / "logs").glob("*.log"))
            pytest.fail(f"the system did not become ready:\n{out[-5000:]}\n{logs}")
        yield System(base, vhost_uri(vhost), data_dir)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGTERM)
            try:
                out = runner.communicate(timeout=40)[0]
            except subprocess.TimeoutExpired:
                os.killpg(runner.pid, signal.SIGKILL)
                out = runner.communicate()[0]
            if "stopped" not in out:
                print(out[-3000:])
        delete_vhost(vhost)
