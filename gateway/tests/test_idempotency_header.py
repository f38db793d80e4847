"""The ``Idempotency-Key`` header: the request id the services get is derived from the key,
the caller and the route (the services replay the first result under it, see
services/common/tests/test_idempotency.py); a malformed key is refused before any service is
called; the header is documented on the create and money-moving routes."""

from __future__ import annotations

import uuid

import pytest
from conftest import create_user, login
from gateway.idempotency import derive_request_id
from gateway.main import create_app
from gateway.users import UserInfo

pytestmark = pytest.mark.asyncio


def customer(name: str) -> dict:
    return {"name": name, "kind": "company", "allow_duplicate": True}


async def test_a_retry_with_the_same_key_carries_the_same_request_id(client, admin_headers):
    key = str(uuid.uuid4())
    name = f"Idem {key[:8]}"
    sent = []
    for rid in ("try-1", "try-2"):
        r = await client.post(
            "/api/v1/customers",
            json=customer(name),
            headers={**admin_headers, "Idempotency-Key": key, "X-Request-ID": rid},
        )
        assert r.status_code == 201, r.text
        assert r.headers["x-request-id"] == rid  # the HTTP request keeps its own id
        sent.append(r.json()["request_id"])
    assert sent[0] == sent[1] and sent[0].startswith("ik-") and len(sent[0]) == 43

    r = await client.post(
        "/api/v1/customers", json=customer(name), headers={**admin_headers, "Idempotency-Key": key + "x"}
    )
    assert r.json()["request_id"] not in (sent[0], None)


async def test_the_key_is_scoped_to_the_caller(client, admin_headers):
    await create_user(client, admin_headers, username="idem_rep", department="north")
    rep = await login(client, "idem_rep", "rep-password-1")
    key = str(uuid.uuid4())
    ids = set()
    for headers in (admin_headers, rep):
        r = await client.post(
            "/api/v1/customers",
            json=customer(f"Scoped {key[:8]}"),
            headers={**headers, "Idempotency-Key": key},
        )
        assert r.status_code == 201, r.text
        ids.add(r.json()["request_id"])
    assert len(ids) == 2


async def test_without_a_key_the_request_id_is_the_requests_own(client, admin_headers):
    r = await client.post(
        "/api/v1/customers", json=customer("No key Ltd"), headers={**admin_headers, "X-Request-ID": "plain-7"}
    )
    assert r.status_code == 201 and r.json()["request_id"] == "plain-7"


@pytest.mark.parametrize("bad", ["has space", "x" * 256, "ünïcode".encode(), ""])
async def test_a_malformed_key_is_refused_and_nothing_is_created(client, admin_headers, bad):
    name = f"Never {uuid.uuid4().hex[:8]}"
    body = {"name": name, "kind": "company"}
    r = await client.post("/api/v1/customers", json=body, headers={**admin_headers, "Idempotency-Key": bad})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "VALIDATION_FAILED"
    # not created: the same name (no allow_duplicate) is no duplicate of anything
    r = await client.post("/api/v1/customers", json=body, headers=admin_headers)
    assert r.status_code == 201, r.text


async def test_derived_ids_differ_by_user_route_method_and_key():
    user = UserInfo(id=1, username="a", roles=("admin",), department=None, customer_id=None, active=True)
    other = UserInfo(id=2, username="b", roles=("admin",), department=None, customer_id=None, active=True)
    api_key = UserInfo(
        id=1, username="a", roles=("admin",), department=None, customer_id=None, active=True, api_key_id=1
    )
    base = derive_request_id(user, "POST", "/api/v1/payments", "k")
    assert base == derive_request_id(user, "post", "/api/v1/payments", "k")
    assert len({
        base,
        derive_request_id(other, "POST", "/api/v1/payments", "k"),
        derive_request_id(api_key, "POST", "/api/v1/payments", "k"),
        derive_request_id(user, "PATCH", "/api/v1/payments", "k"),
        derive_request_id(user, "POST", "/api/v1/invoices", "k"),
        derive_request_id(user, "POST", "/api/v1/payments", "k2"),
    }) == 6  # fmt: skip


async def test_the_header_is_documented_on_creates_and_money_routes():
    paths = create_app().openapi()["paths"]

    def documented(path: str, method: str) -> bool:
        params = paths[path][method].get("parameters", [])
        return any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in params)

    for path in (
        "/api/v1/customers",
        "/api/v1/contracts",
        "/api/v1/payments",
        "/api/v1/payments/{payment_id}/refunds",
        "/api/v1/payments/{payment_id}/confirm",
        "/api/v1/invoices",
        "/api/v1/invoices/{invoice_id}/credit-notes",
        "/api/v1/opportunities",
        "/api/v1/trade-ins",
        "/api/v1/purchase-orders",
    ):
        assert documented(path, "post"), path
    assert not documented("/api/v1/customers", "get")
