"""Tokens, users, roles and the user events, through HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

import aiormq
import jwt
import pytest
from conftest import ADMIN_PASSWORD, SECRET, create_user, login
from crm_common.signing import event_problem

pytestmark = pytest.mark.asyncio


async def test_login_and_me(client):
    headers = await login(client, "admin", ADMIN_PASSWORD)
    r = await client.get("/api/v1/users/me", headers=headers)
    assert r.status_code == 200
    me = r.json()
    assert me["username"] == "admin" and me["roles"] == ["admin"] and "password_hash" not in me


async def test_login_is_case_insensitive_on_the_username(client):
    await login(client, "ADMIN", ADMIN_PASSWORD)


async def test_wrong_password_and_unknown_user_get_the_same_401(client):
    bad = await client.post("/api/v1/auth/token", data={"username": "admin", "password": "nope"})
    unknown = await client.post("/api/v1/auth/token", data={"username": "ghost", "password": "nope"})
    assert bad.status_code == unknown.status_code == 401
    assert bad.json() == unknown.json()
    assert bad.json()["error"]["code"] == "UNAUTHORIZED"


async def test_login_form_missing_password_is_422_naming_it(client):
    r = await client.post("/api/v1/auth/token", data={"username": "admin"})
    assert r.status_code == 422
    assert "password" in r.json()["error"]["details"]


async def test_no_token_bad_token_expired_token_are_401(client):
    r = await client.get("/api/v1/users/me")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "UNAUTHORIZED"

    r = await client.get("/api/v1/users/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"

    forged = jwt.encode(
        {"sub": "1", "iat": int(time.time()), "exp": int(time.time()) + 60},
        "another-secret-" + "y" * 40,
        algorithm="HS256",
    )
    r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401

    now = dt.datetime.now(dt.UTC)
    expired = jwt.encode(
        {
            "sub": "1",
            "ver": 0,
            "sid": "s",
            "iat": now - dt.timedelta(hours=2),
            "exp": now - dt.timedelta(hours=1),
        },
        SECRET,
        algorithm="HS256",
    )
    r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"].lower()


async def test_non_admin_cannot_create_users(client, admin_headers):
    await create_user(client, admin_headers)
    rep = await login(client, "rep1", "rep-password-1")
    r = await client.post(
        "/api/v1/users", headers=rep, json={"username": "x", "password": "password-x", "roles": ["admin"]}
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    r = await client.get("/api/v1/users", headers=rep)
    assert r.status_code == 403


async def test_user_rules(client, admin_headers):
    post = lambda body: client.post("/api/v1/users", headers=admin_headers, json=body)  # noqa: E731
    base = {"username": "p1", "password": "portal-pw-0001"}

    r = await post({**base, "roles": ["portal"]})
    assert r.status_code == 422 and "customer_id" in r.json()["error"]["details"]
    r = await post({**base, "roles": ["portal", "finance"], "customer_id": 4})
    assert r.status_code == 422 and "roles" in r.json()["error"]["details"]
    r = await post({**base, "roles": ["wizard"]})
    assert r.status_code == 422 and "roles.0" in r.json()["error"]["details"]
    r = await post({**base, "roles": ["sales_rep"], "password": "short"})
    assert r.status_code == 422 and "password" in r.json()["error"]["details"]
    r = await post({**base, "roles": ["sales_rep"], "shoe_size": 42})
    assert r.status_code == 422 and "shoe_size" in r.json()["error"]["details"]

    r = await post({**base, "roles": ["portal"], "customer_id": 4})
    assert r.status_code == 201 and r.json()["customer_id"] == 4
    r = await post({**base, "username": "P1", "roles": ["sales_rep"]})
    assert r.status_code == 409 and r.json()["error"]["details"] == {"username": ["already taken"]}


async def test_user_created_event_is_published_without_the_hash(client, admin_headers):
    settings = client.app.state.settings
    conn = aiormq.Connection(settings.amqp_uri)
    await conn.connect()
    try:
        ch = await conn.channel()
        await ch.exchange_declare("gateway.events", exchange_type="topic", durable=True)
        ok = await ch.queue_declare("", exclusive=True, auto_delete=True)
        await ch.queue_bind(ok.queue, "gateway.events", routing_key="user_created")
        await ch.queue_bind(ok.queue, "gateway.events", routing_key="user_updated")

        user = await create_user(client, admin_headers, username="evt-user", email="e@x.io")
        r = await client.patch(
            f"/api/v1/users/{user['id']}", headers=admin_headers, json={"department": "west"}
        )
        assert r.status_code == 200 and r.json()["department"] == "west"

        bodies = []
        deadline = time.monotonic() + 10
        while len(bodies) < 2 and time.monotonic() < deadline:
            msg = await ch.basic_get(ok.queue, no_ack=True)
            if msg.body:
                # signed by the gateway's outbox relay, over these very bytes
                headers = msg.header.properties.headers or {}
                assert event_problem(headers, msg.body, "gateway", msg.routing_key) is None
                assert event_problem(headers, msg.body, "customers", msg.routing_key) == "bad_signature"
                bodies.append(msg.body.decode())
            else:
                await asyncio.sleep(0.05)
    finally:
        await conn.close()
    assert len(bodies) == 2, bodies
    created, updated = (json.loads(b) for b in bodies)
    assert created["type"] == "user_created" and created["source"] == "gateway"
    assert created["payload"]["username"] == "evt-user"
    assert created["payload"]["roles"] == ["sales_rep"]
    assert created["payload"]["department"] == "east"
    assert updated["type"] == "user_updated" and updated["payload"]["department"] == "west"
    for body in bodies:
        assert "argon2" not in body and "password" not in body
        assert created["event_id"] and created["occurred_at"]


async def test_list_users_is_paginated(client, admin_headers):
    for i in range(3):
        await create_user(client, admin_headers, username=f"u{i}")
    r = await client.get("/api/v1/users?page=2&page_size=2", headers=admin_headers)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 4 and body["page"] == 2 and body["page_size"] == 2
    assert [u["username"] for u in body["items"]] == ["u1", "u2"]
    r = await client.get("/api/v1/users?role=sales_rep", headers=admin_headers)
    assert r.json()["total"] == 3


async def test_disabled_user_loses_access_at_once(client, admin_headers):
    user = await create_user(client, admin_headers)
    rep = await login(client, "rep1", "rep-password-1")
    assert (await client.get("/api/v1/users/me", headers=rep)).status_code == 200
    r = await client.patch(f"/api/v1/users/{user['id']}", headers=admin_headers, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert (await client.get("/api/v1/users/me", headers=rep)).status_code == 401
    r = await client.post("/api/v1/auth/token", data={"username": "rep1", "password": "rep-password-1"})
    assert r.status_code == 401


async def test_the_last_admin_cannot_be_demoted(client, admin_headers):
    me = (await client.get("/api/v1/users/me", headers=admin_headers)).json()
    r = await client.patch(f"/api/v1/users/{me['id']}", headers=admin_headers, json={"roles": ["readonly"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"


async def test_change_own_password(client, admin_headers):
    await create_user(client, admin_headers)
    rep = await login(client, "rep1", "rep-password-1")
    r = await client.post(
        "/api/v1/users/me/password",
        headers=rep,
        json={"old_password": "wrong", "new_password": "new-password-9"},
    )
    assert r.status_code == 422 and "old_password" in r.json()["error"]["details"]
    r = await client.post(
        "/api/v1/users/me/password",
        headers=rep,
        json={"old_password": "rep-password-1", "new_password": "new-password-9"},
    )
    assert r.status_code == 204
    await login(client, "rep1", "new-password-9")
    r = await client.post("/api/v1/auth/token", data={"username": "rep1", "password": "rep-password-1"})
    assert r.status_code == 401


async def test_admin_patch_unknown_user_404_and_null_roles_422(client, admin_headers):
    r = await client.patch("/api/v1/users/999", headers=admin_headers, json={"department": "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    r = await client.get("/api/v1/users/abc", headers=admin_headers)
    assert r.status_code == 404
    r = await client.patch("/api/v1/users/1", headers=admin_headers, json={"roles": None})
    assert r.status_code == 422 and "roles" in r.json()["error"]["details"]


async def test_start_refused_without_admin_password_outside_the_embedded_default(app_factory):
    with pytest.raises(RuntimeError, match="CRM_ADMIN_PASSWORD"):
        async with app_factory(crm_admin_password=None):
            pass


async def test_admin_bootstrap_is_idempotent_and_replica_safe(app_factory, tmp_path):
    from crm_common.db import DatabaseHandle
    from gateway.models import Base

    from gateway import users

    async with app_factory() as client:
        pass
    async with app_factory(crm_admin_password="another-password") as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)  # the first password stays
        assert (await client.get("/api/v1/users", headers=admin)).json()["total"] == 1
    # two replicas racing on a fresh database: one creates, the other backs off
    url = f"sqlite:///{tmp_path / 'race.db'}"
    handles = [DatabaseHandle("gateway", Base.metadata, url) for _ in range(2)]
    handles[0].create_all()
    results = await asyncio.gather(
        *(asyncio.to_thread(users.bootstrap_admin, h, "root", "hash") for h in handles)
    )
    assert sorted(r is None for r in results) == [False, True]
    for h in handles:
        h.dispose()


async def test_user_changes_are_audited_with_actor_and_request_id(client, admin_headers):
    from sqlalchemy import select

    state = client.app.state.gateway
    r = await client.post(
        "/api/v1/users",
        headers={**admin_headers, "X-Request-ID": "aud-1"},
        json={"username": "aud", "password": "password-aud", "roles": ["finance"]},
    )
    user = r.json()
    await client.patch(
        f"/api/v1/users/{user['id']}",
        json={"roles": ["finance", "approver"]},
        headers={**admin_headers, "X-Request-ID": "aud-2"},
    )
    audit = state.db.infra.audit_log
    with state.db.read() as s:
        rows = s.execute(select(audit).where(audit.c.entity_id == str(user["id"])).order_by(audit.c.id)).all()
    assert [(r.action, r.actor, r.request_id) for r in rows] == [
        ("create", "user:1", "aud-1"),
        ("update", "user:1", "aud-2"),
    ]
    assert rows[1].changes == {"roles": [["finance"], ["finance", "approver"]]}
    assert "password" not in json.dumps(rows[0].changes)


async def test_a_person_changes_their_own_language_and_name_but_not_their_rights(client, admin_headers):
    r = await client.post(
        "/api/v1/users",
        headers=admin_headers,
        json={"username": "profile_rep", "password": "Profile-pass-2026!", "roles": ["sales_rep"]},
    )
    assert r.status_code == 201, r.text
    login = await client.post(
        "/api/v1/auth/token", data={"username": "profile_rep", "password": "Profile-pass-2026!"}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    r = await client.patch(
        "/api/v1/users/me", headers=headers, json={"language": "tr", "full_name": "Ayşe Demir"}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["language"], r.json()["full_name"], r.json()["roles"]) == (
        "tr",
        "Ayşe Demir",
        ["sales_rep"],
    )
    # the session goes on: a profile change grants nothing
    me = await client.get("/api/v1/users/me", headers=headers)
    assert me.status_code == 200 and me.json()["language"] == "tr"
    for body in (
        {"roles": ["admin"]},
        {"active": False},
        {"department": "Finance"},
        {"language": "xx"},
        {"language": None},
    ):
        r = await client.patch("/api/v1/users/me", headers=headers, json=body)
        assert r.status_code == 422, (body, r.text)
    me = await client.get("/api/v1/users/me", headers=headers)
    assert (
        me.json()["roles"] == ["sales_rep"]
        and me.json()["department"] is None
        and me.json()["language"] == "tr"
    )
