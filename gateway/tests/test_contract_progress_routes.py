"""The contract progress routes at the gateway, over a real broker with the contracts service's
progress methods stood in (progress_stand_in.py, run in its own `nameko run` process): paths as
documented, shapes checked before any RPC (422 naming the field), writers only, what the
service receives, and its errors mapped to 404 / 409."""

from __future__ import annotations

import pytest
from conftest import create_user, login, nameko_process

pytestmark = pytest.mark.asyncio

MILESTONE = {"name": "Installation 安装", "planned_date": "2026-03-31", "weight": "2", "percent_complete": 10}


@pytest.fixture(scope="module")
def contracts_stand_in(nameko_services, tmp_path_factory):
    """The stand-in contracts service on the session's vhost, for this module."""
    workdir = tmp_path_factory.mktemp("progress_stand_in")
    with nameko_process(
        nameko_services, workdir, ["progress_stand_in:FakeContractsService"], ["rpc-contracts"]
    ):
        yield nameko_services


@pytest.fixture
def api(contracts_stand_in, client, admin_headers):
    return client, admin_headers


async def test_contracts_progress_paths_are_in_the_openapi_document(api):
    client, _ = api
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/contracts/{contract_id}/milestones"])
    assert {"patch", "delete"} <= set(paths["/api/v1/contracts/{contract_id}/milestones/{milestone_id}"])
    assert "get" in paths["/api/v1/contracts/{contract_id}/progress"]
    assert "get" in paths["/api/v1/contract-progress"]


async def test_contracts_milestone_routes_pass_only_what_the_client_sent(api):
    client, headers = api
    r = await client.post("/api/v1/contracts/7/milestones", json=MILESTONE, headers=headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["contract_id"] == 7 and created["received"] == MILESTONE
    mid = created["id"]

    r = await client.patch(
        f"/api/v1/contracts/7/milestones/{mid}", json={"percent_complete": 100}, headers=headers
    )
    assert r.status_code == 200 and r.json()["received"] == {"percent_complete": 100}
    r = await client.get("/api/v1/contracts/7/milestones", headers=headers)
    assert r.status_code == 200 and [m["id"] for m in r.json()["items"]] == [mid]

    r = await client.delete(f"/api/v1/contracts/7/milestones/{mid}", headers=headers)
    assert r.status_code == 204 and r.content == b""
    r = await client.delete(f"/api/v1/contracts/7/milestones/{mid}", headers=headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**MILESTONE, "weight": 1.5}, "weight"),
        ({**MILESTONE, "percent_complete": 101}, "percent_complete"),
        ({**MILESTONE, "percent_complete": "50"}, "percent_complete"),
        ({**MILESTONE, "planned_date": "31.03.2026"}, "planned_date"),
        ({**MILESTONE, "name": "  "}, "name"),
        ({**MILESTONE, "colour": "red"}, "colour"),
        ({"planned_date": "2026-03-31"}, "name"),
    ],
)
async def test_contracts_bad_milestone_bodies_are_refused_naming_the_field(api, body, field):
    client, headers = api
    r = await client.post("/api/v1/contracts/8/milestones", json=body, headers=headers)
    assert r.status_code == 422, r.text
    assert field in {k.split(".")[-1] for k in r.json()["error"]["details"]}
    listed = (await client.get("/api/v1/contracts/8/milestones", headers=headers)).json()
    assert listed["items"] == []  # nothing reached the service


async def test_contracts_service_errors_and_bad_ids_map_to_http(api):
    client, headers = api
    r = await client.post("/api/v1/contracts/404/milestones", json=MILESTONE, headers=headers)
    assert r.status_code == 404
    r = await client.post("/api/v1/contracts/409/milestones", json=MILESTONE, headers=headers)
    assert r.status_code == 409 and "cancelled" in r.json()["error"]["message"]
    r = await client.get("/api/v1/contracts/abc/progress", headers=headers)
    assert r.status_code == 404
    r = await client.get("/api/v1/contracts/3f0c1a4e-8d6b-4c8e-9a57-0d2d7f3b1c11/milestones", headers=headers)
    assert r.status_code == 404
    r = await client.get("/api/v1/contracts/7/progress")
    assert r.status_code == 401


async def test_contracts_progress_queries_reach_the_service_as_given(api):
    client, headers = api
    r = await client.get("/api/v1/contracts/7/progress?as_of=2026-06-30", headers=headers)
    assert r.status_code == 200 and r.json()["as_of"] == "2026-06-30"
    assert r.json()["caller"]["roles"] == ["admin"]
    r = await client.get("/api/v1/contracts/7/progress", headers=headers)
    assert r.json()["as_of"] is None  # the service's default: today
    r = await client.get("/api/v1/contracts/7/progress?as_of=30/06/2026", headers=headers)
    assert r.status_code == 422

    r = await client.get(
        "/api/v1/contract-progress?behind=true&owner_id=3&customer_id=12&page=2&page_size=5", headers=headers
    )
    body = r.json()
    assert r.status_code == 200
    assert body["filters"] == {"behind": True, "owner_id": 3, "customer_id": 12}
    assert (body["page"], body["page_size"]) == (2, 5)
    r = await client.get("/api/v1/contract-progress?behind=false", headers=headers)
    assert r.json()["filters"] == {"behind": False}
    r = await client.get("/api/v1/contract-progress?owner_id=0", headers=headers)
    assert r.status_code == 422


async def test_contracts_only_sales_roles_change_milestones(api):
    client, headers = api
    await create_user(client, headers, username="progress-reader", roles=["readonly"])
    reader = await login(client, "progress-reader", "rep-password-1")
    r = await client.post("/api/v1/contracts/7/milestones", json=MILESTONE, headers=reader)
    assert r.status_code == 403
    r = await client.patch("/api/v1/contracts/7/milestones/1", json={"percent_complete": 5}, headers=reader)
    assert r.status_code == 403
    r = await client.get("/api/v1/contracts/7/progress", headers=reader)
    assert r.status_code == 200  # reading is the service's decision (scopes)
