"""What the gateway must not give away (issue 18 §3, §7): the invitation link is built from
configuration (a forged ``Host`` header cannot send the token elsewhere) and reaches the inviter
only when no e-mail was queued and they are an administrator; an invitation answers the same for
every username it cannot take (a rep cannot probe staff usernames); ``/docs``, ``/redoc`` and
``/openapi.json`` follow ``CRM_PUBLIC_DOCS``; production refuses to start without
``CRM_PUBLIC_URL``. The notify service is not running here: every e-mail is ``not_sent``."""

from __future__ import annotations

import pytest
from conftest import ADMIN_PASSWORD, SECRET, create_user, login
from gateway.models import Invitation, User
from gateway.settings import Settings
from pydantic import ValidationError
from sqlalchemy import func, select

pytestmark = pytest.mark.asyncio

PASSWORD = "rep-password-1"
DOC_PATHS = ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")


async def new_customer(client, headers, name: str) -> dict:
    r = await client.post("/api/v1/customers", json={"name": name, "kind": "company"}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def counts(client) -> tuple[int, int]:
    with client.app.state.gateway.db.read() as s:
        return (
            s.execute(select(func.count()).select_from(Invitation)).scalar_one(),
            s.execute(select(func.count()).select_from(User)).scalar_one(),
        )


async def test_the_link_is_built_from_configuration_never_from_the_host_header(app_factory):
    async with app_factory(crm_public_url="https://crm.example.org/crm/") as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        customer = await new_customer(client, admin, "Host Header GmbH")
        r = await client.post(
            "/api/v1/portal-invitations",
            json={"customer_id": customer["id"], "email": "host@example.com"},
            headers={**admin, "Host": "attacker.example", "X-Forwarded-Host": "attacker.example"},
        )
        assert r.status_code == 201, r.text
        sent = r.json()
        assert sent["email"]["status"] == "not_sent"  # no notify here: the admin gets the link
        assert sent["accept_url"].startswith("https://crm.example.org/crm/portal/accept#token=")
        assert "attacker" not in r.text


async def test_the_default_public_url_is_the_local_gateway(client, admin_headers):
    customer = await new_customer(client, admin_headers, "Default Link Ltd")
    r = await client.post(
        "/api/v1/portal-invitations",
        json={"customer_id": customer["id"], "email": "default@example.com"},
        headers={**admin_headers, "Host": "attacker.example"},
    )
    assert r.status_code == 201
    assert r.json()["accept_url"].startswith("http://127.0.0.1:8000/portal/accept#token=")


async def test_a_rep_never_receives_a_usable_link(client, admin_headers):
    await create_user(client, admin_headers, username="rep-link", password=PASSWORD)
    rep = await login(client, "rep-link", PASSWORD)
    customer = await new_customer(client, admin_headers, "No Link For Reps AG")
    r = await client.post(
        "/api/v1/portal-invitations",
        json={"customer_id": customer["id"], "email": "inv@example.com"},
        headers=rep,
    )
    assert r.status_code == 201, r.text
    assert r.json()["accept_url"] is None and r.json()["email"]["status"] == "not_sent"
    assert "#token=" not in r.text
    resent = await client.post(f"/api/v1/portal-invitations/{r.json()['id']}/resend", headers=rep)
    assert resent.status_code == 201 and resent.json()["accept_url"] is None
    listed = await client.get("/api/v1/portal-invitations", headers=rep)
    assert "token" not in listed.text


async def test_a_rep_cannot_probe_usernames_through_invitations(client, admin_headers):
    await create_user(client, admin_headers, username="rep-probe", password=PASSWORD)
    await create_user(
        client, admin_headers, username="boss@example.com", password=PASSWORD, roles=["finance"]
    )
    rep = await login(client, "rep-probe", PASSWORD)
    mine = await new_customer(client, admin_headers, "Probe Target Oy")
    other = await new_customer(client, admin_headers, "Someone Else Oy")
    r = await client.post(
        "/api/v1/portal-invitations",
        json={"customer_id": other["id"], "email": "portal-user@example.com"},
        headers=admin_headers,
    )
    assert r.status_code == 201
    before = counts(client)

    # choosing a username (a staff name) is for administrators only: refused before any lookup
    for username in ("admin", "nobody-has-this-name"):
        r = await client.post(
            "/api/v1/portal-invitations",
            json={"customer_id": mine["id"], "email": "x@example.com", "username": username},
            headers=rep,
        )
        assert r.status_code == 403 and r.json()["error"]["details"] == {"username": ["administrators only"]}
    # a staff user's and another customer's portal user's name: one and the same answer
    answers = []
    for email in ("boss@example.com", "portal-user@example.com"):
        r = await client.post(
            "/api/v1/portal-invitations", json={"customer_id": mine["id"], "email": email}, headers=rep
        )
        assert r.status_code == 409, r.text
        answers.append(
            (r.json()["error"]["code"], r.json()["error"]["message"], r.json()["error"]["details"])
        )
        assert email not in r.text
    assert answers[0] == answers[1]
    assert counts(client) == before  # nothing written
    staff = await client.post(
        "/api/v1/auth/token", data={"username": "boss@example.com", "password": PASSWORD}
    )
    assert staff.status_code == 200  # the staff user is untouched


async def test_production_needs_a_public_url(tmp_path):
    base = {"gateway_database_url": f"sqlite:///{tmp_path}/g.db", "crm_jwt_secret": SECRET}
    with pytest.raises(ValidationError) as err:
        Settings(crm_env="production", **base)
    assert "CRM_PUBLIC_URL is not set" in str(err.value)
    with pytest.raises(ValidationError):
        Settings(crm_public_url="crm.example.com", **base)  # no scheme
    ok = Settings(crm_env="production", crm_public_url="https://crm.example.com", **base)
    assert ok.docs_mode == "login" and ok.public_url == "https://crm.example.com"
    assert Settings(**base).docs_mode == "1"
    with pytest.raises(ValidationError):
        Settings(crm_public_docs="maybe", **base)


async def test_docs_can_be_switched_off(app_factory):
    async with app_factory(crm_public_docs="0") as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        for path in DOC_PATHS:
            assert (await client.get(path)).status_code == 404, path
            assert (await client.get(path, headers=admin)).status_code == 404, path
        assert (await client.get("/docs/assets/swagger-ui.css")).status_code == 404


async def test_docs_behind_login(app_factory):
    async with app_factory(crm_public_docs="login") as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        for path in DOC_PATHS:
            r = await client.get(path)
            assert r.status_code == 401 and "paths" not in r.text, path
            assert (await client.get(path, headers={"Authorization": "Bearer forged"})).status_code == 401
            assert (await client.get(path, headers=admin)).status_code == 200, path
        spec = (await client.get("/openapi.json", headers=admin)).json()
        assert "/api/v1/customers" in spec["paths"]
        # a portal user is no API client: 403
        customer = await new_customer(client, admin, "Docs Portal GmbH")
        await create_user(
            client, admin, username="docs-portal", password=PASSWORD, roles=["portal"],
            customer_id=customer["id"], department=None,
        )  # fmt: skip
        portal = await login(client, "docs-portal", PASSWORD)
        assert (await client.get("/openapi.json", headers=portal)).status_code == 403
        # the published viewer files stay public (no API information in them)
        assert (await client.get("/docs/assets/swagger-ui.css")).status_code == 200


async def test_production_defaults_to_docs_behind_login(app_factory):
    async with app_factory(crm_env="production", crm_public_url="https://crm.example.com") as client:
        assert (await client.get("/openapi.json")).status_code == 401
        admin = await login(client, "admin", ADMIN_PASSWORD)
        assert (await client.get("/openapi.json", headers=admin)).status_code == 200
