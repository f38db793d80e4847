"""Attachments of a contract (signed originals, change documents, drawings — any file type),
owned by the ``contracts`` service, which keeps the files outside its database.

Upload: the multipart body is parsed while it streams in; the file part goes to the service in
chunks of the size ``start_upload`` names (``upload_chunk``), hashed on the way, and
``finish_upload`` checks the service assembled exactly those bytes (SHA-256). The file never
sits whole in the gateway's memory or disk. Over the service's limit → 413 with
``{"file": [...], "max_bytes": N}`` and the upload is aborted, as on any other failure.

Download: the bytes come back 1 MiB per ``read_attachment`` call as a streamed response with
the stored Content-Type, Content-Length, an ETag (the SHA-256) and a Content-Disposition that
carries a Unicode file name (RFC 5987 / RFC 6266 ``filename*``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import unicodedata
import urllib.parse
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from ..deps import Pagination, Rpc, Settings, path_id
from ..errors import ApiError
from ..imports import MULTIPART_OVERHEAD, too_large
from ..listing import page_list, sortable
from ..rpc import RemoteError, RpcError
from ..schemas import ErrorBody
from ..views_contracts import AttachmentPage, AttachmentPublic
from ..views_core import ok

log = logging.getLogger(__name__)

SERVICE = "contracts"
READ_BYTES = 1024 * 1024  # per read_attachment call (the service's cap)
MAX_FIELD_BYTES = 64 * 1024  # a form field other than the file (the description)
GENERIC_TYPE = "application/octet-stream"

router = APIRouter(
    tags=["contract attachments"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        404: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "any file type"},
                        "description": {"type": "string", "description": "what the file is"},
                        "amendment_id": {
                            "type": "integer",
                            "description": "the contract's amendment the file belongs to (a field "
                            "before the file part); 422 when it is not one of the contract's amendments",
                        },
                    },
                }
            }
        },
    }
}

ATTACHMENT_EXAMPLE = {
    "id": 3,
    "contract_id": 12,
    "amendment_id": None,
    "filename": "İmzalı sözleşme.pdf",
    "content_type": "application/pdf",
    "size": 183211,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "description": "signed original",
    "uploaded_by": "ayse",
    "uploaded_by_id": 4,
    "created_at": "2026-03-01T09:30:00+00:00",
    "download_url": "/api/v1/contracts/12/attachments/3",
}


# --------------------------------------------------------------------------------------
# Multipart, streamed (the file part and small form fields)
# --------------------------------------------------------------------------------------


class FormStream:
    """Parse a ``multipart/form-data`` body as it arrives. Iterating yields
    ``("field", (name, text))`` for small form fields, and for the first part named ``file``:
    ``("start", (filename, content_type))``, ``("data", bytes)``…, ``("end", None)``.

    ``max_file_bytes`` (settable while iterating, once the service has named its limit) bounds
    the file part; the whole body may exceed it by :data:`MULTIPART_OVERHEAD` at most. Until a
    limit is set, only that overhead is allowed (the fields and headers before the file)."""

    def __init__(self, request: Request, field: str = "file"):
        self.request = request
        self.field = field
        self.max_file_bytes: int | None = None
        ctype, params = parse_options_header(request.headers.get("content-type", ""))
        boundary = params.get(b"boundary")
        if ctype != b"multipart/form-data" or not boundary:
            raise ApiError(
                422,
                "Send the file as multipart/form-data in a part named 'file'",
                {field: ["multipart/form-data upload with a 'file' part required"]},
            )
        self.boundary: bytes = boundary

    def declared_length(self) -> int | None:
        length = self.request.headers.get("content-length", "")
        return int(length) if length.isdigit() else None

    def _check(self, body_bytes: int, file_bytes: int) -> None:
        limit = self.max_file_bytes
        if limit is None:
            if body_bytes > MULTIPART_OVERHEAD and file_bytes == 0:
                raise ApiError(
                    422, "The form fields before the file are too large", {"_schema": ["form too large"]}
                )
            return
        if file_bytes > limit or body_bytes > limit + MULTIPART_OVERHEAD:
            raise too_large(limit)

    async def __aiter__(self) -> AsyncIterator[tuple[str, Any]]:
        events: list[tuple[str, Any]] = []
        part: dict[str, Any] = {}
        state = {"seen": False, "file_bytes": 0}

        def on_part_begin() -> None:
            part.clear()
            part.update(headers={}, name=b"", value=b"", kind=None, field="", buffer=bytearray())

        def on_header_field(data: bytes, start: int, end: int) -> None:
            part["name"] += data[start:end]

        def on_header_value(data: bytes, start: int, end: int) -> None:
            part["value"] += data[start:end]

        def on_header_end() -> None:
            part["headers"][part["name"].strip().lower()] = part["value"].strip()
            part["name"], part["value"] = b"", b""

        def on_headers_finished() -> None:
            _, disp = parse_options_header(part["headers"].get(b"content-disposition", b""))
            name = disp.get(b"name", b"").decode("utf-8", "replace")
            filename = disp.get(b"filename")
            if name == self.field and not state["seen"]:
                state["seen"] = True
                part["kind"] = "file"
                ctype = part["headers"].get(b"content-type", b"").decode("latin-1").strip() or None
                events.append(("start", (filename.decode("utf-8", "replace") if filename else "", ctype)))
            elif filename is None and name:
                part["kind"] = "field"
                part["field"] = name

        def on_part_data(data: bytes, start: int, end: int) -> None:
            if end <= start:
                return
            if part.get("kind") == "file":
                state["file_bytes"] += end - start
                if events and events[-1][0] == "data":
                    events[-1][1].extend(data[start:end])
                else:
                    events.append(("data", bytearray(data[start:end])))
            elif part.get("kind") == "field":
                part["buffer"].extend(data[start:end])
                if len(part["buffer"]) > MAX_FIELD_BYTES:
                    raise ApiError(
                        422,
                        f"The form field {part['field']!r} is too long",
                        {part["field"]: [f"at most {MAX_FIELD_BYTES} bytes"]},
                    )

        def on_part_end() -> None:
            if part.get("kind") == "file":
                events.append(("end", None))
            elif part.get("kind") == "field":
                try:
                    text = bytes(part["buffer"]).decode("utf-8")
                except UnicodeDecodeError:
                    raise ApiError(
                        422,
                        f"The form field {part['field']!r} is not UTF-8 text",
                        {part["field"]: ["not UTF-8"]},
                    ) from None
                events.append(("field", (part["field"], text)))
            part["kind"] = None

        parser = MultipartParser(
            self.boundary,
            {
                "on_part_begin": on_part_begin,
                "on_header_field": on_header_field,
                "on_header_value": on_header_value,
                "on_header_end": on_header_end,
                "on_headers_finished": on_headers_finished,
                "on_part_data": on_part_data,
                "on_part_end": on_part_end,
            },
        )
        total = 0
        try:
            async for chunk in self.request.stream():
                total += len(chunk)
                parser.write(chunk)
                while events:
                    event = events.pop(0)
                    yield event  # the consumer may set max_file_bytes on "start"
                self._check(total, state["file_bytes"])
            parser.finalize()
        except MultipartParseError as exc:
            raise ApiError(
                422, f"Malformed multipart body: {exc}", {"file": ["malformed multipart body"]}
            ) from None
        while events:
            yield events.pop(0)
        if not state["seen"]:
            raise ApiError(422, "No part named 'file' in the upload", {self.field: ["Field required"]})


# --------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------


class Upload:
    """One upload to the service: chunks of ``chunk_bytes`` as the file streams in."""

    def __init__(self, rpc: Rpc, settings: Settings):
        self.rpc = rpc
        self.settings = settings
        self.upload_id: str | None = None
        self.max_bytes = 0
        self.chunk_bytes = 0
        self.buffer = bytearray()
        self.seq = 0
        self.size = 0
        self.digest = hashlib.sha256()
        self.finished = False

    async def start(self, contract_id: int | str, meta: dict[str, Any]) -> None:
        started = await self.rpc.call(SERVICE, "start_upload", contract_id, meta)
        self.upload_id = started["upload_id"]
        self.max_bytes = int(started["max_bytes"])
        self.chunk_bytes = max(int(started["chunk_bytes"]), 1)

    async def feed(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise too_large(self.max_bytes)
        self.digest.update(data)
        self.buffer.extend(data)
        while len(self.buffer) >= self.chunk_bytes:
            await self._send(bytes(self.buffer[: self.chunk_bytes]))
            del self.buffer[: self.chunk_bytes]

    async def flush(self) -> None:
        if self.buffer:
            await self._send(bytes(self.buffer))
            self.buffer.clear()

    async def _send(self, chunk: bytes) -> None:
        await self.rpc.call(
            SERVICE, "upload_chunk", self.upload_id, self.seq, base64.b64encode(chunk).decode("ascii")
        )
        self.seq += 1

    async def finish(self, description: str | None) -> Any:
        await self.flush()
        extra = {"description": description} if description is not None else {}
        result = await self.rpc.call(
            SERVICE,
            "finish_upload",
            self.upload_id,
            self.digest.hexdigest(),
            timeout=self.settings.crm_import_timeout,
            **extra,
        )
        self.finished = True
        return result

    async def abort(self, reason: str) -> None:
        if self.upload_id is None or self.finished:
            return
        try:
            await self.rpc.call(SERVICE, "abort_upload", self.upload_id)
        except RpcError as exc:  # already dropped (too large, damaged) or the service is gone
            log.info("upload %s not aborted (%s): %s", self.upload_id, reason, exc)


def as_too_large(exc: RemoteError) -> ApiError | None:
    """The service's "larger than N MB" (a 422 with ``max_bytes``) is a 413 at the gateway."""
    if (
        exc.exc_path.endswith("ValidationFailed")
        and isinstance(exc.details, dict)
        and "max_bytes" in exc.details
    ):
        return ApiError(413, exc.message, exc.details)
    return None


@router.post(
    "/contracts/{contract_id}/attachments",
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    responses={
        201: {
            "model": AttachmentPublic,
            "description": "the attachment",
            "content": {"application/json": {"example": ATTACHMENT_EXAMPLE}},
        },
        409: {"model": ErrorBody},
        413: {"model": ErrorBody},
    },
)
async def start_upload(contract_id: str, request: Request, rpc: Rpc, settings: Settings) -> Any:
    """Attach a file (multipart part ``file``, optional form fields ``description`` and
    ``amendment_id``, the latter before the file part) to the contract → 201 with the
    attachment. Any file type; at most the service's limit (``CONTRACTS_ATTACHMENT_MAX_MB``,
    default 25 MB; 413 beyond). Not on cancelled contracts (409); an ``amendment_id`` that is not
    one of the contract's amendments: 422, nothing stored."""
    cid = path_id(contract_id, "Contract")
    form = FormStream(request)
    upload = Upload(rpc, settings)
    description: str | None = None
    late_description: str | None = None
    amendment_id: str | None = None
    try:
        async for kind, value in form:
            if kind == "field":
                name, text = value
                if name == "description":
                    if upload.upload_id is None:
                        description = text
                    else:
                        late_description = text
                elif name == "amendment_id":
                    if upload.upload_id is not None:
                        raise ApiError(
                            422,
                            "Send amendment_id before the file part",
                            {"amendment_id": ["must come before the file part"]},
                        )
                    amendment_id = text.strip() or None
            elif kind == "start":
                filename, ctype = value
                meta: dict[str, Any] = {"filename": filename}
                if ctype and ctype.lower() != GENERIC_TYPE:
                    meta["content_type"] = ctype
                if description is not None:
                    meta["description"] = description
                if amendment_id is not None:
                    meta["amendment_id"] = amendment_id  # the service checks it is the contract's
                await upload.start(cid, meta)
                form.max_file_bytes = upload.max_bytes
                declared = form.declared_length()
                if declared is not None and declared > upload.max_bytes + MULTIPART_OVERHEAD:
                    raise too_large(upload.max_bytes)
            elif kind == "data":
                await upload.feed(value)
        result = await upload.finish(late_description)
    except RemoteError as exc:
        await upload.abort(exc.message)
        raise as_too_large(exc) or exc from None
    except ApiError as exc:
        await upload.abort(exc.message)
        raise
    except ClientDisconnect:
        await upload.abort("client disconnected during the upload")
        raise
    except RpcError:
        await upload.abort("the service failed during the upload")
        raise
    log.info("attachment %s stored for contract %s (%d bytes)", result.get("id"), cid, upload.size)
    return JSONResponse(result, status_code=201, headers={"Location": result["download_url"]})


AttachmentSort = sortable("created_at", "filename", "size", "content_type", "id")


@router.get("/contracts/{contract_id}/attachments", responses=ok(AttachmentPage))
async def list_attachments(contract_id: str, rpc: Rpc, page: Pagination, sort: AttachmentSort) -> Any:
    """The contract's attachments, oldest first unless ``sort`` says otherwise."""
    items = await rpc.contracts.list_attachments(path_id(contract_id, "Contract"))
    return page_list(items, sort, page)


def content_disposition(filename: str) -> str:
    """``attachment; filename="<ASCII stand-in>"; filename*=UTF-8''<percent-encoded>``."""
    folded = unicodedata.normalize("NFKD", filename)
    ascii_name = "".join(
        ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_"
        for ch in folded
        if not unicodedata.combining(ch)
    ).strip()
    encoded = urllib.parse.quote(filename, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{ascii_name or 'download'}\"; filename*=UTF-8''{encoded}"


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


@router.get(
    "/contracts/{contract_id}/attachments/{attachment_id}",
    responses={
        200: {
            "model": AttachmentPublic,
            "description": "the file's bytes as stored (or its metadata with ?meta=true)",
            "content": {
                GENERIC_TYPE: {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"example": ATTACHMENT_EXAMPLE},
            },
        },
        304: {"description": "If-None-Match matched the file's ETag"},
    },
)
async def get_attachment(
    contract_id: str,
    attachment_id: str,
    request: Request,
    rpc: Rpc,
    meta: Annotated[bool, Query(description="the attachment's JSON metadata instead of the file")] = False,
) -> Any:
    """Download the file byte for byte (``?meta=true``: its metadata)."""
    cid = path_id(contract_id, "Contract")
    aid = path_id(attachment_id, "Attachment")
    info = await rpc.contracts.get_attachment(cid, aid)
    if meta:
        return info
    etag = f'"{info["sha256"]}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": content_disposition(info["filename"]),
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    # the first piece before the answer starts: a file missing from the store is a clean 404
    first = await rpc.contracts.read_attachment(cid, aid, 0, READ_BYTES)
    headers["Content-Type"] = info["content_type"] or GENERIC_TYPE
    headers["Content-Length"] = str(info["size"])

    async def body() -> AsyncIterator[bytes]:
        part, offset = first, 0
        while True:
            data = base64.b64decode(part["data"])
            if data:
                yield data
            offset += len(data)
            if part["eof"] or not data:
                return
            try:
                part = await rpc.contracts.read_attachment(cid, aid, offset, READ_BYTES)
            except Exception:
                log.exception("attachment %s of contract %s: download broke off at byte %d", aid, cid, offset)
                raise

    return StreamingResponse(body(), headers=headers)
