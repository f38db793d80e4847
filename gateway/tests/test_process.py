"""`crm-gateway` as a process, configured only by its environment, as the runner starts it:
embedded defaults, JSON log lines carrying the request id, a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gateway_process(nameko_services, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "CRM_JWT", "CRM_ADMIN"))}
    env.update(
        AMQP_URI=nameko_services,
        CRM_DATA_DIR=str(tmp_path),
        GATEWAY_PORT=str(port),
        CRM_SERVICES="gateway_test,customers",
        CRM_LOG_FORMAT="json",
    )
    log_path = tmp_path / "gateway.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [str(VENV_BIN / "crm-gateway")],
            env=env,
            cwd=str(tmp_path),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("crm-gateway did not start:\n" + log_path.read_text())
            time.sleep(0.1)
        yield base, proc, log_path
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_crm_gateway_process(gateway_process, tmp_path):
    base, proc, log_path = gateway_process
    assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
    # embedded default: admin/admin works, with warnings in the log
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": "admin", "password": "admin"})
    assert r.status_code == 200
    token = r.json()["access_token"]
    r = httpx.get(
        f"{base}/api/v1/customers/999999",
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "proc-test-77"},
    )
    assert r.status_code == 404 and r.headers["x-request-id"] == "proc-test-77"
    assert (tmp_path / "gateway.db").exists()

    proc.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal (exit status 143 / -SIGTERM)
    assert proc.wait(15) in (0, -signal.SIGTERM)

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert lines, log_path.read_text()
    warnings = " ".join(line["msg"] for line in lines if line["level"] == "warning")
    assert "CRM_JWT_SECRET" in warnings and "CRM_ADMIN_PASSWORD" in warnings
    assert lines[-1]["msg"] == "gateway stopped" or any(
        line["msg"] == "gateway stopped" for line in lines[-5:]
    ), lines[-5:]
    tagged = [line for line in lines if line.get("request_id") == "proc-test-77"]
    assert any(line["logger"] == "gateway.access" and " 404 " in line["msg"] for line in tagged)
