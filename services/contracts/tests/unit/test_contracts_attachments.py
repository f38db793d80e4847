"""Contract attachments on a real SQLite database and a real directory store: a binary file
goes in as chunks and comes back byte for byte; damaged, oversized and foreign uploads are
refused with nothing left behind; keys never leave the store's directory."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import os
from pathlib import Path

import pytest
from contracts import attachments as att
from contracts import models as m
from contracts import storage
from crm_common.db import DatabaseHandle, WorkerDatabase, utcnow
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm_common.testing import new_caller, outbox_payloads
from sqlalchemy import func, insert, select, update

REP_ID = 31
OTHER_REP_ID = 32
# every byte value, several times over, and a length that is no multiple of the chunk size
BINARY = bytes(range(256)) * 700 + b"\x00\xff tail"


@pytest.fixture
def db(sqlite_url):
    handle = DatabaseHandle("contracts", m.metadata, sqlite_url)
    handle.create_all()
    yield handle
    handle.dispose()


@pytest.fixture
def files_dir(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "contracts-files"
    monkeypatch.setenv("CONTRACTS_FILES_DIR", str(root))
    monkeypatch.delenv("CONTRACTS_S3_BUCKET", raising=False)
    monkeypatch.delenv("CONTRACTS_ATTACHMENT_MAX_MB", raising=False)
    return root


class User:
    """The attachment use cases as one user calls them through the service: ``user.start_upload(
    contract_id, meta)`` is ``attachments.start_upload(worker_db, caller, contract_id, meta)``."""

    def __init__(self, db: DatabaseHandle, caller):
        self.db = WorkerDatabase(db, caller, None)
        self.caller = caller

    def __getattr__(self, name):
        function = getattr(att, name)
        return lambda *args, **kwargs: function(self.db, self.caller, *args, **kwargs)


@pytest.fixture
def as_user(db):
    return lambda *roles, user_id: User(db, new_caller(*roles, user_id=user_id))


@pytest.fixture
def rep(as_user):
    return as_user("sales_rep", user_id=REP_ID)


@pytest.fixture
def other_rep(as_user):
    return as_user("sales_rep", user_id=OTHER_REP_ID)


@pytest.fixture
def create_contract(db):
    """``create_contract(**overrides)`` → the contracts row (a rep's draft by default)."""
    counter = iter(range(1, 10_000))

    def create(**overrides) -> dict:
        now = utcnow()
        n = next(counter)
        values = {
            "number": f"C-2026-{n:06d}",
            "customer_id": 7,
            "customer_name": "Anadolu Makine A.Ş.",
            "kind": "maintenance",
            "title": "Bakım sözleşmesi",
            "currency": "TRY",
            "start_date": dt.date(2026, 1, 1),
            "end_date": dt.date(2026, 12, 31),
            "payment_terms_days": 30,
            "billing_frequency": "monthly",
            "billing_in_advance": True,
            "auto_renew": False,
            "notice_days": 30,
            "renewal_uplift_percent": "0",
            "owner_id": REP_ID,
            "field_values": {},
            "status": "draft",
            "version": 0,
            "total": "0",
            "amounts_locked": False,
            "created_at": now,
            "updated_at": now,
            **overrides,
        }
        with db.transaction() as uow:
            cid = uow.session.execute(insert(m.contracts).values(**values)).inserted_primary_key[0]
        return {"id": cid, **values}

    return create


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def count(db, table) -> int:
    with db.read() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


def upload(caller, contract_id, data: bytes, chunk: int = 50_000, **meta) -> dict:
    started = caller.start_upload(contract_id, {"filename": "file.bin", **meta})
    for seq, start in enumerate(range(0, len(data), chunk)):
        caller.upload_chunk(started["upload_id"], seq, b64(data[start : start + chunk]))
    return started


def download(caller, contract_id, attachment_id, piece: int) -> bytes:
    out, offset = b"", 0
    while True:
        part = caller.read_attachment(contract_id, attachment_id, offset, piece)
        assert part["offset"] == offset
        out += base64.b64decode(part["data"])
        offset += piece
        if part["eof"]:
            return out


# -- the whole way round ----------------------------------------------------------------------


def test_contracts_binary_file_in_several_chunks_comes_back_byte_for_byte(
    db, files_dir, rep, create_contract
):
    contract = create_contract()
    started = rep.start_upload(
        contract["id"],
        {
            "filename": "İmzalı sözleşme 合同.pdf",
            "content_type": "application/pdf",
            "description": "Orijinal",
        },
    )
    assert started["chunk_bytes"] >= 64 * 1024 and started["max_bytes"] == 25 * 1024 * 1024
    pieces = [BINARY[i : i + 60_000] for i in range(0, len(BINARY), 60_000)]
    assert len(pieces) >= 3
    # chunks may arrive in any order (any replica takes any chunk)
    for seq in reversed(range(len(pieces))):
        rep.upload_chunk(started["upload_id"], seq, b64(pieces[seq]))

    sha = hashlib.sha256(BINARY).hexdigest()
    out = rep.finish_upload(started["upload_id"], sha256=sha.upper())

    assert out["filename"] == "İmzalı sözleşme 合同.pdf"
    assert (out["content_type"], out["size"], out["sha256"]) == ("application/pdf", len(BINARY), sha)
    assert (out["description"], out["uploaded_by_id"], out["uploaded_by"]) == (
        "Orijinal",
        REP_ID,
        f"user{REP_ID}",
    )
    assert out["contract_id"] == contract["id"] and out["amendment_id"] is None
    assert out["download_url"] == f"/api/v1/contracts/{contract['id']}/attachments/{out['id']}"
    assert rep.list_attachments(contract["id"]) == [out]
    assert rep.get_attachment(contract["id"], out["id"]) == out

    # the file is outside the database, whole, and readable in pieces of any size
    files = stored_files(files_dir)
    assert len(files) == 1 and files[0].read_bytes() == BINARY
    assert files[0].relative_to(files_dir).parts[0] == str(contract["id"])
    assert download(rep, contract["id"], out["id"], 65_536) == BINARY
    assert download(rep, contract["id"], out["id"], 10 * 1024 * 1024) == BINARY
    last = rep.read_attachment(contract["id"], out["id"], len(BINARY) - 3, 100)
    assert base64.b64decode(last["data"]) == BINARY[-3:] and last["eof"] is True

    # staged chunks are gone (the upload only remembers its attachment, for a retried finish);
    # the event and the audit trail say what happened
    assert count(db, m.upload_chunks) == 0
    assert rep.finish_upload(started["upload_id"]) == out  # a reply lost, asked again: the same
    with pytest.raises(Conflict):
        rep.upload_chunk(started["upload_id"], 9, base64.b64encode(b"late").decode())
    [event] = outbox_payloads(db, "contract_attachment_added")
    assert event["contract_id"] == contract["id"] and event["contract_number"] == contract["number"]
    assert event["attachment"]["sha256"] == sha and event["attachment"]["filename"] == out["filename"]
    with db.read() as s:
        audit = db.infra.audit_log
        row = s.execute(select(audit).where(audit.c.entity == "attachment")).mappings().one()
    assert row["actor"] == f"user:{REP_ID}" and row["entity_id"] == str(out["id"])


def test_contracts_a_retried_chunk_replaces_itself(db, files_dir, rep, create_contract):
    contract = create_contract()
    started = rep.start_upload(contract["id"], {"filename": "notes.txt"})
    uid = started["upload_id"]
    assert rep.upload_chunk(uid, 0, b64(b"first try "))["size"] == 10
    assert rep.upload_chunk(uid, 1, b64(b"world"))["size"] == 15
    assert rep.upload_chunk(uid, 0, b64(b"hello "))["size"] == 11  # the retry, not added
    assert rep.upload_chunk(uid, 0, b64(b"hello "))["size"] == 11

    out = rep.finish_upload(uid)

    assert out["size"] == 11 and out["content_type"] == "text/plain"  # guessed from the name
    assert download(rep, contract["id"], out["id"], 4) == b"hello world"


def test_contracts_attachments_can_name_an_amendment_and_refuse_a_foreign_one(
    db, files_dir, rep, create_contract
):
    contract = create_contract(status="active")
    other = create_contract()
    with db.transaction() as uow:
        values = {"status": "pending_approval", "reason": "Ek protokol", "effective_date": dt.date(2026, 6, 1),
                  "changes": {}, "created_at": utcnow()}  # fmt: skip
        amendment_id = uow.session.execute(
            insert(m.amendments).values(contract_id=contract["id"], number="C-A01", **values)
        ).inserted_primary_key[0]
    out = rep.finish_upload(upload(rep, contract["id"], b"%PDF-1.7", amendment_id=amendment_id)["upload_id"])
    assert out["amendment_id"] == amendment_id

    with pytest.raises(ValidationFailed) as err:
        rep.start_upload(other["id"], {"filename": "x.pdf", "amendment_id": amendment_id})
    assert "amendment_id" in err.value.details


# -- refused, with nothing left behind --------------------------------------------------------


def test_contracts_sha_mismatch_stores_nothing(db, files_dir, rep, create_contract):
    contract = create_contract()
    started = upload(rep, contract["id"], BINARY)

    with pytest.raises(ValidationFailed) as err:
        rep.finish_upload(started["upload_id"], sha256=hashlib.sha256(b"something else").hexdigest())

    assert "sha256" in err.value.details
    assert stored_files(files_dir) == []
    assert rep.list_attachments(contract["id"]) == []
    assert count(db, m.uploads) == 0 and count(db, m.upload_chunks) == 0  # start again
    assert outbox_payloads(db, "contract_attachment_added") == []
    with pytest.raises(ValidationFailed) as err:
        rep.finish_upload(started["upload_id"], sha256="not-a-digest")
    assert "sha256" in err.value.details


def test_contracts_a_file_over_the_limit_is_refused_and_its_upload_dropped(
    db, files_dir, rep, create_contract, monkeypatch
):
    monkeypatch.setenv("CONTRACTS_ATTACHMENT_MAX_MB", "1")
    limit = 1024 * 1024
    contract = create_contract()
    started = rep.start_upload(contract["id"], {"filename": "drawing.dwg"})
    assert started["max_bytes"] == limit
    uid = started["upload_id"]
    rep.upload_chunk(uid, 0, b64(b"x" * (limit - 10)))
    assert rep.upload_chunk(uid, 1, b64(b"y" * 10))["size"] == limit  # exactly the limit is fine

    with pytest.raises(ValidationFailed) as err:
        rep.upload_chunk(uid, 2, b64(b"z"))

    assert err.value.details == {"file": ["larger than 1 MB"], "max_bytes": limit}
    assert count(db, m.uploads) == 0 and count(db, m.upload_chunks) == 0
    with pytest.raises(NotFound):
        rep.upload_chunk(uid, 3, b64(b"z"))
    with pytest.raises(NotFound):
        rep.finish_upload(uid)
    assert stored_files(files_dir) == []


def test_contracts_a_missing_chunk_or_an_empty_file_cannot_be_finished(db, files_dir, rep, create_contract):
    contract = create_contract()
    uid = rep.start_upload(contract["id"], {"filename": "a.bin"})["upload_id"]
    with pytest.raises(ValidationFailed) as err:
        rep.finish_upload(uid)
    assert err.value.details == {"file": ["empty file"]}
    rep.upload_chunk(uid, 0, b64(b"abc"))
    rep.upload_chunk(uid, 2, b64(b"ghi"))
    with pytest.raises(ValidationFailed) as err:
        rep.finish_upload(uid)
    assert err.value.details == {"seq": ["chunk 1 missing"]}
    rep.upload_chunk(uid, 1, b64(b"def"))
    out = rep.finish_upload(uid)
    assert download(rep, contract["id"], out["id"], 1024) == b"abcdefghi"


def test_contracts_bad_upload_input_is_422_naming_the_field(db, files_dir, rep, create_contract):
    contract = create_contract()
    for meta, field in (
        ({}, "filename"),
        ({"filename": "../"}, "filename"),
        ({"filename": 7}, "filename"),
        ({"filename": "a.pdf", "content_type": "pdf"}, "content_type"),
        ({"filename": "a.pdf", "description": "x" * 5000}, "description"),
        ({"filename": "a.pdf", "amendment_id": "abc"}, "amendment_id"),
        ({"filename": "a.pdf", "size": 5}, "size"),
    ):
        with pytest.raises(ValidationFailed) as err:
            rep.start_upload(contract["id"], meta)
        assert field in err.value.details, meta
    uid = rep.start_upload(contract["id"], {"filename": "a.pdf"})["upload_id"]
    for seq, data, field in (
        (-1, b64(b"a"), "seq"),
        ("0", b64(b"a"), "seq"),
        (2**40, b64(b"a"), "seq"),
        (0, "not base64!", "data"),
    ):
        with pytest.raises(ValidationFailed) as err:
            rep.upload_chunk(uid, seq, data)
        assert field in err.value.details
    with pytest.raises(ValidationFailed) as err:
        rep.read_attachment(contract["id"], 1, -5, 10)
    assert "offset" in err.value.details
    assert count(db, m.upload_chunks) == 0


def test_contracts_filenames_lose_their_path_but_keep_their_unicode():
    assert att.sanitize_filename("../../etc/passwd") == "passwd"
    assert att.sanitize_filename("C:\\Users\\ayşe\\Çizim ü 图纸.dwg") == "Çizim ü 图纸.dwg"
    assert att.sanitize_filename("  Договор\x00\u202e.pdf  ") == "Договор.pdf"
    long = att.sanitize_filename("я" * 400 + ".pdf")
    assert len(long) == 300 and long.endswith("я.pdf")
    for bad in ("", "  ", "/", "..", "a/.."):
        with pytest.raises(ValidationFailed):
            att.sanitize_filename(bad)


# -- who may ----------------------------------------------------------------------------------


def test_contracts_another_reps_contract_and_upload_are_not_found(
    db, files_dir, rep, other_rep, create_contract, as_user
):
    mine = create_contract()
    theirs = create_contract(owner_id=OTHER_REP_ID)
    out = rep.finish_upload(upload(rep, mine["id"], b"secret")["upload_id"])

    with pytest.raises(NotFound):
        rep.start_upload(theirs["id"], {"filename": "x.pdf"})
    for call in (
        lambda: other_rep.list_attachments(mine["id"]),
        lambda: other_rep.get_attachment(mine["id"], out["id"]),
        lambda: other_rep.read_attachment(mine["id"], out["id"], 0, 10),
        lambda: rep.get_attachment(theirs["id"], out["id"]),  # right id, wrong contract
    ):
        with pytest.raises(NotFound):
            call()

    # an upload belongs to whoever started it, even a manager of the same contract
    uid = rep.start_upload(mine["id"], {"filename": "y.pdf"})["upload_id"]
    manager = as_user("sales_manager", user_id=40)
    for call in (
        lambda c: c.upload_chunk(uid, 0, b64(b"x")),
        lambda c: c.finish_upload(uid),
        lambda c: c.abort_upload(uid),
    ):
        for caller in (other_rep, manager):
            with pytest.raises(NotFound):
                call(caller)
    assert rep.abort_upload(uid)["aborted"] is True
    assert count(db, m.uploads) == 1  # only the finished one, remembering its attachment


def test_contracts_readers_read_but_do_not_attach_and_cancelled_contracts_take_nothing(
    db, files_dir, rep, create_contract, as_user
):
    contract = create_contract(status="active")
    out = rep.finish_upload(upload(rep, contract["id"], b"signed")["upload_id"])
    reader = as_user("readonly", user_id=50)
    assert [a["id"] for a in reader.list_attachments(contract["id"])] == [out["id"]]
    with pytest.raises(PermissionDenied):
        reader.start_upload(contract["id"], {"filename": "x.pdf"})

    cancelled = create_contract(status="cancelled")
    with pytest.raises(Conflict):
        rep.start_upload(cancelled["id"], {"filename": "x.pdf"})
    # cancelled while the upload was under way: finishing is refused, nothing stored
    uid = upload(rep, contract["id"], b"late")["upload_id"]
    with db.transaction() as uow:
        uow.session.execute(
            update(m.contracts).where(m.contracts.c.id == contract["id"]).values(status="cancelled")
        )
    with pytest.raises(Conflict):
        rep.finish_upload(uid)
    assert len(stored_files(files_dir)) == 1


# -- the store --------------------------------------------------------------------------------


def test_contracts_a_failed_catalogue_insert_removes_the_stored_file(
    db, files_dir, rep, create_contract, monkeypatch
):
    contract = create_contract()
    uid = upload(rep, contract["id"], BINARY)["upload_id"]
    real_mark = att._mark_finished

    def failing_mark(s, upload_id, attachment_id):
        raise RuntimeError("database went away")

    monkeypatch.setattr(att, "_mark_finished", failing_mark)
    with pytest.raises(RuntimeError):
        rep.finish_upload(uid)
    assert stored_files(files_dir) == []
    assert rep.list_attachments(contract["id"]) == []
    assert outbox_payloads(db, "contract_attachment_added") == []

    monkeypatch.setattr(att, "_mark_finished", real_mark)  # the staged upload survived: finish it now
    out = rep.finish_upload(uid)
    assert download(rep, contract["id"], out["id"], 100_000) == BINARY


def test_contracts_a_file_missing_from_the_store_is_a_clear_404(db, files_dir, rep, create_contract):
    contract = create_contract()
    out = rep.finish_upload(upload(rep, contract["id"], b"gone soon", filename="Plan.pdf")["upload_id"])
    for path in stored_files(files_dir):
        path.unlink()
    with pytest.raises(NotFound) as err:
        rep.read_attachment(contract["id"], out["id"], 0, 100)
    assert "Plan.pdf" in str(err.value) and err.value.details["entity"] == "attachment_file"
    assert rep.get_attachment(contract["id"], out["id"])["filename"] == "Plan.pdf"


def test_contracts_local_store_keys_never_leave_its_directory(tmp_path):
    root = tmp_path / "store"
    outside = tmp_path / "outside"
    outside.mkdir()
    store = storage.LocalStore(root)
    (root / "7").mkdir(parents=True)
    os.symlink(outside, root / "7" / "link")
    for key in (
        "../evil",
        "7/../../evil",
        "/etc/passwd",
        "7/./x",
        "7//x",
        "a\\..\\b",
        "x\x00y",
        "",
        "7/link/evil",
    ):
        with pytest.raises(storage.BadStorageKey):
            store.put(key, io.BytesIO(b"evil"), 4, "text/plain")
        with pytest.raises(storage.BadStorageKey):
            store.read(key, 0, 4)
        with pytest.raises(storage.BadStorageKey):
            store.delete(key)
    assert list(outside.iterdir()) == [] and not (tmp_path / "evil").exists()

    store.put("7/abc", io.BytesIO(b"fine"), 4, "text/plain")
    assert (root / "7" / "abc").read_bytes() == b"fine" and store.read("7/abc", 1, 2) == b"in"
    assert [p.name for p in (root / "7").iterdir() if p.name.startswith(".")] == []  # no temp file left
    store.delete("7/abc")
    store.delete("7/abc")  # deleting twice is fine
    with pytest.raises(storage.StoredFileMissing):
        store.read("7/abc", 0, 1)


def test_contracts_file_store_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("CONTRACTS_S3_BUCKET", raising=False)
    monkeypatch.delenv("CONTRACTS_FILES_DIR", raising=False)
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    store = storage.file_store()
    assert isinstance(store, storage.LocalStore) and store.root == (tmp_path / "contracts-files").resolve()
    with pytest.raises(storage.StorageError):
        storage.store_of("s3")  # a file said to be in a bucket, with no bucket configured


def test_contracts_sweep_drops_uploads_idle_for_a_day(db, files_dir, rep, create_contract):
    contract = create_contract()
    old = upload(rep, contract["id"], b"abandoned")["upload_id"]
    fresh = upload(rep, contract["id"], b"in progress")["upload_id"]
    with db.transaction() as uow:
        uow.session.execute(
            update(m.uploads)
            .where(m.uploads.c.id == old)
            .values(updated_at=utcnow() - dt.timedelta(hours=25))
        )
    assert att.sweep_uploads(db) == 1
    assert att.sweep_uploads(db) == 0
    with pytest.raises(NotFound):
        rep.finish_upload(old)
    assert rep.finish_upload(fresh)["size"] == len(b"in progress")
    # the daily job passes its as_of date: today sweeps nothing new, two days on it does
    later = upload(rep, contract["id"], b"x")["upload_id"]
    assert att.sweep_uploads(db, utcnow().date()) == 0
    assert att.sweep_uploads(db, utcnow().date() + dt.timedelta(days=2)) == 1
    with pytest.raises(NotFound):
        rep.finish_upload(later)
    assert count(db, m.uploads) == 0 and count(db, m.upload_chunks) == 0
