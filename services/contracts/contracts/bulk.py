"""Data management of contracts at scale: co-termination, bulk price updates (applied at once by
an admin, or as one batch of amendments under ONE approval), and restructuring (move lines
between contracts of a customer, split a contract, merge contracts).

Every operation is one transaction (all or nothing) and set-based: contracts and lines are read
and changed per chunk of :data:`CHUNK` ids (``UPDATE … WHERE id IN (…)``, multi-row inserts,
``UPDATE … FROM (VALUES …)`` on PostgreSQL), versions and events are written in bulk through
:func:`contracts.usecases.record_versions` and :func:`~contracts.usecases.publish_contract_events`;
no per-contract query loop and no RPC, so 10,000 contracts take seconds. Each reports what it
changed and what it skipped, and why.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, load_or_raise
from crm_common.money import fmt_amount
from crm_common.paging import parse_id
from crm_common.text import fold
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import (
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from . import domain, usecases
from . import events as ev
from . import models as m
from .schemas import Percent, id_field, text

log = logging.getLogger(__name__)

C = m.contracts.c
L = m.contract_lines.c
A = m.amendments.c
B = m.amendment_batches.c
CHUNK = 1000
MAX_CONTRACTS = 50_000
MAX_CHANGES = 1000  # entries of "changes" / "contracts" a result lists in full
PENDING_AMENDMENT = domain.PENDING
PRICE_SOURCE = "price_update"

# -- input ----------------------------------------------------------------------------------


class CoTerminateSchema(Schema):
    contract_ids = fields.List(id_field(), required=True, validate=validate.Length(min=1, max=MAX_CONTRACTS))
    end_date = fields.Date(required=True)
    reason = text(2000, load_default=None, allow_none=True)
    effective_date = fields.Date(load_default=None, allow_none=True)


class PriceUpdateSchema(Schema):
    percent = Percent("-100", "1000", required=True)
    product_ids = fields.List(
        id_field(), load_default=None, allow_none=True, validate=validate.Length(1, 10_000)
    )
    category = text(1000, load_default=None, allow_none=True)
    effective_date = fields.Date(required=True)
    direct = fields.Boolean(load_default=False)
    reason = text(2000, load_default=None, allow_none=True)

    @validates_schema
    def _what(self, data, **kwargs):
        if not data.get("product_ids") and not data.get("category"):
            raise ValidationError({"product_ids": ["give product_ids or category (or both)"]})
        if data.get("percent") is not None and data["percent"] <= -100:
            raise ValidationError({"percent": ["must be greater than -100"]})
        if data.get("percent") == 0:
            raise ValidationError({"percent": ["must not be 0"]})


class MoveLinesSchema(Schema):
    action = fields.String(required=True, validate=validate.Equal("move_lines"))
    line_ids = fields.List(id_field(), required=True, validate=validate.Length(min=1, max=10_000))
    to_contract_id = id_field(required=True)
    reason = text(2000, load_default=None, allow_none=True)
    effective_date = fields.Date(load_default=None, allow_none=True)


class SplitSchema(Schema):
    action = fields.String(required=True, validate=validate.Equal("split"))
    contract_id = id_field(required=True)
    line_ids = fields.List(id_field(), required=True, validate=validate.Length(min=1, max=10_000))
    title = text(300, load_default=None, allow_none=True)
    reason = text(2000, load_default=None, allow_none=True)
    effective_date = fields.Date(load_default=None, allow_none=True)


class MergeSchema(Schema):
    action = fields.String(required=True, validate=validate.Equal("merge"))
    contract_ids = fields.List(id_field(), required=True, validate=validate.Length(min=1, max=1000))
    into_contract_id = id_field(required=True)
    reason = text(2000, load_default=None, allow_none=True)
    effective_date = fields.Date(load_default=None, allow_none=True)


co_terminate_in = CoTerminateSchema()
price_update_in = PriceUpdateSchema()
RESTRUCTURE_IN = {"move_lines": MoveLinesSchema(), "split": SplitSchema(), "merge": MergeSchema()}


# -- helpers ----------------------------------------------------------------------------------


def chunked(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    return usecases.chunks(items, size)


def category_key(path: str) -> str:
    """The folded form of a category path as ``contract_lines.category_key`` holds it
    (``"Devices / Printers"`` → ``"devices/printers"``)."""
    parts = [p.strip() for p in path.replace("\\", "/").split("/")]
    if not path.strip() or any(not p for p in parts):
        raise ValidationFailed.field("category", "a category path such as 'Devices/Printers'")
    return "/".join(fold(p) for p in parts)


def in_category(key: str):
    """Lines whose category is ``key`` or one of its sub-categories."""
    return or_(L.category_key == key, L.category_key.startswith(key + "/", autoescape=True))


def dedupe(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(ids))


def contracts_by_id(s: Session, ids: Sequence[int], for_update: bool = False) -> dict[int, dict]:
    """The contracts rows of ``ids`` (chunked; locked on PostgreSQL when ``for_update``)."""
    out: dict[int, dict] = {}
    for chunk in chunked(sorted(set(ids))):
        query = select(m.contracts).where(C.id.in_(chunk))
        if for_update:
            query = query.with_for_update()
        out.update({r["id"]: dict(r) for r in s.execute(query).mappings()})
    return out


def pending_amendment_ids(s: Session, contract_ids: Sequence[int]) -> set[int]:
    """Contracts among ``contract_ids`` with an amendment awaiting approval."""
    found: set[int] = set()
    for chunk in chunked(sorted(set(contract_ids))):
        found.update(
            s.execute(
                select(A.contract_id)
                .where(A.contract_id.in_(chunk), A.status == PENDING_AMENDMENT)
                .distinct()
            ).scalars()
        )
    return found


def update_rows(s: Session, table: Table, key: str, rows: list[dict]) -> None:
    """Set per-row values: ``rows`` = [{key: id, column: value, ...}] (the same columns in every
    row). PostgreSQL: ``UPDATE … FROM unnest(<one array per column>)`` per chunk of 5000 rows
    (one statement, compiled once); SQLite: one executemany (the driver runs it in process,
    without round trips)."""
    if not rows:
        return
    names = [n for n in rows[0] if n != key]
    if s.get_bind().dialect.name == "postgresql":
        dialect = s.get_bind().dialect
        cols = [key, *names]
        arrays = ", ".join(f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in cols)
        sets = ", ".join(f"{n} = v.{n}" for n in names)
        sql = sql_text(
            f"UPDATE {table.name} AS t SET {sets} FROM unnest({arrays}) AS v({', '.join(cols)}) "
            f"WHERE t.{key} = v.{key}"
        )
        for chunk in chunked(rows, 5000):
            s.execute(sql, {c: [r[c] for r in chunk] for c in cols})
        return
    stmt = (
        update(table)
        .where(table.c[key] == bindparam("b_" + key))
        .values({n: bindparam("b_" + n) for n in names})
        .execution_options(synchronize_session=False)
    )
    s.connection().execute(stmt, [{"b_" + k: v for k, v in r.items()} for r in rows])


def money(value: Decimal | None, currency: str) -> str | None:
    return fmt_amount(value, currency)


def ended_by(effective: dt.date | None) -> dt.date:
    return effective or usecases.today()


# -- co-termination ---------------------------------------------------------------------------


def co_terminate(db, caller: CallerContext, data: Any) -> dict:
    """Every line (and the contract itself) of each listed contract ends on ``end_date``,
    shortened or extended; billing prorates the partial period by days (it reads the new end
    from ``contract_amended``). Only contracts in force that the caller may change; the others
    are reported in ``skipped`` with the reason, and change nothing. An admin's applies at once
    (``status: applied``); anyone else's is one batch under ONE approval (``status:
    pending_approval``, ``batch_id``; :mod:`contracts.change_batches`)."""
    from . import change_batches

    access = domain.write_access(caller)
    v = load_or_raise(co_terminate_in, data)
    end: dt.date = v["end_date"]
    effective = ended_by(v["effective_date"])
    params = {**v, "effective_date": effective, "reason": v["reason"]}
    ids = dedupe(v["contract_ids"])
    with db.transaction() as uow:
        s = uow.session
        rows = contracts_by_id(s, ids, for_update=True)
        changed, skipped = plan_co_terminate(s, access, ids, rows, end)
        if changed and not change_batches.direct(caller):
            pending = pending_amendment_ids(s, changed)
            skipped.extend({"contract_id": c, "number": rows[c]["number"],
                            "reason": "another change order is pending approval"} for c in changed if c in pending)  # fmt: skip
            changed = [c for c in changed if c not in pending]
            if changed:
                text = (f"Co-terminate {len(changed)} contract(s) on {end.isoformat()}"
                        + (f": {v['reason']}" if v["reason"] else ""))  # fmt: skip
                batch_id = change_batches.submit(
                    uow, caller, access, "co_terminate", params, rows,
                    {c: {"impact": f"End date {rows[c]['end_date'].isoformat()} → {end.isoformat()}",
                         "changes": {"end_date": end.isoformat()},
                         "detail": {"from": rows[c]["end_date"].isoformat(), "to": end.isoformat()}}
                     for c in changed},
                    text, {"contracts": len(changed), "skipped": skipped[:MAX_CHANGES], "skipped_count": len(skipped)},
                )  # fmt: skip
                return {"status": "pending_approval", "batch_id": batch_id, "changed": 0, "end_date": end.isoformat(),
                        "skipped": skipped, "contracts": co_terminate_report(rows, changed, end)}  # fmt: skip
        write_co_terminate(uow, rows, changed, end, effective, v["reason"])
    return {"status": "applied", "changed": len(changed), "end_date": end.isoformat(), "skipped": skipped,
            "contracts": co_terminate_report(rows, changed, end)}  # fmt: skip


def apply_co_terminate(uow, access: domain.Access, params: dict, ids: Sequence[int]) -> dict:
    """An approved co-termination batch: the contracts ``ids`` as they are now (those no longer
    fit are in ``skipped``, with the reason)."""
    end = dt.date.fromisoformat(params["end_date"])
    effective = dt.date.fromisoformat(params["effective_date"])
    rows = contracts_by_id(uow.session, ids, for_update=True)
    changed, skipped = plan_co_terminate(uow.session, access, list(ids), rows, end)
    write_co_terminate(uow, rows, changed, end, effective, params.get("reason"))
    return {"changed": len(changed), "skipped": skipped}


def co_terminate_report(rows: dict[int, dict], changed: Sequence[int], end: dt.date) -> list[dict]:
    return [
        {"contract_id": cid, "number": rows[cid]["number"], "from": rows[cid]["end_date"].isoformat(), "to": end.isoformat()}
        for cid in changed
    ]  # fmt: skip


def plan_co_terminate(
    s: Session, access: domain.Access, ids: Sequence[int], rows: dict[int, dict], end: dt.date
) -> tuple[list[int], list[dict]]:
    """Which of ``ids`` a co-termination on ``end`` changes, and which it skips (why)."""
    skipped: list[dict] = []
    candidates: list[int] = []
    for cid in ids:
        row = rows.get(cid)
        if row is None or not access.allows(row["owner_id"], row["customer_id"]):
            skipped.append({"contract_id": cid, "reason": "not found"})
        elif row["status"] not in domain.IN_FORCE:
            skipped.append(
                {"contract_id": cid, "number": row["number"], "reason": f"not in force ({row['status']})"}
            )
        elif row["amounts_locked"]:
            skipped.append({"contract_id": cid, "number": row["number"], "reason": "amounts are locked"})
        elif row["start_date"] > end:
            skipped.append(
                {"contract_id": cid, "number": row["number"],
                 "reason": f"starts on {row['start_date'].isoformat()}, after {end.isoformat()}"}
            )  # fmt: skip
        elif domain.term_problems(row["start_date"], end):
            problem = domain.term_problems(row["start_date"], end)["end_date"][0]
            skipped.append({"contract_id": cid, "number": row["number"], "reason": f"end_date {problem}"})
        else:
            candidates.append(cid)
    lines = line_dates(s, candidates, end)
    changed: list[int] = []
    for cid in candidates:
        row = rows[cid]
        last_start, other_ends = lines.get(cid, (None, 0))
        if last_start is not None and last_start > end:
            skipped.append(
                {"contract_id": cid, "number": row["number"],
                 "reason": f"a line starts on {last_start.isoformat()}, after {end.isoformat()}"}
            )  # fmt: skip
        elif row["end_date"] == end and not other_ends:
            skipped.append({"contract_id": cid, "number": row["number"], "reason": f"already ends on {end}"})
        else:
            changed.append(cid)
    return changed, skipped


def write_co_terminate(
    uow, rows: dict[int, dict], changed: Sequence[int], end: dt.date, effective: dt.date, reason: str | None
) -> None:
    s = uow.session
    now = utcnow()
    reason = reason or f"Co-terminated on {end.isoformat()}"
    for chunk in chunked(list(changed)):
        s.execute(update(m.contracts).where(C.id.in_(chunk)).values(end_date=end, updated_at=now))
        s.execute(
            update(m.contract_lines).where(L.contract_id.in_(chunk)).values(end_date=end, updated_at=now)
        )
    if not changed:
        return
    usecases.record_versions(
        uow,
        list(changed),
        "co_terminate",
        reason,
        effective,
        publish=ev.CONTRACT_AMENDED,
        extra={"change": "co_terminate", "effective_date": effective.isoformat(), "reason": reason},
        per_contract={cid: {"previous_end_date": rows[cid]["end_date"].isoformat()} for cid in changed},
    )
    uow.audit_many(
        "contract",
        "co_terminate",
        [(cid, {"end_date": [rows[cid]["end_date"].isoformat(), end.isoformat()]}) for cid in changed],
    )


def line_dates(
    s: Session, contract_ids: Sequence[int], end: dt.date
) -> dict[int, tuple[dt.date | None, int]]:
    """Per contract: the latest own start date of its lines, and how many lines have an own end
    date other than ``end``."""
    out: dict[int, tuple[dt.date | None, int]] = {}
    other_end = case((and_(L.end_date.is_not(None), L.end_date != end), 1), else_=0)
    for chunk in chunked(contract_ids):
        query = (
            select(
                L.contract_id, func.max(L.start_date).label("last_start"), func.sum(other_end).label("others")
            )
            .where(L.contract_id.in_(chunk))
            .group_by(L.contract_id)
        )
        for r in s.execute(query):
            out[r.contract_id] = (r.last_start, int(r.others or 0))
    return out


# -- bulk price update -----------------------------------------------------------------------


class PricePlan:
    """Which lines a price update changes, contract by contract, and which contracts it skips."""

    def __init__(self, percent: Decimal) -> None:
        self.percent = percent
        self.contracts: dict[int, dict] = {}  # id → {"number", "currency", "total", "version"}
        self.lines: dict[int, list[dict]] = defaultdict(list)  # contract id → [line change]
        self.skipped: list[dict] = []

    @property
    def line_count(self) -> int:
        return sum(len(v) for v in self.lines.values())

    def new_totals(self) -> dict[int, Decimal]:
        """Each planned contract's total after the change (exact)."""
        delta: dict[int, Decimal] = defaultdict(Decimal)
        for cid, changes in self.lines.items():
            for ch in changes:
                delta[cid] += ch["new_amount"] - ch["old_amount"]
        return {cid: self.contracts[cid]["total"] + delta[cid] for cid in self.lines}

    def changes(self) -> tuple[list[dict], bool]:
        out: list[dict] = []
        for cid, changes in self.lines.items():
            if len(out) >= MAX_CHANGES:
                return out, True
            cur = self.contracts[cid]["currency"]
            out.append(
                {
                    "contract_id": cid,
                    "number": self.contracts[cid]["number"],
                    "lines": [
                        {
                            "line_id": ch["id"],
                            "from": money(ch["old_price"], cur),
                            "to": money(ch["new_price"], cur),
                        }
                        for ch in changes
                    ],
                }
            )
        return out, False


def plan_price_update(
    s: Session, percent: Decimal, product_ids: Sequence[int] | None, category: str | None, effective: dt.date
) -> PricePlan:
    """Lines of contracts in force (still running on ``effective``) whose product is one of
    ``product_ids`` and lies in ``category`` (each filter when given), with their new prices.
    Contracts with locked amounts or another amendment pending are skipped."""
    plan = PricePlan(percent)
    conditions = [C.status.in_(domain.IN_FORCE), func.coalesce(L.end_date, C.end_date) >= effective]
    if category:
        conditions.append(in_category(category_key(category)))
    product_chunks: list[Sequence[int] | None] = (
        list(chunked(sorted(set(product_ids)))) if product_ids else [None]
    )
    rows: list[Any] = []
    for chunk in product_chunks:
        query = (
            select(
                L.id,
                L.contract_id,
                L.quantity,
                L.unit_price,
                L.discount_percent,
                L.amount,
                C.number,
                C.currency,
                C.total,
                C.version,
                C.amounts_locked,
            )  # fmt: skip
            .join(m.contracts, C.id == L.contract_id)
            .where(*conditions, *([L.product_id.in_(chunk)] if chunk is not None else []))
            .order_by(L.contract_id, L.position, L.id)
        )
        rows.extend(s.execute(query).all())
    if product_ids and len(product_chunks) > 1:
        rows.sort(key=lambda r: (r.contract_id, r.id))
    pending = pending_amendment_ids(s, dedupe(r.contract_id for r in rows))
    skipped: set[int] = set()
    for r in rows:
        cid = r.contract_id
        if cid in skipped:
            continue
        if cid not in plan.contracts:
            reason = None
            if r.amounts_locked:
                reason = "amounts are locked"
            elif cid in pending:
                reason = "another amendment is pending approval"
            if reason:
                skipped.add(cid)
                plan.skipped.append({"contract_id": cid, "number": r.number, "reason": reason})
                continue
            plan.contracts[cid] = {
                "number": r.number,
                "currency": r.currency,
                "total": r.total,
                "version": r.version,
            }
        new_price = domain.apply_percent(r.unit_price, percent, r.currency)
        if new_price == r.unit_price:
            continue  # a zero price stays zero
        plan.lines[cid].append(
            {
                "id": r.id,
                "old_price": r.unit_price,
                "new_price": new_price,
                "old_amount": r.amount,
                "new_amount": domain.line_amount(r.quantity, new_price, r.discount_percent),
            }
        )
    for cid in [c for c in plan.contracts if c not in plan.lines]:
        del plan.contracts[cid]
    return plan


def lock_contracts(s: Session, ids: Sequence[int]) -> None:
    """Take the row locks of ``ids`` (PostgreSQL; SQLite's write transaction already excludes
    every other writer)."""
    if s.get_bind().dialect.name != "postgresql":
        return
    for chunk in chunked(sorted(ids)):
        s.execute(select(C.id).where(C.id.in_(chunk)).with_for_update()).all()


def write_prices(s: Session, plan: PricePlan, now: dt.datetime) -> None:
    rows = [
        {"id": ch["id"], "unit_price": ch["new_price"], "amount": ch["new_amount"], "price_source": PRICE_SOURCE,
         "updated_at": now}
        for changes in plan.lines.values()
        for ch in changes
    ]  # fmt: skip
    update_rows(s, m.contract_lines, "id", rows)
    recompute_totals(s, list(plan.lines), now)


def recompute_totals(s: Session, contract_ids: Sequence[int], now: dt.datetime) -> dict[int, Decimal]:
    """contracts.total = the exact sum of their lines' amounts, for many contracts: one SELECT
    per chunk and one multi-row UPDATE."""
    totals: dict[int, Decimal] = dict.fromkeys(contract_ids, Decimal(0))
    for chunk in chunked(list(contract_ids)):
        for r in s.execute(select(L.contract_id, L.amount).where(L.contract_id.in_(chunk))):
            totals[r.contract_id] += r.amount
    update_rows(
        s,
        m.contracts,
        "id",
        [{"id": cid, "total": total, "updated_at": now} for cid, total in totals.items()],
    )
    return totals


def price_result(status: str, plan: PricePlan, batch_id: int | None = None) -> dict:
    changes, truncated = plan.changes()
    out: dict[str, Any] = {
        "status": status,
        "percent": format(plan.percent, "f"),
        "contracts_changed": len(plan.lines),
        "lines_changed": plan.line_count,
        "skipped": plan.skipped,
        "changes": changes,
        "changes_truncated": truncated,
    }
    if batch_id is not None:
        out["batch_id"] = batch_id
    return out


def bulk_price_update(db, caller: CallerContext, data: Any) -> dict:
    """Raise (or lower) by ``percent`` the unit price of the lines of every contract in force
    for ``product_ids`` and/or ``category`` from ``effective_date``. ``direct`` (admins only):
    applied at once, a new version per contract. Otherwise one batch of amendments (one per
    contract) awaiting ONE approval (``price_update_submitted``); see :func:`apply_price_batch`."""
    caller = domain.require(caller, domain.BULK_ROLES, "update contract prices in bulk")
    v = load_or_raise(price_update_in, data)
    if v["direct"] and not (caller.is_system or caller.has_any(("admin",))):
        raise PermissionDenied(
            "Only an admin may apply a price update directly; without 'direct' it goes to approval",
            {"required_roles": ["admin"], "roles": list(caller.roles)},
        )
    percent: Decimal = v["percent"]
    effective: dt.date = v["effective_date"]
    sign = "+" if percent > 0 else ""
    reason = v["reason"] or f"Price update {sign}{format(percent, 'f')}% from {effective.isoformat()}"
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        plan = plan_price_update(s, percent, v["product_ids"], v["category"], effective)
        if not plan.lines:
            return price_result("unchanged", plan)
        lock_contracts(s, list(plan.lines))
        if v["direct"]:
            write_prices(s, plan, now)
            ids = list(plan.lines)
            usecases.record_versions(
                uow,
                ids,
                "price_update",
                reason,
                effective,
                publish=ev.CONTRACT_AMENDED,
                extra={"change": "price_update", "effective_date": effective.isoformat(),
                       "percent": format(percent, "f"), "reason": reason},
            )  # fmt: skip
            uow.audit_many("contract", "price_update", audit_entries(plan))
            return price_result("applied", plan)
        batch_id = submit_price_batch(uow, caller, plan, v, reason, now)
        return price_result("pending_approval", plan, batch_id)


def audit_entries(plan: PricePlan) -> list[tuple[int, dict]]:
    out = []
    for cid, changes in plan.lines.items():
        cur = plan.contracts[cid]["currency"]
        out.append(
            (cid, {f"lines.{ch['id']}.unit_price": [money(ch["old_price"], cur), money(ch["new_price"], cur)]
                   for ch in changes})
        )  # fmt: skip
    return out


def next_amendment_numbers(s: Session, contracts: dict[int, str]) -> dict[int, str]:
    """The next amendment number of each contract (``contracts``: id → contract number), from
    the counters ``amendment:<id>`` — one UPDATE and one multi-row INSERT per chunk."""
    out: dict[int, str] = {}
    ids = sorted(contracts)
    counters = m.counters.c
    for chunk in chunked(ids):
        names = {f"amendment:{cid}": cid for cid in chunk}
        query = select(counters.name, counters.value).where(counters.name.in_(list(names)))
        if s.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        current = {r.name: r.value for r in s.execute(query)}
        if current:
            s.execute(
                update(m.counters).where(counters.name.in_(list(current))).values(value=counters.value + 1)
            )
        fresh = [n for n in names if n not in current]
        if fresh:
            s.execute(insert(m.counters), [{"name": n, "value": 1} for n in fresh])
        for name, cid in names.items():
            out[cid] = domain.amendment_number(contracts[cid], current.get(name, 0) + 1)
    return out


def submit_price_batch(
    uow, caller: CallerContext, plan: PricePlan, v: dict, reason: str, now: dt.datetime
) -> int:
    s = uow.session
    percent = format(plan.percent, "f")
    params = {
        "percent": percent,
        "product_ids": v["product_ids"],
        "category": v["category"],
        "effective_date": v["effective_date"].isoformat(),
        "reason": reason,
    }
    totals = plan.new_totals()
    summary = {
        "contracts": len(plan.lines),
        "lines": plan.line_count,
        "skipped": plan.skipped[:MAX_CHANGES],
        "skipped_count": len(plan.skipped),
    }
    batch_id = s.execute(
        insert(m.amendment_batches)
        .values(kind="price_update", status=domain.PENDING, params=params, summary=summary, created_at=now,
                created_by=caller.actor, created_by_id=caller.user_id)
        .returning(B.id)
    ).scalar_one()  # fmt: skip
    numbers = next_amendment_numbers(s, {cid: plan.contracts[cid]["number"] for cid in plan.lines})
    rows = []
    for cid, changes in plan.lines.items():
        info = plan.contracts[cid]
        cur = info["currency"]
        rows.append(
            {
                "contract_id": cid,
                "number": numbers[cid],
                "status": domain.PENDING,
                "reason": reason,
                "impact": f"Unit prices of {len(changes)} line(s) {'+' if plan.percent > 0 else ''}{percent}%: "
                f"total {money(info['total'], cur)} → {money(totals[cid], cur)} {cur}",
                "effective_date": v["effective_date"],
                "changes": {
                    "changes": {},
                    "add_lines": [],
                    "remove_line_ids": [],
                    "change_lines": [
                        {"id": ch["id"], "unit_price": format(ch["new_price"], "f")} for ch in changes
                    ],
                    "price_update": {
                        "batch_id": batch_id,
                        "percent": percent,
                        "lines": [
                            {
                                "line_id": ch["id"],
                                "from": format(ch["old_price"], "f"),
                                "to": format(ch["new_price"], "f"),
                            }
                            for ch in changes
                        ],
                    },
                },
                "amount_before": info["total"],
                "amount_after": totals[cid],
                "batch_id": batch_id,
                "from_version": info["version"],
                "created_at": now,
                "created_by": caller.actor,
                "created_by_id": caller.user_id,
            }
        )
    for chunk in chunked(rows):
        s.execute(insert(m.amendments), list(chunk))
    n = len(plan.lines)
    scope = ", ".join(
        part
        for part in (
            f"category {v['category']}" if v["category"] else "",
            f"{len(v['product_ids'])} product(s)" if v["product_ids"] else "",
        )
        if part
    )
    uow.publish(
        ev.PRICE_UPDATE_SUBMITTED,
        {
            "document_id": batch_id,
            "document_type": ev.DOC_PRICE_UPDATE,
            "submitter_id": caller.user_id,
            "department": caller.department,
            "summary": f"Price update {'+' if plan.percent > 0 else ''}{percent}% ({scope}) from "
            f"{v['effective_date'].isoformat()}: {n} contract(s), {plan.line_count} line(s)",
            "contracts": n,
            "lines": plan.line_count,
            "percent": percent,
            "effective_date": v["effective_date"].isoformat(),
        },
    )
    uow.audit("amendment_batch", batch_id, "submit", {"status": [None, domain.PENDING], "contracts": [0, n]})
    return batch_id


def apply_price_batch(
    db, batch_id: Any, approved: bool, comment: str | None = None, approval_id: str | None = None
) -> dict:
    """The approvals service decided a price-update batch (called by the handler of
    ``approval_approved`` / ``approval_rejected`` for document type ``price_update``).
    Approved: every amendment of the batch is applied (a new version per contract); contracts
    that meanwhile left force or got their amounts locked are skipped (their amendment
    ``failed``, with the reason) and named in the batch's summary. Rejected: the batch and its amendments are ``rejected``. Deciding a decided batch
    again changes nothing (at-least-once delivery)."""
    batch_id = parse_id(batch_id, "batch_id")
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        query = select(m.amendment_batches).where(B.id == batch_id)
        if s.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        batch = s.execute(query).mappings().first()
        if batch is None:
            log.warning("decision on unknown price update batch %s ignored", batch_id)
            return {"id": batch_id, "batch_id": batch_id, "status": "unknown"}
        batch = dict(batch)
        if approval_id is not None:
            s.execute(update(m.amendment_batches).where(B.id == batch_id).values(approval_id=approval_id))
            batch["approval_id"] = approval_id
        if batch["status"] != domain.PENDING:
            return batch_out(s, batch)
        pending = [
            dict(r)
            for r in s.execute(
                select(A.id, A.contract_id, A.number, A.changes, A.amount_before)
                .where(A.batch_id == batch_id, A.status == domain.PENDING)
                .order_by(A.contract_id)
            ).mappings()
        ]
        if not approved:
            s.execute(
                update(m.amendments)
                .where(A.batch_id == batch_id, A.status == domain.PENDING)
                .values(status="rejected", decided_at=now, comment=comment, approval_id=batch["approval_id"])
            )
            summary = {**batch["summary"], "rejected": len(pending)}
            s.execute(
                update(m.amendment_batches)
                .where(B.id == batch_id)
                .values(status="rejected", decided_at=now, comment=comment, summary=summary)
            )
            uow.audit("amendment_batch", batch_id, "reject", {"status": [domain.PENDING, "rejected"]})
            batch.update(status="rejected", decided_at=now, comment=comment, summary=summary)
            return batch_out(s, batch)
        percent = Decimal(batch["params"]["percent"])
        effective = dt.date.fromisoformat(batch["params"]["effective_date"])
        contracts = contracts_by_id(s, [a["contract_id"] for a in pending], for_update=True)
        plan = PricePlan(percent)
        skipped_amendments: list[dict] = []
        wanted: dict[int, int] = {}  # line id → contract id
        by_contract: dict[int, dict] = {}
        for a in pending:
            row = contracts.get(a["contract_id"])
            reason = None
            if row is None or row["status"] not in domain.IN_FORCE:
                reason = f"no longer in force ({row['status'] if row else 'gone'})"
            elif row["amounts_locked"]:
                reason = "amounts are locked"
            if reason or row is None:
                skipped_amendments.append({"amendment_id": a["id"], "contract_id": a["contract_id"],
                                           "number": row["number"] if row else None, "reason": reason})  # fmt: skip
                continue
            by_contract[a["contract_id"]] = a
            plan.contracts[a["contract_id"]] = {"number": row["number"], "currency": row["currency"],
                                                "total": row["total"], "version": row["version"]}  # fmt: skip
            for ch in a["changes"].get("change_lines", []):
                wanted[int(ch["id"])] = a["contract_id"]
        for chunk in chunked(sorted(wanted)):
            for r in s.execute(
                select(L.id, L.contract_id, L.quantity, L.unit_price, L.discount_percent, L.amount)
                .where(L.id.in_(chunk))
                .order_by(L.id)
            ):
                if wanted[r.id] != r.contract_id:
                    continue  # the line moved to another contract meanwhile
                cur = plan.contracts[r.contract_id]["currency"]
                new_price = domain.apply_percent(r.unit_price, percent, cur)
                if new_price == r.unit_price:
                    continue
                plan.lines[r.contract_id].append(
                    {"id": r.id, "old_price": r.unit_price, "new_price": new_price, "old_amount": r.amount,
                     "new_amount": domain.line_amount(r.quantity, new_price, r.discount_percent)}
                )  # fmt: skip
        applied_ids = [cid for cid in by_contract if cid in plan.lines]
        unchanged = [cid for cid in by_contract if cid not in plan.lines]
        for cid in unchanged:
            skipped_amendments.append({"amendment_id": by_contract[cid]["id"], "contract_id": cid,
                                       "number": plan.contracts[cid]["number"], "reason": "no line left to change"})  # fmt: skip
        write_prices(s, plan, now)
        versions: dict[int, int] = {}
        if applied_ids:
            versions = usecases.record_versions(
                uow,
                applied_ids,
                "price_update",
                batch["params"].get("reason"),
                effective,
                amendment_ids={cid: by_contract[cid]["id"] for cid in applied_ids},
                publish=ev.CONTRACT_AMENDED,
                extra={"change": "price_update", "effective_date": effective.isoformat(), "percent": format(percent, "f"),
                       "batch_id": batch_id, "reason": batch["params"].get("reason")},
                per_contract={cid: {"amendment_id": by_contract[cid]["id"], "amendment_number": by_contract[cid]["number"]}
                              for cid in applied_ids},
            )  # fmt: skip
        totals = {
            r.id: r.total
            for chunk in chunked(applied_ids)
            for r in s.execute(select(C.id, C.total).where(C.id.in_(chunk)))
        }
        update_rows(
            s,
            m.amendments,
            "id",
            [
                {"id": by_contract[cid]["id"], "status": "applied", "to_version": versions.get(cid),
                 "amount_after": totals[cid], "decided_at": now, "comment": comment,
                 "approval_id": batch["approval_id"]}
                for cid in applied_ids
            ],
        )  # fmt: skip
        update_rows(  # as a single approved amendment whose contract left force: "failed", why
            s,
            m.amendments,
            "id",
            [
                {"id": x["amendment_id"], "status": "failed", "decided_at": now,
                 "comment": f"not applied: {x['reason']}"}
                for x in skipped_amendments
            ],
        )  # fmt: skip
        if applied_ids:
            uow.audit_many("contract", "price_update", audit_entries(plan))
        summary = {
            **batch["summary"],
            "applied_contracts": len(applied_ids),
            "applied_lines": plan.line_count,
            "skipped_on_apply": skipped_amendments[:MAX_CHANGES],
            "skipped_on_apply_count": len(skipped_amendments),
        }
        s.execute(
            update(m.amendment_batches)
            .where(B.id == batch_id)
            .values(status="applied", decided_at=now, comment=comment, summary=summary)
        )
        uow.audit("amendment_batch", batch_id, "apply", {"status": [domain.PENDING, "applied"]})
        batch.update(status="applied", decided_at=now, comment=comment, summary=summary)
        return batch_out(s, batch)


def batch_out(s: Session, batch: dict) -> dict:
    counts = {
        r.status: r.n
        for r in s.execute(
            select(A.status, func.count().label("n")).where(A.batch_id == batch["id"]).group_by(A.status)
        )
    }
    rows = s.execute(
        select(A.id, A.number, A.contract_id, A.status, A.amount_before, A.amount_after, A.to_version, C.number.label("contract_number"), C.currency)
        .join(m.contracts, C.id == A.contract_id)
        .where(A.batch_id == batch["id"])
        .order_by(A.contract_id)
        .limit(MAX_CHANGES)
    ).all()  # fmt: skip
    return {
        "id": batch["id"],
        "batch_id": batch["id"],
        "kind": batch["kind"],
        "status": batch["status"],
        "params": batch["params"],
        "summary": batch["summary"],
        "comment": batch["comment"],
        "approval_id": batch["approval_id"],
        "created_at": batch["created_at"].isoformat() if batch["created_at"] else None,
        "created_by": batch["created_by"],
        "decided_at": batch["decided_at"].isoformat() if batch["decided_at"] else None,
        "amendments_by_status": counts,
        "amendments": [
            {
                "id": r.id,
                "number": r.number,
                "contract_id": r.contract_id,
                "contract_number": r.contract_number,
                "status": r.status,
                "amount_before": money(r.amount_before, r.currency),
                "amount_after": money(r.amount_after, r.currency),
                "to_version": r.to_version,
            }
            for r in rows
        ],  # fmt: skip
        "amendments_truncated": sum(counts.values()) > len(rows),
    }


def get_price_batch(db, caller: CallerContext, batch_id: Any) -> dict:
    domain.require(caller, domain.BULK_ROLES, "read price update batches")
    batch_id = parse_id(batch_id, "batch_id")
    with db.read() as s:
        row = s.execute(select(m.amendment_batches).where(B.id == batch_id)).mappings().first()
        if row is None:
            raise NotFound(
                f"price update batch {batch_id} not found", {"entity": "price_update_batch", "id": batch_id}
            )
        return batch_out(s, dict(row))


# -- restructure ------------------------------------------------------------------------------

MOVABLE = (domain.DRAFT, *domain.IN_FORCE)
# columns of a contract a split copies to the new contract as they are
NOT_COPIED = (
    "id", "number", "version", "total", "amounts_locked", "amounts_locked_by", "amounts_locked_at",
    "renewal_of_id", "renewed_by_id", "rejection_comment", "status_reason", "termination_date",
    "import_job_id", "created_at", "updated_at", "created_by", "ended_at",
)  # fmt: skip


def in_force(row: dict) -> bool:
    return row["status"] in domain.IN_FORCE


def restructure(db, caller: CallerContext, data: Any) -> dict:
    """``move_lines`` {line_ids, to_contract_id}; ``split`` {contract_id, line_ids, title?} → a
    new contract carrying those lines; ``merge`` {contract_ids, into_contract_id} → their lines
    move into the target and they end. Contracts of the same customer and currency, all drafts
    or all in force (lines never slip past an approval), none locked or with an amendment
    pending; no contract that goes on is left without lines. Contracts in force get a new
    version and ``contract_amended``."""
    access = domain.write_access(caller)
    if not isinstance(data, dict):
        raise ValidationFailed("Request body must be an object", {"_schema": ["must be an object"]})
    action = data.get("action")
    if action not in RESTRUCTURE_IN:
        raise ValidationFailed.field("action", f"one of {', '.join(RESTRUCTURE_IN)}")
    v = load_or_raise(RESTRUCTURE_IN[action], data)
    v["effective_date"] = v["effective_date"] or usecases.today()
    from . import change_batches

    params = {**v, "action": action}
    if change_batches.direct(caller):
        with db.transaction() as uow:
            return run_restructure(uow, access, params, checked=v)
    try:  # every check as the operation itself makes them; kept only for drafts
        with db.transaction() as uow:
            return run_restructure(uow, access, params, checked=v, approval=True)
    except change_batches.NeedsApproval as need:
        ids = need.contract_ids
    with db.transaction() as uow:
        rows = usecases.rows_of(uow.session, ids, for_update=True)
        text = (
            f"Restructure ({action.replace('_', ' ')}) of {', '.join(rows[c]['number'] for c in ids[:20])}"
            + (f": {v['reason']}" if v.get("reason") else "")
        )
        batch_id = change_batches.submit(
            uow, caller, access, "restructure", params, rows,
            {c: {"impact": f"Restructured ({action.replace('_', ' ')}) once approved", "detail": {"action": action}}
             for c in ids},
            text, {"contracts": len(ids), "action": action},
        )  # fmt: skip
        return {"action": action, **change_batches.pending_result(batch_id, rows, ids)}


def run_restructure(
    uow, access: domain.Access, params: dict, checked: dict | None = None, approval: bool = False
) -> dict:
    """Run one restructure (``params``: the request, ``action`` included). ``approval``: when it
    touches contracts in force, raise :class:`~contracts.change_batches.NeedsApproval` naming
    them once every check passed (the transaction rolls back)."""
    action = params["action"]
    v = (
        checked
        if checked is not None
        else load_or_raise(RESTRUCTURE_IN[action], {k: x for k, x in params.items() if k != "scope_owner_id"})
    )
    effective = v["effective_date"] or usecases.today()
    if action == "move_lines":
        result = move_lines(uow, access, v, effective)
        anchor = v["to_contract_id"]
        involved = [c["id"] for c in result["contracts"]]
    elif action == "split":
        result = split_contract(uow, access, v, effective)
        anchor = v["contract_id"]
        involved = [anchor]
    else:
        result = merge_contracts(uow, access, v, effective)
        anchor = v["into_contract_id"]
        involved = [anchor, *[e["contract_id"] for e in result["ended"]]]
    if approval:
        from . import change_batches

        if usecases.rows_of(uow.session, [anchor])[anchor]["status"] in domain.IN_FORCE:
            raise change_batches.NeedsApproval(involved)
    return result


def writable_rows(s: Session, ids: Sequence[int], access: domain.Access) -> dict[int, dict]:
    """The contracts of ``ids``, locked; 404 for one missing or outside the caller's scope."""
    rows = usecases.rows_of(s, list(ids), for_update=True)
    for cid in ids:
        row = rows.get(cid)
        if row is None or not usecases.in_scope(row, access):
            raise NotFound(f"contract {cid} not found", {"entity": "contract", "id": cid})
        domain.check_can_write(access, row["owner_id"])
    return rows


def check_together(s: Session, target: dict, others: Sequence[dict], field: str) -> None:
    """Lines may move between ``others`` and ``target``: same customer and currency (422 naming
    ``field``), drafts or in force alike, none locked, none with an amendment pending (409)."""
    for row in (target, *others):
        if row["status"] not in MOVABLE:
            raise Conflict(
                f"Contract {row['number']} is {row['status']}: only drafts and contracts in force are restructured",
                {"contract_id": row["id"], "status": row["status"]},
            )
        if in_force(row) and row["amounts_locked"]:
            raise Conflict(f"The amounts of contract {row['number']} are locked", {"contract_id": row["id"]})
    for row in others:
        if row["customer_id"] != target["customer_id"]:
            raise ValidationFailed.field(
                field, f"contract {row['number']} belongs to another customer than {target['number']}"
            )
        if row["currency"] != target["currency"]:
            raise ValidationFailed.field(
                field,
                f"contract {row['number']} is in {row['currency']}, {target['number']} in {target['currency']}",
            )
        if in_force(row) != in_force(target):
            raise Conflict(
                f"Contract {row['number']} is {row['status']} and {target['number']} {target['status']}: "
                "lines move only between drafts or between contracts in force",
                {"contract_id": row["id"], "status": row["status"], "target_status": target["status"]},
            )
    pending = pending_amendment_ids(s, [r["id"] for r in (target, *others)])
    if pending:
        numbers = sorted(r["number"] for r in (target, *others) if r["id"] in pending)
        raise Conflict(
            f"Contract {numbers[0]} has an amendment pending approval", {"contract_ids": sorted(pending)}
        )


def check_line_terms(lines: Sequence[Any], target: dict, field: str) -> None:
    """Lines with their own dates must lie inside the target's term."""
    for li in lines:
        problems = domain.line_term_problems(
            li.start_date, li.end_date, target["start_date"], target["end_date"]
        )
        if problems:
            raise ValidationFailed.field(
                field,
                f"line {li.id} runs {li.start_date or '…'} – {li.end_date or '…'}, outside the term of "
                f"{target['number']} ({target['start_date']} – {target['end_date']})",
            )


def line_counts(s: Session, contract_ids: Sequence[int]) -> dict[int, int]:
    out = dict.fromkeys(contract_ids, 0)
    for chunk in chunked(list(contract_ids)):
        for r in s.execute(
            select(L.contract_id, func.count().label("n"))
            .where(L.contract_id.in_(chunk))
            .group_by(L.contract_id)
        ):
            out[r.contract_id] = r.n
    return out


def lines_by_id(s: Session, line_ids: Sequence[int]) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for chunk in chunked(sorted(set(line_ids))):
        for r in s.execute(
            select(L.id, L.contract_id, L.position, L.start_date, L.end_date).where(L.id.in_(chunk))
        ):
            out[r.id] = r
    return out


def move_to(
    s: Session, line_ids: Sequence[int], target_id: int, now: dt.datetime, first: int | None = None
) -> None:
    """Lines to the end of ``target_id`` (in the given order), keeping their ids."""
    if first is None:
        first = (s.execute(select(func.max(L.position)).where(L.contract_id == target_id)).scalar() or 0) + 1
    update_rows(
        s,
        m.contract_lines,
        "id",
        [
            {"id": lid, "contract_id": target_id, "position": first + i, "updated_at": now}
            for i, lid in enumerate(line_ids)
        ],
    )


def views(s: Session, ids: Sequence[int]) -> list[dict]:
    rows = usecases.rows_of(s, list(ids))
    lines = usecases.lines_of(s, list(ids))
    return [usecases.contract_view(s, rows[cid], lines[cid]) for cid in ids]


def move_lines(uow, access: domain.Access, v: dict, effective: dt.date) -> dict:
    s = uow.session
    now = utcnow()
    line_ids = dedupe(v["line_ids"])
    target_id = v["to_contract_id"]
    lines = lines_by_id(s, line_ids)
    missing = [i for i in line_ids if i not in lines]
    if missing:
        raise NotFound(
            f"contract line {missing[0]} not found", {"entity": "contract_line", "ids": missing[:50]}
        )
    source_ids = dedupe(lines[i].contract_id for i in line_ids)
    rows = writable_rows(s, [target_id, *[c for c in source_ids if c != target_id]], access)
    target = rows[target_id]
    if target_id in source_ids:
        on_target = [i for i in line_ids if lines[i].contract_id == target_id]
        raise ValidationFailed.field("line_ids", f"line {on_target[0]} is already on {target['number']}")
    sources = [rows[c] for c in source_ids]
    check_together(s, target, sources, "to_contract_id")
    counts = line_counts(s, source_ids)
    for row in sources:
        moving = sum(1 for i in line_ids if lines[i].contract_id == row["id"])
        if moving >= counts[row["id"]]:
            raise ValidationFailed.field(
                "line_ids", f"would leave contract {row['number']} without lines (split or merge it instead)"
            )
    check_line_terms([lines[i] for i in line_ids], target, "line_ids")
    move_to(s, line_ids, target_id, now)
    involved = [target_id, *source_ids]
    recompute_totals(s, involved, now)
    moved_from = {cid: [i for i in line_ids if lines[i].contract_id == cid] for cid in source_ids}
    per_contract: dict[int, dict] = {
        target_id: {"lines_moved_in": line_ids, "from_contract_ids": source_ids},
        **{cid: {"lines_moved_out": moved_from[cid], "to_contract_id": target_id} for cid in source_ids},
    }
    finish_restructure(uow, "move_lines", involved, rows, per_contract, v.get("reason"), effective, now)
    return {"action": "move_lines", "moved_line_ids": line_ids, "contracts": views(s, involved)}


def finish_restructure(
    uow,
    action: str,
    ids: Sequence[int],
    rows: dict[int, dict],
    per_contract: dict[int, dict],
    reason: str | None,
    effective: dt.date,
    now: dt.datetime,
) -> None:
    """Versions and ``contract_amended`` for the contracts in force among ``ids``; audit for
    all."""
    s = uow.session
    for chunk in chunked(list(ids)):
        s.execute(update(m.contracts).where(C.id.in_(chunk)).values(updated_at=now))
    live = [cid for cid in ids if in_force(rows[cid])]
    text_reason = reason or f"Restructured ({action.replace('_', ' ')})"
    if live:
        usecases.record_versions(
            uow,
            live,
            "restructure",
            text_reason,
            effective,
            publish=ev.CONTRACT_AMENDED,
            extra={"change": "restructure", "action": action, "effective_date": effective.isoformat(),
                   "reason": text_reason},
            per_contract=per_contract,
        )  # fmt: skip
    uow.audit_many(
        "contract",
        f"restructure_{action}",
        [(cid, {"restructure": [None, per_contract.get(cid)]}) for cid in ids],
    )


def split_contract(uow, access: domain.Access, v: dict, effective: dt.date) -> dict:
    s = uow.session
    now = utcnow()
    source_id = v["contract_id"]
    source = writable_rows(s, [source_id], access)[source_id]
    check_together(s, source, [], "contract_id")
    line_ids = dedupe(v["line_ids"])
    lines = lines_by_id(s, line_ids)
    foreign = [i for i in line_ids if i not in lines or lines[i].contract_id != source_id]
    if foreign:
        raise ValidationFailed.field("line_ids", f"line {foreign[0]} is not a line of {source['number']}")
    if len(line_ids) >= line_counts(s, [source_id])[source_id]:
        raise ValidationFailed.field("line_ids", f"would leave contract {source['number']} without lines")
    number = usecases.contract_numbers(s, now.year, 1)[0]
    header = {k: val for k, val in source.items() if k not in NOT_COPIED}
    header.update(
        number=number,
        title=v["title"] or source["title"],
        version=0,
        total=Decimal(0),
        amounts_locked=False,
        created_at=now,
        updated_at=now,
        created_by=uow.caller.actor,
    )
    new_id = s.execute(insert(m.contracts).values(**header).returning(C.id)).scalar_one()
    ordered = sorted(line_ids, key=lambda i: (lines[i].position, i))
    move_to(s, ordered, new_id, now, first=1)
    recompute_totals(s, [source_id, new_id], now)
    rows = {source_id: source, new_id: {**header, "id": new_id}}
    uow.audit(
        "contract", new_id, "split_from", {"number": [None, number], "split_from": [None, source["number"]]}
    )
    usecases.publish_contract_events(
        uow,
        ev.CONTRACT_CREATED,
        [new_id],
        {"split_from_id": source_id, "split_from_number": source["number"]},
    )
    per_contract = {
        source_id: {"lines_moved_out": ordered, "to_contract_id": new_id, "split_into_number": number}
    }
    finish_restructure(uow, "split", [source_id], rows, per_contract, v.get("reason"), effective, now)
    if in_force(source):
        text_reason = v.get("reason") or f"Split from {source['number']}"
        usecases.record_versions(uow, [new_id], "split", text_reason, effective)
        if source["status"] == domain.ACTIVE:
            usecases.publish_contract_events(
                uow,
                ev.CONTRACT_ACTIVATED,
                [new_id],
                {"split_from_id": source_id, "split_from_number": source["number"]},
            )
    new_view, source_view = views(s, [new_id, source_id])
    return {"action": "split", "contract": new_view, "source": source_view}


def merge_contracts(uow, access: domain.Access, v: dict, effective: dt.date) -> dict:
    s = uow.session
    now = utcnow()
    target_id = v["into_contract_id"]
    other_ids = [c for c in dedupe(v["contract_ids"]) if c != target_id]
    if not other_ids:
        raise ValidationFailed.field("contract_ids", "name at least one contract other than into_contract_id")
    rows = writable_rows(s, [target_id, *other_ids], access)
    target = rows[target_id]
    others = [rows[c] for c in other_ids]
    check_together(s, target, others, "contract_ids")
    moving = []
    for chunk in chunked(other_ids):
        moving.extend(
            s.execute(
                select(L.id, L.contract_id, L.position, L.start_date, L.end_date).where(
                    L.contract_id.in_(chunk)
                )
            ).all()
        )
    order = {cid: i for i, cid in enumerate(other_ids)}
    moving.sort(key=lambda r: (order[r.contract_id], r.position, r.id))
    check_line_terms(moving, target, "contract_ids")
    line_ids = [r.id for r in moving]
    move_to(s, line_ids, target_id, now)
    status_reason = f"merged into {target['number']}" + (f": {v['reason']}" if v.get("reason") else "")
    ended_in_force = [r["id"] for r in others if in_force(r)]
    cancelled = [r["id"] for r in others if not in_force(r)]
    for r in others:
        domain.transition(r["status"], "terminate" if in_force(r) else "cancel", r["number"])
    for chunk in chunked(ended_in_force):
        s.execute(
            update(m.contracts)
            .where(C.id.in_(chunk))
            .values(status=domain.TERMINATED, status_reason=status_reason, ended_at=now, updated_at=now,
                    termination_date=effective)
        )  # fmt: skip
    for row in (rows[c] for c in ended_in_force):  # inside each own term
        if not row["start_date"] <= effective <= row["end_date"]:
            clamp = min(max(effective, row["start_date"]), row["end_date"])
            s.execute(update(m.contracts).where(C.id == row["id"]).values(termination_date=clamp))
    for chunk in chunked(cancelled):
        s.execute(
            update(m.contracts)
            .where(C.id.in_(chunk))
            .values(status=domain.CANCELLED, status_reason=status_reason, ended_at=now, updated_at=now)
        )
    for row in (rows[c] for c in cancelled if rows[c]["renewal_of_id"] is not None):
        s.execute(
            update(m.contracts)
            .where(C.id == row["renewal_of_id"], C.renewed_by_id == row["id"])
            .values(renewed_by_id=None)
        )
    recompute_totals(s, [target_id, *other_ids], now)
    moved_from = defaultdict(list)
    for r in moving:
        moved_from[r.contract_id].append(r.id)
    per_contract = {target_id: {"lines_moved_in": line_ids, "merged_contract_ids": other_ids}}
    finish_restructure(uow, "merge", [target_id], rows, per_contract, v.get("reason"), effective, now)
    uow.audit_many(
        "contract",
        "merge",
        [(r["id"], {"status": [r["status"], domain.TERMINATED if in_force(r) else domain.CANCELLED],
                    "merged_into": [None, target["number"]]}) for r in others],
    )  # fmt: skip
    ended_extra = {
        "reason": status_reason,
        "merged_into_id": target_id,
        "merged_into_number": target["number"],
    }
    if ended_in_force:
        terminated_rows = usecases.rows_of(s, ended_in_force)
        usecases.publish_contract_events(
            uow,
            ev.CONTRACT_TERMINATED,
            ended_in_force,
            ended_extra,
            per_contract={cid: {"effective_date": terminated_rows[cid]["termination_date"].isoformat(),
                                "lines_moved_out": moved_from[cid]} for cid in ended_in_force},
        )  # fmt: skip
    if cancelled:
        usecases.publish_contract_events(uow, ev.CONTRACT_CANCELLED, cancelled, ended_extra)
    return {
        "action": "merge",
        "contract": views(s, [target_id])[0],
        "ended": [
            {"contract_id": r["id"], "number": r["number"],
             "status": domain.TERMINATED if in_force(r) else domain.CANCELLED, "lines_moved": moved_from[r["id"]]}
            for r in others
        ],
    }  # fmt: skip
