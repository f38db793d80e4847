"""The archive and red-list routes (issue 17) over the customers stand-in: filters forwarded, the
service's JSON passed through, bodies validated before any call (422 naming the field)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.asyncio


async def new_customer(client, headers, name):
    r = await client.post("/api/v1/customers", json={"name": name, "kind": "company"}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_list_forwards_include_archived_and_red_listed_only_when_asked(client, admin_headers):
    r = await client.get("/api/v1/customers", headers=admin_headers)
    assert r.status_code == 200 and r.json()["filters"] == {}
    r = await client.get("/api/v1/customers?include_archived=true&red_listed=false", headers=admin_headers)
    assert r.status_code == 200 and r.json()["filters"] == {"include_archived": True, "red_listed": False}
    r = await client.get("/api/v1/customers?red_listed=maybe", headers=admin_headers)
    assert r.status_code == 422 and "red_listed" in r.json()["error"]["details"]


async def test_archive_restore_pass_through_and_a_conflict_keeps_its_body(client, admin_headers):
    c = await new_customer(client, admin_headers, "Archiv Handel GmbH")
    r = await client.post(f"/api/v1/customers/{c['id']}/archive", headers=admin_headers)
    assert r.status_code == 200 and r.json()["archived"] is True, r.text
    r = await client.post(f"/api/v1/customers/{c['id']}/archive", headers=admin_headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT", r.text
    r = await client.post(f"/api/v1/customers/{c['id']}/restore", headers=admin_headers)
    assert r.status_code == 200 and r.json()["archived"] is False
    r = await client.post("/api/v1/customers/abc/archive", headers=admin_headers)
    assert r.status_code in (404, 422)


async def test_red_list_needs_a_reason_and_is_cleared_by_delete(client, admin_headers):
    c = await new_customer(client, admin_headers, "Rotliste Handel GmbH")
    url = f"/api/v1/customers/{c['id']}/red-list"
    for body, field in (({}, "reason"), ({"reason": "   "}, "reason"), ({"reason": "x" * 1001}, "reason"),
                        ({"reason": "ok", "by": "me"}, "by")):  # fmt: skip
        r = await client.post(url, json=body, headers=admin_headers)
        assert r.status_code == 422 and field in r.json()["error"]["details"], (body, r.text)
    r = await client.get(f"/api/v1/customers/{c['id']}", headers=admin_headers)
    assert not r.json().get("red_listed")
    r = await client.post(url, json={"reason": " unpaid "}, headers=admin_headers)
    assert r.status_code == 200 and r.json()["red_list_reason"] == "unpaid", r.text
    r = await client.delete(url, headers=admin_headers)
    assert r.status_code == 200 and r.json()["red_listed"] is False


async def test_submit_override_is_validated_before_the_call(client, admin_headers):
    for body, field in (({"override_red_list": ""}, "override_red_list"), ({"override": "x"}, "override")):
        r = await client.post("/api/v1/contracts/1/submit", json=body, headers=admin_headers)
        assert r.status_code == 422 and field in r.json()["error"]["details"], (body, r.text)
