"""Issue 19 §5 at the gateway: redelivery, ping and secret rotation of webhooks (admins only),
the event log ``GET /api/v1/events`` (roles with a scope only), their shapes checked before any
RPC and their paths in the OpenAPI document."""

from __future__ import annotations

import pytest
from conftest import create_user, login

pytestmark = pytest.mark.asyncio


async def test_the_paths_are_in_the_openapi_document(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
        "/api/v1/webhooks/{webhook_id}/ping",
        "/api/v1/webhooks/{webhook_id}/rotate-secret",
        "/api/v1/events",
    ):
        assert "post" in paths[path] or "get" in paths[path], path
    params = {p["name"] for p in paths["/api/v1/events"]["get"]["parameters"]}
    assert {"after", "type", "page", "page_size"} <= params


async def test_webhook_actions_are_for_admins_only(client, admin_headers):
    await create_user(client, admin_headers, username="outage-rep")
    rep = await login(client, "outage-rep", "rep-password-1")
    for path in (
        "/api/v1/webhooks/1/ping",
        "/api/v1/webhooks/1/rotate-secret",
        "/api/v1/webhooks/1/deliveries/2/redeliver",
    ):
        r = await client.post(path, headers=rep)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"]["code"]
        assert (await client.post(path)).status_code == 401


async def test_rotation_grace_is_bounded_and_fields_are_checked(client, admin_headers):
    for body in ({"grace_seconds": -1}, {"grace_seconds": 8 * 86400}, {"grace": 60}):
        r = await client.post("/api/v1/webhooks/1/rotate-secret", json=body, headers=admin_headers)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"]
    r = await client.post("/api/v1/webhooks/abc/ping", headers=admin_headers)
    assert r.status_code == 404


async def test_the_event_log_is_refused_to_roles_without_a_scope(client, admin_headers):
    await create_user(client, admin_headers, username="outage-wh", roles=["warehouse"])
    warehouse = await login(client, "outage-wh", "rep-password-1")
    r = await client.get("/api/v1/events", headers=warehouse)
    assert r.status_code == 403 and "sales_rep" in str(r.json()["error"]["details"])
    assert (await client.get("/api/v1/events")).status_code == 401
    r = await client.get("/api/v1/events?page_size=501", headers=admin_headers)
    assert r.status_code == 422
