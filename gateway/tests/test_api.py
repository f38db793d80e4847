"""The REST contract over the real test services: routes, error bodies, request ids, health,
the daily job."""

from __future__ import annotations

import time

import pytest
from conftest import create_user, login

pytestmark = pytest.mark.asyncio

CUSTOMER = {
    "name": "Acme Makine A.Ş.",
    "kind": "company",
    "level": "A",
    "tags": ["vip"],
    "contacts": [{"name": "Ayşe", "email": "ayse@acme.example"}],
}


async def test_customer_routes_pass_the_service_json_through(client, admin_headers):
    r = await client.post("/api/v1/customers", json=CUSTOMER, headers=admin_headers)
    assert r.status_code == 201, r.text
    customer = r.json()
    assert customer["code"].startswith("C") and customer["name"] == "Acme Makine A.Ş."
    assert "allow_duplicate" not in customer  # only the fields the client sent travel
    cid = customer["id"]

    r = await client.get(f"/api/v1/customers/{cid}", headers=admin_headers)
    assert r.status_code == 200 and r.json()["id"] == cid
    r = await client.patch(f"/api/v1/customers/{cid}", json={"level": "B"}, headers=admin_headers)
    assert r.status_code == 200 and r.json()["level"] == "B"
    r = await client.get("/api/v1/customers?q=acme&level=B&page=1&page_size=10", headers=admin_headers)
    body = r.json()
    assert r.status_code == 200 and body["filters"] == {"q": "acme", "level": "B"}
    assert body["page_size"] == 10 and cid in [c["id"] for c in body["items"]]

    r = await client.post(f"/api/v1/customers/{cid}/contacts", json={"name": "Boris"}, headers=admin_headers)
    assert r.status_code == 201
    r = await client.get(f"/api/v1/customers/{cid}/contacts", headers=admin_headers)
    assert [c["name"] for c in r.json()["items"]] == ["Ayşe", "Boris"]

    r = await client.post(
        f"/api/v1/customers/{cid}/follow-ups",
        headers=admin_headers,
        json={"method": "call", "occurred_at": "2027-01-05T10:00:00", "result": "wants a quote"},
    )
    assert r.status_code == 201
    assert r.json()["occurred_at"] == "2027-01-05T10:00:00Z"  # no zone given: UTC
    r = await client.get(f"/api/v1/customers/{cid}/follow-ups", headers=admin_headers)
    assert r.json()["total"] == 1

    r = await client.post(
        "/api/v1/opportunities",
        headers=admin_headers,
        json={
            "customer_id": cid,
            "title": "2 printers",
            "amount": "1250.00",
            "currency": "EUR",
            "stage": "lead",
            "expected_close": "2027-03-31",
            "probability": 40,
        },
    )
    assert r.status_code == 201 and r.json()["amount"] == "1250.00"
    oid = r.json()["id"]
    r = await client.patch(f"/api/v1/opportunities/{oid}", json={"stage": "won"}, headers=admin_headers)
    assert r.status_code == 200 and r.json()["stage"] == "won"
    r = await client.patch(f"/api/v1/opportunities/{oid}", json={"stage": "lost"}, headers=admin_headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"
    r = await client.get(f"/api/v1/opportunities?stage=won&customer_id={cid}", headers=admin_headers)
    assert [o["id"] for o in r.json()["items"]] == [oid]
    r = await client.get(f"/api/v1/opportunities/{oid}", headers=admin_headers)
    assert r.status_code == 200

    r = await client.delete(f"/api/v1/customers/{cid}", headers=admin_headers)
    assert r.status_code == 204 and r.content == b""
    r = await client.get(f"/api/v1/customers/{cid}", headers=admin_headers)
    assert r.status_code == 404


async def test_caller_and_request_id_reach_the_service(client, admin_headers):
    await create_user(client, admin_headers, username="rep7", department="north")
    rep = await login(client, "rep7", "rep-password-1")
    r = await client.post(
        "/api/v1/customers",
        json={"name": "Ctx Ltd", "kind": "company"},
        headers={**rep, "X-Request-ID": "trace-42"},
    )
    assert r.status_code == 201
    body = r.json()
    assert body["request_id"] == "trace-42"
    assert body["created_by"]["username"] == "rep7"
    assert body["created_by"]["roles"] == ["sales_rep"]
    assert body["created_by"]["department"] == "north"


async def test_remote_errors_map_to_the_error_body(client, admin_headers):
    r = await client.get("/api/v1/customers/999999", headers=admin_headers)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"
    assert r.json()["error"]["message"] == "Customer 999999 not found"

    r = await client.post(
        "/api/v1/customers",
        headers=admin_headers,
        json={"name": "Taxed", "kind": "company", "tax_id": "INVALID"},
    )
    assert r.status_code == 422
    assert r.json()["error"] == {
        "code": "VALIDATION_FAILED",
        "message": "Invalid input: tax_id",
        "details": {"tax_id": ["checksum mismatch"]},
    }

    await client.post("/api/v1/customers", json={"name": "Twin", "kind": "person"}, headers=admin_headers)
    r = await client.post("/api/v1/customers", json={"name": "twin", "kind": "person"}, headers=admin_headers)
    assert r.status_code == 409 and r.json()["error"]["details"]["candidates"]
    r = await client.post(
        "/api/v1/customers",
        headers=admin_headers,
        json={"name": "twin", "kind": "person", "allow_duplicate": True},
    )
    assert r.status_code == 201

    r = await client.get("/api/v1/customers/900000013", headers=admin_headers)
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "INTERNAL" and "secret" not in r.text

    r = await client.get("/api/v1/customers/not-an-id", headers=admin_headers)
    assert r.status_code == 404


async def test_timeout_is_504_in_about_the_timeout(app_factory):
    async with app_factory(crm_rpc_timeout=1) as client:
        headers = await login(client, "admin", "admin-password-1")
        started = time.monotonic()
        r = await client.get("/api/v1/customers/900000666", headers=headers)
        assert r.status_code == 504 and r.json()["error"]["code"] == "TIMEOUT"
        assert time.monotonic() - started < 2.5


async def test_bad_input_is_422_naming_the_field(client, admin_headers):
    r = await client.post(
        "/api/v1/customers",
        headers={**admin_headers, "Content-Type": "application/json"},
        content=b'{"name": "Acme", ',
    )
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "VALIDATION_FAILED" and "body" in err["details"]

    r = await client.post(
        "/api/v1/customers",
        headers=admin_headers,
        json={
            "name": 5,
            "kind": "robot",
            "tags": "vip",
            "owner_id": "abc",
            "colour": "red",
            "contacts": [{"email": "x@y.z"}],
        },
    )
    assert r.status_code == 422
    details = r.json()["error"]["details"]
    assert {"name", "kind", "tags", "owner_id", "colour", "contacts.0.name"} <= set(details)
    assert details["colour"] == ["Extra inputs are not permitted"]

    r = await client.post("/api/v1/customers", headers=admin_headers, json={"kind": "company"})
    assert r.status_code == 422 and r.json()["error"]["details"] == {"name": ["Field required"]}

    r = await client.post("/api/v1/customers", headers=admin_headers, json=[1, 2])
    assert r.status_code == 422

    r = await client.post(
        "/api/v1/opportunities",
        headers=admin_headers,
        json={
            "customer_id": 1,
            "title": "t",
            "amount": 1250.5,
            "currency": "eur",
            "stage": "lead",
            "expected_close": "31/03/2027",
        },
    )
    assert r.status_code == 422
    details = r.json()["error"]["details"]
    assert {"amount", "currency", "expected_close"} <= set(details)
    assert "float" in details["amount"][0]


async def test_pagination_limits(client, admin_headers):
    for query in ("page_size=501", "page_size=0", "page=0", "page=x"):
        r = await client.get(f"/api/v1/customers?{query}", headers=admin_headers)
        assert r.status_code == 422, query
        assert query.split("=")[0] in r.json()["error"]["details"]
    r = await client.get("/api/v1/customers?page_size=500", headers=admin_headers)
    assert r.status_code == 200


async def test_request_id_is_echoed_or_generated_on_every_response(client, admin_headers):
    r = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/healthz")
    assert len(r.headers["x-request-id"]) == 32
    r = await client.get("/healthz", headers={"X-Request-ID": "evil\tid;<script>" + "a" * 100})
    assert r.headers["x-request-id"] == ("evilidscript" + "a" * 100)[:64]
    r = await client.get("/api/v1/users/me", headers={"X-Request-ID": "unauth-1"})
    assert r.status_code == 401 and r.headers["x-request-id"] == "unauth-1"
    r = await client.get("/api/v1/customers/900000013", headers={**admin_headers, "X-Request-ID": "boom-1"})
    assert r.status_code == 500 and r.headers["x-request-id"] == "boom-1"


async def test_unknown_route_and_method(client):
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    r = await client.put("/healthz")
    assert r.status_code == 405 and r.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


async def test_health_and_docs_need_no_token(client):
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert "/api/v1/customers/import" in spec["paths"]
    assert (
        spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"]
        == "/api/v1/auth/token"
    )
    assert (await client.get("/docs")).status_code == 200


async def test_readyz(app_factory):
    async with app_factory() as client:
        r = await client.get("/readyz")
        assert r.status_code == 200
        assert r.json() == {
            "status": "ready",
            "broker": "ok",
            "services": {"gateway_test": "ok", "customers": "ok"},
        }
    async with app_factory(crm_services=["gateway_test", "billing"]) as client:
        started = time.monotonic()
        r = await client.get("/readyz")
        assert r.status_code == 503 and time.monotonic() - started < 2
        body = r.json()
        assert body["status"] == "not_ready" and body["services"]["gateway_test"] == "ok"
        assert body["services"]["billing"].startswith("unavailable")


async def test_daily_job_runs_every_service(app_factory):
    async with app_factory(crm_services=["gateway_test", "billing"]) as client:
        admin = await login(client, "admin", "admin-password-1")
        r = await client.post("/api/v1/admin/jobs/daily", json={"as_of": "2027-01-31"}, headers=admin)
        assert r.status_code == 200
        body = r.json()
        assert body["as_of"] == "2027-01-31"
        assert body["results"]["gateway_test"] == {"as_of": "2027-01-31", "ran": True}
        assert body["results"]["billing"]["error"]["code"] == "SERVICE_UNAVAILABLE"

        r = await client.post("/api/v1/admin/jobs/daily", json={"as_of": "2027-02-30"}, headers=admin)
        assert r.status_code == 422 and "as_of" in r.json()["error"]["details"]
        await create_user(client, admin)
        rep = await login(client, "rep1", "rep-password-1")
        r = await client.post("/api/v1/admin/jobs/daily", json={"as_of": "2027-01-31"}, headers=rep)
        assert r.status_code == 403


async def test_a_gateway_bug_is_a_500_with_the_error_body_and_request_id(client):
    async def broken():
        raise RuntimeError("gateway bug with secret")

    client.app.add_api_route("/broken", broken)
    r = await client.get("/broken", headers={"X-Request-ID": "bug-1"})
    assert r.status_code == 500 and r.headers["x-request-id"] == "bug-1"
    assert r.json()["error"]["code"] == "INTERNAL" and "secret" not in r.text
