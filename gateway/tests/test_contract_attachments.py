"""Contract attachments through the gateway: a multipart upload streamed to the contracts
service in chunks and downloaded back byte for byte with its Unicode name, type and ETag; too
large → 413 with the limit and nothing left staged; other reps' contracts → 404.

The contracts service is ``attachments_stand_in.py``: the real attachment use cases on a real
SQLite file and directory, in a `nameko run` process on a throwaway vhost of its own."""

from __future__ import annotations

import hashlib
import os
import urllib.parse
import uuid

import pytest
import pytest_asyncio
from conftest import create_user, login, make_settings, nameko_process, own_vhost, running_app

pytestmark = pytest.mark.asyncio

MAX_MB = 1
LIMIT = MAX_MB * 1024 * 1024
CHUNK = 64 * 1024
BINARY = bytes(range(256)) * 2000 + b"end"  # every byte value; ~8 chunks of 64 KiB


@pytest.fixture(scope="module")
def contracts_stand_in(tmp_path_factory):
    """The stand-in contracts service in a process; yields (amqp uri, files directory)."""
    workdir = tmp_path_factory.mktemp("contracts-stand-in")
    files = workdir / "files"
    env = {k: "" for k in os.environ if k.startswith("CONTRACTS_")}
    env.update(
        CONTRACTS_DATABASE_URL=f"sqlite:///{workdir / 'contracts.db'}",
        CONTRACTS_FILES_DIR=str(files),
        CONTRACTS_ATTACHMENT_MAX_MB=str(MAX_MB),
        STAND_IN_CHUNK_BYTES=str(CHUNK),
    )
    with own_vhost("crm-attach") as uri:
        targets = ["attachments_stand_in:AttachmentsStandIn"]
        with nameko_process(uri, workdir, targets, ["rpc-contracts"], env=env, max_workers=20):
            yield uri, files


@pytest_asyncio.fixture
async def client(contracts_stand_in, tmp_path):
    uri, _ = contracts_stand_in
    settings = make_settings(uri, tmp_path / "gateway.db", crm_services=["contracts"], crm_rpc_timeout=10)
    async with running_app(settings) as c:
        yield c


@pytest_asyncio.fixture
async def rep(client, admin_headers):
    """A sales rep's headers and one contract of theirs."""
    user = await create_user(client, admin_headers, username=f"rep-{uuid.uuid4().hex[:6]}")
    headers = await login(client, user["username"], "rep-password-1")
    contract_id = await seed(client, user["id"])
    return headers, contract_id


async def seed(client, owner_id: int, status: str = "draft") -> int:
    rpc = client.app.state.gateway.rpc  # type: ignore[attr-defined]
    return await rpc.call("contracts", "seed_contract", owner_id, status, check_consumers=False)


async def pending_uploads(client) -> int:
    rpc = client.app.state.gateway.rpc  # type: ignore[attr-defined]
    return await rpc.call("contracts", "pending_uploads")


def stored(files_dir) -> list[bytes]:
    return [p.read_bytes() for p in sorted(files_dir.rglob("*")) if p.is_file()] if files_dir.exists() else []


async def test_contract_attachment_goes_up_in_chunks_and_comes_back_byte_for_byte(
    client, rep, contracts_stand_in
):
    headers, cid = rep
    name = "Договор №5 — 合同 İmza.pdf"
    r = await client.post(
        f"/api/v1/contracts/{cid}/attachments",
        headers=headers,
        data={"description": "подписанный оригинал"},
        files={"file": (name, BINARY, "application/pdf")},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["filename"] == name and created["content_type"] == "application/pdf"
    assert created["size"] == len(BINARY) and created["sha256"] == hashlib.sha256(BINARY).hexdigest()
    assert created["description"] == "подписанный оригинал"
    assert (
        r.headers["location"]
        == created["download_url"]
        == f"/api/v1/contracts/{cid}/attachments/{created['id']}"
    )
    assert BINARY in stored(contracts_stand_in[1])  # in the service's store, not the gateway's

    r = await client.get(created["download_url"], headers=headers)
    assert r.status_code == 200
    assert r.content == BINARY
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-length"] == str(len(BINARY))
    assert r.headers["etag"] == f'"{created["sha256"]}"'
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + urllib.parse.quote(name, safe="!#$&+-.^_`|~") in disposition
    assert urllib.parse.unquote(disposition.split("filename*=UTF-8''")[1]) == name

    r = await client.get(
        created["download_url"], headers={**headers, "If-None-Match": f'"{created["sha256"]}"'}
    )
    assert r.status_code == 304 and r.content == b""
    r = await client.get(created["download_url"] + "?meta=true", headers=headers)
    assert r.status_code == 200 and r.json() == created
    r = await client.get(f"/api/v1/contracts/{cid}/attachments", headers=headers)
    assert r.status_code == 200
    assert r.json() == {"items": [created], "total": 1, "page": 1, "page_size": 50}


async def test_a_description_after_the_file_and_an_unknown_type_are_kept_sensibly(client, rep):
    headers, cid = rep
    body, boundary = multipart(
        ("file", "çizim.png", "application/octet-stream", b"\x89PNG\r\n\x1a\n\x00"),
        ("description", None, None, "Zemin kat planı".encode()),
    )
    r = await client.post(
        f"/api/v1/contracts/{cid}/attachments",
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body,
    )
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "Zemin kat planı"
    assert r.json()["content_type"] == "image/png"  # guessed from the name, not octet-stream
    download = await client.get(r.json()["download_url"], headers=headers)
    assert download.content == b"\x89PNG\r\n\x1a\n\x00" and download.headers["content-type"] == "image/png"


async def test_a_file_over_the_limit_is_413_with_the_limit_and_leaves_nothing(
    client, rep, contracts_stand_in
):
    headers, cid = rep
    before = stored(contracts_stand_in[1])
    for size in (LIMIT + 1, 3 * LIMIT):  # streamed past the limit; declared far beyond it
        r = await client.post(
            f"/api/v1/contracts/{cid}/attachments",
            headers=headers,
            files={"file": ("big.bin", b"\x00" * size, "application/octet-stream")},
        )
        assert r.status_code == 413, r.text
        error = r.json()["error"]
        assert error["code"] == "PAYLOAD_TOO_LARGE"
        assert error["details"] == {"file": [f"larger than {MAX_MB} MB"], "max_bytes": LIMIT}
    assert await pending_uploads(client) == 0
    assert stored(contracts_stand_in[1]) == before
    assert (await client.get(f"/api/v1/contracts/{cid}/attachments", headers=headers)).json()["items"] == []
    r = await client.post(
        f"/api/v1/contracts/{cid}/attachments",
        headers=headers,
        files={"file": ("exact.bin", b"\x01" * LIMIT, "application/octet-stream")},
    )
    assert r.status_code == 201 and r.json()["size"] == LIMIT


async def test_other_reps_contracts_and_bad_uploads_are_refused(client, admin_headers, rep):
    headers, cid = rep
    other = await create_user(client, admin_headers, username=f"other-{uuid.uuid4().hex[:6]}")
    other_headers = await login(client, other["username"], "rep-password-1")
    r = await client.post(
        f"/api/v1/contracts/{cid}/attachments",
        headers=other_headers,
        files={"file": ("x.txt", b"x", "text/plain")},
    )
    assert r.status_code == 404
    r = await client.post(
        f"/api/v1/contracts/{cid}/attachments",
        headers=headers,
        files={"file": ("mine.txt", b"mine", "text/plain")},
    )
    assert r.status_code == 201
    assert (await client.get(r.json()["download_url"], headers=other_headers)).status_code == 404
    assert (
        await client.get(f"/api/v1/contracts/{cid}/attachments", headers=other_headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/contracts/{cid}/attachments/999999", headers=headers)
    ).status_code == 404
    assert (await client.get(f"/api/v1/contracts/{cid}/attachments/abc", headers=headers)).status_code == 404

    r = await client.post(
        f"/api/v1/contracts/{cid}/attachments", headers=headers, data={"description": "no file"}
    )
    assert r.status_code == 422
    r = await client.post(f"/api/v1/contracts/{cid}/attachments", headers=headers, json={"file": "x"})
    assert r.status_code == 422 and "file" in r.json()["error"]["details"]
    r = await client.post(
        f"/api/v1/contracts/{cid}/attachments", headers=headers, files={"file": ("", b"data", "text/plain")}
    )
    assert r.status_code == 422 and "filename" in r.json()["error"]["details"]
    cancelled = await seed(client, 1, "cancelled")
    r = await client.post(
        f"/api/v1/contracts/{cancelled}/attachments",
        headers=admin_headers,
        files={"file": ("a.txt", b"a", "text/plain")},
    )
    assert r.status_code == 409
    assert (await client.get(f"/api/v1/contracts/{cid}/attachments")).status_code == 401
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert (
        "multipart/form-data"
        in paths["/api/v1/contracts/{contract_id}/attachments"]["post"]["requestBody"]["content"]
    )
    assert "get" in paths["/api/v1/contracts/{contract_id}/attachments/{attachment_id}"]
    assert await pending_uploads(client) == 0


def multipart(*parts: tuple[str, str | None, str | None, bytes]) -> tuple[bytes, str]:
    """A multipart/form-data body with the parts in the given order."""
    boundary = uuid.uuid4().hex
    out = b""
    for name, filename, ctype, data in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), boundary


async def test_an_attachment_names_its_amendment_and_a_foreign_one_is_refused(client, rep, admin_headers):
    headers, cid = rep
    rpc = client.app.state.gateway.rpc  # type: ignore[attr-defined]
    amendment_id = await rpc.call("contracts", "seed_amendment", cid, check_consumers=False)
    other_cid = await seed(client, 999)
    foreign = await rpc.call("contracts", "seed_amendment", other_cid, check_consumers=False)
    url = f"/api/v1/contracts/{cid}/attachments"
    before = await client.get(url, headers=headers)
    for value, status in ((str(foreign), 422), ("abc", 422)):
        r = await client.post(
            url,
            headers=headers,
            data={"amendment_id": value},
            files={"file": ("ek.pdf", b"%PDF-1.7", "application/pdf")},
        )
        assert r.status_code == status and "amendment_id" in str(r.json()["error"]["details"]), r.text
    # after the file part it could no longer be honoured: refused, not silently dropped
    body, boundary = multipart(
        ("file", "ek.pdf", "application/pdf", b"%PDF-1.7"),
        ("amendment_id", None, None, str(amendment_id).encode()),
    )
    r = await client.post(
        url, headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}, content=body
    )
    assert r.status_code == 422 and "amendment_id" in str(r.json()["error"]["details"])
    assert (await client.get(url, headers=headers)).json() == before.json()
    assert await pending_uploads(client) == 0
    r = await client.post(
        url,
        headers=headers,
        data={"amendment_id": str(amendment_id), "description": "Ek protokol"},
        files={"file": ("ek.pdf", b"%PDF-1.7", "application/pdf")},
    )
    assert r.status_code == 201, r.text
    assert r.json()["amendment_id"] == amendment_id
    listed = (await client.get(url, headers=headers)).json()["items"]
    assert [a["amendment_id"] for a in listed if a["id"] == r.json()["id"]] == [amendment_id]


async def test_the_list_is_an_envelope_sorted_and_paged_as_asked(client, rep):
    headers, cid = rep
    url = f"/api/v1/contracts/{cid}/attachments"
    for name, size in (("b.txt", 3), ("c.txt", 1), ("a.txt", 2)):
        r = await client.post(url, headers=headers, files={"file": (name, b"x" * size, "text/plain")})
        assert r.status_code == 201, r.text
    listed = (await client.get(url, headers=headers)).json()
    assert [a["filename"] for a in listed["items"]] == ["b.txt", "c.txt", "a.txt"]  # oldest first
    assert (listed["total"], listed["page"], listed["page_size"]) == (3, 1, 50)
    r = await client.get(url, headers=headers, params={"sort": "filename"})
    assert [a["filename"] for a in r.json()["items"]] == ["a.txt", "b.txt", "c.txt"]
    r = await client.get(url, headers=headers, params={"sort": "-size", "page": 2, "page_size": 2})
    assert [a["filename"] for a in r.json()["items"]] == ["c.txt"] and r.json()["total"] == 3
    r = await client.get(url, headers=headers, params={"sort": "sha1"})
    assert r.status_code == 422 and "sha1" in r.json()["error"]["details"]["sort"][0]
    r = await client.get(url, headers=headers, params={"order": "filename"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "UNKNOWN_PARAMETER"
