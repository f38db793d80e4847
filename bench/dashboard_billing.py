"""Billing's part of the company dashboard at scale (not a test; prints figures).

    .venv/bin/python bench/dashboard_billing.py [--schedules 10000] [--invoices 100000]
        [--payments 60000] [--runs 7] [--database-url URL] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Seeds a fresh billing database — an SQLite file in a temporary directory (default), the database
at ``--database-url``, or with ``--pg`` (a server URL whose user may create databases) a
throwaway PostgreSQL database dropped afterwards — directly through billing's tables
(``crm_common.db.fast_insert``):

* 1,000 customers owned by 40 users in 4 departments (the customers and users copies);
* N schedules as ``billing.schedules.schedule_values`` builds them from ``contract_activated``
  (EUR, USD and CNY; monthly, quarterly and yearly; started between July 2026 and June 2027,
  one or two years), invoiced up to the as_of (2027-06-30): the cursor stands on the next period;
* M invoices issued over the two years up to the as_of (most paid, some partly paid, open or
  overdue, a few void or draft), 2 % of them credited by a credit note, P confirmed payments
  (some pending) and refunds of 1 % of them; then ``VACUUM ANALYZE`` on PostgreSQL (what
  autovacuum does after a bulk load), a WAL checkpoint on SQLite.

Then times ``billing.dashboard.dashboard`` — the first call (cold: no segments parsed yet,
nothing remembered), then the median of ``--runs`` more — for an administrator, a sales manager
of one department and a sales rep, and the reports it shares its code with (cash flow, MRR/ARR,
aging) for the administrator; checks that the dashboard's figures agree with those reports;
prints the peak RSS. Lines of invoices and allocations are not seeded: nothing here reads them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import datagen
from pg_scratch import pg_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "billing"))

from billing import domain, reports  # noqa: E402
from billing import models as m  # noqa: E402
from billing.dashboard import dashboard  # noqa: E402
from billing.schedules import cursor_values, schedule_values  # noqa: E402
from crm_common.db import DatabaseHandle, fast_insert, utcnow  # noqa: E402
from crm_common.testing import new_caller  # noqa: E402

AS_OF = dt.date(2027, 6, 30)
YEAR = 2027
CUSTOMERS = 1000
USERS = 40  # ids 101..140, departments d0..d3
DEPARTMENTS = 4
CHUNK = 5000
CURRENCIES = ("EUR", "EUR", "EUR", "EUR", "EUR", "EUR", "EUR", "USD", "USD", "CNY")
FREQUENCIES = ("monthly", "monthly", "monthly", "monthly", "quarterly", "yearly")

ADMIN = new_caller("admin", user_id=1)
MANAGER = new_caller("sales_manager", user_id=101, department="d1")
REP = new_caller("sales_rep", user_id=102)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@functools.cache
def customer_name(customer: int) -> str:
    """The company name of customer number ``customer``, the same in every seed (Chinese,
    Turkish, Bulgarian and English in turn, from :mod:`datagen`)."""
    return datagen.company_name(random.Random(customer), customer_language(customer))


def customer_language(customer: int) -> str:
    return datagen.LANGS[customer % len(datagen.LANGS)]


def owner_of(customer: int) -> int:
    return 101 + customer % USERS


def currency_of(customer: int) -> str:
    return CURRENCIES[customer % len(CURRENCIES)]


def contract_payload(i: int, rnd: random.Random) -> dict[str, Any]:
    customer = rnd.randint(1, CUSTOMERS)
    start = dt.date(2026, 7, 1) + dt.timedelta(days=rnd.randrange(365))
    years = rnd.choice((1, 2))
    end = dt.date(start.year + years, start.month, min(start.day, 28)) - dt.timedelta(days=1)
    lines = [
        {"id": 3 * i + k, "line_id": 3 * i + k, "product_id": 10 + k, "sku": f"SKU-{k}",
         "product_name": f"Product {k}", "product_kind": "service", "category": "services",
         "quantity": str(rnd.randint(1, 5)), "unit_price": f"{rnd.randint(1000, 99999) / 100:.2f}",
         "discount_percent": rnd.choice(("0", "0", "5", "12.5"))}
        for k in range(rnd.randint(1, 3))
    ]  # fmt: skip
    return {
        "id": i, "number": f"C-{i:06d}", "version": 1, "status": "active", "customer_id": customer,
        "customer_name": customer_name(customer), "customer_code": f"C{customer:06d}",
        "customer_language": customer_language(customer),
        "owner_id": owner_of(customer), "title": "Service", "kind": "maintenance",
        "currency": currency_of(customer), "start_date": start.isoformat(), "end_date": end.isoformat(),
        "billing": {"frequency": rnd.choice(FREQUENCIES), "in_advance": rnd.random() < 0.8,
                    "payment_terms_days": rnd.choice((14, 30, 45))},
        "lines": lines,
    }  # fmt: skip


def seed(db: DatabaseHandle, n_schedules: int, n_invoices: int, n_payments: int) -> None:
    rnd = random.Random(8)
    now = utcnow()
    with db.transaction(ADMIN) as uow:
        s = uow.session
        fast_insert(
            s,
            m.users,
            [{"id": u, "department": f"d{u % DEPARTMENTS}", "roles": ["sales_rep"], "active": True, "event_at": now}
             for u in range(101, 101 + USERS)],
        )  # fmt: skip
        fast_insert(
            s,
            m.customers,
            [{"id": c, "code": f"C{c:06d}", "name": customer_name(c), "kind": "company", "owner_id": owner_of(c),
              "language": customer_language(c), "tax_id": None, "address": None, "email": None, "deleted": False, "event_at": now}
             for c in range(1, CUSTOMERS + 1)],
        )  # fmt: skip
        rows = []
        for i in range(1, n_schedules + 1):
            row = schedule_values(contract_payload(i, rnd), now)
            _, nxt = domain.due_and_next(
                row["start_date"], row["end_date"], row["frequency"], row["anchor_day"], row["in_advance"],
                None, AS_OF,
            )  # fmt: skip
            if nxt is None or nxt.start > row["start_date"]:
                row.update(cursor_values(row, nxt.start if nxt else row["end_date"] + dt.timedelta(days=1)))
            rows.append(row)
            if len(rows) == CHUNK:
                fast_insert(s, m.schedules, rows)
                rows = []
        fast_insert(s, m.schedules, rows)
    _seed_documents(db, rnd, n_invoices, n_payments)


def _seed_documents(db: DatabaseHandle, rnd: random.Random, n_invoices: int, n_payments: int) -> None:
    now = utcnow()
    first = AS_OF - dt.timedelta(days=729)  # two years of invoices up to the as_of
    credited_ids: list[tuple[int, int, str, Decimal, dt.date]] = []
    with db.transaction(ADMIN) as uow:
        s = uow.session
        rows = []
        for i in range(1, n_invoices + 1):
            customer = rnd.randint(1, CUSTOMERS)
            cur = currency_of(customer)
            issue = first + dt.timedelta(days=rnd.randrange(730))
            due = issue + dt.timedelta(days=30)
            total = Decimal(rnd.randint(5000, 500000)) / 100
            draw = rnd.random()
            status, paid, credited = "paid", total, Decimal(0)
            if issue > AS_OF - dt.timedelta(days=90) or draw < 0.1:
                status, paid = rnd.choice(
                    (("issued", Decimal(0)), ("partially_paid", (total / 3).quantize(Decimal("0.01"))))
                )
                if due < AS_OF and rnd.random() < 0.5:
                    status = "overdue"
            if draw > 0.99:
                status, paid = ("void", Decimal(0)) if draw > 0.995 else ("draft", Decimal(0))
            elif draw > 0.97 and status == "paid":
                credited = (total / 4).quantize(Decimal("0.01"))
                credited_ids.append((i, customer, cur, credited, issue + dt.timedelta(days=20)))
            rows.append(
                {"id": i, "number": None if status == "draft" else f"INV-{issue.year}-{i:07d}",
                 "series": "INV", "kind": "contract", "status": status, "customer_id": customer,
                 "customer": {"name": customer_name(customer)}, "language": customer_language(customer), "contract_id": None,
                 "currency": cur, "subtotal": total, "tax": Decimal(0), "total": total, "paid": paid,
                 "credited": credited, "issue_date": None if status == "draft" else issue, "due_date": due,
                 "payment_terms_days": 30, "locked": False, "created_at": now, "updated_at": now}
            )  # fmt: skip
            if len(rows) == CHUNK:
                fast_insert(s, m.invoices, rows)
                rows = []
        fast_insert(s, m.invoices, rows)
        fast_insert(
            s,
            m.credit_notes,
            [{"id": n, "number": f"CN-{day.year}-{n:07d}", "invoice_id": inv, "customer_id": customer,
              "currency": cur, "subtotal": amount, "tax": Decimal(0), "amount": amount, "reason": "discount",
              "issue_date": day, "created_at": now}
             for n, (inv, customer, cur, amount, day) in enumerate(credited_ids, 1)],
        )  # fmt: skip
        rows = []
        refunds = []
        for p in range(1, n_payments + 1):
            customer = rnd.randint(1, CUSTOMERS)
            at = dt.datetime(2025, 7, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=rnd.randrange(730 * 24 * 60))
            amount = Decimal(rnd.randint(5000, 500000)) / 100
            refunded = Decimal(0)
            if rnd.random() < 0.01:
                refunded = (amount / 10).quantize(Decimal("0.01"))
                refunds.append({"id": len(refunds) + 1, "payment_id": p, "amount": refunded, "method": None,
                                "reference": None, "reason": "overpaid", "refunded_at": at + dt.timedelta(hours=3),
                                "created_by": None})  # fmt: skip
            rows.append(
                {"id": p, "customer_id": customer, "amount": amount, "currency": currency_of(customer),
                 "method": "bank_transfer", "received_at": at, "status": "pending" if rnd.random() < 0.03 else "confirmed",
                 "allocated": amount - refunded, "refunded": refunded, "locked": False, "created_at": now,
                 "updated_at": now}
            )  # fmt: skip
            if len(rows) == CHUNK:
                fast_insert(s, m.payments, rows)
                rows = []
        fast_insert(s, m.payments, rows)
        fast_insert(s, m.refunds, refunds)
    if db.engine.dialect.name == "postgresql":
        # what autovacuum does after a bulk load: planner statistics, and the visibility map
        # that lets the covering indexes answer without the tables
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    else:
        # what SQLite's automatic checkpoints have done by then: the bulk load moved from the
        # write-ahead log into the database file (outside a transaction: the driver's own)
        raw = db.engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()


def timed(fn: Callable[[], Any], runs: int) -> tuple[Any, float, float, float]:
    """The result, the first call's time (cold: segments not parsed yet, nothing remembered),
    then the median and the slowest of ``runs`` more calls."""
    started = time.perf_counter()
    result = fn()
    first = time.perf_counter() - started
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - started)
    return result, first, statistics.median(seconds), max(seconds)


def check(board: dict[str, Any], db: DatabaseHandle) -> None:
    """The dashboard agrees with the reports it shares its code with (administrator)."""
    args = {"year": YEAR, "as_of": AS_OF.isoformat()}
    flow = reports.cash_flow(db, ADMIN, args)["currencies"]
    mine = {cur: [] for cur in flow}
    for month in board["cash_flow"]:
        for cur in mine:
            mine[cur].append({"month": month["month"], **{k: month[k].get(cur, "0.00") for k in ("invoiced", "collected", "forecast")}})  # fmt: skip
    rec = reports.recurring_revenue(db, ADMIN, {"as_of": AS_OF.isoformat()})["currencies"]
    aging = reports.receivables_aging(db, ADMIN, {"as_of": AS_OF.isoformat()})["currencies"]
    problems = []
    if mine != flow:
        problems.append("cash flow differs from reports.cash_flow")
    if board["mrr"] != {c: v["mrr"] for c, v in rec.items()} or board["arr"] != {
        c: v["arr"] for c, v in rec.items()
    }:
        problems.append("MRR/ARR differ from reports.recurring_revenue")
    if board["receivables"] != {c: v["total"]["total"] for c, v in aging.items()}:
        problems.append("receivables differ from reports.receivables_aging")
    print("    figures agree with cash_flow, recurring_revenue and receivables_aging" if not problems else f"    MISMATCH: {problems}")  # fmt: skip
    if problems:
        raise SystemExit(1)


def run(url: str, n_schedules: int, n_invoices: int, n_payments: int, runs: int) -> None:
    db = DatabaseHandle("billing", m.metadata, url)
    db.create_all()
    try:
        started = time.perf_counter()
        seed(db, n_schedules, n_invoices, n_payments)
        print(f"seeded {n_schedules} schedules, {n_invoices} invoices, {n_payments} payments "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        args = {"year": YEAR, "as_of": AS_OF.isoformat()}
        for label, caller in (("admin", ADMIN), ("sales_manager d1", MANAGER), ("sales_rep", REP)):
            board, first, med, worst = timed(lambda c=caller: dashboard(db, c, args), runs)
            eur = board["receivables"].get("EUR")
            print(f"dashboard ({label:<16}) first {first * 1000:7.1f} ms  median {med * 1000:7.1f} ms  "
                  f"max {worst * 1000:7.1f} ms   "
                  f"EUR mrr {board['mrr'].get('EUR')} receivables {eur} overdue invoices {board['overdue_invoices']} "
                  f"top {len(board['top_customers'])}")  # fmt: skip
            if label == "admin":
                check(board, db)
        for label, fn in (
            ("cash_flow", lambda: reports.cash_flow(db, ADMIN, args)),
            ("recurring_revenue", lambda: reports.recurring_revenue(db, ADMIN, args)),
            ("receivables_aging", lambda: reports.receivables_aging(db, ADMIN, args)),
        ):
            _, first, med, worst = timed(fn, runs)
            print(
                f"{label:<29} first {first * 1000:7.1f} ms  median {med * 1000:7.1f} ms  max {worst * 1000:7.1f} ms"
            )
        print(f"peak RSS {peak_rss_mb():.0f} MiB")
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--payments", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=7, help="timed calls per figure (the median is printed)")
    parser.add_argument(
        "--database-url", help="an empty billing database to seed (default: a temporary SQLite file)"
    )
    parser.add_argument("--pg", help="PostgreSQL server URL (a throwaway database is made on it)")
    args = parser.parse_args()
    sizes = (args.schedules, args.invoices, args.payments, args.runs)
    if args.pg:
        url, drop = pg_database(args.pg)
        print(f"PostgreSQL ({url.rsplit('/', 1)[-1]})")
        try:
            run(url, *sizes)
        finally:
            drop()
        return
    if args.database_url:
        print(f"{args.database_url}")
        run(args.database_url, *sizes)
        return
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite ({tmp}/billing.db)")
        run(f"sqlite:///{tmp}/billing.db", *sizes)


if __name__ == "__main__":
    main()
