"""The S3 store against a real S3-compatible server (moto's server on a free local port, spoken
to over HTTP by boto3 exactly as MinIO or AWS would be): whole files in, byte ranges out,
missing objects reported as such, deletes idempotent — and a contract attachment that travels
through the bucket byte for byte."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import socket
import uuid

import pytest
from contracts import attachments as att
from contracts import models as m
from contracts import storage
from crm_common.db import DatabaseHandle, WorkerDatabase, utcnow
from crm_common.errors import NotFound
from crm_common.testing import new_caller
from sqlalchemy import insert

BINARY = bytes(range(256)) * 5000  # 1.25 MB: every byte value, more than one read


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        pytest.skip(f"moto[server] is not installed ({exc}): pip install 'moto[server]'")
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    try:
        server.start()
    except Exception as exc:  # pragma: no cover
        pytest.skip(f"moto's S3 server could not start on port {port}: {exc}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint, monkeypatch):
    """A fresh bucket on the server; the environment configured for it as in a deployment."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    name = f"crm-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    monkeypatch.setenv("CONTRACTS_S3_BUCKET", name)
    monkeypatch.setenv("CONTRACTS_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("CONTRACTS_S3_REGION", "us-east-1")
    monkeypatch.setenv("CONTRACTS_S3_PREFIX", "files/")
    return name


def objects(bucket: str, endpoint: str) -> dict[str, bytes]:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def test_contracts_s3_store_writes_whole_files_and_reads_byte_ranges(bucket, s3_endpoint):
    store = storage.file_store()
    assert isinstance(store, storage.S3Store) and store.kind == "s3"

    store.put("12/abc", io.BytesIO(BINARY), len(BINARY), "application/octet-stream")

    assert objects(bucket, s3_endpoint) == {"files/12/abc": BINARY}
    assert store.exists("12/abc") and not store.exists("12/other")
    assert store.read("12/abc", 0, 10) == BINARY[:10]
    assert store.read("12/abc", 255, 3) == BINARY[255:258]
    assert store.read("12/abc", len(BINARY) - 4, 100) == BINARY[-4:]  # fewer at the end
    assert store.read("12/abc", len(BINARY), 100) == b""  # past it: nothing
    with pytest.raises(storage.StoredFileMissing):
        store.read("12/other", 0, 10)
    with pytest.raises(storage.BadStorageKey):
        store.put("../escape", io.BytesIO(b"x"), 1, "text/plain")

    store.delete("12/abc")
    store.delete("12/abc")  # twice is fine
    assert objects(bucket, s3_endpoint) == {}
    with pytest.raises(storage.StoredFileMissing):
        store.read("12/abc", 0, 1)


def test_contracts_attachment_round_trip_through_the_bucket(bucket, s3_endpoint, any_db_url):
    db = DatabaseHandle("contracts", m.metadata, any_db_url)
    db.create_all()
    try:
        caller = new_caller("sales_manager", user_id=5)
        wdb = WorkerDatabase(db, caller, None)
        now = utcnow()
        with db.transaction() as uow:
            cid = uow.session.execute(
                insert(m.contracts).values(
                    number="C-2026-000001",
                    customer_id=1,
                    customer_name="Σύμβαση ΑΕ",
                    kind="sales",
                    title="Lease",
                    currency="EUR",
                    start_date=dt.date(2026, 1, 1),
                    end_date=dt.date(2026, 12, 31),
                    payment_terms_days=30,
                    billing_frequency="once",
                    billing_in_advance=True,
                    auto_renew=False,
                    notice_days=0,
                    renewal_uplift_percent="0",
                    owner_id=5,
                    field_values={},
                    status="active",
                    version=1,
                    total="0",
                    amounts_locked=False,
                    created_at=now,
                    updated_at=now,
                )  # fmt: skip
            ).inserted_primary_key[0]
        up = att.start_upload(wdb, caller, cid, {"filename": "çizim.dwg", "content_type": "image/vnd.dwg"})
        size = 400_000
        for seq, start in enumerate(range(0, len(BINARY), size)):
            att.upload_chunk(
                wdb, caller, up["upload_id"], seq, base64.b64encode(BINARY[start : start + size]).decode()
            )
        out = att.finish_upload(wdb, caller, up["upload_id"], hashlib.sha256(BINARY).hexdigest())

        [(key, body)] = objects(bucket, s3_endpoint).items()
        assert key.startswith(f"files/{cid}/") and body == BINARY
        got, offset = b"", 0
        while True:
            part = att.read_attachment(wdb, caller, cid, out["id"], offset, None)
            got += base64.b64decode(part["data"])
            offset = len(got)
            if part["eof"]:
                break
        assert got == BINARY

        import boto3

        boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").delete_object(
            Bucket=bucket, Key=key
        )
        with pytest.raises(NotFound) as err:
            att.read_attachment(wdb, caller, cid, out["id"], 0, 10)
        assert "çizim.dwg" in str(err.value)
    finally:
        db.dispose()
