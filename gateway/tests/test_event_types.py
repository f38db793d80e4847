"""``GET /api/v1/event-types``: the event catalogue through the gateway, for anyone signed in."""

from __future__ import annotations

import pytest
from conftest import create_user, login
from crm_common import catalogue

pytestmark = pytest.mark.asyncio

BASE = "/api/v1/event-types"


async def test_signed_in_staff_list_every_event_type_with_its_schema(client, admin_headers):
    await create_user(client, admin_headers, username="rep1", password="rep-password-1", roles=["sales_rep"])
    rep = await login(client, "rep1", "rep-password-1")
    assert (await client.get(BASE)).status_code == 401
    r = await client.get(BASE, params={"page_size": 500}, headers=rep)
    assert r.status_code == 200, r.text
    body = r.json()
    declared = list(catalogue.load())
    assert body["total"] == len(declared) and body["page"] == 1 and body["page_size"] == 500
    assert [(e["source"], e["type"], e["version"]) for e in body["items"]] == [e.key for e in declared]
    created = next(e for e in body["items"] if e["type"] == "customer_created")
    assert set(created) == {
        "source",
        "type",
        "version",
        "summary",
        "public",
        "personal",
        "deprecated",
        "schema",
        "consumers",
    }
    assert created["source"] == "customers" and created["public"] is True
    assert created["schema"]["properties"]["id"] == {"type": "integer"}
    assert "email" in created["personal"]
    assert "billing.handle_customer_created" in created["consumers"]


async def test_portal_users_are_refused(client, admin_headers):
    r = await client.post(
        "/api/v1/customers", json={"name": "Portal Events AG", "kind": "company"}, headers=admin_headers
    )
    assert r.status_code == 201, r.text
    await create_user(
        client, admin_headers, username="portal-ev", password="portal-password-1", roles=["portal"],
        customer_id=r.json()["id"], department=None,
    )  # fmt: skip
    portal = await login(client, "portal-ev", "portal-password-1")
    for path in (BASE, f"{BASE}/customers/customer_created"):
        r = await client.get(path, headers=portal)
        assert r.status_code == 403, (path, r.text)


async def test_filters_sorting_and_paging(client, admin_headers):
    r = await client.get(BASE, params={"public": "true", "page_size": 500}, headers=admin_headers)
    assert r.status_code == 200, r.text
    public = r.json()["items"]
    assert public and all(e["public"] for e in public)
    assert "user_created" not in {e["type"] for e in public}  # directory plumbing is internal
    assert r.json()["total"] == len(catalogue.load().public())

    r = await client.get(BASE, params={"public": "false", "source": "gateway"}, headers=admin_headers)
    assert {e["type"] for e in r.json()["items"]} == {"user_created", "user_updated"}

    r = await client.get(BASE, params={"sort": "-type", "page": 2, "page_size": 5}, headers=admin_headers)
    assert r.status_code == 200, r.text
    everything = sorted((e.type for e in catalogue.load()), reverse=True)
    assert [e["type"] for e in r.json()["items"]] == everything[5:10]

    assert (await client.get(BASE, params={"sort": "summary"}, headers=admin_headers)).status_code == 422
    assert (await client.get(BASE, params={"kind": "public"}, headers=admin_headers)).status_code == 422


async def test_one_event_type_and_unknown_ones(client, admin_headers):
    r = await client.get(f"{BASE}/billing/invoice_issued", headers=admin_headers)
    assert r.status_code == 200, r.text
    info = catalogue.load().get("billing", "invoice_issued")
    assert info is not None
    assert r.json()["schema"] == info.schema and r.json()["version"] == info.version
    assert (
        await client.get(f"{BASE}/billing/invoice_issued", params={"version": 1}, headers=admin_headers)
    ).json()["type"] == "invoice_issued"

    r = await client.get(f"{BASE}/customers/custmer_created", headers=admin_headers)
    assert r.status_code == 404
    assert r.json()["error"]["details"] == {"source": "customers", "type": "custmer_created", "version": None}
    r = await client.get(f"{BASE}/billing/invoice_issued", params={"version": 99}, headers=admin_headers)
    assert r.status_code == 404
    assert (await client.get(f"{BASE}/billing/invoice_issued")).status_code == 401


async def test_the_openapi_document_types_the_answers(client):
    document = (await client.get("/openapi.json")).json()
    listed = document["paths"][BASE]["get"]
    one = document["paths"][BASE + "/{source}/{event_type}"]["get"]
    assert listed["operationId"] == "listEventTypes" and one["operationId"] == "getEventType"
    page_ref = listed["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = document["components"]["schemas"][page_ref.rsplit("/", 1)[-1]]
    item_ref = page["properties"]["items"]["items"]["$ref"]
    item = document["components"]["schemas"][item_ref.rsplit("/", 1)[-1]]
    assert {"schema", "consumers", "personal", "public"} <= set(item["properties"])
    assert one["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == item_ref
    assert listed.get("security") and one.get("security")  # a token is needed
