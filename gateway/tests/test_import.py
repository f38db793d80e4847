"""The streaming CSV import: batches of 1000, file line numbers, async jobs, bad files."""

from __future__ import annotations

import asyncio
import time

import pytest

pytestmark = pytest.mark.asyncio


def make_csv(rows: int, bom: bool = True) -> bytes:
    lines = ["name,email,notes"]
    for i in range(1, rows + 1):
        lines.append(f"Customer {i},c{i}@example.com,plain")
    text = "\r\n".join(lines) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


async def upload(client, headers, content: bytes, query: str = "", filename="customers.csv"):
    return await client.post(
        f"/api/v1/customers/import{query}", headers=headers, files={"file": (filename, content, "text/csv")}
    )


async def test_import_streams_batches_of_1000_with_file_line_numbers(client, admin_headers):
    body = make_csv(2500)
    # a quoted value spanning two lines, a blank line and a row without a name
    body += b'"Multi Line Ltd",m@example.com,"first\nsecond"\n\n,nobody@example.com,no name\n'
    r = await upload(client, admin_headers, body, "?mode=skip_bad")
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["status"] == "done" and result["filename"] == "customers.csv"
    assert result["batches"] == [1000, 1000, 502]
    assert result["created"] == 2501
    # header = line 1; 2500 rows = lines 2..2501; the multi-line record starts on 2502 and ends
    # on 2503; 2504 is blank; the nameless row is line 2505
    assert result["errors"] == [{"line": 2505, "field": "name", "message": "required"}]
    first = result["first_rows"][0]
    assert first == {
        "line": 2,
        "data": {"name": "Customer 1", "email": "c1@example.com", "notes": "plain"},
    }  # BOM stripped from "name"
    assert result["last_line"] == 2505


async def test_all_or_nothing_reports_errors_and_creates_nothing(client, admin_headers):
    r = await upload(client, admin_headers, b"name,email\nGood,g@x.io\n,bad@x.io\n")
    assert r.status_code == 200
    assert r.json()["created"] == 0 and r.json()["errors"][0]["line"] == 3


async def test_async_import_returns_202_and_the_job_progresses(client, admin_headers):
    r = await upload(client, admin_headers, make_csv(1500, bom=False), "?async=true&mode=skip_bad")
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    assert r.headers["location"] == f"/api/v1/customers/import/{job_id}"
    deadline = time.monotonic() + 10
    while True:
        r = await client.get(f"/api/v1/customers/import/{job_id}", headers=admin_headers)
        assert r.status_code == 200
        if r.json()["status"] != "receiving" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    progress = r.json()
    assert progress["status"] == "done" and progress["rows_received"] == 1500
    assert progress["created"] == 1500 and progress["batches"] == [1000, 500]


async def test_unknown_import_job_is_404(client, admin_headers):
    r = await client.get(
        "/api/v1/customers/import/8a0e6c8e-2c4b-4b0e-9d7e-3f1f1b2a9c11", headers=admin_headers
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"name\n\xff\xfe broken\n", "UTF-8"),
        (b"name,name\nA,B\n", "duplicate"),
    ],
)
async def test_unusable_files_are_422(client, admin_headers, content, reason):
    for query in ("", "?async=true"):
        r = await upload(client, admin_headers, content, query)
        assert r.status_code == 422, (query, r.text)
        assert reason in r.json()["error"]["message"]
        assert "file" in r.json()["error"]["details"]


async def test_missing_file_part_is_422(client, admin_headers):
    r = await client.post(
        "/api/v1/customers/import",
        headers=admin_headers,
        files={"other": ("x.csv", b"name\nA\n", "text/csv")},
    )
    assert r.status_code == 422 and "file" in r.json()["error"]["details"]
    r = await client.post("/api/v1/customers/import", headers=admin_headers, json={"a": 1})
    assert r.status_code == 422
    r = await client.post(
        "/api/v1/customers/import?mode=some",
        headers=admin_headers,
        files={"file": ("x.csv", b"name\nA\n", "text/csv")},
    )
    assert r.status_code == 422 and "mode" in r.json()["error"]["details"]


async def test_too_large_upload_is_413(app_factory):
    async with app_factory(crm_max_upload_mb=1) as client:
        from conftest import login

        headers = await login(client, "admin", "admin-password-1")
        r = await upload(client, headers, make_csv(40_000))  # ~1.3 MB
        assert r.status_code == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_import_without_token_is_401(client):
    r = await upload(client, {}, make_csv(3))
    assert r.status_code == 401
