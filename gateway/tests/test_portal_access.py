"""Portal users and invitations in the gateway: a portal user reaches ``/api/v1/portal/*`` only
(403 on every other route, staff get 403 on the portal's), and the invitation flow — invite
(the customer is looked up with the inviter's context), the one-time link, accept (password set,
user active, token issued), used / revoked / replaced / expired links. The e-mail itself is the
notify service's (not running here: the answer says ``not_sent`` and still carries the link);
the whole flow with the real services and a real SMTP server is in tests/e2e/test_portal.py."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from conftest import create_user, login
from gateway.models import Invitation
from gateway.routes.dashboard import compose
from sqlalchemy import update

pytestmark = pytest.mark.asyncio

PASSWORD = "portal-password-1"


async def new_customer(client, headers, name: str) -> dict:
    r = await client.post("/api/v1/customers", json={"name": name, "kind": "company"}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def token_of(invitation: dict) -> str:
    fragment = urlsplit(invitation["accept_url"]).fragment
    assert fragment.startswith("token=")
    return fragment.removeprefix("token=")


async def test_a_portal_user_reaches_the_portal_routes_only(client, admin_headers):
    customer = await new_customer(client, admin_headers, "Portal Guard GmbH")
    await create_user(
        client, admin_headers, username="guarded", password=PASSWORD, roles=["portal"],
        customer_id=customer["id"], department=None,
    )  # fmt: skip
    headers = await login(client, "guarded", PASSWORD)
    for method, path in [
        ("GET", "/api/v1/customers"),
        ("GET", f"/api/v1/customers/{customer['id']}"),
        ("GET", "/api/v1/users/me"),
        ("GET", "/api/v1/contracts"),
        ("GET", "/api/v1/invoices"),
        ("GET", "/api/v1/invoices/1/pdf"),
        ("GET", "/api/v1/dashboard"),
        ("GET", "/api/v1/units/SN-1"),
        ("GET", "/api/v1/notifications"),
        ("POST", "/api/v1/portal-invitations"),
        ("GET", "/api/v1/contracts/1/overview"),
    ]:
        r = await client.request(method, path, headers=headers, json={})
        assert r.status_code == 403, (method, path, r.text)
        assert "portal" in r.json()["error"]["message"].lower()
    me = await client.get("/api/v1/portal/me", headers=headers)
    assert me.status_code == 200 and me.json()["customer_id"] == customer["id"]
    r = await client.post(
        "/api/v1/portal/me/password",
        json={"old_password": PASSWORD, "new_password": "portal-password-2"},
        headers=headers,
    )
    assert r.status_code == 204, r.text
    assert (
        await client.post("/api/v1/auth/token", data={"username": "guarded", "password": PASSWORD})
    ).status_code == 401
    await login(client, "guarded", "portal-password-2")


async def test_staff_do_not_use_the_portal_routes(client, admin_headers):
    rep = await create_user(client, admin_headers, username="rep-portal", password=PASSWORD)
    for headers in (admin_headers, await login(client, rep["username"], PASSWORD)):
        for path in ("/api/v1/portal/contracts", "/api/v1/portal/invoices", "/api/v1/portal/me"):
            assert (await client.get(path, headers=headers)).status_code == 403
    assert (await client.get("/api/v1/portal/contracts")).status_code == 401


async def test_an_invitation_sets_the_password_once(client, admin_headers):
    customer = await new_customer(client, admin_headers, "Invited Ltd")
    r = await client.post(
        "/api/v1/portal-invitations",
        json={
            "customer_id": customer["id"],
            "email": "ayşe@example.com",
            "full_name": "Ayşe Yılmaz",
            "language": "tr",
        },
        headers=admin_headers,
    )
    assert r.status_code == 201, r.text
    invitation = r.json()
    assert invitation["status"] == "pending" and invitation["username"] == "ayşe@example.com"
    assert invitation["email"]["status"] == "not_sent"  # no notify service in this test
    assert urlsplit(invitation["accept_url"]).path == "/portal/accept"
    token = token_of(invitation)

    # before accepting, the user exists but cannot sign in
    bad = await client.post("/api/v1/auth/token", data={"username": "ayşe@example.com", "password": "x" * 10})
    assert bad.status_code == 401
    peek = await client.get(f"/api/v1/auth/invitations/{token}")
    assert peek.status_code == 200 and peek.json()["full_name"] == "Ayşe Yılmaz"
    short = await client.post("/api/v1/auth/invitations/accept", json={"token": token, "password": "short"})
    assert short.status_code == 422 and "password" in short.json()["error"]["details"]
    wrong = await client.post(
        "/api/v1/auth/invitations/accept", json={"token": "x" * 43, "password": PASSWORD}
    )
    assert wrong.status_code == 404

    ok = await client.post("/api/v1/auth/invitations/accept", json={"token": token, "password": PASSWORD})
    assert ok.status_code == 200, ok.text
    headers = {"Authorization": f"Bearer {ok.json()['access_token']}"}
    me = (await client.get("/api/v1/portal/me", headers=headers)).json()
    assert me["customer_id"] == customer["id"] and me["active"] and me["roles"] == ["portal"]
    await login(client, "ayşe@example.com", PASSWORD)

    again = await client.post(
        "/api/v1/auth/invitations/accept", json={"token": token, "password": "another-pass-1"}
    )
    assert again.status_code == 404
    assert (await client.get(f"/api/v1/auth/invitations/{token}")).status_code == 404
    # the username now belongs to an active user: inviting it again is a conflict
    r = await client.post(
        "/api/v1/portal-invitations",
        json={"customer_id": customer["id"], "email": "ayşe@example.com"},
        headers=admin_headers,
    )
    assert r.status_code == 409
    listed = (
        await client.get(f"/api/v1/portal-invitations?customer_id={customer['id']}", headers=admin_headers)
    ).json()
    assert [i["status"] for i in listed["items"]] == ["accepted"]


async def test_replaced_revoked_and_expired_links_stop_working(client, admin_headers):
    customer = await new_customer(client, admin_headers, "Links AG")
    body = {"customer_id": customer["id"], "email": "links@example.com", "username": "links"}
    first = (await client.post("/api/v1/portal-invitations", json=body, headers=admin_headers)).json()
    second = (await client.post("/api/v1/portal-invitations", json=body, headers=admin_headers)).json()
    assert first["user_id"] == second["user_id"]
    old, new = token_of(first), token_of(second)
    assert (await client.get(f"/api/v1/auth/invitations/{old}")).status_code == 404
    assert (await client.get(f"/api/v1/auth/invitations/{new}")).status_code == 200

    # another customer cannot take over a pending username
    other = await new_customer(client, admin_headers, "Other Links AG")
    r = await client.post(
        "/api/v1/portal-invitations", json={**body, "customer_id": other["id"]}, headers=admin_headers
    )
    assert r.status_code == 409

    revoked = await client.post(f"/api/v1/portal-invitations/{second['id']}/revoke", headers=admin_headers)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    r = await client.post("/api/v1/auth/invitations/accept", json={"token": new, "password": PASSWORD})
    assert r.status_code == 404

    third = (
        await client.post(f"/api/v1/portal-invitations/{second['id']}/resend", headers=admin_headers)
    ).json()
    db = client.app.state.gateway.db
    with db.transaction() as uow:
        uow.session.execute(
            update(Invitation)
            .where(Invitation.id == third["id"])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )
    r = await client.post(
        "/api/v1/auth/invitations/accept", json={"token": token_of(third), "password": PASSWORD}
    )
    assert r.status_code == 410 and r.json()["error"]["code"] == "GONE"
    listed = (await client.get("/api/v1/portal-invitations?status=expired", headers=admin_headers)).json()
    assert [i["id"] for i in listed["items"]] == [third["id"]]


async def test_who_may_invite(client, admin_headers):
    customer = await new_customer(client, admin_headers, "Who Invites Oy")
    finance = await create_user(
        client, admin_headers, username="fin-inv", password=PASSWORD, roles=["finance"]
    )
    headers = await login(client, finance["username"], PASSWORD)
    r = await client.post(
        "/api/v1/portal-invitations",
        json={"customer_id": customer["id"], "email": "a@example.com"},
        headers=headers,
    )
    assert r.status_code == 403
    r = await client.post(
        "/api/v1/portal-invitations",
        json={"customer_id": 999999, "email": "a@example.com"},
        headers=admin_headers,
    )
    assert r.status_code == 404  # the customers service does not know it: nothing was written
    assert (
        await client.post("/api/v1/auth/token", data={"username": "a@example.com", "password": "x" * 9})
    ).status_code == 401
    r = await client.post(
        "/api/v1/portal-invitations",
        json={"customer_id": customer["id"], "email": "not-an-email"},
        headers=admin_headers,
    )
    assert r.status_code == 422 and "email" in r.json()["error"]["details"]


async def test_the_accept_page_is_self_contained(client):
    r = await client.get("/portal/accept")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "'nonce-" in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert (
        f'<script nonce="{nonce}">' in r.text
        and "http" not in r.text.split("<script")[1].split("</script>")[0]
    )


async def test_the_dashboard_is_composed_from_its_parts_without_adding_anything():
    contracts = {"active_contracts": 2, "active_value": {"EUR": "10.00"}, "renewals_next_90_days": 1,
                 "renewals": {"count": 1}, "signed_in_year": {"count": 2}}  # fmt: skip
    billing = {"currencies": ["EUR", "USD"], "mrr": {"EUR": "5.00"}, "arr": {"EUR": "60.00"},
               "receivables": {"USD": "7.00"}, "overdue": {}, "overdue_invoices": 0,
               "cash_flow": [{"month": "2027-01"}], "top_customers": []}  # fmt: skip
    pipeline = {"currencies": ["TRY"], "stages": {"lead": {"count": 1, "amount": {"TRY": "3.00"}}}}
    out = compose(2027, "2027-03-01", contracts, billing, pipeline)
    assert out["currencies"] == ["EUR", "TRY", "USD"]
    assert (
        out["active_contracts"] == 2
        and out["mrr"] == {"EUR": "5.00"}
        and out["pipeline"]["lead"]["count"] == 1
    )
    partial = compose(2027, "2027-03-01", contracts, None, pipeline)
    assert partial["mrr"] is None and partial["cash_flow"] is None and partial["active_contracts"] == 2
