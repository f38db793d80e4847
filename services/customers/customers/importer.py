"""CSV import of customers, streamed in batches.

1. ``start_import(mode, filename)`` opens a job (status ``receiving``).
2. ``import_batch(job_id, rows)`` — about a thousand rows per call — parses and validates each
   row's cells as it arrives (:func:`customers.domain.parse_import_row`) and stores the row in
   the staging table ``import_rows`` (valid) or its errors in ``import_errors``: one
   transaction and two bulk inserts per batch.
3. ``finish_import(job_id)`` (status ``importing``):
   * a validation pass in memory (:class:`customers.domain.ImportPlanner`): every staged row,
     in file order, against an index of every existing customer's keys and of the earlier rows
     — likely duplicates, customers outside the caller's scope, unknown owners become errors
     naming the field. O(rows + customers).
   * ``all_or_nothing`` with any error: nothing is imported (status ``done``, created 0,
     updated 0, every error reported). Otherwise every good row is applied in chunks of
     ``APPLY_CHUNK`` rows, one transaction each (bulk insert of the new customers, their
     audit entries and one outbox event per created or updated customer), marking the staged
     rows applied in the same transaction: progress (``rows_processed``, ``created``,
     ``updated``) is visible through ``get_import`` while it runs, and a finishing worker that
     died is resumed by calling ``finish_import`` again once its lease has run out.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import changes_between, utcnow
from crm_common.errors import load_or_raise
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from . import domain, schemas
from . import events as ev
from . import models as m
from .exceptions import Conflict, invalid, not_found
from .usecases import (
    CUSTOMER_FIELDS,
    DERIVED_FIELDS,
    RED_LIST_FIELDS,
    C,
    allocate_codes,
    as_date,
    created_payload,
    customer_public,
    derived_columns,
    domain_red_list_columns,
    keys_of_row,
    new_customer_row,
    updated_payload,
)

log = logging.getLogger(__name__)

J = m.import_jobs.c
R = m.import_rows.c
E = m.import_errors.c

APPLY_CHUNK = 1000
LEASE = dt.timedelta(minutes=2)  # a finishing worker renews it with every chunk
RECEIVING_IDLE = dt.timedelta(hours=24)  # a job receiving no batch for this long is dropped

start_in = schemas.ImportStartSchema()
batch_in = schemas.ImportBatchSchema()
job_out = schemas.ImportJobSchema()
result_out = schemas.ImportResultSchema()


def _yield() -> None:
    """Let other green threads (RPCs, the broker heartbeat) run between chunks."""
    time.sleep(0)


def visible_job(session: Session, job_id: int, access: domain.Access, for_update: bool = False) -> dict:
    query = select(m.import_jobs).where(J.id == job_id)
    if for_update:
        query = query.with_for_update()
    job = session.execute(query).mappings().first()
    if job is None or (access.restricted and job["user_id"] != access.user_id):
        raise not_found("import", job_id)
    return dict(job)


def job_caller(job: Mapping[str, Any]) -> CallerContext:
    c = job["caller"] or {}
    return CallerContext(
        user_id=c.get("user_id"),
        username=c.get("username"),
        roles=tuple(c.get("roles") or ()),
        department=c.get("department"),
        customer_id=c.get("customer_id"),
    )


def start_import(db, caller: CallerContext, mode: Any, filename: Any = None) -> dict:
    domain.write_access(caller)
    values = load_or_raise(start_in, {"mode": mode, "filename": filename})
    now = utcnow()
    row = {
        "mode": values["mode"],
        "filename": values.get("filename"),
        "status": "receiving",
        "rows_received": 0,
        "rows_processed": 0,
        "created": 0,
        "updated": 0,
        "error_count": 0,
        "validated": False,
        "user_id": caller.user_id,
        "actor": caller.actor,
        "caller": caller.as_dict(),
        "lease_until": now + RECEIVING_IDLE,
        "started_at": now,
        "finished_at": None,
    }
    with db.transaction() as uow:
        row["id"] = uow.session.execute(insert(m.import_jobs).returning(J.id), row).scalar_one()
        uow.audit(
            "import", row["id"], "start", {"mode": [None, row["mode"]], "filename": [None, row["filename"]]}
        )
    return job_out.dump(row)


def import_batch(db, caller: CallerContext, job_id: Any, rows: Any) -> dict:
    access = domain.write_access(caller)
    job_id = domain.parse_id(job_id, "job_id")
    if not isinstance(rows, list):
        raise invalid({"rows": ["must be a list of {line, data}"]})
    batch = load_or_raise(batch_in, {"rows": rows})["rows"]
    lines = [r["line"] for r in batch]
    if len(set(lines)) != len(lines):
        seen: set[int] = set()
        twice = sorted({n for n in lines if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
        raise invalid({"rows": [f"line {n} appears more than once" for n in twice[:20]]})
    headers = {h for r in batch for h in r["data"]}
    unknown = domain.unknown_columns(headers)
    if unknown:
        raise invalid(
            {
                "columns": [
                    f"unknown column {name!r}; columns are {', '.join(domain.IMPORT_COLUMNS)}"
                    for name in unknown
                ]
            }
        )
    today = dt.date.today()
    parsed = [domain.parse_import_row(r["line"], r["data"], today) for r in batch]
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        job = visible_job(s, job_id, access, for_update=True)
        if job["status"] != "receiving":
            raise Conflict(f"The import is {job['status']}; it takes no more rows", {"status": job["status"]})
        already = (
            set(s.execute(select(R.line).where(R.job_id == job_id, R.line.in_(lines))).scalars())
            if lines
            else set()
        )
        if already:
            if already == set(lines):  # the same batch again (a retried call): nothing to do
                return job_out.dump(job)
            raise Conflict("Some lines of this batch were already received", {"lines": sorted(already)[:50]})
        if parsed:
            s.execute(
                insert(m.import_rows),
                [
                    {
                        "job_id": job_id,
                        "line": p.line,
                        "data": p.values,
                        "status": "pending" if p.ok else "error",
                    }
                    for p in parsed
                ],
            )
        errors = [
            {"job_id": job_id, "line": p.line, "field": f, "message": msg}
            for p in parsed
            for f, msg in p.errors
        ]
        if errors:
            s.execute(insert(m.import_errors), errors)
        job["rows_received"] += len(parsed)
        job["error_count"] += len(errors)
        job["lease_until"] = now + RECEIVING_IDLE
        s.execute(
            update(m.import_jobs)
            .where(J.id == job_id)
            .values(
                rows_received=job["rows_received"],
                error_count=job["error_count"],
                lease_until=job["lease_until"],
            )
        )
    return job_out.dump(job)


def get_import(db, caller: CallerContext, job_id: Any) -> dict:
    """The job and its progress; once it is done or failed, its errors too."""
    access = domain.write_access(caller)
    job_id = domain.parse_id(job_id, "job_id")
    with db.read() as s:
        job = job_out.dump(visible_job(s, job_id, access))
        if job["status"] in ("done", "failed"):
            job["errors"] = [
                dict(e)
                for e in s.execute(
                    select(E.line, E.field, E.message).where(E.job_id == job_id).order_by(E.line, E.id)
                ).mappings()
            ]
    return job


def abort_import(db, caller: CallerContext, job_id: Any, reason: Any = None) -> dict:
    """The client gave up (upload broken off, too large, not UTF-8): the job fails and its
    staged rows are dropped; nothing of it was or will be imported. A job being imported or
    already finished cannot be aborted (Conflict)."""
    access = domain.write_access(caller)
    job_id = domain.parse_id(job_id, "job_id")
    if reason is not None and not isinstance(reason, str):
        raise invalid({"reason": ["must be a text"]})
    message = (reason or "aborted by the client")[:2000]
    with db.transaction() as uow:
        s = uow.session
        job = visible_job(s, job_id, access, for_update=True)
        if job["status"] == "failed":
            return job_out.dump(job)
        if job["status"] != "receiving":
            raise Conflict(
                f"The import is {job['status']}; it can no longer be aborted", {"status": job["status"]}
            )
        now = utcnow()
        s.execute(
            update(m.import_jobs)
            .where(J.id == job_id)
            .values(status="failed", finished_at=now, lease_until=None, message=message)
        )
        s.execute(delete(m.import_rows).where(R.job_id == job_id))
        uow.audit("import", job_id, "abort", {"status": ["receiving", "failed"], "message": [None, message]})
        job.update(status="failed", finished_at=now, message=message)
    return job_out.dump(job)


def import_result(db, job_id: int) -> dict:
    with db.read() as s:
        job = s.execute(select(m.import_jobs).where(J.id == job_id)).mappings().one()
        errors = (
            s.execute(select(E.line, E.field, E.message).where(E.job_id == job_id).order_by(E.line, E.id))
            .mappings()
            .all()
        )
    return result_out.dump(
        {
            "job_id": job_id,
            "status": job["status"],
            "created": job["created"],
            "updated": job["updated"],
            "errors": [dict(e) for e in errors],
        }
    )


def finish_import(db, caller: CallerContext, job_id: Any) -> dict:
    access = domain.write_access(caller)
    job_id = domain.parse_id(job_id, "job_id")
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        job = visible_job(s, job_id, access, for_update=True)
        finished = job["status"] in ("done", "failed")
        if not finished:
            if job["status"] == "importing" and job["lease_until"] and job["lease_until"] > now:
                raise Conflict("The import is already running", {"status": "importing"})
            s.execute(
                update(m.import_jobs)
                .where(J.id == job_id)
                .values(status="importing", lease_until=now + LEASE)
            )
    if finished:
        return import_result(db, job_id)  # finishing twice answers the same
    try:
        job_access = domain.write_access(job_caller(job))  # the scope of who started it
        if not job["validated"]:
            red_list_allowed = job_caller(job).has_any(domain.RED_LIST_ROLES)
            validate_job(db, job_id, job_access, red_list_allowed)
        with db.read() as s:
            job = dict(s.execute(select(m.import_jobs).where(J.id == job_id)).mappings().one())
        if not (job["mode"] == "all_or_nothing" and job["error_count"] > 0):
            apply_job(db, job)
        complete_job(db, job_id)
    except Exception as exc:
        # The job stays "importing" with its lease released: calling finish_import again
        # resumes it where it stopped (applied chunks are marked), so all_or_nothing still
        # ends with every good row imported, never with a silent part of them.
        log.exception("import %s stopped", job_id)
        _release(db, job_id, f"stopped by {type(exc).__name__}: {exc}; finish it again to resume")
        raise
    return import_result(db, job_id)


def validate_job(db, job_id: int, access: domain.Access, red_list_allowed: bool = True) -> None:
    with db.read() as s:
        existing = []
        red_listed: dict[int, bool] = {}
        for r in s.execute(
            select(C.id, C.code, C.name, C.owner_id, C.tax_key, C.name_key, C.email_key, C.phone_key,
                   C.red_listed)
            .where(C.deleted_at.is_(None))
            .order_by(C.id)
        ):  # fmt: skip
            existing.append(domain.KnownCustomer(r.id, r.code, r.name, r.owner_id, keys_of_row(r._mapping)))
            red_listed[r.id] = r.red_listed
        owners = {r.id: r.active for r in s.execute(select(m.users.c.id, m.users.c.active))}
        planner = domain.ImportPlanner(existing, access, owners)
        del existing
        error_lines: list[int] = []
        errors: list[dict] = []
        rows = s.execute(
            select(R.line, R.data).where(R.job_id == job_id, R.status == "pending").order_by(R.line)
        )
        for n, (line, data) in enumerate(rows):
            plan = planner.plan(line, data)
            if (
                not red_list_allowed
                and plan.target is not None
                and "red_listed" in data
                and bool(data["red_listed"]) != red_listed.get(plan.target.id)
            ):  # the red list is changed by sales managers, admins and finance only
                plan.errors.append(("red_listed", "only a sales manager, an admin or finance may change it"))
            if plan.errors:
                error_lines.append(line)
                errors.extend(
                    {"job_id": job_id, "line": line, "field": f, "message": msg} for f, msg in plan.errors
                )
            if n % 5000 == 4999:
                _yield()
    with db.transaction() as uow:
        s = uow.session
        if errors:
            s.execute(insert(m.import_errors), errors)
        for i in range(0, len(error_lines), 500):
            s.execute(
                update(m.import_rows)
                .where(R.job_id == job_id, R.line.in_(error_lines[i : i + 500]))
                .values(status="error")
            )
        error_rows = s.execute(
            select(func.count()).where(R.job_id == job_id, R.status == "error")
        ).scalar_one()
        s.execute(
            update(m.import_jobs)
            .where(J.id == job_id)
            .values(
                validated=True,
                error_count=J.error_count + len(errors),
                rows_processed=error_rows,
                lease_until=utcnow() + LEASE,
            )
        )


def _lookup(db) -> tuple[dict[str, int], dict[str, int]]:
    """code → id and tax key → id (the first, as the planner saw them) of existing customers."""
    by_code: dict[str, int] = {}
    by_tax: dict[str, int] = {}
    with db.read() as s:
        for r in s.execute(select(C.id, C.code, C.tax_key).where(C.deleted_at.is_(None)).order_by(C.id)):
            by_code[r.code] = r.id
            if r.tax_key:
                by_tax.setdefault(r.tax_key, r.id)
    return by_code, by_tax


def apply_job(db, job: Mapping[str, Any]) -> None:
    job_id = job["id"]
    by_code, by_tax = _lookup(db)
    last_line = 0
    while True:
        with db.transaction() as uow:
            s = uow.session
            rows = s.execute(
                select(R.line, R.data)
                .where(R.job_id == job_id, R.status == "pending", R.line > last_line)
                .order_by(R.line)
                .limit(APPLY_CHUNK)
            ).all()
            if not rows:
                break
            created, updated = apply_chunk(uow, job, rows, by_code, by_tax)
            last_line = rows[-1].line
            s.execute(
                update(m.import_rows)
                .where(R.job_id == job_id, R.status == "pending", R.line <= last_line)
                .values(status="applied")
            )
            s.execute(
                update(m.import_jobs)
                .where(J.id == job_id)
                .values(
                    created=J.created + created,
                    updated=J.updated + updated,
                    rows_processed=J.rows_processed + len(rows),
                    lease_until=utcnow() + LEASE,
                )
            )
        _yield()


def apply_chunk(
    uow, job: Mapping[str, Any], rows, by_code: dict[str, int], by_tax: dict[str, int]
) -> tuple[int, int]:
    s = uow.session
    now = utcnow()
    creates: list[dict] = []
    updates: list[tuple[int, dict]] = []
    for _line, data in rows:
        values = dict(data)
        code = values.pop("code", None)
        target = by_code.get(code) if code else None
        if target is None and not code and values.get("tax_id"):
            target = by_tax.get(domain.tax_key(values["tax_id"]))
        if target is not None:
            updates.append((target, values))
        else:
            creates.append(values)

    if creates:
        codes = allocate_codes(s, len(creates))
        new_rows = []
        for values, code in zip(creates, codes, strict=True):
            values.setdefault("owner_id", job["user_id"])
            new_rows.append(new_customer_row(values, code, now, job["actor"]))
        ids = (
            s.execute(insert(m.customers).returning(C.id, sort_by_parameter_order=True), new_rows)
            .scalars()
            .all()
        )
        for row, new_id in zip(new_rows, ids, strict=True):
            row["id"] = new_id
        uow.audit_many(
            "customer",
            "import_create",
            [(r["id"], changes_between({}, customer_public(r))) for r in new_rows],
        )
        uow.publish_many(ev.CUSTOMER_CREATED, [created_payload(r, [], imported=True) for r in new_rows])

    if updates:
        audits: list[tuple[int, dict]] = []
        events: list[dict] = []
        olds = {
            r["id"]: dict(r)
            for r in s.execute(select(m.customers).where(C.id.in_([t for t, _ in updates]))).mappings()
        }
        for target, values in updates:
            old = olds[target]
            if "tags" in values:
                values["tags"] = domain.normalise_tags(values["tags"])
            if "birthday" in values:
                values["birthday"] = as_date(values["birthday"])
            new = {**old, **values}
            changes = changes_between(customer_public(old), customer_public(new))
            if not changes:
                continue  # counted as updated (the row matched), nothing to write
            new.update(derived_columns(new, new["code"]), updated_at=now)
            if "red_listed" in changes:
                new.update(domain_red_list_columns(new["red_listed"], None, now, job["actor"]))
            s.execute(
                update(m.customers)
                .where(C.id == target)
                .values(
                    **{f: new[f] for f in CUSTOMER_FIELDS + DERIVED_FIELDS + RED_LIST_FIELDS}, updated_at=now
                )
            )
            olds[target] = new
            audits.append((target, changes))
            events.append(updated_payload(new, changes, imported=True))
        uow.audit_many("customer", "import_update", audits)
        uow.publish_many(ev.CUSTOMER_UPDATED, events)
    return len(creates), len(updates)


def complete_job(db, job_id: int) -> None:
    with db.transaction() as uow:
        s = uow.session
        s.execute(
            update(m.import_jobs)
            .where(J.id == job_id)
            .values(
                status="done",
                finished_at=utcnow(),
                rows_processed=J.rows_received,
                lease_until=None,
                message=None,
            )
        )
        s.execute(delete(m.import_rows).where(R.job_id == job_id))
        job = s.execute(select(m.import_jobs).where(J.id == job_id)).mappings().one()
        uow.audit(
            "import",
            job_id,
            "finish",
            {
                "status": ["importing", "done"],
                "created": [0, job["created"]],
                "updated": [0, job["updated"]],
                "error_count": [0, job["error_count"]],
            },
        )


def _release(db, job_id: int, message: str) -> None:
    try:
        with db.transaction() as uow:
            uow.session.execute(
                update(m.import_jobs).where(J.id == job_id).values(lease_until=None, message=message[:2000])
            )
    except Exception:  # pragma: no cover - the database itself is gone; the lease runs out
        log.exception("could not release import %s", job_id)


def expire_idle_imports(db) -> int:
    """Jobs that stopped receiving batches (the client went away) are failed and their
    staged rows dropped."""
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        ids = list(s.execute(select(J.id).where(J.status == "receiving", J.lease_until < now)).scalars())
        if ids:
            s.execute(
                update(m.import_jobs)
                .where(J.id.in_(ids))
                .values(
                    status="failed",
                    finished_at=now,
                    lease_until=None,
                    message="no rows received for too long; the import was dropped",
                )
            )
            s.execute(delete(m.import_rows).where(R.job_id.in_(ids)))
    return len(ids)
