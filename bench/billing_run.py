"""Billing runs of the billing service at scale (not a test; prints figures).

    .venv/bin/python bench/billing_run.py [--contracts 100000] [--catch-up-contracts 10000]
        [--batch-size 500] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Seeds N active monthly contracts billed in advance (one customer per 100 contracts, 1–2 lines
each, start dates spread over 2027-01-01..2027-01-28, one year each) directly into a fresh
billing database — an SQLite file in a temporary directory, or, with ``--pg`` (a server URL whose
user may create databases), a throwaway PostgreSQL database dropped afterwards — as the
``schedules`` rows ``billing.schedules.schedule_values`` builds from a ``contract_activated``
payload, in multi-row inserts. Then times ``billing.runs.run_billing`` (what the daily job and
``start_billing_run`` call):

* as_of 2027-01-31: one period per contract → N invoices;
* the same as_of again: nothing due (safe to re-run);
* a catch-up in another fresh database of ``--catch-up-contracts`` contracts, first billed to
  2027-01-31, then to 2027-04-30 in one run: three more invoices per contract.

Prints each run's summary, wall time, invoices/s and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from pg_scratch import pg_database  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "billing"))

from billing import models as m  # noqa: E402
from billing.runs import run_billing  # noqa: E402
from billing.schedules import schedule_values  # noqa: E402
from crm_common.db import DatabaseHandle, utcnow  # noqa: E402
from crm_common.testing import new_caller  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

FINANCE = new_caller("finance", user_id=2)
FIRST_START = dt.date(2027, 1, 1)
CONTRACTS_PER_CUSTOMER = 100
CHUNK = 1000
LANGUAGES = ("en", "zh", "tr", "bg")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def contract_payload(i: int) -> dict[str, Any]:
    """A ``contract_activated`` payload (services/contracts/README.md) of contract ``i`` (1-based)."""
    start = FIRST_START + dt.timedelta(days=(i - 1) % 28)
    end = dt.date(start.year + 1, start.month, start.day) - dt.timedelta(days=1)
    customer = (i - 1) // CONTRACTS_PER_CUSTOMER + 1
    lines = [
        {"id": 2 * i - 1, "line_id": 2 * i - 1, "product_id": 11, "sku": "SVC-1", "product_name": "Maintenance visit",
         "product_kind": "service", "quantity": "2", "unit_price": "45.00", "discount_percent": "10"},
    ]  # fmt: skip
    if i % 2 == 0:
        lines.append(
            {"id": 2 * i, "line_id": 2 * i, "product_id": 10, "sku": "PRN-1", "product_name": "Laser printer rental",
             "product_kind": "device", "quantity": "1", "unit_price": "99.99", "discount_percent": "0"}
        )  # fmt: skip
    return {
        "id": i, "number": f"C-2027-{i:06d}", "version": 1, "status": "active", "customer_id": customer,
        "customer_name": f"Customer {customer}", "customer_code": f"C{customer:06d}",
        "customer_language": LANGUAGES[customer % len(LANGUAGES)], "owner_id": 3, "title": "Maintenance",
        "kind": "maintenance", "currency": "EUR", "start_date": start.isoformat(), "end_date": end.isoformat(),
        "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30}, "lines": lines,
    }  # fmt: skip


def seed(db: DatabaseHandle, n: int) -> None:
    """N schedules and their customers (the read copy), in multi-row inserts of ``CHUNK``."""
    now = utcnow()
    customers = (n + CONTRACTS_PER_CUSTOMER - 1) // CONTRACTS_PER_CUSTOMER
    with db.transaction(FINANCE) as uow:
        s = uow.session
        for first in range(1, customers + 1, CHUNK):
            s.execute(
                insert(m.customers),
                [
                    {"id": c, "code": f"C{c:06d}", "name": f"Customer {c}", "kind": "company", "owner_id": 3,
                     "language": LANGUAGES[c % len(LANGUAGES)], "tax_id": f"TAX{c:08d}",
                     "address": f"Street {c}, City", "email": f"billing{c}@example.com", "deleted": False,
                     "event_at": now}
                    for c in range(first, min(customers, first + CHUNK - 1) + 1)
                ],
            )  # fmt: skip
        for first in range(1, n + 1, CHUNK):
            rows = [
                schedule_values(contract_payload(i), now) for i in range(first, min(n, first + CHUNK - 1) + 1)
            ]
            s.execute(insert(m.schedules), rows)


def timed(label: str, fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"{label:<52} {seconds:8.2f} s   peak RSS {peak_rss_mb():7.0f} MiB", flush=True)
    return result, seconds


def billing_run(db: DatabaseHandle, as_of: dt.date, batch_size: int, expected: int | None) -> float:
    summary, seconds = timed(
        f"run_billing as_of {as_of}", lambda: run_billing(db, FINANCE, as_of, batch_size=batch_size)
    )
    keys = ("status", "contracts_due", "contracts_processed", "contracts_invoiced", "invoices_created", "skipped", "failed")  # fmt: skip
    print("    " + ", ".join(f"{k}={summary[k]}" for k in keys))
    created = summary["invoices_created"]
    if created:
        print(f"    {created / seconds:,.0f} invoices/s")
    if summary["failures"]:
        print(f"    first failures: {summary['failures'][:3]}")
    if expected is not None and created != expected:
        raise SystemExit(f"expected {expected} invoices, the run created {created}")
    return seconds


def check_totals(db: DatabaseHandle, n: int, periods: int) -> None:
    """Every invoice and its line amounts add up: printed so a run can be checked by eye."""
    with db.read() as s:
        # summed here as Decimal: SQLite's SUM of a NUMERIC column is a float
        totals = s.execute(select(m.invoices.c.total)).scalars().all()
        invoices, total = len(totals), sum(totals, Decimal(0))
        lines = s.execute(select(func.count()).select_from(m.invoice_lines)).scalar_one()
    # odd contracts: 81.00 a month; even ones 81.00 + 99.99; no tax rate set (0 %)
    per_period = Decimal("81.00") * n + Decimal("99.99") * (n // 2)
    print(f"    invoices {invoices}, lines {lines}, total {total} (expected {per_period * periods})")
    if invoices != n * periods or total != per_period * periods:
        raise SystemExit("invoice count or totals differ from the seeded contracts")


def run(url: str, n: int, batch_size: int) -> None:
    db = DatabaseHandle("billing", m.metadata, url)
    db.create_all()
    try:
        timed(f"seed {n} schedules ({n // CONTRACTS_PER_CUSTOMER} customers)", lambda: seed(db, n))
        billing_run(db, dt.date(2027, 1, 31), batch_size, n)
        check_totals(db, n, 1)
        billing_run(db, dt.date(2027, 1, 31), batch_size, 0)
    finally:
        db.dispose()


def run_catch_up(url: str, n: int, batch_size: int) -> None:
    db = DatabaseHandle("billing", m.metadata, url)
    db.create_all()
    try:
        timed(f"catch-up: seed {n} schedules", lambda: seed(db, n))
        billing_run(db, dt.date(2027, 1, 31), batch_size, n)
        billing_run(db, dt.date(2027, 4, 30), batch_size, 3 * n)
        check_totals(db, n, 4)
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--catch-up-contracts", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500, help="schedules per transaction")
    parser.add_argument("--pg", help="PostgreSQL server URL (a throwaway database is made on it)")
    args = parser.parse_args()
    if args.pg:
        for fn, n in ((run, args.contracts), (run_catch_up, args.catch_up_contracts)):
            url, drop = pg_database(args.pg)
            print(f"PostgreSQL ({url.rsplit('/', 1)[-1]})")
            try:
                fn(url, n, args.batch_size)
            finally:
                drop()
        return
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite ({tmp}/billing.db)")
        run(f"sqlite:///{tmp}/billing.db", args.contracts, args.batch_size)
        run_catch_up(f"sqlite:///{tmp}/catch-up.db", args.catch_up_contracts, args.batch_size)


if __name__ == "__main__":
    main()
