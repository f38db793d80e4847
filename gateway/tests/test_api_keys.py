"""API keys of integrations, through HTTP: created by an admin (the key is shown once), acting
with their roles only, hashed at rest, revocable at once, with their last-used time."""

from __future__ import annotations

import pytest
from conftest import create_user, login
from gateway.deps import Caller

pytestmark = pytest.mark.asyncio


async def whoami(caller: Caller) -> dict:
    """The caller context every RPC of the request carries (a route added by the test)."""
    return caller.as_dict()


async def new_key(client, admin_headers, **overrides) -> dict:
    body = {"name": "erp-sync", "roles": ["readonly"], **overrides}
    r = await client.post("/api/v1/api-keys", headers=admin_headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_key_acts_with_its_roles_through_either_header(client, admin_headers):
    created = await new_key(client, admin_headers)
    key = created["key"]
    assert key.startswith("crm_") and len(key) >= 40 and created["prefix"] == key[:12]
    assert created["roles"] == ["readonly"] and created["last_used_at"] is None and created["active"]
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
        r = await client.get("/api/v1/customers", headers=headers)
        assert r.status_code == 200, r.text
    # readonly: no writes, no administration, no person behind it
    r = await client.post(
        "/api/v1/users",
        headers={"X-API-Key": key},
        json={"username": "by-key", "password": "by-key-password", "roles": ["admin"]},
    )
    assert r.status_code == 403
    assert (await client.get("/api/v1/api-keys", headers={"X-API-Key": key})).status_code == 403
    assert (await client.get("/api/v1/users/me", headers={"X-API-Key": key})).status_code == 403
    r = await client.post(
        "/api/v1/users/me/password",
        headers={"X-API-Key": key},
        json={"old_password": "whatever-password", "new_password": "another-password-1"},
    )
    assert r.status_code == 403

    listed = (await client.get("/api/v1/api-keys", headers=admin_headers)).json()
    assert listed["total"] == 1
    (item,) = listed["items"]
    assert "key" not in item and item["last_used_at"] is not None and item["name"] == "erp-sync"


async def test_the_key_is_stored_hashed(client, admin_headers):
    from gateway.models import ApiKey
    from sqlalchemy import select

    key = (await new_key(client, admin_headers))["key"]
    with client.app.state.gateway.db.read() as s:
        stored = s.execute(select(ApiKey)).scalar_one()
        row = {c.name: getattr(stored, c.name) for c in ApiKey.__table__.columns}
    assert key not in repr(row) and key[12:] not in repr(row)


async def test_a_revoked_key_is_refused_at_once(client, admin_headers):
    created = await new_key(client, admin_headers)
    headers = {"X-API-Key": created["key"]}
    assert (await client.get("/api/v1/customers", headers=headers)).status_code == 200
    r = await client.delete(f"/api/v1/api-keys/{created['id']}", headers=admin_headers)
    assert r.status_code == 204
    r = await client.get("/api/v1/customers", headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED"
    assert (
        await client.delete(f"/api/v1/api-keys/{created['id']}", headers=admin_headers)
    ).status_code == 204
    assert (await client.delete("/api/v1/api-keys/999", headers=admin_headers)).status_code == 404
    listed = (await client.get("/api/v1/api-keys", headers=admin_headers)).json()
    assert listed["total"] == 0
    listed = (await client.get("/api/v1/api-keys?include_revoked=true", headers=admin_headers)).json()
    assert listed["items"][0]["revoked_at"] and listed["items"][0]["active"] is False
    # the name is free again once revoked
    await new_key(client, admin_headers)


async def test_made_up_and_expired_keys_are_refused(client, admin_headers):
    r = await client.get("/api/v1/customers", headers={"X-API-Key": "crm_" + "a" * 43})
    assert r.status_code == 401
    r = await client.get("/api/v1/customers", headers={"Authorization": "Bearer crm_nothing"})
    assert r.status_code == 401
    r = await client.post(
        "/api/v1/api-keys",
        headers=admin_headers,
        json={"name": "old", "roles": ["readonly"], "expires_at": "2020-01-01T00:00:00Z"},
    )
    assert r.status_code == 422 and "expires_at" in r.json()["error"]["details"]


async def test_key_rules(client, admin_headers):
    await create_user(client, admin_headers)
    rep = await login(client, "rep1", "rep-password-1")
    r = await client.post("/api/v1/api-keys", headers=rep, json={"name": "mine", "roles": ["admin"]})
    assert r.status_code == 403
    post = lambda body: client.post("/api/v1/api-keys", headers=admin_headers, json=body)  # noqa: E731
    r = await post({"name": "p", "roles": ["portal"]})
    assert r.status_code == 422 and "roles" in r.json()["error"]["details"]
    r = await post({"name": "p", "roles": []})
    assert r.status_code == 422 and "roles" in r.json()["error"]["details"]
    r = await post({"name": "", "roles": ["readonly"]})
    assert r.status_code == 422 and "name" in r.json()["error"]["details"]
    r = await post({"name": "a\x00b", "roles": ["readonly"]})
    assert r.status_code == 422 and "name" in r.json()["error"]["details"]
    await new_key(client, admin_headers)
    r = await post({"name": "erp-sync", "roles": ["finance"]})
    assert r.status_code == 409 and "name" in r.json()["error"]["details"]
    assert (await client.get("/api/v1/api-keys", headers=admin_headers)).json()["total"] == 1


async def test_services_see_the_key_as_the_caller_and_key_changes_are_audited(client, admin_headers):
    from sqlalchemy import select

    client.app.add_api_route("/test/whoami", whoami)
    created = await new_key(client, admin_headers, roles=["sales_manager"])
    r = await client.get("/test/whoami", headers={"X-API-Key": created["key"]})
    assert r.status_code == 200, r.text
    caller = r.json()
    assert caller["user_id"] is None and caller["roles"] == ["sales_manager"]
    assert caller["username"] == f"apikey:{created['id']}:erp-sync"
    r = await client.post(
        "/api/v1/users",
        headers={"X-API-Key": created["key"]},
        json={"username": "by-key", "password": "by-key-password", "roles": ["readonly"]},
    )
    assert r.status_code == 403  # a sales manager key administers nobody
    audit = client.app.state.gateway.db.infra.audit_log
    with client.app.state.gateway.db.read() as s:
        rows = s.execute(select(audit).where(audit.c.entity == "api_key")).all()
    assert [(r.action, r.actor) for r in rows] == [("create", "user:1")]
