"""Billing runs: every period due by ``as_of`` becomes an invoice.

* Safe to re-run: a schedule's period is invoiced in the same transaction that moves the
  schedule's cursor past it (and ``invoices.dedupe_key`` refuses a second invoice of a period), so
  any number of runs, or replicas running at once (PostgreSQL: ``FOR UPDATE SKIP LOCKED``;
  SQLite: one writer), invoice a period once.
* Catches up: every period whose bill date is on or before ``as_of`` and not yet invoiced, however
  many runs were missed, in period order.
* Isolates failures: a contract whose invoices cannot be built is reported (with the reason) and
  skipped; the others are invoiced. It stays due and is retried by the next run.
* Works in batches (``batch_size`` schedules per transaction, keyset-paged by contract id) with
  memory bounded by the batch, and keeps ``billing_runs`` up to date after each batch (progress).
* Settles amended periods: a schedule whose invoiced periods an amendment or termination changed
  (``true_up_from``) gets an adjustment invoice for what it owes more and a credit note for what it
  was billed too much, per period.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crm_common.config import env_int
from crm_common.db import utcnow
from crm_common.errors import load_or_raise, not_found
from crm_common.money import quantize
from crm_common.paging import page_args, page_of, parse_id, run_page, sorted_query
from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from . import corrections, credits, customers, domain, invoices, schedules, scopes, taxes
from . import events as ev
from . import models as m
from .schemas import RunIn
from .support import ZERO, iso

log = logging.getLogger(__name__)

S = m.schedules.c
R = m.billing_runs.c
I = m.invoices.c  # noqa: E741
IL = m.invoice_lines.c
MAX_FAILURES_KEPT = 1000
STALE_AFTER = dt.timedelta(hours=6)
run_in = RunIn()


def due_condition(as_of: dt.date):
    return or_(
        (S.status == schedules.ACTIVE) & (S.next_bill_date <= as_of),
        S.true_up_from.is_not(None),
    )


# --------------------------------------------------------------------------------------
# Planning one contract (pure but for the true-up's reads)
# --------------------------------------------------------------------------------------


class Plan:
    def __init__(self, row: Mapping[str, Any]):
        self.row = row
        self.invoices: list[dict[str, Any]] = []
        self.credits: list[
            tuple[int, list[tuple[int, Decimal]], str]
        ] = []  # (invoice_id, [(line_id, net)], key)
        self.cursor: dict[str, Any] = {}


def charge_lines(
    charges: list[domain.Charge], rates, currency: str, period: domain.Period
) -> list[dict[str, Any]]:
    lines = []
    for i, c in enumerate(charges, start=1):
        li = c.line
        lines.append(
            invoices.line_values(
                i, li.description, li.quantity, li.unit_price, li.discount_percent, c.amount,
                taxes.rate_for(rates, li.category, li.product_kind), currency,
                contract_line_id=li.line_id, product_id=li.product_id, sku=li.sku, category=li.category,
                period_start=period.start, period_end=period.end, covered_days=c.covered_days,
                period_days=c.period_days,
            )
        )  # fmt: skip
    return lines


def invoice_for(row: Mapping[str, Any], customer: Mapping[str, Any] | None, period: domain.Period,
                lines: list[dict[str, Any]], kind: str, key: str, run_id: int | None) -> dict[str, Any]:  # fmt: skip
    snap = customers.snapshot(customer, row)
    return invoices.with_totals(
        {
            "kind": kind,
            "status": "issued",
            "customer_id": row["customer_id"],
            "customer": snap,
            "language": snap.get("language") or "en",
            "contract_id": row["contract_id"],
            "contract_number": row["contract_number"],
            "period_start": period.start,
            "period_end": period.end,
            "dedupe_key": key,
            "currency": row["currency"],
            "issue_date": period.bill_date,
            "due_date": period.bill_date + dt.timedelta(days=row["payment_terms_days"]),
            "payment_terms_days": row["payment_terms_days"],
            "run_id": run_id,
            "lines": lines,
        }
    )


def plan_periods(plan: Plan, as_of: dt.date, rates, customer, run_id: int | None) -> None:
    """The invoices of every period due by ``as_of`` and the cursor after them."""
    row = plan.row
    segments = schedules.domain_segments(row["segments"])
    end = schedules.billing_end(row)
    cursor = row["next_period_start"]
    due, following = domain.due_and_next(
        row["start_date"], end, row["frequency"], row["anchor_day"], row["in_advance"], cursor, as_of
    )
    for period in due:
        charges = domain.period_charges(period, segments, row["frequency"], end)
        lines = charge_lines(charges, rates, row["currency"], period)
        if not lines or all(li["amount"] == 0 for li in lines):
            continue  # nothing to bill in this period (every line ended): only the cursor moves
        kind = "renewal" if row["renewal_of_id"] and period.start == row["start_date"] else "contract"
        plan.invoices.append(
            invoice_for(
                row, customer, period, lines, kind, f"period:{row['contract_id']}:{period.start}", run_id
            )
        )
    plan.cursor = {
        "next_period_start": due[-1].full_end + dt.timedelta(days=1) if due else cursor,
        "next_bill_date": following.bill_date if following else None,
        "status": schedules.ACTIVE if following else schedules.ENDED,
    }


def plan_true_up(s: Session, plan: Plan, rates, customer, run_id: int | None) -> None:
    """Compare what each invoiced period from ``true_up_from`` on was billed per contract line
    with what the current terms charge for it; bill the difference or credit it."""
    row = plan.row
    since = row["true_up_from"]
    billed_rows = s.execute(
        select(IL.id, IL.invoice_id, IL.contract_line_id, IL.period_start, IL.period_end, IL.amount, IL.tax_percent,
               IL.description)
        .join(m.invoices, I.id == IL.invoice_id)
        .where(I.contract_id == row["contract_id"], I.status != "void", I.kind.in_(("contract", "renewal", "adjustment")),
               IL.period_end >= since, IL.period_start.is_not(None))
        .order_by(IL.period_start, IL.id)
    ).all()  # fmt: skip
    if not billed_rows:
        return
    credited = credits.credited_per_line(s, [r.id for r in billed_rows])
    # a correction pending on a locked invoice counts as credited: it is never recorded twice
    for lid, net in corrections.pending_per_line(s, [r.invoice_id for r in billed_rows]).items():
        credited[lid] = credited.get(lid, ZERO) + net
    by_period: dict[dt.date, list[Any]] = defaultdict(list)
    for r in billed_rows:
        by_period[r.period_start].append(r)
    last_end = max(r.period_end for r in billed_rows)
    periods = {p.start: p for p in schedules.all_periods(row, until=max(row["end_date"], last_end))}
    segments = schedules.domain_segments(row["segments"])
    end = schedules.billing_end(row)
    cur = row["currency"]
    for start, rows in sorted(by_period.items()):
        period = periods.get(start)
        if period is None:
            log.warning(
                "contract %s: invoiced period %s is not a period of its terms", row["contract_id"], start
            )
            continue
        charges = (
            domain.period_charges(period, segments, row["frequency"], end) if period.start <= end else []
        )
        expected: dict[Any, list[domain.Charge]] = defaultdict(list)
        for c in charges:
            expected[c.line.line_id].append(c)
        billed: dict[Any, Decimal] = defaultdict(lambda: ZERO)
        for r in rows:
            billed[r.contract_line_id] += r.amount - credited.get(r.id, ZERO)
        more: list[domain.Charge] = []
        less: list[tuple[int, Decimal]] = []
        for line_id in sorted(set(expected) | set(billed), key=lambda x: (x is None, x or 0)):
            want = quantize(sum((c.amount for c in expected.get(line_id, [])), ZERO), cur)
            delta = want - billed.get(line_id, ZERO)
            if delta > 0 and expected.get(line_id):
                c0 = expected[line_id][0]
                more.append(domain.Charge(c0.line, c0.covered_days, c0.period_days, delta))
            elif delta < 0:
                rest = -delta
                for r in reversed([r for r in rows if r.contract_line_id == line_id]):
                    can = r.amount - credited.get(r.id, ZERO)
                    take = min(can, rest)
                    if take > 0:
                        less.append((r.id, take))
                        rest -= take
                    if rest <= 0:
                        break
        if more:
            lines = charge_lines(more, rates, cur, period)
            for li in lines:
                li["description"] = f"Adjustment: {li['description']}"
            n = s.execute(
                select(func.count())
                .select_from(m.invoices)
                .where(I.dedupe_key.like(f"true-up:{row['contract_id']}:{start}:%"))
            ).scalar_one()
            plan.invoices.append(invoice_for(row, customer, period, lines, "adjustment",
                                             f"true-up:{row['contract_id']}:{start}:{n + 1}", run_id))  # fmt: skip
        if less:
            by_invoice: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
            owner = {r.id: r.invoice_id for r in rows}
            for line_id, net in less:
                by_invoice[owner[line_id]].append((line_id, net))
            for invoice_id, parts in by_invoice.items():
                prefix = f"true-up:{row['contract_id']}:{start}:{invoice_id}:"
                n = s.execute(
                    select(func.count())
                    .select_from(m.credit_notes)
                    .where(m.credit_notes.c.dedupe_key.like(f"{prefix}%"))
                ).scalar_one()
                plan.credits.append((invoice_id, parts, f"{prefix}{n + 1}"))


# --------------------------------------------------------------------------------------
# Writing a batch
# --------------------------------------------------------------------------------------


def move_cursors(s: Session, moves: list[dict[str, Any]]) -> None:
    """Set each schedule's cursor (and clear its true-up and error): one ``UPDATE … FROM
    (VALUES …)`` on PostgreSQL, an executemany on SQLite (where that is as fast)."""
    if not moves:
        return
    now = utcnow()
    if s.get_bind().dialect.name == "postgresql":
        from psycopg2.extras import execute_values

        cursor = s.connection().connection.dbapi_connection.cursor()
        try:
            execute_values(
                cursor,
                "UPDATE schedules SET next_period_start = v.nps::date, next_bill_date = v.nbd::date,"
                " status = v.st, true_up_from = NULL, last_error = NULL, updated_at = v.at::timestamptz"
                " FROM (VALUES %s) AS v(cid, nps, nbd, st, at) WHERE schedules.contract_id = v.cid",
                [
                    (mv["cid"], mv["next_period_start"], mv["next_bill_date"], mv["status"], now)
                    for mv in moves
                ],
                page_size=1000,
            )
        finally:
            cursor.close()
        return
    s.execute(
        update(m.schedules)
        .where(S.contract_id == bindparam("cid"))
        .values(
            next_period_start=bindparam("next_period_start"),
            next_bill_date=bindparam("next_bill_date"),
            status=bindparam("status"),
            true_up_from=None,
            last_error=None,
            updated_at=now,
        ),
        moves,
    )


def write_plans(uow, plans: list[Plan], as_of: dt.date) -> tuple[int, int]:
    """Insert the invoices, issue the credit notes, move the cursors, publish; returns
    (invoices, credit notes)."""
    s: Session = uow.session
    new = [inv for p in plans for inv in p.invoices]
    rows = invoices.insert_invoices(s, new, uow.caller.actor)
    if rows:
        owners = invoices.owners_of(s, {r["customer_id"] for r in rows})
        uow.publish_many(  # as_of: the run's date (notify fires what its job for that date fires)
            ev.INVOICE_ISSUED,
            [
                invoices.invoice_payload(r, owners.get(r["customer_id"]), as_of=as_of.isoformat())
                for r in rows
            ],
        )
    notes = 0
    for p in plans:
        for invoice_id, parts, key in p.credits:
            invoice = dict(
                s.execute(select(m.invoices).where(I.id == invoice_id).with_for_update()).mappings().one()
            )
            if invoice["locked"]:  # never credited or adjusted: finance decides (pending correction)
                reason = f"Contract {p.row['contract_number']} changed: period {invoice['period_start']} – {invoice['period_end']} to settle"
                corrections.record(uow, invoice, parts, reason, key)
                continue
            lines = {li["id"]: li for li in credits.remaining_lines(s, invoice_id)}
            items = [
                (lines[lid], net, domain.line_tax(net, lines[lid]["tax_percent"], invoice["currency"]))
                for lid, net in parts
            ]
            reason = f"Contract {p.row['contract_number']} changed: period {invoice['period_start']} – {invoice['period_end']} settled"
            credits.issue_credit_note(
                uow, invoice, items, reason, max(as_of, invoice["issue_date"] or as_of), key
            )
            notes += 1
    cursor_rows = [{"cid": p.row["contract_id"], **p.cursor} for p in plans if p.cursor]
    move_cursors(s, cursor_rows)
    return len(rows), notes


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------


def _failure(row: Mapping[str, Any], exc: BaseException) -> dict[str, Any]:
    reason = exc.message if hasattr(exc, "message") else f"{type(exc).__name__}: {exc}"
    return {
        "contract_id": row["contract_id"],
        "contract_number": row["contract_number"],
        "reason": str(reason)[:500],
    }


def _plan(s: Session, row: Mapping[str, Any], as_of: dt.date, rates, customer, run_id) -> Plan:
    plan = Plan(row)
    if row["true_up_from"] is not None:
        plan_true_up(s, plan, rates, customer, run_id)
    plan_periods(plan, as_of, rates, customer, run_id)
    return plan


def _empty() -> dict[str, Any]:
    return {"last": None, "n": 0, "invoices": 0, "notes": 0, "invoiced": 0, "skipped": 0, "failures": []}


def _add(total: dict[str, Any], b: Mapping[str, Any]) -> None:
    for key in ("n", "invoices", "notes", "invoiced", "skipped"):
        total[key] += b[key]
    total["failures"] += b["failures"]


def _due(as_of: dt.date, after: int, part: tuple[int, int] | None):
    query = select(m.schedules).where(due_condition(as_of), S.contract_id > after)
    if part is not None:
        query = query.where(S.contract_id % part[1] == part[0])
    return query.order_by(S.contract_id)


STAMP = ("status", "version", "next_period_start", "true_up_from", "termination_date", "updated_at")


def _stamp(row: Mapping[str, Any]) -> tuple:
    return tuple(row[k] for k in STAMP)


def _planned(
    s: Session, rows: list[dict[str, Any]], as_of: dt.date, run_id: int | None, out: dict[str, Any]
) -> list[Plan]:
    """The plans of ``rows``; a contract that fails to plan goes to ``out["failures"]``."""
    if not rows:
        return []
    rates = taxes.load_rates(s)
    known = customers.rows_of(s, {r["customer_id"] for r in rows})
    plans = []
    for row in rows:
        try:  # planning only reads: a failure leaves nothing to undo
            plans.append(_plan(s, row, as_of, rates, known.get(row["customer_id"]), run_id))
        except Exception as exc:  # one bad contract never stops the run
            log.warning("billing run %s: contract %s failed: %s", as_of, row["contract_id"], exc)
            out["failures"].append(_failure(row, exc))
    return plans


def _batch(
    db, as_of: dt.date, after: int, size: int, run_id: int | None, part: tuple[int, int] | None = None,
    only: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One batch. The periods are planned from a read of the schedules, outside the write
    transaction (so other processes of the run write meanwhile); the write transaction then locks
    the schedules and keeps a plan only if its schedule did not change since (else, and for the
    rare true-ups, it plans again inside). ``only``: just that contract (the fallback when a whole
    batch failed to write)."""
    out = _empty()
    query = (
        _due(as_of, after, part)
        if only is None
        else select(m.schedules).where(due_condition(as_of), S.contract_id == only)
    ).limit(size)
    with db.read() as s:
        rows = [dict(r) for r in s.execute(query).mappings()]
        if not rows:
            return out
        out["last"] = rows[-1]["contract_id"]
        early = {
            p.row["contract_id"]: p
            for p in _planned(s, [r for r in rows if r["true_up_from"] is None], as_of, run_id, out)
        }
    failed = {f["contract_id"] for f in out["failures"]}
    with db.transaction() as uow:
        s = uow.session
        ids = [r["contract_id"] for r in rows if r["contract_id"] not in failed]
        lock = select(S.contract_id, S.next_bill_date, *(S[k] for k in STAMP)).where(S.contract_id.in_(ids))
        if s.get_bind().dialect.name == "postgresql":
            lock = lock.with_for_update(skip_locked=True)  # another replica's run has those
        current = {r["contract_id"]: r for r in s.execute(lock).mappings()}
        plans, again = [], []
        for row in rows:
            now = current.get(row["contract_id"])
            if now is None:
                continue
            plan = early.get(row["contract_id"])
            if plan is not None and _stamp(now) == _stamp(row):
                plans.append(plan)
            elif (
                now["status"] == schedules.ACTIVE and (now["next_bill_date"] or dt.date.max) <= as_of
            ) or now["true_up_from"]:
                again.append(row["contract_id"])
        if again:  # changed since the read (or a true-up): planned now, under the lock
            again = [
                dict(r) for r in s.execute(select(m.schedules).where(S.contract_id.in_(again))).mappings()
            ]
        plans += _planned(s, again, as_of, run_id, out)
        out["n"] = len(plans) + len(out["failures"])
        for plan in plans:
            out["invoiced"] += bool(plan.invoices)
            if not plan.invoices and not plan.credits:
                out["skipped"] += 1
        out["invoices"], out["notes"] = write_plans(uow, plans, as_of)
    return out


def _after_batch(db, run_id: int, b: Mapping[str, Any]) -> None:
    """The batch's figures into the run (its own short transaction, so parallel workers never
    wait for each other's batches), and each failed contract's ``last_error``."""
    with db.transaction() as uow:
        s = uow.session
        run = s.execute(select(m.billing_runs).where(R.id == run_id).with_for_update()).mappings().one()
        failures = (list(run["failures"] or []) + b["failures"])[:MAX_FAILURES_KEPT]
        s.execute(
            update(m.billing_runs)
            .where(R.id == run_id)
            .values(
                contracts_processed=run["contracts_processed"] + b["n"],
                contracts_invoiced=run["contracts_invoiced"] + b["invoiced"],
                invoices_created=run["invoices_created"] + b["invoices"],
                credit_notes_created=run["credit_notes_created"] + b["notes"],
                skipped=run["skipped"] + b["skipped"],
                failed=run["failed"] + len(b["failures"]),
                failures=failures,
            )
        )
        if b["failures"]:
            s.execute(
                update(m.schedules)
                .where(S.contract_id == bindparam("cid"))
                .values(last_error=bindparam("reason")),
                [{"cid": f["contract_id"], "reason": f["reason"]} for f in b["failures"]],
            )


def _work(db, as_of: dt.date, run_id: int, size: int, part: tuple[int, int] | None) -> None:
    """Batches until nothing is due (of this partition)."""
    after = 0
    while True:
        try:
            b = _batch(db, as_of, after, size, run_id, part)
        except Exception:
            # writing the batch failed as a whole: contract by contract, to isolate the culprit
            log.exception(
                "billing run %s: a batch after contract %s failed; retrying one by one", as_of, after
            )
            b = _one_by_one(db, as_of, after, size, run_id, part)
        if b["last"] is None:
            return
        _after_batch(db, run_id, b)
        after = b["last"]


def run_processes(due: int) -> int:
    """OS processes of a run: ``BILLING_RUN_PROCESSES`` (default: the CPUs, at most 4) when at
    least ``BILLING_RUN_PROCESS_MIN`` (5,000) contracts are due — planning and building the rows
    is Python, so one process would use one core; smaller runs stay in the service's process."""
    if due < env_int("BILLING_RUN_PROCESS_MIN", 5000):
        return 1
    return max(1, min(16, env_int("BILLING_RUN_PROCESSES", min(os.cpu_count() or 1, 4))))


PARTITION_URL_ENV = "BILLING_RUN_DATABASE_URL"  # the URL travels in the environment, not argv


def _in_processes(db, as_of: dt.date, run_id: int, size: int, n: int) -> None:
    """Run the partitions (contract id mod ``n``) in ``n`` fresh interpreters
    (``python -m billing.runs``), each with its own connection; wait for all of them."""
    import subprocess
    import sys

    url = db.url if hasattr(db, "url") else db.handle.url
    env = {**os.environ, PARTITION_URL_ENV: url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "billing.runs", as_of.isoformat(), str(run_id), str(size), str(i), str(n)],
            env=env,
        )
        for i in range(n)
    ]
    while any(p.poll() is None for p in procs):
        time.sleep(0.2)  # green under eventlet: the service keeps serving meanwhile
    bad = [p.returncode for p in procs if p.returncode != 0]
    if bad:
        raise RuntimeError(f"{len(bad)} of {n} billing run processes failed (exit codes {bad}); see the log")


def main(argv: list[str]) -> int:
    """``python -m billing.runs <as_of> <run_id> <batch size> <part> <parts>`` with the database
    URL in ``BILLING_RUN_DATABASE_URL``: one partition of a billing run (started by the run)."""
    from crm_common.db import DatabaseHandle

    logging.basicConfig(level=logging.INFO, format="%(asctime)s billing-run %(levelname)s %(message)s")
    as_of, run_id, size, part, parts = argv
    db = DatabaseHandle("billing", m.metadata, os.environ[PARTITION_URL_ENV])
    try:
        _work(db, dt.date.fromisoformat(as_of), int(run_id), int(size), (int(part), int(parts)))
    finally:
        db.dispose()
    return 0


def run_billing(
    db, caller, as_of: dt.date, run_id: int | None = None, batch_size: int = 500, processes: int | None = None
) -> dict[str, Any]:
    """Invoice every period due by ``as_of``; returns the run's summary."""
    if run_id is None:
        run_id = create_run(db, caller, as_of)
    try:
        if processes is None:
            with db.read() as s:
                processes = run_processes(
                    s.execute(select(R.contracts_due).where(R.id == run_id)).scalar_one()
                )
        if processes > 1:
            _in_processes(db, as_of, run_id, batch_size, processes)
        else:
            _work(db, as_of, run_id, batch_size, None)
        with db.transaction() as uow:
            uow.session.execute(
                update(m.billing_runs).where(R.id == run_id).values(status="completed", finished_at=utcnow())
            )
            row = dict(uow.session.execute(select(m.billing_runs).where(R.id == run_id)).mappings().one())
            run = run_view(row)
            uow.publish(ev.BILLING_RUN_COMPLETED, ev.billing_run_completed_payload.dump(row))
        log.info(
            "billing run %s for %s: %s invoices, %s failed",
            run_id,
            as_of,
            run["invoices_created"],
            run["failed"],
        )
        return run
    except Exception as exc:
        log.exception("billing run %s for %s failed", run_id, as_of)
        with db.transaction() as uow:
            uow.session.execute(
                update(m.billing_runs)
                .where(R.id == run_id)
                .values(status="failed", finished_at=utcnow(), error=str(exc)[:2000])
            )
        raise


def _one_by_one(
    db, as_of: dt.date, after: int, size: int, run_id: int, part: tuple[int, int] | None
) -> dict[str, Any]:
    with db.read() as s:
        ids = s.execute(_due(as_of, after, part).with_only_columns(S.contract_id).limit(size)).scalars().all()
    out = _empty()
    out["last"] = ids[-1] if ids else None
    for cid in ids:
        try:
            b = _batch(db, as_of, 0, 1, run_id, only=cid)
            _add(out, b)
        except Exception as exc:
            with db.read() as s:
                row = s.execute(select(m.schedules).where(S.contract_id == cid)).mappings().one()
            out["n"] += 1
            out["failures"].append(_failure(row, exc))
    return out


def bill_contract(db, contract_id: int, as_of: dt.date) -> dict[str, Any]:
    """What the run for ``as_of`` does for one contract (its due periods, its true-up), outside a
    run: for a contract that another service's daily job for ``as_of`` started or renewed after
    billing's own run for that date had passed it (ADR 0011). Idempotent like a run."""
    return _batch(db, as_of, 0, 1, None, only=contract_id)


def create_run(db, caller, as_of: dt.date) -> int:
    with db.transaction() as uow:
        s = uow.session
        # a run a crashed process left "running" for hours is over
        s.execute(
            update(m.billing_runs)
            .where(R.status == "running", R.started_at < utcnow() - STALE_AFTER)
            .values(
                status="failed", error="interrupted (the process running it stopped)", finished_at=utcnow()
            )
        )
        due = s.execute(
            select(func.count()).select_from(m.schedules).where(due_condition(as_of))
        ).scalar_one()
        run_id = s.execute(
            insert(m.billing_runs).returning(R.id),
            [{"as_of": as_of, "status": "running", "triggered_by": (caller or uow.caller).actor, "contracts_due": due,
              "contracts_processed": 0, "contracts_invoiced": 0, "invoices_created": 0, "credit_notes_created": 0,
              "skipped": 0, "failed": 0, "failures": [], "started_at": utcnow()}],
        ).scalar_one()  # fmt: skip
        uow.audit("billing_run", run_id, "started", {"as_of": [None, as_of.isoformat()]})
        return run_id


def run_view(run: Mapping[str, Any]) -> dict[str, Any]:
    due = run["contracts_due"] or 0
    done = run["contracts_processed"] or 0
    return {
        "id": run["id"],
        "as_of": iso(run["as_of"]),
        "status": run["status"],
        "triggered_by": run["triggered_by"],
        "contracts_due": due,
        "contracts_processed": done,
        "contracts_invoiced": run["contracts_invoiced"],
        "invoices_created": run["invoices_created"],
        "credit_notes_created": run["credit_notes_created"],
        "skipped": run["skipped"],
        "failed": run["failed"],
        "failures": run["failures"] or [],
        "error": run["error"],
        "progress": 1.0 if run["status"] != "running" else (round(min(done / due, 1.0), 4) if due else 0.0),
        "started_at": iso(run["started_at"]),
        "finished_at": iso(run["finished_at"]),
    }


def start_billing_run(db, caller, data: Any, spawn=None) -> dict[str, Any]:
    """``{as_of, wait_seconds?}`` (finance / admin): runs now; the answer is the finished run, or
    the running one (with its progress) when it takes longer than ``wait_seconds``."""
    scopes.write_access(caller, "run billing")
    v = load_or_raise(run_in, data)
    run_id = create_run(db, caller, v["as_of"])
    if spawn is None:
        return run_billing(db, caller, v["as_of"], run_id)
    import eventlet

    thread = spawn(run_billing, db, caller, v["as_of"], run_id)
    with eventlet.Timeout(v["wait_seconds"], False):
        return thread.wait()
    return get_billing_run(db, caller, run_id)  # still running: its progress so far


def get_billing_run(db, caller, run_id: Any) -> dict[str, Any]:
    scopes.company_read_access(caller, "read billing runs")
    run_id = parse_id(run_id, "run_id")
    with db.read() as s:
        row = s.execute(select(m.billing_runs).where(R.id == run_id)).mappings().first()
        if row is None:
            raise not_found("billing_run", run_id)
        return run_view(dict(row))


# the fields this list may be sorted by and their columns
BILLING_RUN_SORT = {
    "as_of": R.as_of,
    "status": R.status,
    "started_at": R.started_at,
    "finished_at": R.finished_at,
    "id": R.id,
}


def list_billing_runs(db, caller, page: Any, page_size: Any, sort: Any = None) -> dict[str, Any]:
    scopes.company_read_access(caller, "read billing runs")
    page, page_size = page_args(page, page_size)
    with db.read() as s:
        rows, total = run_page(
            s, sorted_query(select(m.billing_runs), sort, BILLING_RUN_SORT, R.id.desc()), page, page_size
        )
        return page_of([run_view(dict(r)) for r in rows], total, page, page_size)


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
