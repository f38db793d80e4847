"""Contract attachments: signed originals, change documents, drawings — any file type, stored
outside the database (:mod:`contracts.storage`), catalogued in ``attachments``.

A file travels from the gateway in chunks over RPC, and any replica of the service may receive
any chunk, so chunks are staged in ``uploads`` / ``upload_chunks`` until the upload is finished:

* :func:`start_upload` (write access on the contract, any status but cancelled) → the upload id,
  the size limit (``CONTRACTS_ATTACHMENT_MAX_MB``, default 25) and the chunk size;
* :func:`upload_chunk` (``seq`` 0, 1, 2, …; sending a ``seq`` again replaces it, so a retry is
  harmless); going over the limit drops the upload and answers 422 with ``max_bytes``;
* :func:`finish_upload` assembles the chunks in order into a temporary file while hashing it
  (SHA-256; a client's digest that differs → 422, nothing stored, the upload dropped), writes it
  to the store under ``<contract id>/<uuid>``, then in ONE transaction inserts the attachment,
  drops the staged chunks, audits and publishes ``contract_attachment_added``. If that
  transaction fails, the stored file is removed again;
* :func:`abort_upload`; :func:`sweep_uploads` (the daily job) drops uploads idle for a day.

Reading: :func:`list_attachments`, :func:`get_attachment`, :func:`read_attachment` (up to 1 MiB
per call, base64). A file missing from the store is a 404 naming it, never a 500.

An upload belongs to the user who started it: another user (even with write access to the
contract) gets 404 for it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
import mimetypes
import re
import tempfile
import unicodedata
import uuid
from typing import IO, Any

from crm_common import config
from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import Conflict, NotFound, ValidationFailed, load_or_raise
from crm_common.paging import parse_id
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from . import domain, storage, usecases
from . import events as ev
from . import models as m

log = logging.getLogger(__name__)

A = m.attachments.c
UP = m.uploads.c
CH = m.upload_chunks.c

DEFAULT_MAX_MB = 25
CHUNK_BYTES = 1024 * 1024  # what the gateway sends per upload_chunk (base64 makes it ~1.4 MB)
READ_MAX_BYTES = 1024 * 1024  # the most read_attachment returns per call
MAX_FILENAME = 300
MAX_SEQ = 1_000_000
MAX_DESCRIPTION = 4000
UPLOAD_IDLE = dt.timedelta(days=1)
DEFAULT_CONTENT_TYPE = "application/octet-stream"
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def max_bytes() -> int:
    """The size limit of one attachment (``CONTRACTS_ATTACHMENT_MAX_MB``, default 25 MB)."""
    mb = config.env_int("CONTRACTS_ATTACHMENT_MAX_MB", DEFAULT_MAX_MB)
    return max(mb, 1) * 1024 * 1024


def too_large(limit: int) -> ValidationFailed:
    mb = limit // (1024 * 1024)
    return ValidationFailed(
        f"The file is larger than {mb} MB", {"file": [f"larger than {mb} MB"], "max_bytes": limit}
    )


# --------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------


def sanitize_filename(value: Any) -> str:
    """The file's own name as the user knows it: the last path segment (``/`` or ``\\``), NFC,
    without control characters and surrounding blanks, at most 300 characters (the extension
    kept when the name is cut); Unicode kept. Nothing usable left → 422 on ``filename``."""
    if not isinstance(value, str):
        raise ValidationFailed.field("filename", "must be text")
    name = unicodedata.normalize("NFC", value)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    name = name.strip().rstrip(".").strip()
    if name in ("", ".", ".."):
        raise ValidationFailed.field("filename", "must name a file (no path, not empty)")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and 0 < len(ext) <= 20:
            name = stem[: MAX_FILENAME - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_FILENAME].rstrip()
    return name


def content_type_of(value: Any, filename: str) -> str:
    """The given media type (``type/subtype``, parameters kept, lower-cased type), else a guess
    from the file name, else ``application/octet-stream``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        guessed, _ = mimetypes.guess_type(filename, strict=False)
        return guessed or DEFAULT_CONTENT_TYPE
    if not isinstance(value, str) or len(value) > 200:
        raise ValidationFailed.field("content_type", "must be a media type such as application/pdf")
    main, _, params = value.strip().partition(";")
    main = main.strip().lower()
    if not _CONTENT_TYPE.match(main) or any(ord(ch) < 32 for ch in params):
        raise ValidationFailed.field("content_type", "must be a media type such as application/pdf")
    params = params.strip()
    return f"{main}; {params}" if params else main


class UploadMetaSchema(Schema):
    class Meta:
        unknown = RAISE

    filename = fields.Raw(required=True)
    content_type = fields.Raw(load_default=None)
    description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_DESCRIPTION)
    )
    amendment_id = fields.Raw(load_default=None)


meta_in = UploadMetaSchema()


def _description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed.field("description", "must be text")
    if len(value) > MAX_DESCRIPTION:
        raise ValidationFailed.field("description", f"at most {MAX_DESCRIPTION} characters")
    return value.strip() or None


def _seq(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQ:
        raise ValidationFailed.field("seq", f"must be an integer from 0 to {MAX_SEQ}")
    return value


def _chunk_data(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValidationFailed.field("data", "must be base64 text")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.field("data", "must be base64 text") from None
    if len(data) > CHUNK_BYTES:
        raise ValidationFailed.field("data", f"a chunk holds at most {CHUNK_BYTES} bytes")
    return data


def _upload_id(value: Any) -> str:
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            pass
    raise NotFound(f"upload {value!r} not found", {"entity": "upload", "id": str(value)})


# --------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------


def attachment_view(row: dict[str, Any]) -> dict[str, Any]:
    """The public JSON of an attachment."""
    return {
        "id": row["id"],
        "contract_id": row["contract_id"],
        "amendment_id": row["amendment_id"],
        "filename": row["filename"],
        "content_type": row["content_type"],
        "size": row["size"],
        "sha256": row["sha256"],
        "description": row["description"],
        "uploaded_by": row["uploaded_by"],
        "uploaded_by_id": row["uploaded_by_id"],
        "created_at": row["created_at"].isoformat() if row["created_at"] else None,
        "download_url": f"/api/v1/contracts/{row['contract_id']}/attachments/{row['id']}",
    }


def _uploader(caller: CallerContext) -> str:
    return (caller.username or caller.actor)[:100]


# --------------------------------------------------------------------------------------
# Uploads
# --------------------------------------------------------------------------------------


def _check_not_cancelled(contract: dict[str, Any]) -> None:
    if contract["status"] == domain.CANCELLED:
        raise Conflict(
            f"Contract {contract['number']} is cancelled: no attachments can be added",
            {"status": contract["status"], "action": "attach"},
        )


def start_upload(db: Any, caller: CallerContext, contract_id: Any, meta: Any) -> dict[str, Any]:
    """Open an upload for a file of the contract → ``{"upload_id", "max_bytes", "chunk_bytes"}``."""
    access = domain.write_access(caller)
    cid = parse_id(contract_id, "contract_id")
    data = load_or_raise(meta_in, meta)
    filename = sanitize_filename(data["filename"])
    content_type = content_type_of(data["content_type"], filename)
    description = _description(data["description"])
    amendment_id = (
        parse_id(data["amendment_id"], "amendment_id") if data["amendment_id"] is not None else None
    )
    upload_id = str(uuid.uuid4())
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        contract = usecases.writable_contract(s, cid, access, for_update=False)
        _check_not_cancelled(contract)
        if amendment_id is not None:
            found = s.execute(
                select(m.amendments.c.id).where(
                    m.amendments.c.id == amendment_id, m.amendments.c.contract_id == cid
                )
            ).first()
            if found is None:
                raise ValidationFailed.field(
                    "amendment_id", f"not an amendment of contract {contract['number']}"
                )
        s.execute(
            insert(m.uploads).values(
                id=upload_id,
                contract_id=cid,
                amendment_id=amendment_id,
                filename=filename,
                content_type=content_type,
                description=description,
                size=0,
                chunks=0,
                created_at=now,
                updated_at=now,
                created_by=_uploader(caller),
                created_by_id=caller.user_id,
            )
        )
    return {"upload_id": upload_id, "max_bytes": max_bytes(), "chunk_bytes": CHUNK_BYTES}


def _own_upload(
    s: Session, caller: CallerContext, upload_id: str, for_update: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The upload and its contract, if the caller started it and may still change the contract."""
    access = domain.write_access(caller)
    query = select(m.uploads).where(UP.id == upload_id)
    if for_update:
        query = query.with_for_update()
    row = s.execute(query).mappings().first()
    if row is None or not (caller.is_system or row["created_by_id"] == caller.user_id):
        raise NotFound(f"upload {upload_id} not found", {"entity": "upload", "id": upload_id})
    contract = usecases.writable_contract(s, row["contract_id"], access, for_update=False)
    return dict(row), contract


def _drop(s: Session, upload_id: str) -> None:
    s.execute(delete(m.upload_chunks).where(CH.upload_id == upload_id))
    s.execute(delete(m.uploads).where(UP.id == upload_id))


def upload_chunk(db: Any, caller: CallerContext, upload_id: Any, seq: Any, data_b64: Any) -> dict[str, Any]:
    """Stage chunk ``seq`` → ``{"upload_id", "size"}`` (the bytes staged so far). Over the limit,
    the upload is dropped and the answer is 422 ``{"file": [...], "max_bytes": N}``."""
    uid = _upload_id(upload_id)
    n = _seq(seq)
    data = _chunk_data(data_b64)
    limit = max_bytes()
    dropped = False
    with db.transaction() as uow:
        s = uow.session
        upload, _ = _own_upload(s, caller, uid, for_update=True)
        if upload["attachment_id"] is not None:
            raise Conflict("The upload is finished: start a new one", {"upload_id": uid,
                           "attachment_id": upload["attachment_id"]})  # fmt: skip
        previous = s.execute(
            select(func.length(CH.data)).where(CH.upload_id == uid, CH.seq == n)
        ).scalar_one_or_none()
        size = upload["size"] - (previous or 0) + len(data)
        if size > limit:
            _drop(s, uid)
            dropped = True
        else:
            if previous is not None:
                s.execute(update(m.upload_chunks).where(CH.upload_id == uid, CH.seq == n).values(data=data))
            else:
                s.execute(insert(m.upload_chunks).values(upload_id=uid, seq=n, data=data))
            s.execute(
                update(m.uploads)
                .where(UP.id == uid)
                .values(size=size, chunks=upload["chunks"] + (previous is None), updated_at=utcnow())
            )
    if dropped:
        raise too_large(limit)
    return {"upload_id": uid, "size": size}


def abort_upload(db: Any, caller: CallerContext, upload_id: Any) -> dict[str, Any]:
    """Drop an upload and its staged chunks (an unknown or finished upload → 404)."""
    uid = _upload_id(upload_id)
    with db.transaction() as uow:
        _own_upload(uow.session, caller, uid, for_update=True)
        _drop(uow.session, uid)
    return {"upload_id": uid, "aborted": True}


def _assemble(db: Any, upload: dict[str, Any], out: IO[bytes]) -> tuple[int, str]:
    """Write the staged chunks in order to ``out`` → (size, SHA-256 hex). A gap in the sequence
    is a 422 naming the missing chunk."""
    uid = upload["id"]
    digest = hashlib.sha256()
    size = 0
    with db.read() as s:
        seqs = list(s.execute(select(CH.seq).where(CH.upload_id == uid).order_by(CH.seq)).scalars())
        for expected, seq in enumerate(seqs):
            if seq != expected:
                raise ValidationFailed(
                    f"Chunk {expected} of the upload is missing", {"seq": [f"chunk {expected} missing"]}
                )
            chunk = s.execute(select(CH.data).where(CH.upload_id == uid, CH.seq == seq)).scalar_one()
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def finish_upload(
    db: Any, caller: CallerContext, upload_id: Any, sha256: Any = None, description: Any = None
) -> dict[str, Any]:
    """Assemble, verify, store and catalogue the file → the attachment. ``sha256`` (hex) is the
    client's digest of the whole file; ``description``, when given, replaces the one given at
    the start (a form field that came after the file)."""
    uid = _upload_id(upload_id)
    expected = None
    if sha256 is not None:
        if not isinstance(sha256, str) or not _SHA256.match(sha256.strip()):
            raise ValidationFailed.field("sha256", "must be 64 hexadecimal digits")
        expected = sha256.strip().lower()
    new_description = _description(description)
    with db.read() as s:
        upload, contract = _own_upload(s, caller, uid)
        if upload["attachment_id"] is not None:  # finished already (a retry after a lost reply)
            done = s.execute(select(m.attachments).where(m.attachments.c.id == upload["attachment_id"]))
            row = done.mappings().first()
            if row is not None:
                return attachment_view(dict(row))
        _check_not_cancelled(contract)
    if upload["size"] > max_bytes():
        _drop_now(db, uid)
        raise too_large(max_bytes())

    store = storage.file_store()
    with tempfile.TemporaryFile(prefix="crm-attachment-") as tmp:
        size, digest = _assemble(db, upload, tmp)
        if size == 0:
            raise ValidationFailed("The file is empty", {"file": ["empty file"]})
        if expected is not None and digest != expected:
            _drop_now(db, uid)
            raise ValidationFailed(
                "The file arrived damaged: its SHA-256 differs from the sender's; upload it again",
                {"sha256": [f"mismatch: received a file with SHA-256 {digest}"]},
            )
        tmp.seek(0)
        key = f"{upload['contract_id']}/{uuid.uuid4().hex}"
        store.put(key, tmp, size, upload["content_type"])
    try:
        return _catalogue(db, caller, upload, size, digest, store, key, new_description)
    except BaseException:
        try:
            store.delete(key)
        except Exception:  # pragma: no cover - the original error matters more
            log.exception("could not remove stored file %s after a failed finish_upload", key)
        raise


def _mark_finished(s: Session, upload_id: str, attachment_id: int) -> None:
    """The chunks go; the upload row stays (until swept) naming its attachment, so a finish
    retried after a lost reply answers the same attachment instead of 404."""
    s.execute(delete(m.upload_chunks).where(CH.upload_id == upload_id))
    s.execute(
        update(m.uploads).where(UP.id == upload_id).values(attachment_id=attachment_id, updated_at=utcnow())
    )


def _drop_now(db: Any, upload_id: str) -> None:
    with db.transaction() as uow:
        _drop(uow.session, upload_id)


def _catalogue(
    db: Any,
    caller: CallerContext,
    upload: dict[str, Any],
    size: int,
    digest: str,
    store: storage.FileStore,
    key: str,
    description: str | None,
) -> dict[str, Any]:
    uid = upload["id"]
    with db.transaction() as uow:
        s = uow.session
        current, contract = _own_upload(s, caller, uid, for_update=True)
        if (current["size"], current["chunks"], current["updated_at"]) != (
            upload["size"],
            upload["chunks"],
            upload["updated_at"],
        ):
            raise Conflict(
                "The upload changed while it was being finished (a chunk arrived late): finish it again",
                {"upload_id": uid},
            )
        if size != current["size"]:  # pragma: no cover - staged sizes are kept in step
            raise Conflict("The staged chunks do not add up to the upload's size", {"upload_id": uid})
        _check_not_cancelled(contract)
        values = {
            "contract_id": upload["contract_id"],
            "amendment_id": upload["amendment_id"],
            "filename": upload["filename"],
            "content_type": upload["content_type"],
            "size": size,
            "sha256": digest,
            "storage": store.kind,
            "storage_key": key,
            "description": description if description is not None else upload["description"],
            "uploaded_by": upload["created_by"],
            "uploaded_by_id": upload["created_by_id"],
            "created_at": utcnow(),
        }
        attachment_id = s.execute(insert(m.attachments).values(**values)).inserted_primary_key[0]
        _mark_finished(s, uid, attachment_id)
        view = attachment_view({"id": attachment_id, **values})
        uow.audit(
            "attachment",
            attachment_id,
            "created",
            {
                "contract_id": [None, values["contract_id"]],
                "filename": [None, values["filename"]],
                "size": [None, size],
                "sha256": [None, digest],
            },
        )
        uow.publish(
            ev.CONTRACT_ATTACHMENT_ADDED,
            {"contract_id": contract["id"], "contract_number": contract["number"], "attachment": view},
        )
    return view


def sweep_uploads(db: Any, older_than: dt.datetime | dt.date | dt.timedelta | None = None) -> int:
    """Drop uploads with their chunks that have been idle since before ``older_than`` → how many
    were dropped. ``older_than``: a timestamp; an age (default: a day); or the daily job's
    ``as_of`` date, meaning "idle for more than a day as of that day" (now's time of day on that
    date, less a day). Safe with several replicas running (deleting twice deletes nothing)."""
    now = utcnow()
    if older_than is None:
        older_than = UPLOAD_IDLE
    if isinstance(older_than, dt.timedelta):
        cutoff = now - older_than
    elif isinstance(older_than, dt.datetime):
        if older_than.tzinfo is None:
            raise ValueError("older_than must be timezone-aware")
        cutoff = older_than
    elif isinstance(older_than, dt.date):
        cutoff = dt.datetime.combine(older_than, now.timetz()) - UPLOAD_IDLE
    else:
        raise TypeError(f"older_than must be a datetime, a date or a timedelta, not {older_than!r}")
    with db.transaction() as uow:
        s = uow.session
        rows = s.execute(select(UP.id, UP.attachment_id).where(UP.updated_at < cutoff)).all()
        ids = [r.id for r in rows]
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            s.execute(delete(m.upload_chunks).where(CH.upload_id.in_(batch)))
            s.execute(delete(m.uploads).where(UP.id.in_(batch)))
    abandoned = sum(1 for r in rows if r.attachment_id is None)  # finished ones are only forgotten
    if abandoned:
        log.info("dropped %d upload(s) idle since before %s", abandoned, cutoff.isoformat())
    return abandoned


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def _attachment_row(
    s: Session, caller: CallerContext, contract_id: Any, attachment_id: Any
) -> dict[str, Any]:
    access = domain.read_access(caller)
    cid = parse_id(contract_id, "contract_id")
    aid = parse_id(attachment_id, "attachment_id")
    usecases.visible_contract(s, cid, access)
    row = s.execute(select(m.attachments).where(A.id == aid, A.contract_id == cid)).mappings().first()
    if row is None:
        raise NotFound(f"attachment {aid} of contract {cid} not found", {"entity": "attachment", "id": aid})
    return dict(row)


def attachments_of(s: Session, contract_id: int) -> list[dict[str, Any]]:
    """The public JSON of a contract's attachments, oldest first (no access check: for a
    contract the caller has already been shown, e.g. in ``get_contract``)."""
    rows = s.execute(select(m.attachments).where(A.contract_id == contract_id).order_by(A.created_at, A.id))
    return [attachment_view(dict(r)) for r in rows.mappings()]


def list_attachments(db: Any, caller: CallerContext, contract_id: Any) -> list[dict[str, Any]]:
    """The contract's attachments, oldest first."""
    access = domain.read_access(caller)
    cid = parse_id(contract_id, "contract_id")
    with db.read() as s:
        usecases.visible_contract(s, cid, access)
        return attachments_of(s, cid)


def get_attachment(db: Any, caller: CallerContext, contract_id: Any, attachment_id: Any) -> dict[str, Any]:
    with db.read() as s:
        return attachment_view(_attachment_row(s, caller, contract_id, attachment_id))


def read_attachment(
    db: Any, caller: CallerContext, contract_id: Any, attachment_id: Any, offset: Any = 0, length: Any = None
) -> dict[str, Any]:
    """Up to ``length`` (at most 1 MiB) bytes of the file from ``offset`` →
    ``{"data": base64, "offset", "eof"}``."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValidationFailed.field("offset", "must be an integer ≥ 0")
    if length is None:
        length = READ_MAX_BYTES
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValidationFailed.field("length", "must be an integer ≥ 1")
    with db.read() as s:
        row = _attachment_row(s, caller, contract_id, attachment_id)
    if offset > row["size"]:
        raise ValidationFailed.field("offset", f"past the end of the file ({row['size']} bytes)")
    length = min(length, READ_MAX_BYTES, row["size"] - offset)
    missing = NotFound(
        f"The file {row['filename']!r} of attachment {row['id']} is missing from the file store",
        {
            "entity": "attachment_file",
            "id": row["id"],
            "filename": row["filename"],
            "storage": row["storage"],
        },
    )
    try:
        store = storage.store_of(row["storage"])
        data = store.read(row["storage_key"], offset, length)
    except storage.StoredFileMissing:
        log.error(
            "attachment %s: file %s missing from %s store", row["id"], row["storage_key"], row["storage"]
        )
        raise missing from None
    except storage.StorageError as exc:
        log.error("attachment %s: %s", row["id"], exc)
        raise missing from None
    if len(data) != length:
        log.error("attachment %s: file %s is shorter than catalogued", row["id"], row["storage_key"])
        raise Conflict(
            f"The file {row['filename']!r} of attachment {row['id']} in the file store is not the one catalogued",
            {"entity": "attachment_file", "id": row["id"], "filename": row["filename"]},
        )
    return {
        "data": base64.b64encode(data).decode("ascii"),
        "offset": offset,
        "eof": offset + len(data) >= row["size"],
    }


__all__ = [
    "abort_upload",
    "attachment_view",
    "attachments_of",
    "finish_upload",
    "get_attachment",
    "list_attachments",
    "read_attachment",
    "sanitize_filename",
    "start_upload",
    "sweep_uploads",
    "upload_chunk",
]
