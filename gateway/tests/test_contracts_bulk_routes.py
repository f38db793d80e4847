"""The contracts' data-management routes at the gateway: shapes checked before any RPC (422
naming the field), roles (403), paths as API.md names them, bodies forwarded as JSON with the
caller, and the streaming CSV import — against a stand-in ``contracts`` service
(``bulk_stand_in.py``) running as a real Nameko process on its own vhost."""

from __future__ import annotations

import asyncio
import time

import pytest
import pytest_asyncio
from conftest import ADMIN_PASSWORD, create_user, login, make_settings, nameko_process, own_vhost, running_app

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    with own_vhost("crm-bulk") as uri:
        workdir = tmp_path_factory.mktemp("bulk-stand-in")
        with nameko_process(uri, workdir, ["bulk_stand_in:ContractsBulkStandIn"], ["rpc-contracts"]):
            yield uri


@pytest_asyncio.fixture
async def client(stand_in, tmp_path):
    async with running_app(make_settings(stand_in, tmp_path / "gateway.db", crm_services=["contracts"])) as c:
        yield c


@pytest_asyncio.fixture
async def admin_headers(client):
    return await login(client, "admin", ADMIN_PASSWORD)


async def as_user(client, admin_headers, username: str, roles: list[str]) -> dict:
    await create_user(client, admin_headers, username=username, roles=roles)
    return await login(client, username, "rep-password-1")


async def test_contracts_bulk_paths_are_in_the_openapi_document(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "post" in paths["/api/v1/contracts/co-terminate"]
    assert "post" in paths["/api/v1/contracts/bulk-price-update"]
    assert "post" in paths["/api/v1/contracts/restructure"]
    assert "post" in paths["/api/v1/contracts/import"]
    assert "get" in paths["/api/v1/contracts/import/{job_id}"]
    assert "get" in paths["/api/v1/contracts/price-update-batches/{batch_id}"]


async def test_contracts_bulk_bodies_are_checked_before_the_service(client, admin_headers):
    cases = [
        ("/api/v1/contracts/co-terminate", {"contract_ids": [1, 2]}, "end_date"),
        ("/api/v1/contracts/co-terminate", {"contract_ids": [], "end_date": "2027-01-31"}, "contract_ids"),
        ("/api/v1/contracts/co-terminate", {"contract_ids": [1], "end_date": "31.01.2027"}, "end_date"),
        ("/api/v1/contracts/bulk-price-update", {"percent": 5.5, "product_ids": [1], "effective_date": "2027-01-01"},
         "percent"),
        ("/api/v1/contracts/bulk-price-update", {"percent": "5", "category": "A", "effective_date": "2027-01-01",
                                                 "colour": "red"}, "colour"),
        ("/api/v1/contracts/restructure", {"action": "shuffle", "line_ids": [1]}, "action"),
        ("/api/v1/contracts/restructure", {"action": "split", "contract_id": 1}, "line_ids"),
    ]  # fmt: skip
    for path, body, field in cases:
        r = await client.post(path, json=body, headers=admin_headers)
        assert r.status_code == 422, (path, body, r.text)
        assert field in str(r.json()["error"]["details"]), (path, body, r.json())


async def test_contracts_bulk_calls_reach_the_service_with_the_caller(client, admin_headers):
    r = await client.post(
        "/api/v1/contracts/co-terminate",
        json={"contract_ids": ["7", 8], "end_date": "2027-01-31", "reason": "Align"},
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["received"] == {"contract_ids": [7, 8], "end_date": "2027-01-31", "reason": "Align"}
    assert "admin" in r.json()["caller"]["roles"]

    body = {"percent": "-2.5", "category": "Devices/Printers", "effective_date": "2027-01-01", "direct": True}
    r = await client.post("/api/v1/contracts/bulk-price-update", json=body, headers=admin_headers)
    assert r.status_code == 200 and r.json()["received"] == body
    r = await client.post(
        "/api/v1/contracts/bulk-price-update", json={**body, "percent": "0"}, headers=admin_headers
    )
    assert r.status_code == 422 and "percent" in r.json()["error"]["details"]

    merge = {"action": "merge", "contract_ids": [3, 4], "into_contract_id": 2}
    r = await client.post("/api/v1/contracts/restructure", json=merge, headers=admin_headers)
    assert r.status_code == 200 and r.json()["received"] == merge

    assert (
        await client.get("/api/v1/contracts/price-update-batches/1", headers=admin_headers)
    ).status_code == 200
    assert (
        await client.get("/api/v1/contracts/price-update-batches/2", headers=admin_headers)
    ).status_code == 404
    assert (
        await client.get("/api/v1/contracts/price-update-batches/x", headers=admin_headers)
    ).status_code == 404


async def test_contracts_bulk_roles(client, admin_headers):
    rep = await as_user(client, admin_headers, "bulk-rep", ["sales_rep"])
    finance = await as_user(client, admin_headers, "bulk-finance", ["finance"])
    co = {"contract_ids": [1], "end_date": "2027-01-31"}
    assert (await client.post("/api/v1/contracts/co-terminate", json=co, headers=rep)).status_code == 200
    assert (await client.post("/api/v1/contracts/co-terminate", json=co, headers=finance)).status_code == 403
    price = {"percent": "5", "product_ids": [1], "effective_date": "2027-01-01"}
    assert (
        await client.post("/api/v1/contracts/bulk-price-update", json=price, headers=rep)
    ).status_code == 403
    files = {"file": ("c.csv", b"contract_ref,customer_id\nK1,1\n", "text/csv")}
    assert (await client.post("/api/v1/contracts/import", files=files, headers=rep)).status_code == 403
    assert (await client.post("/api/v1/contracts/co-terminate", json=co)).status_code == 401


async def test_contracts_import_streams_the_csv_to_the_service(client, admin_headers):
    csv = "contract_ref,customer_id,title,product_id,quantity\r\nK1,1,Bakım — İzmir,11,2\r\nK1,1,,10,1\r\n,1,x,10,1\r\n"
    r = await client.post(
        "/api/v1/contracts/import?mode=skip_bad",
        files={"file": ("contracts.csv", b"\xef\xbb\xbf" + csv.encode(), "text/csv")},
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["created"] == 1 and result["filename"] == "contracts.csv"
    assert result["errors"] == [{"line": 4, "field": "contract_ref", "message": "required"}]
    assert result["rows"][0] == {
        "line": 2,
        "data": {
            "contract_ref": "K1",
            "customer_id": "1",
            "title": "Bakım — İzmir",
            "product_id": "11",
            "quantity": "2",
        },
    }

    r = await client.post(
        "/api/v1/contracts/import?async=true",
        files={"file": ("c.csv", csv.encode(), "text/csv")},
        headers=admin_headers,
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    assert r.headers["location"] == f"/api/v1/contracts/import/{job_id}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        progress = (await client.get(f"/api/v1/contracts/import/{job_id}", headers=admin_headers)).json()
        if progress["status"] == "done":
            break
        await asyncio.sleep(0.1)
    assert progress["status"] == "done" and progress["rows_received"] == 3
    assert (await client.get("/api/v1/contracts/import/999999", headers=admin_headers)).status_code == 404
