"""Streaming CSV import: the multipart upload is parsed as it arrives, rows are read incrementally
with the ``csv`` module and sent to the owning service in batches, so a 100,000-row file never
sits in memory and never costs one RPC per row.

Protocol with the service (``customers`` today; any service can offer the same four methods):

* ``start_import(mode, filename)`` → the job (``{"job_id": ...}``), once the header row is known;
* ``import_batch(job_id, [{"line": n, "data": {column: value}}, ...])`` per 1000 rows — ``line``
  is the file line where the record starts (header = line 1; a quoted value may span lines);
* ``finish_import(job_id)`` → ``{"created", "updated", "errors": [{"line", "field", "message"}],
  "job_id", "status"}``;
* ``abort_import(job_id, reason)`` when the upload breaks off half way (too large, not UTF-8,
  client gone): best effort — nothing of an aborted job may be committed.
"""

from __future__ import annotations

import codecs
import csv
import logging
import os
import tempfile
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from .errors import ApiError
from .rpc import BoundRpc, RpcError

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_LINE_CHARS = 1024 * 1024
# a record (a row whose quoted value spans lines) longer than this is a quote left open: an
# error naming its first line, not the rest of the file swallowed into one value
MAX_RECORD_LINES = 200
MULTIPART_OVERHEAD = 1024 * 1024  # other form fields and part headers
CHUNK = 64 * 1024


def bad_file(reason: str) -> ApiError:
    return ApiError(422, f"The upload is not a usable CSV file: {reason}", {"file": [reason]})


def too_large(limit: int) -> ApiError:
    mb = limit // (1024 * 1024)
    return ApiError(
        413, f"The file is larger than {mb} MB", {"file": [f"larger than {mb} MB"], "max_bytes": limit}
    )


# --------------------------------------------------------------------------------------
# Multipart, streamed
# --------------------------------------------------------------------------------------


async def file_part_events(
    request: Request, max_bytes: int, field: str = "file"
) -> AsyncIterator[tuple[str, Any]]:
    """Yield ``("start", filename)``, ``("data", bytes)``..., ``("end", None)`` for the first
    multipart part named ``field`` while the body streams in; 413 beyond ``max_bytes``."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise ApiError(
            422,
            "Send the CSV file as multipart/form-data in a part named 'file'",
            {field: ["multipart/form-data upload with a 'file' part required"]},
        )
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes + MULTIPART_OVERHEAD:
        raise too_large(max_bytes)

    events: list[tuple[str, Any]] = []
    part: dict[str, Any] = {}
    state = {"target": False, "seen": False, "file_bytes": 0}

    def on_part_begin() -> None:
        part.clear()
        part.update(headers={}, name=b"", value=b"")

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
        if name == field and not state["seen"]:
            state["target"] = state["seen"] = True
            filename = disp.get(b"filename")
            events.append(("start", filename.decode("utf-8", "replace") if filename else None))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["target"] and end > start:
            state["file_bytes"] += end - start
            if events and events[-1][0] == "data":
                events[-1][1].extend(data[start:end])
            else:
                events.append(("data", bytearray(data[start:end])))

    def on_part_end() -> None:
        if state["target"]:
            state["target"] = False
            events.append(("end", None))

    parser = MultipartParser(
        boundary,
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
        async for chunk in request.stream():
            total += len(chunk)
            if total > max_bytes + MULTIPART_OVERHEAD:
                raise too_large(max_bytes)
            parser.write(chunk)
            if state["file_bytes"] > max_bytes:
                raise too_large(max_bytes)
            for event in events:
                yield event
            events.clear()
        parser.finalize()
    except MultipartParseError as exc:
        raise ApiError(
            422, f"Malformed multipart body: {exc}", {"file": ["malformed multipart body"]}
        ) from None
    for event in events:
        yield event
    if not state["seen"]:
        raise ApiError(422, "No part named 'file' in the upload", {field: ["Field required"]})


# --------------------------------------------------------------------------------------
# CSV, incrementally
# --------------------------------------------------------------------------------------


class _NeedMore(Exception):
    """The csv reader wants a line that has not arrived yet."""


class _Lines:
    """The csv reader's input: complete lines as they arrive. When the reader runs out in the
    middle of a record, the lines it took are put back and the record is read again later."""

    def __init__(self) -> None:
        self.pending: deque[str] = deque()
        self.taken: list[str] = []
        self.eof = False

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        if not self.pending:
            if self.eof:
                raise StopIteration
            raise _NeedMore
        line = self.pending.popleft()
        self.taken.append(line)
        return line


class CsvBatcher:
    """Bytes in, batches of ``{"line": n, "data": {column: value}}`` out. UTF-8 with or without a
    BOM; the first non-blank record is the header; blank lines are skipped; values beyond the
    header's columns travel in ``data["_extra"]`` (the service reports them)."""

    def __init__(self, batch_size: int = BATCH_SIZE):
        self.batch_size = batch_size
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
        self._lines = _Lines()
        self._reader = csv.reader(self._lines)
        self._partial = ""
        self._line_no = 0
        self._batch: list[dict[str, Any]] = []
        self.header: list[str] | None = None
        self.rows = 0
        self.closed = False

    def feed(self, data: bytes) -> list[list[dict[str, Any]]]:
        if b"\x00" in data:
            raise bad_file("binary content (NUL bytes); save the sheet as CSV in UTF-8")
        try:
            text = self._decoder.decode(bytes(data))
        except UnicodeDecodeError as exc:
            raise bad_file(
                f"not UTF-8 text near line {self._line_no + len(self._lines.pending) + 1} ({exc.reason})"
            ) from None
        self._take_text(text)
        return self._drain()

    def close(self) -> list[list[dict[str, Any]]]:
        try:
            text = self._decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise bad_file(f"not UTF-8 text at the end ({exc.reason})") from None
        self._take_text(text)
        if self._partial:
            self._lines.pending.append(self._partial)
            self._partial = ""
        self._lines.eof = True
        self.closed = True
        batches = self._drain()
        if self._batch:
            batches.append(self._batch)
            self._batch = []
        return batches

    def _take_text(self, text: str) -> None:
        if not text:
            return
        buffered = self._partial + text
        parts = buffered.split("\n")
        self._partial = parts.pop()
        if len(self._partial) > MAX_LINE_CHARS:
            raise bad_file(f"a line longer than {MAX_LINE_CHARS} characters")
        self._lines.pending.extend(p + "\n" for p in parts)

    def _drain(self) -> list[list[dict[str, Any]]]:
        out: list[list[dict[str, Any]]] = []
        lines = self._lines
        while True:
            lines.taken = []
            try:
                record = next(self._reader)
            except _NeedMore:
                self._check_open_quote(lines.taken)
                lines.pending.extendleft(reversed(lines.taken))
                break
            except StopIteration:
                break
            except csv.Error as exc:
                raise bad_file(f"line {self._line_no + 1}: {exc}") from None
            self._check_open_quote(lines.taken)
            if lines.eof and not lines.pending and _quote_left_open(lines.taken):
                raise bad_file(f"line {self._line_no + 1}: a quoted value opened here is never closed")
            start = self._line_no + 1
            self._line_no += len(lines.taken)
            self._record(start, record)
            if len(self._batch) >= self.batch_size:
                out.append(self._batch)
                self._batch = []
        return out

    def _check_open_quote(self, taken: list[str]) -> None:
        if len(taken) > MAX_RECORD_LINES or sum(map(len, taken)) > MAX_LINE_CHARS:
            raise bad_file(
                f"line {self._line_no + 1}: a quoted value opened here is not closed "
                f"within {MAX_RECORD_LINES} lines (an unterminated quote?)"
            )

    def _record(self, line: int, record: list[str]) -> None:
        if not any(value.strip() for value in record):
            return  # blank line
        if self.header is None:
            names = [value.strip() for value in record]
            if any(ch < " " and ch != "\t" for name in names for ch in name):
                raise bad_file("the header row holds control characters")
            counts: dict[str, int] = {}
            for name in names:
                if name:
                    counts[name] = counts.get(name, 0) + 1
            dupes = sorted(n for n, c in counts.items() if c > 1)
            if dupes:
                raise bad_file(f"duplicate column(s) in the header: {', '.join(dupes)}")
            self.header = names
            return
        data = {name: value for name, value in zip(self.header, record, strict=False) if name}
        if len(record) > len(self.header):
            extra = [v for v in record[len(self.header) :] if v.strip()]
            if extra:
                data["_extra"] = extra
        self.rows += 1
        self._batch.append({"line": line, "data": data})


def _quote_left_open(lines: list[str]) -> bool:
    """Whether the last record of a file (its raw lines) ends inside a quoted value: the lenient
    reader returns such a value as if it were closed; a strict one says so."""
    if not any('"' in line for line in lines):
        return False
    try:
        for _ in csv.reader(lines, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


# --------------------------------------------------------------------------------------
# One import
# --------------------------------------------------------------------------------------


def job_id_of(job: Any) -> Any:
    if isinstance(job, dict):
        return job.get("job_id", job.get("id"))
    return job


class ImportRun:
    """Feeds a :class:`CsvBatcher` and ships its batches to ``<service>.import_batch``."""

    def __init__(
        self,
        rpc: BoundRpc,
        service: str,
        mode: str,
        filename: str | None,
        timeout: float,
        batch_size: int = BATCH_SIZE,
    ):
        self.rpc = rpc
        self.service = service
        self.mode = mode
        self.filename = filename or "upload.csv"
        self.timeout = timeout
        self.batcher = CsvBatcher(batch_size)
        self.job_id: Any = None
        self.held: list[list[dict[str, Any]]] = []
        self.batches_sent = 0

    async def start(self) -> Any:
        if self.job_id is None:
            if self.batcher.header is None:
                raise bad_file("empty: no header row")
            job = await self.rpc.call(
                self.service, "start_import", self.mode, self.filename, timeout=self.timeout
            )
            self.job_id = job_id_of(job)
            if self.job_id is None:
                raise ApiError(500, "Internal error")
            log.info("import job %s started (%s, mode %s)", self.job_id, self.filename, self.mode)
        return self.job_id

    async def send(self, batches: list[list[dict[str, Any]]]) -> None:
        for batch in batches:
            await self.start()
            await self.rpc.call(self.service, "import_batch", self.job_id, batch, timeout=self.timeout)
            self.batches_sent += 1

    async def feed(self, data: bytes) -> None:
        await self.send(self.batcher.feed(data))

    async def finish(self) -> Any:
        await self.send(self.batcher.close())
        await self.start()
        result = await self.rpc.call(self.service, "finish_import", self.job_id, timeout=self.timeout)
        log.info(
            "import job %s finished: %d rows in %d batches", self.job_id, self.batcher.rows, self.batches_sent
        )
        return result

    async def abort(self, reason: str) -> None:
        if self.job_id is None:
            return
        try:
            await self.rpc.call(self.service, "abort_import", self.job_id, reason, timeout=self.timeout)
        except RpcError as exc:
            log.warning("could not abort import job %s (%s): %s", self.job_id, reason, exc)


async def run_streaming(run: ImportRun, request: Request, max_bytes: int) -> Any:
    """Synchronous mode: parse and ship while the upload streams in; the final report."""
    try:
        async for kind, value in file_part_events(request, max_bytes):
            if kind == "start":
                run.filename = value or run.filename
            elif kind == "data":
                await run.feed(value)
        return await run.finish()
    except ApiError as exc:
        await run.abort(exc.message)
        raise
    except ClientDisconnect:
        await run.abort("client disconnected during the upload")
        raise
    except RpcError:
        await run.abort("the service failed during the import")
        raise


async def spool_upload(request: Request, max_bytes: int) -> tuple[str, str | None]:
    """Asynchronous mode, step 1: the file part into a temporary file (size-limited)."""
    fd, path = tempfile.mkstemp(prefix="crm-import-", suffix=".csv")
    filename = None
    try:
        with os.fdopen(fd, "wb") as out:
            async for kind, value in file_part_events(request, max_bytes):
                if kind == "start":
                    filename = value
                elif kind == "data":
                    out.write(value)
    except BaseException:
        os.unlink(path)
        raise
    return path, filename


async def prepare_from_file(run: ImportRun, path: str) -> Any:
    """Asynchronous mode, step 2: read until the header is known, then start the job (so an
    empty or non-CSV file still gets its 422 before the 202)."""
    with open(path, "rb") as fh:
        while run.batcher.header is None:
            chunk = fh.read(CHUNK)
            if not chunk:
                run.held.extend(run.batcher.close())
                break
            run.held.extend(run.batcher.feed(chunk))
        position = fh.tell()
    await run.start()
    return position


async def finish_from_file(run: ImportRun, path: str, position: int) -> None:
    """Asynchronous mode, step 3 (background task): the rest of the file, then finish."""
    try:
        await run.send(run.held)
        run.held = []
        if not run.batcher.closed:
            with open(path, "rb") as fh:
                fh.seek(position)
                while chunk := fh.read(CHUNK):
                    await run.feed(chunk)
        await run.finish()
    except ApiError as exc:
        log.warning("import job %s failed: %s", run.job_id, exc.message)
        await run.abort(exc.message)
    except Exception as exc:
        log.exception("import job %s failed", run.job_id)
        await run.abort(f"gateway error: {type(exc).__name__}")
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


async def import_upload(
    request: Request,
    rpc: BoundRpc,
    service: str,
    mode: str,
    run_async: bool,
    background: Any,
    timeout: float,
    max_bytes: int,
    progress_path: str,
) -> Any:
    """The body of every ``POST …/import`` route: stream the CSV to ``service`` and answer its
    report, or (``run_async``) spool it, start the job, answer 202 with the job id and a
    ``Location`` of ``progress_path/<job_id>``, and finish in the background."""
    from fastapi.responses import JSONResponse

    run = ImportRun(rpc, service, mode, None, timeout)
    if not run_async:
        return await run_streaming(run, request, max_bytes)
    path, filename = await spool_upload(request, max_bytes)
    run.filename = filename or run.filename
    try:
        position = await prepare_from_file(run, path)
    except BaseException:
        os.unlink(path)
        raise
    background.add_task(finish_from_file, run, path, position)
    return JSONResponse(
        {"job_id": run.job_id, "status": "accepted"},
        status_code=202,
        headers={"Location": f"{progress_path}/{run.job_id}"},
        background=background,
    )
