"""The notify routes' contract at the gateway: shapes checked before any RPC (422 naming the
field), admin-only resources refused with 403, paths as API.md names them."""

from __future__ import annotations

import pytest
from conftest import create_user, login

pytestmark = pytest.mark.asyncio


async def test_notify_paths_are_in_the_openapi_document(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/notifications",
        "/api/v1/notifications/{notification_id}/read",
        "/api/v1/tasks",
        "/api/v1/tasks/{task_id}",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{webhook_id}/deliveries",
        "/api/v1/notification-rules",
    ):
        assert path in paths, path
    assert "patch" in paths["/api/v1/tasks/{task_id}"]


async def test_bad_bodies_are_refused_naming_the_field(client, admin_headers):
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://x.example/h", "events": [], "secret": "s"},
        headers=admin_headers,
    )
    assert r.status_code == 422
    assert {"events", "secret"} <= {k.split(".")[-1] for k in r.json()["error"]["details"]}
    r = await client.patch("/api/v1/tasks/1", json={"status": "finished"}, headers=admin_headers)
    assert r.status_code == 422 and "status" in str(r.json()["error"]["details"])
    r = await client.get("/api/v1/tasks?kind=holiday", headers=admin_headers)
    assert r.status_code == 422
    r = await client.patch(
        "/api/v1/notification-rules/stock_low", json={"channels": ["fax"]}, headers=admin_headers
    )
    assert r.status_code == 422
    r = await client.post("/api/v1/notifications/abc/read", headers=admin_headers)
    assert r.status_code == 404


async def test_webhooks_and_rules_are_for_admins_only(client, admin_headers):
    await create_user(client, admin_headers, username="notify-rep")
    rep = await login(client, "notify-rep", "rep-password-1")
    body = {"url": "https://x.example/h", "events": ["*"], "secret": "0123456789"}
    assert (await client.post("/api/v1/webhooks", json=body, headers=rep)).status_code == 403
    assert (await client.get("/api/v1/webhooks", headers=rep)).status_code == 403
    assert (await client.get("/api/v1/notification-rules", headers=rep)).status_code == 403
    assert (await client.get("/api/v1/notifications")).status_code == 401


async def test_task_kind_service_request_and_close_reason_shapes(client, admin_headers):
    r = await client.get("/api/v1/tasks?kind=service_request", headers=admin_headers)
    assert r.status_code != 422, r.text
    r = await client.patch(
        "/api/v1/tasks/1", json={"status": "done", "close_reason": "forgot"}, headers=admin_headers
    )
    assert r.status_code == 422 and "close_reason" in str(r.json()["error"]["details"])
