"""CSV import of products with the customers import's contract: the gateway streams the file
in batches (``start_import`` → ``import_batch``… → ``finish_import``); every bad row is
reported with its line number and field; ``all_or_nothing`` imports nothing when any row is
bad, ``skip_bad`` imports every good row. Rows are staged as received and validated and
applied in ONE transaction at the end, so a rejected import leaves no product behind.

Columns: sku, name, kind, unit_price, currency, model, manufacturer, category, unit,
serialized, reorder_point, reorder_quantity, preferred_partner, active.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import changes_between, utcnow
from crm_common.errors import Conflict, ValidationFailed, load_or_raise, marshmallow_details, not_found
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from . import domain
from . import events as ev
from . import models as m
from .catalogue import dump_product, insert_product, product_create_in, product_public

J = m.import_jobs.c
IR = m.import_rows.c
MODES = ("all_or_nothing", "skip_bad")
COLUMNS = (
    "sku", "name", "kind", "unit_price", "currency", "model", "manufacturer", "category", "unit",
    "serialized", "reorder_point", "reorder_quantity", "preferred_partner", "active",
)  # fmt: skip
MAX_BATCH_ROWS = 5000
MAX_ROWS = 100_000
RECEIVING_IDLE = dt.timedelta(hours=24)
TRUE = {"true", "1", "yes", "y"}
FALSE = {"false", "0", "no", "n", ""}


class RowSchema(Schema):
    line = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    data = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)


class BatchSchema(Schema):
    rows = fields.List(fields.Nested(RowSchema), required=True, validate=validate.Length(max=MAX_BATCH_ROWS))


batch_in = BatchSchema()


def job_row(s: Session, job_id: int, caller: CallerContext, for_update: bool = False) -> dict:
    query = select(m.import_jobs).where(J.id == job_id)
    if for_update:
        query = query.with_for_update()
    row = s.execute(query).mappings().first()
    if row is None or (row["user"] != caller.actor and not caller.has_any(("admin", "system"))):
        raise not_found("import job", job_id)
    return dict(row)


def job_out(job: dict, with_errors: bool = True) -> dict:
    out = {
        "job_id": job["id"],
        "id": job["id"],
        "mode": job["mode"],
        "filename": job["filename"],
        "status": job["status"],
        "rows_received": job["rows_received"],
        "created": job["created"],
        "updated": 0,
        "error_count": len(job["errors"] or []),
        "message": job["message"],
        "started_at": job["started_at"].isoformat(),
        "finished_at": job["finished_at"].isoformat() if job["finished_at"] else None,
    }
    if with_errors:
        out["errors"] = list(job["errors"] or [])
    return out


def start_import(db, caller: CallerContext, mode: Any, filename: Any = None) -> dict:
    domain.require(caller, domain.CATALOGUE_ROLES, "import products")
    if mode not in MODES:
        raise ValidationFailed.field("mode", f"one of {', '.join(MODES)}")
    if filename is not None and (not isinstance(filename, str) or len(filename) > 300):
        raise ValidationFailed.field("filename", "a name of at most 300 characters")
    now = utcnow()
    with db.transaction() as uow:
        job = {"mode": mode, "filename": filename, "status": "receiving", "user": caller.actor, "rows_received": 0,
               "created": 0, "errors": [], "message": None, "started_at": now, "updated_at": now, "finished_at": None}  # fmt: skip
        job["id"] = uow.session.execute(insert(m.import_jobs).values(**job).returning(J.id)).scalar_one()
    return job_out(job)


def import_batch(db, caller: CallerContext, job_id: Any, rows: Any) -> dict:
    domain.require(caller, domain.CATALOGUE_ROLES, "import products")
    job_id = domain.parse_id(job_id, "job_id")
    if not isinstance(rows, list):
        raise ValidationFailed.field("rows", "must be a list of {line, data}")
    batch = load_or_raise(batch_in, {"rows": rows})["rows"]
    unknown = sorted({h for r in batch for h in r["data"] if h not in COLUMNS})
    if unknown:
        raise ValidationFailed(
            "Unknown columns",
            {"columns": [f"unknown column {u!r}; columns are {', '.join(COLUMNS)}" for u in unknown]},
        )
    with db.transaction() as uow:
        s = uow.session
        job = job_row(s, job_id, caller, for_update=True)
        if job["status"] != "receiving":
            raise Conflict(f"The import is {job['status']}; it takes no more rows", {"status": job["status"]})
        if job["rows_received"] + len(batch) > MAX_ROWS:
            raise ValidationFailed.field("rows", f"an import takes at most {MAX_ROWS} rows")
        if batch:
            s.execute(
                insert(m.import_rows),
                [{"job_id": job_id, "line": r["line"], "data": r["data"]} for r in batch],
            )
        s.execute(update(m.import_jobs).where(J.id == job_id).values(
            rows_received=job["rows_received"] + len(batch), updated_at=utcnow()))  # fmt: skip
        job["rows_received"] += len(batch)
    return job_out(job, with_errors=False)


def parse_row(data: dict) -> tuple[dict, dict[str, list[str]]]:
    """CSV cells (strings) → the create-product input (empty cells are absent) and the errors
    of the cells that are not even the right type."""
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        text = value.strip() if isinstance(value, str) else value
        if text in (None, ""):
            continue
        if name in ("serialized", "active"):
            low = str(text).lower()
            if low in TRUE:
                out[name] = True
            elif low in FALSE:
                out[name] = False
            else:
                errors[name] = ["must be true or false"]
        elif name in ("reorder_point", "reorder_quantity"):
            if str(text).isdigit():
                out[name] = int(text)
            else:
                errors[name] = ["must be a whole number"]
        else:
            out[name] = text
    return out, errors


def finish_import(db, caller: CallerContext, job_id: Any) -> dict:
    domain.require(caller, domain.CATALOGUE_ROLES, "import products")
    job_id = domain.parse_id(job_id, "job_id")
    with db.transaction() as uow:
        s = uow.session
        job = job_row(s, job_id, caller, for_update=True)
        if job["status"] != "receiving":
            return {**job_out(job), "status": job["status"]}
        rows = s.execute(select(IR.line, IR.data).where(IR.job_id == job_id).order_by(IR.line)).all()
        errors: list[dict] = []
        good: list[tuple[int, dict]] = []
        seen: dict[str, int] = {}
        existing = {r.sku_key for r in s.execute(select(m.products.c.sku_key))}
        for line, data in rows:
            cells, problems = parse_row(data)
            try:
                values = product_create_in.load({k: v for k, v in cells.items() if k not in problems})
            except ValidationError as exc:
                problems = {**marshmallow_details(exc.messages), **problems}
            if problems:
                errors.extend(
                    {"line": line, "field": f, "message": "; ".join(r)} for f, r in sorted(problems.items())
                )
                continue
            key = domain.key(values["sku"])
            if key in existing:
                errors.append({"line": line, "field": "sku", "message": f"SKU {values['sku']} exists"})
                continue
            if key in seen:
                errors.append(
                    {"line": line, "field": "sku", "message": f"SKU {values['sku']} repeats line {seen[key]}"}
                )
                continue
            if values.get("category"):
                try:
                    domain.category_parts(values["category"])
                except ValidationFailed as exc:
                    errors.append(
                        {"line": line, "field": "category", "message": "; ".join(exc.details["category"])}
                    )
                    continue
            seen[key] = line
            good.append((line, values))
        created = 0
        if not (errors and job["mode"] == "all_or_nothing"):
            payloads, audits = [], []
            for _line, values in good:
                row = insert_product(s, values, caller.actor)
                payloads.append(dump_product(row, row["category_path"]))
                audits.append((row["id"], changes_between({}, product_public(row))))
            uow.publish_many(ev.PRODUCT_CREATED, payloads)
            uow.audit_many("product", "import", audits)
            created = len(good)
        now = utcnow()
        values = {"status": "done", "created": created, "errors": errors, "finished_at": now, "updated_at": now,
                  "message": "nothing imported: the file has errors" if errors and not created else None}  # fmt: skip
        s.execute(update(m.import_jobs).where(J.id == job_id).values(**values))
        s.execute(delete(m.import_rows).where(IR.job_id == job_id))
        job.update(values)
    return job_out(job)


def get_import(db, caller: CallerContext, job_id: Any) -> dict:
    domain.require(caller, domain.CATALOGUE_ROLES, "import products")
    with db.read() as s:
        return job_out(job_row(s, domain.parse_id(job_id, "job_id"), caller))


def abort_import(db, caller: CallerContext, job_id: Any, reason: Any = None) -> dict:
    domain.require(caller, domain.CATALOGUE_ROLES, "import products")
    job_id = domain.parse_id(job_id, "job_id")
    with db.transaction() as uow:
        s = uow.session
        job = job_row(s, job_id, caller, for_update=True)
        if job["status"] == "receiving":
            now = utcnow()
            values = {
                "status": "aborted",
                "message": str(reason)[:500] if reason else "aborted",
                "finished_at": now,
                "updated_at": now,
            }
            s.execute(update(m.import_jobs).where(J.id == job_id).values(**values))
            s.execute(delete(m.import_rows).where(IR.job_id == job_id))
            job.update(values)
    return job_out(job)


def expire_idle_imports(db) -> int:
    """Drop jobs that received nothing for a day (a client that went away)."""
    cutoff = utcnow() - RECEIVING_IDLE
    with db.transaction() as uow:
        s = uow.session
        ids = s.execute(select(J.id).where(J.status == "receiving", J.updated_at < cutoff)).scalars().all()
        if ids:
            s.execute(delete(m.import_rows).where(IR.job_id.in_(ids)))
            s.execute(
                update(m.import_jobs)
                .where(J.id.in_(ids))
                .values(status="aborted", message="expired", finished_at=utcnow())
            )
    return len(ids)
