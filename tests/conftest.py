"""End-to-end fixtures: the whole system started by the local runner (``deploy/local/run.py``,
the same code path as ``make run``) as processes, on a throwaway RabbitMQ vhost and a
temporary data directory, driven over HTTP as a front end would."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from crm_common.testing import RunningSystem, free_port, run_system

ROOT = Path(__file__).resolve().parents[1]
SMTP_SINK = ROOT / "services" / "notify" / "tests" / "integration" / "smtp_sink.py"
os.environ.setdefault("CRM_VALIDATE_EVENTS", "1")  # the system refuses undeclared or mismatched events


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
    def __init__(self, running: RunningSystem):
        self.base_url = running.base_url
        self.amqp_uri = running.amqp_uri
        self.data_dir = running.data_dir
        self.admin_password = running.admin_password
        self.context_key = running.context_key  # CRM_CONTEXT_KEY of the system (signs caller contexts)
        self.http = httpx.Client(base_url=self.base_url, timeout=30)
        self._tokens: dict[str, str] = {}

    def token(self, username: str, password: str) -> str:
        key = f"{username}:{password}"
        if key not in self._tokens:
            r = self.http.post("/api/v1/auth/token", data={"username": username, "password": password})
            assert r.status_code == 200, r.text
            self._tokens[key] = r.json()["access_token"]
        return self._tokens[key]

    def client(self, username: str = "admin", password: str | None = None) -> httpx.Client:
        password = password or self.admin_password
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


class Mailbox:
    """A real SMTP server (aiosmtpd, its own process) the system's notify service sends to."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, str(SMTP_SINK), str(self.port), str(directory)])
        poll(lambda: (directory / ".ready").exists(), message="SMTP server up")

    def messages(self, to: str | None = None) -> list[email.message.EmailMessage]:
        found = [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(self.dir.glob("*.eml"), key=lambda p: int(p.stem))
        ]
        return [m for m in found if to is None or to in str(m["To"])]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="session")
def mailbox(tmp_path_factory):
    box = Mailbox(tmp_path_factory.mktemp("mailbox"))
    yield box
    box.close()


@pytest.fixture(scope="session")
def system(tmp_path_factory, mailbox):
    overrides = {
        "CRM_OUTBOX_POLL_SECONDS": "0.5",
        "CRM_RPC_TIMEOUT": "10",
        "CONTRACTS_ATTACHMENT_MAX_MB": "1",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mailbox.port),
        "SMTP_FROM": "crm@example.com",
        # the suites' webhook receivers listen on 127.0.0.1 (docs/security.md "Outbound requests")
        "CRM_WEBHOOKS_ALLOW_PRIVATE": "1",
    }
    try:
        with run_system(ROOT, tmp_path_factory.mktemp("crm-data"), overrides) as running:
            yield System(running)
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def webhook_endpoint():
    """A partner's webhook endpoint on 127.0.0.1 that answers 204 and records every delivery as
    ``{"signature", "event", "raw", "body"}`` in ``.received``; ``.url`` is its address."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(
                {
                    "signature": self.headers.get("X-CRM-Signature", ""),
                    "event": self.headers.get("X-CRM-Event"),
                    "raw": raw,
                    "body": json.loads(raw),
                }
            )
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.received = received  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_address[1]}/crm-{uuid.uuid4().hex[:6]}"  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()
