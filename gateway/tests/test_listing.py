"""What every list and create shares (issue 19 §2, §3): ``Location`` on ``201`` answers,
``sort=field,-field`` checked against each list's fields and passed to the service, and query
parameters a route does not declare answered 422 ``UNKNOWN_PARAMETER`` naming them.

The customers service is the stand-in of ``gateway_test_service.py`` (it orders with the
services' own :func:`crm_common.paging.sort_rows`); users and API keys are the gateway's own."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.asyncio


async def new_customer(client, headers, name: str) -> dict:
    r = await client.post("/api/v1/customers", json={"name": name, "kind": "company"}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_create_answers_the_location_of_its_resource(client, admin_headers):
    customer = await new_customer(client, admin_headers, "Location Handel GmbH")
    r = await client.post(
        "/api/v1/customers", json={"name": "Konum AŞ", "kind": "company"}, headers=admin_headers
    )
    assert r.headers["location"] == f"/api/v1/customers/{r.json()['id']}"
    fetched = await client.get(r.headers["location"], headers=admin_headers)
    assert fetched.status_code == 200 and fetched.json()["name"] == "Konum AŞ"

    r = await client.post(
        "/api/v1/opportunities",
        json={
            "customer_id": customer["id"],
            "title": "Printers 2027",
            "amount": "1200.00",
            "currency": "EUR",
        },
        headers=admin_headers,
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/api/v1/opportunities/{r.json()['id']}"
    assert (await client.get(r.headers["location"], headers=admin_headers)).json()["id"] == r.json()["id"]

    body = {"username": f"loc-{uuid.uuid4().hex[:6]}", "password": "rep-password-1", "roles": ["sales_rep"]}
    r = await client.post("/api/v1/users", json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/api/v1/users/{r.json()['id']}"  # the gateway's own resource
    assert (await client.get(r.headers["location"], headers=admin_headers)).json()["username"] == body[
        "username"
    ]

    # a contact has no GET route of its own: no Location rather than a wrong one
    r = await client.post(
        f"/api/v1/customers/{customer['id']}/contacts", json={"name": "Ana Pop"}, headers=admin_headers
    )
    assert r.status_code == 201 and "location" not in r.headers


async def test_the_openapi_declares_location_on_the_creates_that_have_one(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    created = paths["/api/v1/customers"]["post"]["responses"]["201"]
    assert created["headers"]["Location"]["schema"]["format"] == "uri-reference"
    assert (
        "Location"
        in paths["/api/v1/invoices/{invoice_id}/credit-notes"]["post"]["responses"]["201"]["headers"]
    )
    assert "Location" in paths["/api/v1/contracts/{contract_id}/renew"]["post"]["responses"]["201"]["headers"]
    contact = paths["/api/v1/customers/{customer_id}/contacts"]["post"]["responses"]["201"]
    assert "Location" not in contact.get("headers", {})


async def test_sort_orders_both_ways_and_an_unknown_field_is_422_naming_it(client, admin_headers):
    tag = uuid.uuid4().hex[:6]
    for name in ("Beta", "Alpha", "Gamma"):
        await new_customer(client, admin_headers, f"{tag} {name}")

    async def names(sort: str) -> list[str]:
        r = await client.get("/api/v1/customers", params={"q": tag, "sort": sort}, headers=admin_headers)
        assert r.status_code == 200, r.text
        return [c["name"].split()[1] for c in r.json()["items"]]

    assert await names("name") == ["Alpha", "Beta", "Gamma"]
    assert await names("-name") == ["Gamma", "Beta", "Alpha"]
    assert await names("-id") == ["Gamma", "Alpha", "Beta"]

    r = await client.get("/api/v1/customers", params={"sort": "name,-shoe_size"}, headers=admin_headers)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_FAILED" and "shoe_size" in error["message"]
    assert "shoe_size" in error["details"]["sort"][0] and "name" in error["details"]["sort"][0]
    r = await client.get("/api/v1/customers", params={"sort": "-name,name", "q": tag}, headers=admin_headers)
    assert [c["name"].split()[1] for c in r.json()["items"]] == ["Gamma", "Beta", "Alpha"]  # first one counts


async def test_the_openapi_lists_each_lists_sort_fields(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path, field in (("/api/v1/customers", "name"), ("/api/v1/invoices", "due_date"),
                        ("/api/v1/contracts/{contract_id}/attachments", "filename"),
                        ("/api/v1/categories", "path")):  # fmt: skip
        params = {p["name"]: p for p in paths[path]["get"]["parameters"]}
        schema = params["sort"]["schema"]
        allowed = schema.get("x-sort-fields") or next(
            s["x-sort-fields"] for s in schema.get("anyOf", []) if "x-sort-fields" in s
        )
        assert field in allowed and field in params["sort"]["description"], path


async def test_an_unknown_query_parameter_is_422_naming_it(client, admin_headers):
    r = await client.get("/api/v1/customers?size=medium&level=A", headers=admin_headers)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "UNKNOWN_PARAMETER" and "size" in error["message"]
    assert error["details"]["parameters"] == ["size"] and "level" in error["details"]["allowed"]
    r = await client.get("/api/v1/users?colour=red&x=1&x=2&y=", headers=admin_headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["parameters"] == ["colour", "x", "y"]
    r = await client.get("/api/v1/users/me?verbose=true", headers=admin_headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["parameters"] == ["verbose"]
    r = await client.post("/api/v1/customers?dry_run=1", json={"name": "Nope"}, headers=admin_headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["parameters"] == ["dry_run"]
    r = await client.get("/healthz?probe=1")
    assert r.status_code == 422 and r.json()["error"]["code"] == "UNKNOWN_PARAMETER"

    # what a route declares passes, its dependencies' parameters (page, sort) included
    r = await client.get(
        "/api/v1/customers?level=A&page=1&page_size=5&sort=-name&include_archived=false",
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    assert (await client.get("/healthz")).status_code == 200


# each list route's sort fields are the service's own (its *_SORT table): no drift either way
SERVICE_SORTS = {
    "/api/v1/customers": "customers.usecases:CUSTOMER_SORT",
    "/api/v1/customers/{customer_id}/contacts": "customers.usecases:CONTACT_SORT",
    "/api/v1/customers/{customer_id}/follow-ups": "customers.usecases:FOLLOW_UP_SORT",
    "/api/v1/opportunities": "customers.usecases:OPPORTUNITY_SORT",
    "/api/v1/contracts": "contracts.usecases:CONTRACT_SORT",
    "/api/v1/contract-templates": "contracts.templates:TEMPLATE_SORT",
    "/api/v1/contract-progress": "contracts.progress:PROGRESS_SORT",
    "/api/v1/portal/requests": "contracts.portal:SERVICE_REQUEST_SORT",
    "/api/v1/invoices": "billing.invoices:INVOICE_SORT",
    "/api/v1/credit-notes": "billing.credits:CREDIT_NOTE_SORT",
    "/api/v1/payments": "billing.payments:PAYMENT_SORT",
    "/api/v1/billing/runs": "billing.runs:BILLING_RUN_SORT",
    "/api/v1/billing/pending-corrections": "billing.corrections:CORRECTION_SORT",
    "/api/v1/products": "inventory.catalogue:PRODUCT_SORT",
    "/api/v1/price-lists": "inventory.price_lists:PRICE_LIST_SORT",
    "/api/v1/warehouses": "inventory.stock:WAREHOUSE_SORT",
    "/api/v1/stock": "inventory.stock:STOCK_SORT",
    "/api/v1/stock/moves": "inventory.stock:MOVE_SORT",
    "/api/v1/units": "inventory.units:UNIT_SORT",
    "/api/v1/stock/reservations": "inventory.reservations:RESERVATION_SORT",
    "/api/v1/purchase-orders": "inventory.purchase_orders:PURCHASE_ORDER_SORT",
    "/api/v1/trade-ins": "inventory.trade_ins:TRADE_IN_SORT",
    "/api/v1/approvals": "approvals.usecases:APPROVAL_SORT",
    "/api/v1/approval-flows": "approvals.usecases:FLOW_SORT",
    "/api/v1/notifications": "notify.inbox:NOTIFICATION_SORT",
    "/api/v1/tasks": "notify.tasks:TASK_SORT",
    "/api/v1/portal/items": "contracts.portal:ITEM_SORT",
    "/api/v1/webhooks": "notify.webhooks:WEBHOOK_SORT",
    "/api/v1/webhooks/{webhook_id}/deliveries": "notify.webhooks:DELIVERY_SORT",
}
# the portal's lists offer a subset of the staff lists' fields (same service method)
PORTAL_SUBSETS = {
    "/api/v1/portal/contracts": "contracts.usecases:CONTRACT_SORT",
    "/api/v1/portal/invoices": "billing.invoices:INVOICE_SORT",
    "/api/v1/portal/payments": "billing.payments:PAYMENT_SORT",
}


def _sort_fields(operation: dict) -> list[str] | None:
    for param in operation.get("parameters", []):
        if param["name"] == "sort":
            schema = param["schema"]
            return schema.get("x-sort-fields") or next(
                s["x-sort-fields"] for s in schema.get("anyOf", []) if "x-sort-fields" in s
            )
    return None


async def test_each_routes_sort_fields_are_its_services(client):
    import importlib

    def table(ref: str) -> set[str]:
        module, name = ref.split(":")
        return set(getattr(importlib.import_module(module), name))

    paths = (await client.get("/openapi.json")).json()["paths"]
    for path, ref in SERVICE_SORTS.items():
        assert set(_sort_fields(paths[path]["get"]) or ()) == table(ref), path
    for path, ref in PORTAL_SUBSETS.items():
        assert set(_sort_fields(paths[path]["get"]) or ()) <= table(ref), path
