"""CSV import of contracts with their lines, with the customers import's contract: the gateway
streams the file in batches (``start_import`` → ``import_batch``… → ``finish_import``); every
bad row is reported with its line number and column; ``all_or_nothing`` imports nothing when any
row is bad, ``skip_bad`` imports every good contract. Rows are staged as received
(``import_rows``) and validated and applied at the end: the customers and products of the whole
file are fetched in batches first, then every contract is checked exactly as
``create_contract`` checks one (:func:`contracts.usecases.prepare_contract`), and the good ones
are inserted in ONE transaction with the job's result, so a failed import leaves nothing behind.

One contract = the rows sharing a ``contract_ref``; each row with a ``product_id`` (or ``sku``)
is one line. Header columns may be repeated on every row of a contract (then they must agree)
or given once. Columns: contract_ref, customer_id, title, kind, currency, start_date, end_date,
billing_frequency, in_advance, payment_terms_days, auto_renew, renewal_uplift_percent,
notice_days, signer, owner_id, status (``draft``, default; ``active`` for admins: contracts
already in force, imported as version 1 and announced with ``contract_activated``), product_id
or sku, quantity, unit_price, discount_percent, serial_number, manufacturing_number,
line_start_date, line_end_date.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    load_or_raise,
)
from crm_common.money import to_decimal
from crm_common.paging import parse_id
from crm_common.text import fold
from marshmallow import Schema, fields, validate
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from . import domain, usecases
from . import models as m
from .peers import Peers

log = logging.getLogger(__name__)

J = m.import_jobs.c
R = m.import_rows.c
MODES = ("all_or_nothing", "skip_bad")
HEADER_COLUMNS = (
    "customer_id", "title", "kind", "currency", "start_date", "end_date", "billing_frequency", "in_advance",
    "payment_terms_days", "auto_renew", "renewal_uplift_percent", "notice_days", "signer", "owner_id", "status",
)  # fmt: skip
LINE_COLUMNS = (
    "product_id", "sku", "quantity", "unit_price", "discount_percent", "serial_number", "manufacturing_number",
    "line_start_date", "line_end_date",
)  # fmt: skip
COLUMNS = ("contract_ref", *HEADER_COLUMNS, *LINE_COLUMNS)
INT_COLUMNS = ("customer_id", "owner_id", "payment_terms_days", "notice_days", "product_id")
BOOL_COLUMNS = ("in_advance", "auto_renew")
DECIMAL_COLUMNS = ("quantity", "unit_price", "discount_percent", "renewal_uplift_percent")
DATE_COLUMNS = ("start_date", "end_date", "line_start_date", "line_end_date")
STATUSES = (domain.DRAFT, domain.ACTIVE)
# a key of prepare_contract's error details → the CSV column
DETAIL_COLUMNS = {
    "billing": "billing_frequency",
    "billing.frequency": "billing_frequency",
    "billing.in_advance": "in_advance",
    "billing.payment_terms_days": "payment_terms_days",
    "billing.anchor_day": "billing_frequency",
}
LINE_DETAIL_COLUMNS = {"start_date": "line_start_date", "end_date": "line_end_date"}
MAX_BATCH_ROWS = 5000
MAX_ROWS = 100_000
MAX_REPORTED = 1000  # contracts listed in a result
RECEIVING_IDLE = dt.timedelta(hours=24)
LEASE = dt.timedelta(minutes=10)  # an "importing" job untouched this long may be finished again
TRUE = {"true", "1", "yes", "y"}
FALSE = {"false", "0", "no", "n"}


class RowSchema(Schema):
    line = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    data = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)


class BatchSchema(Schema):
    rows = fields.List(fields.Nested(RowSchema), required=True, validate=validate.Length(max=MAX_BATCH_ROWS))


batch_in = BatchSchema()


# -- jobs -------------------------------------------------------------------------------------


def job_caller(job: Mapping[str, Any]) -> CallerContext:
    c = job["caller"] or {}
    return CallerContext(
        user_id=c.get("user_id"),
        username=c.get("username"),
        roles=tuple(c.get("roles") or ()),
        department=c.get("department"),
        customer_id=c.get("customer_id"),
    )


def visible_job(s: Session, job_id: int, caller: CallerContext, for_update: bool = False) -> dict:
    """The job, or 404 — also when another user started it (admins see every job)."""
    query = select(m.import_jobs).where(J.id == job_id)
    if for_update:
        query = query.with_for_update()
    job = s.execute(query).mappings().first()
    if job is None or not (
        caller.has_any(("admin",)) or (job["caller"] or {}).get("user_id") == caller.user_id
    ):
        raise NotFound(f"import {job_id} not found", {"entity": "import", "id": job_id})
    return dict(job)


def job_out(job: Mapping[str, Any], with_errors: bool | None = None) -> dict:
    result = job["result"] or {}
    errors = list(job["errors"] or [])
    out = {
        "job_id": job["id"],
        "id": job["id"],
        "mode": job["mode"],
        "filename": job["filename"],
        "status": job["status"],
        "rows_received": job["rows_received"],
        "rows_processed": job["rows_processed"],
        "created": job["contracts_created"],
        "updated": 0,
        "error_count": len(errors),
        "message": result.get("message"),
        "started_at": job["created_at"].isoformat(),
        "finished_at": job["finished_at"].isoformat() if job["finished_at"] else None,
    }
    if with_errors or (with_errors is None and job["status"] in ("done", "failed")):
        out["errors"] = errors
        out["contracts"] = result.get("contracts", [])
        out["contracts_truncated"] = result.get("contracts_truncated", False)
    return out


def start_import(db, caller: CallerContext, mode: Any, filename: Any = None) -> dict:
    caller = domain.require(caller, domain.IMPORT_ROLES, "import contracts")
    if mode not in MODES:
        raise ValidationFailed.field("mode", f"one of {', '.join(MODES)}")
    if filename is not None and (not isinstance(filename, str) or len(filename) > 300):
        raise ValidationFailed.field("filename", "a name of at most 300 characters")
    now = utcnow()
    job = {
        "mode": mode,
        "status": "receiving",
        "filename": filename,
        "rows_received": 0,
        "rows_processed": 0,
        "contracts_created": 0,
        "errors": [],
        "result": None,
        "caller": caller.as_dict(),
        "created_at": now,
        "updated_at": now,
        "finished_at": None,
    }
    with db.transaction() as uow:
        job["id"] = uow.session.execute(insert(m.import_jobs).values(**job).returning(J.id)).scalar_one()
        uow.audit("import", job["id"], "start", {"mode": [None, mode], "filename": [None, filename]})
    return job_out(job)


def import_batch(db, caller: CallerContext, job_id: Any, rows: Any) -> dict:
    caller = domain.require(caller, domain.IMPORT_ROLES, "import contracts")
    job_id = parse_id(job_id, "job_id")
    if not isinstance(rows, list):
        raise ValidationFailed.field("rows", "must be a list of {line, data}")
    batch = load_or_raise(batch_in, {"rows": rows})["rows"]
    lines = [r["line"] for r in batch]
    if len(set(lines)) != len(lines):
        seen: set[int] = set()
        twice = sorted({n for n in lines if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
        raise ValidationFailed(
            "Repeated lines", {"rows": [f"line {n} appears more than once" for n in twice[:20]]}
        )
    unknown = sorted({h for r in batch for h in r["data"] if h not in COLUMNS and h != "_extra"})
    if unknown:
        raise ValidationFailed(
            "Unknown columns",
            {"columns": [f"unknown column {u!r}; columns are {', '.join(COLUMNS)}" for u in unknown]},
        )
    with db.transaction() as uow:
        s = uow.session
        job = visible_job(s, job_id, caller, for_update=True)
        if job["status"] != "receiving":
            raise Conflict(f"The import is {job['status']}; it takes no more rows", {"status": job["status"]})
        already: set[int] = set()
        for start in range(0, len(lines), 500):
            chunk = lines[start : start + 500]
            already.update(s.execute(select(R.line).where(R.job_id == job_id, R.line.in_(chunk))).scalars())
        if already:
            if already == set(lines):  # the same batch again (a retried call)
                return job_out(job)
            raise Conflict("Some lines of this batch were already received", {"lines": sorted(already)[:50]})
        if job["rows_received"] + len(batch) > MAX_ROWS:
            raise ValidationFailed.field("rows", f"an import takes at most {MAX_ROWS} rows")
        if batch:
            s.execute(
                insert(m.import_rows),
                [{"job_id": job_id, "line": r["line"], "data": r["data"]} for r in batch],
            )
        job["rows_received"] += len(batch)
        job["updated_at"] = utcnow()
        s.execute(
            update(m.import_jobs)
            .where(J.id == job_id)
            .values(rows_received=job["rows_received"], updated_at=job["updated_at"])
        )
    return job_out(job)


def get_import(db, caller: CallerContext, job_id: Any) -> dict:
    """The job and its progress; once finished, its errors and the contracts it made."""
    caller = domain.require(caller, domain.IMPORT_ROLES, "import contracts")
    with db.read() as s:
        return job_out(visible_job(s, parse_id(job_id, "job_id"), caller))


def abort_import(db, caller: CallerContext, job_id: Any, reason: Any = None) -> dict:
    """The client gave up (upload broken off, too large, not UTF-8): the job fails and its staged
    rows are dropped; nothing of it was or will be imported."""
    caller = domain.require(caller, domain.IMPORT_ROLES, "import contracts")
    job_id = parse_id(job_id, "job_id")
    if reason is not None and not isinstance(reason, str):
        raise ValidationFailed.field("reason", "must be a text")
    message = (reason or "aborted by the client")[:2000]
    with db.transaction() as uow:
        s = uow.session
        job = visible_job(s, job_id, caller, for_update=True)
        if job["status"] == "failed":
            return job_out(job)
        if job["status"] != "receiving":
            raise Conflict(
                f"The import is {job['status']}; it can no longer be aborted", {"status": job["status"]}
            )
        now = utcnow()
        values = {"status": "failed", "finished_at": now, "updated_at": now, "result": {"message": message}}
        s.execute(update(m.import_jobs).where(J.id == job_id).values(**values))
        s.execute(delete(m.import_rows).where(R.job_id == job_id))
        uow.audit("import", job_id, "abort", {"status": ["receiving", "failed"], "message": [None, message]})
        job.update(values)
    return job_out(job)


def expire_idle_imports(db) -> int:
    """Jobs that stopped receiving batches for a day (the client went away) are failed and their
    staged rows dropped."""
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        ids = list(
            s.execute(
                select(J.id).where(J.status == "receiving", J.updated_at < now - RECEIVING_IDLE)
            ).scalars()
        )
        if ids:
            s.execute(delete(m.import_rows).where(R.job_id.in_(ids)))
            s.execute(
                update(m.import_jobs)
                .where(J.id.in_(ids))
                .values(status="failed", finished_at=now, updated_at=now,
                        result={"message": "no rows received for too long; the import was dropped"})
            )  # fmt: skip
    return len(ids)


# -- parsing ------------------------------------------------------------------------------------


@dataclass
class Row:
    line: int
    cells: dict[str, Any]  # typed where the column is typed; absent when empty or bad
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, message)

    @property
    def has_line(self) -> bool:
        return any(c in self.cells for c in LINE_COLUMNS) or any(c in LINE_COLUMNS for c, _ in self.errors)


@dataclass
class Group:
    ref: str
    rows: list[Row] = field(default_factory=list)
    header: dict[str, Any] = field(default_factory=dict)
    header_lines: dict[str, int] = field(default_factory=dict)  # column → the line it came from
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, column, message)

    @property
    def first_line(self) -> int:
        return self.rows[0].line

    @property
    def line_rows(self) -> list[Row]:
        return [r for r in self.rows if r.has_line]

    def error_keys(self) -> set[tuple[int, str]]:
        return {(line, col) for line, col, _ in self.errors}


def parse_row(line: int, data: Mapping[str, Any]) -> Row:
    """CSV cells (strings) → typed values; a cell of the wrong type is an error on its column."""
    row = Row(line, {})
    for name, value in data.items():
        if name == "_extra":
            row.errors.append(("columns", f"{len(value)} value(s) beyond the header's columns"))
            continue
        text = value.strip() if isinstance(value, str) else value
        if text is None or text == "":
            continue
        text = str(text)
        if name in INT_COLUMNS:
            if text.isascii() and text.isdigit():
                row.cells[name] = int(text)
            else:
                row.errors.append((name, "must be a whole number"))
        elif name in BOOL_COLUMNS:
            low = text.lower()
            if low in TRUE:
                row.cells[name] = True
            elif low in FALSE:
                row.cells[name] = False
            else:
                row.errors.append((name, "must be true or false"))
        elif name in DECIMAL_COLUMNS:
            try:
                to_decimal(text)
                row.cells[name] = text
            except ValueError:
                row.errors.append((name, "must be a decimal number such as 12.50"))
        elif name in DATE_COLUMNS:
            try:
                row.cells[name] = dt.date.fromisoformat(text).isoformat()
            except ValueError:
                row.errors.append((name, "must be an ISO 8601 date (YYYY-MM-DD)"))
        elif name == "status":
            low = text.lower()
            if low in STATUSES:
                row.cells[name] = low
            else:
                row.errors.append((name, f"must be one of {', '.join(STATUSES)}"))
        elif name in ("kind", "billing_frequency", "currency"):
            row.cells[name] = text.lower() if name != "currency" else text.upper()
        else:
            row.cells[name] = text
    if "product_id" in row.cells and "sku" in row.cells:
        row.errors.append(("sku", "give product_id or sku, not both"))
    elif row.has_line and "product_id" not in row.cells and "sku" not in row.cells:
        if not any(c in ("product_id", "sku") for c, _ in row.errors):
            row.errors.append(("product_id", "required for a line (or sku)"))
    return row


def group_rows(rows: Sequence[tuple[int, Mapping[str, Any]]]) -> tuple[list[Group], list[dict]]:
    """Rows (in file order) → contracts by ``contract_ref``; rows without a ref are errors."""
    groups: dict[str, Group] = {}
    loose: list[dict] = []
    for line, data in rows:
        row = parse_row(line, data)
        ref = row.cells.pop("contract_ref", None)
        if ref is None:
            loose.append({"line": line, "field": "contract_ref", "message": "required"})
            continue
        key = fold(ref)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(ref)
        group.rows.append(row)
        for col, message in row.errors:
            group.errors.append((line, col, message))
        for col in HEADER_COLUMNS:
            if col not in row.cells:
                continue
            if col not in group.header:
                group.header[col] = row.cells[col]
                group.header_lines[col] = line
            elif group.header[col] != row.cells[col]:
                group.errors.append(
                    (line, col, f"differs from line {group.header_lines[col]} of contract_ref {ref!r}")
                )
    return list(groups.values()), loose


def body_of(group: Group) -> dict:
    """The create body of a contract (as the API takes it) from its rows."""
    h = group.header
    body: dict[str, Any] = {
        k: h[k]
        for k in ("customer_id", "title", "kind", "currency", "start_date", "end_date", "auto_renew",
                  "renewal_uplift_percent", "notice_days", "signer", "owner_id")
        if k in h
    }  # fmt: skip
    if "billing_frequency" in h:
        body["billing"] = {"frequency": h["billing_frequency"]}
        if "in_advance" in h:
            body["billing"]["in_advance"] = h["in_advance"]
        if "payment_terms_days" in h:
            body["billing"]["payment_terms_days"] = h["payment_terms_days"]
    lines = []
    for row in group.line_rows:
        c = row.cells
        line: dict[str, Any] = {}
        for col, key in (("product_id", "product_id"), ("quantity", "quantity"), ("unit_price", "unit_price"),
                         ("discount_percent", "discount_percent"), ("serial_number", "serial_number"),
                         ("manufacturing_number", "manufacturing_number"), ("line_start_date", "start_date"),
                         ("line_end_date", "end_date")):  # fmt: skip
            if col in c:
                line[key] = c[col]
        lines.append(line)
    body["lines"] = lines
    return body


def detail_position(group: Group, key: str) -> tuple[int, str]:
    """A key of prepare_contract's error details → (CSV line, column)."""
    parts = key.split(".")
    if parts[0] == "lines" and len(parts) >= 3 and parts[1].isdigit():
        rows = group.line_rows
        i = int(parts[1])
        if i < len(rows):
            row = rows[i]
            name = parts[2]
            if name == "product_id" and "sku" in row.cells:
                return row.line, "sku"
            return row.line, LINE_DETAIL_COLUMNS.get(name, name)
    column = DETAIL_COLUMNS.get(key, key)
    return group.header_lines.get(column, group.first_line), column


# -- products by SKU --------------------------------------------------------------------------


def products_by_sku(peers: Peers, skus: Sequence[str]) -> dict[str, dict | None]:
    """The product of each SKU (folded key → product, or None when unknown), one inventory
    lookup per distinct SKU (not per row), cached by the peers."""
    keys = {fold(s): s for s in skus}
    found = peers.products_by_sku(list(keys.values()))
    return {k: found.get(sku) for k, sku in keys.items()}


# -- finishing ----------------------------------------------------------------------------------


def finish_import(db, peers: Peers, caller: CallerContext, job_id: Any) -> dict:
    """Validate every staged row and import the good contracts (all of them, or none in
    ``all_or_nothing`` mode when any row is bad), in one transaction with the job's result.
    Finishing a finished job answers the same; a job being finished is a 409."""
    caller = domain.require(caller, domain.IMPORT_ROLES, "import contracts")
    job_id = parse_id(job_id, "job_id")
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        job = visible_job(s, job_id, caller, for_update=True)
        if job["status"] in ("done", "failed"):
            return job_out(job)
        if job["status"] == "importing" and job["updated_at"] > now - LEASE:
            raise Conflict("The import is already running", {"status": "importing"})
        s.execute(update(m.import_jobs).where(J.id == job_id).values(status="importing", updated_at=now))
    try:
        return run_import(db, peers, job)
    except Exception as exc:
        log.exception("import %s stopped", job_id)
        try:
            with db.transaction() as uow:  # released: finishing it again starts over
                uow.session.execute(
                    update(m.import_jobs)
                    .where(J.id == job_id)
                    .values(status="receiving", updated_at=utcnow(),
                            result={"message": f"stopped by {type(exc).__name__}: {exc}; finish it again"[:2000]})
                )  # fmt: skip
        except Exception:  # pragma: no cover - the database itself is gone
            log.exception("could not release import %s", job_id)
        raise


def run_import(db, peers: Peers, job: dict) -> dict:
    job_id = job["id"]
    owner = job_caller(job)
    access = domain.write_access(owner)
    admin = owner.is_system or owner.has_any(("admin",))
    with db.read() as s:
        staged = [
            (r.line, r.data)
            for r in s.execute(select(R.line, R.data).where(R.job_id == job_id).order_by(R.line))
        ]
    groups, errors = group_rows(staged)
    # what the other services know, fetched in batches for the whole file
    peers.prefetch_customers({g.header["customer_id"] for g in groups if "customer_id" in g.header})
    peers.prefetch_products(
        {r.cells["product_id"] for g in groups for r in g.rows if "product_id" in r.cells}
    )
    skus = sorted(
        {r.cells["sku"] for g in groups for r in g.rows if "sku" in r.cells and "product_id" not in r.cells}
    )
    by_sku = products_by_sku(peers, skus) if skus else {}
    good: list[tuple[Group, dict, list[dict]]] = []
    for group in groups:
        if group.header.get("status") == domain.ACTIVE and not admin:
            group.errors.append(
                (
                    group.header_lines["status"],
                    "status",
                    "only an admin may import contracts already in force",
                )
            )
        for row in group.line_rows:
            sku = row.cells.get("sku")
            if sku is not None and "product_id" not in row.cells:
                product = by_sku.get(fold(sku))
                if product is None:
                    group.errors.append((row.line, "sku", f"unknown SKU {sku}"))
                else:
                    row.cells["product_id"] = product["id"]
        bad = group.error_keys()  # cells already reported are not reported twice
        try:
            header, line_rows = usecases.prepare_contract(db, peers, owner, body_of(group), access)
        except ValidationFailed as exc:
            for key, reasons in (exc.details or {}).items():
                line, column = detail_position(group, key)
                if (line, column) in bad:
                    continue
                for reason in reasons if isinstance(reasons, list) else [reasons]:
                    group.errors.append((line, column, str(reason)))
            continue
        except (PermissionDenied, NotFound, Conflict) as exc:  # Conflict: an archived customer
            line, column = detail_position(
                group, "owner_id" if isinstance(exc, PermissionDenied) else "customer_id"
            )
            group.errors.append((line, column, exc.message))
            continue
        if not group.errors:
            good.append((group, header, line_rows))
    for group in groups:
        errors.extend({"line": line, "field": col, "message": msg} for line, col, msg in group.errors)
    errors.sort(key=lambda e: (e["line"], e["field"] or ""))
    if errors and job["mode"] == "all_or_nothing":
        good = []
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        created: list[dict] = []
        if good:
            created = usecases.insert_contracts(
                uow, [(header, line_rows) for _, header, line_rows in good], owner.actor, import_job_id=job_id
            )
            active = [row["id"] for (group, _, _), row in zip(good, created, strict=True)
                      if group.header.get("status") == domain.ACTIVE]  # fmt: skip
            if active:
                usecases.activate_imported(uow, active)
        contracts = [
            {"contract_ref": group.ref, "id": row["id"], "number": row["number"],
             "status": group.header.get("status") or domain.DRAFT, "line": group.first_line}
            for (group, _, _), row in zip(good, created, strict=True)
        ]  # fmt: skip
        message = None
        if errors and not created:
            message = "nothing imported: the file has errors"
        elif not groups and not errors:
            message = "the file has no rows"
        result = {
            "message": message,
            "contracts": contracts[:MAX_REPORTED],
            "contracts_truncated": len(contracts) > MAX_REPORTED,
        }
        values = {
            "status": "done",
            "rows_processed": len(staged),
            "contracts_created": len(created),
            "errors": errors,
            "result": result,
            "finished_at": now,
            "updated_at": now,
        }
        s.execute(update(m.import_jobs).where(J.id == job_id).values(**values))
        s.execute(delete(m.import_rows).where(R.job_id == job_id))
        uow.audit(
            "import",
            job_id,
            "finish",
            {"status": ["importing", "done"], "created": [0, len(created)], "error_count": [0, len(errors)]},
        )
        job.update(values)
    return job_out(job, with_errors=True)
