"""The contract template and document routes at the gateway, over a real broker with the
contracts service's template and document methods stood in (contracts_stand_in.py, run in its
own `nameko run` process): paths as API.md names them, shapes checked before any RPC (422
naming the field), who may write, what the service receives, the PDF as a file, and the
service's errors mapped to 404 / 422 / 403."""

from __future__ import annotations

import hashlib

import pytest
import pytest_asyncio
from conftest import create_user, login, nameko_process

pytestmark = pytest.mark.asyncio

TEMPLATE = {
    "name": "维保合同 Bakım",
    "language": "zh",
    "body": "第一条 设备安装地点：{{ site }}。费用：{{ fee }}。",
    "fields": [{"name": "site", "type": "text", "required": True}, {"name": "fee", "type": "money"}],
}


@pytest.fixture(scope="module")
def contracts_stand_in(nameko_services, tmp_path_factory):
    """The stand-in contracts service on the session's vhost, for this module."""
    workdir = tmp_path_factory.mktemp("contracts_stand_in")
    with nameko_process(
        nameko_services, workdir, ["contracts_stand_in:FakeContractsService"], ["rpc-contracts"]
    ):
        yield nameko_services


@pytest_asyncio.fixture
async def api(contracts_stand_in, client, admin_headers):
    return client, admin_headers


async def user_headers(client, admin_headers, username: str, roles: list[str], **extra) -> dict[str, str]:
    await create_user(client, admin_headers, username=username, roles=roles, **extra)
    return await login(client, username, "rep-password-1")


async def test_contracts_template_paths_are_in_the_openapi_document(api):
    client, _ = api
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/contract-templates"])
    assert "get" in paths["/api/v1/contract-templates/{template_id}"]
    assert "post" in paths["/api/v1/contract-templates/{template_id}/deactivate"]
    pdf = paths["/api/v1/contracts/{contract_id}/document.pdf"]["get"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]


async def test_contracts_template_is_created_read_listed_and_deactivated(api):
    client, headers = api
    r = await client.post("/api/v1/contract-templates", json=TEMPLATE, headers=headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["received"] == TEMPLATE  # only what the client sent
    assert created["caller"]["roles"] == ["admin"]
    tid = created["id"]

    r = await client.get(f"/api/v1/contract-templates/{tid}", headers=headers)
    assert r.status_code == 200 and r.json()["name"] == "维保合同 Bakım"

    r = await client.get(
        "/api/v1/contract-templates?language=zh&name=维保&all_versions=true&active=true&page=1&page_size=5",
        headers=headers,
    )
    assert r.status_code == 200
    assert r.json()["filters"] == {"language": "zh", "name": "维保", "active": True, "all_versions": True}
    assert r.json()["page_size"] == 5 and tid in [i["id"] for i in r.json()["items"]]
    r = await client.get("/api/v1/contract-templates", headers=headers)
    assert r.json()["filters"] == {}  # defaults are the service's (latest versions only)

    r = await client.post(f"/api/v1/contract-templates/{tid}/deactivate", headers=headers)
    assert r.status_code == 200 and r.json()["active"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"language": "de"}, "language"),
        ({"name": "   "}, "name"),
        ({"body": ""}, "body"),
        ({"fields": [{"name": "1st", "type": "text"}]}, "name"),
        ({"fields": [{"name": "fee", "type": "float"}]}, "type"),
        ({"fields": [{"name": "fee", "type": "money", "required": "maybe"}]}, "required"),
        ({"fields": [{"name": "fee", "type": "money", "colour": "red"}]}, "colour"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_contracts_bad_template_bodies_are_refused_naming_the_field(api, change, field):
    client, headers = api
    before = (await client.get("/api/v1/contract-templates", headers=headers)).json()["total"]
    r = await client.post("/api/v1/contract-templates", json={**TEMPLATE, **change}, headers=headers)
    assert r.status_code == 422, r.text
    assert field in {k.split(".")[-1] for k in r.json()["error"]["details"]}
    after = (await client.get("/api/v1/contract-templates", headers=headers)).json()["total"]
    assert after == before  # nothing reached the service


async def test_contracts_service_errors_and_bad_ids_map_to_http(api):
    client, headers = api
    body = {**TEMPLATE, "body": "{{ undeclared }}"}
    r = await client.post("/api/v1/contract-templates", json=body, headers=headers)
    assert r.status_code == 422 and "undeclared" in r.json()["error"]["details"]["body"][0]
    assert (await client.get("/api/v1/contract-templates/404", headers=headers)).status_code == 404
    assert (await client.get("/api/v1/contract-templates/abc", headers=headers)).status_code == 404
    r = await client.post("/api/v1/contract-templates/404/deactivate", headers=headers)
    assert r.status_code == 404
    assert (await client.get("/api/v1/contracts/404/document.pdf", headers=headers)).status_code == 404
    assert (await client.get("/api/v1/contracts/x/document.pdf", headers=headers)).status_code == 404
    assert (await client.get("/api/v1/contracts/403/document.pdf", headers=headers)).status_code == 403
    assert (await client.get("/api/v1/contracts/7/document.pdf")).status_code == 401
    assert (await client.get("/api/v1/contract-templates")).status_code == 401


async def test_contracts_document_is_a_pdf_file_shown_inline(api):
    client, headers = api
    r = await client.get("/api/v1/contracts/42/document.pdf", headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'inline; filename="C-2026-000042.pdf"'
    assert r.headers["content-language"] == "zh"
    assert r.content.startswith(b"%PDF") and "合同".encode() in r.content
    from contracts_stand_in import PDF

    assert hashlib.sha256(r.content).hexdigest() == hashlib.sha256(PDF).hexdigest()


async def test_contracts_only_managers_write_templates_only_admins_deactivate_portal_reads_none(api):
    client, headers = api
    rep = await user_headers(client, headers, "tpl-rep", ["sales_rep"])
    manager = await user_headers(client, headers, "tpl-manager", ["sales_manager"])
    portal = await user_headers(client, headers, "tpl-portal", ["portal"], customer_id=1)
    assert (await client.post("/api/v1/contract-templates", json=TEMPLATE, headers=rep)).status_code == 403
    r = await client.post("/api/v1/contract-templates", json=TEMPLATE, headers=manager)
    assert r.status_code == 201
    tid = r.json()["id"]
    assert r.json()["caller"]["roles"] == ["sales_manager"]
    assert (
        await client.post(f"/api/v1/contract-templates/{tid}/deactivate", headers=manager)
    ).status_code == 403
    assert (await client.get("/api/v1/contract-templates", headers=rep)).status_code == 200
    assert (await client.get("/api/v1/contract-templates", headers=portal)).status_code == 403
    assert (await client.get(f"/api/v1/contract-templates/{tid}", headers=portal)).status_code == 403
