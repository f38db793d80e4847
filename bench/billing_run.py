"""Billing runs of the billing service at scale (not a test; prints figures).

    .venv/bin/python bench/billing_run.py [--contracts 100000] [--catch-up-contracts 10000]
        [--batch-size 500] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Seeds N active monthly contracts billed in advance (one customer per 100 contracts — Chinese,
Turkish, Bulgarian and English companies from :mod:`datagen` — 1–2 lines each, start dates spread over 2027-01-01..2027-01-28, one year each) directly into a fresh
billing database — an SQLite file in a temporary directory, or, with ``--pg`` (a server URL whose
user may create databases), a throwaway PostgreSQL database dropped afterwards — as the
``schedules`` rows ``billing.schedules.schedule_values`` builds from a ``contract_activated``
payload, in multi-row inserts. Then times ``billing.runs.run_billing`` (what the daily job and
``start_billing_run`` call):

* as_of 2027-01-31: one period per contract → N invoices;
* the same as_of again: nothing due (safe to re-run);
* a catch-up in another fresh database of ``--catch-up-contracts`` contracts, first billed to
  2027-01-31, then to 2027-04-30 in one run: three more invoices per contract.

Prints each run's summary, wall time, invoices/s and the process's peak RSS; a run that creates
other invoices or totals than the seeded contracts call for (or anything on the re-run) fails.

``make bench`` runs it as the ``billing.run`` scenario: 10,000 contracts (quick; full also
100,000), each measurement in a fresh database, reporting seconds, invoices/s, the re-run's
seconds and invoices (0), and peak memory of the calling process and of the largest of the run's
partition processes (``billing.runs`` starts ``BILLING_RUN_PROCESSES`` of them, by default the
CPUs up to 4, once 5,000 contracts are due).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import datagen
from harness import Context, scenario
from pg_scratch import pg_database

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "services" / "billing") not in sys.path:
    sys.path.insert(0, str(ROOT / "services" / "billing"))

from billing import models as m  # noqa: E402
from billing.runs import run_billing, run_processes  # noqa: E402
from billing.schedules import schedule_values  # noqa: E402
from crm_common.db import DatabaseHandle, utcnow  # noqa: E402
from crm_common.testing import new_caller  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

FINANCE = new_caller("finance", user_id=2)
FIRST_START = dt.date(2027, 1, 1)
CONTRACTS_PER_CUSTOMER = 100
CHUNK = 1000


class BenchFailure(RuntimeError):
    """A billing run did not create what the seeded contracts call for."""


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ChildrenPeak:
    """The largest peak RSS (``VmHWM``) of this process's child processes while the block runs,
    MiB, sampled from ``/proc`` every 0.1 s (``RUSAGE_CHILDREN`` is no use here: a child's
    maximum includes the parent's pages it had when forked). 0 when no child ran or no
    ``/proc``."""

    def __init__(self) -> None:
        self.mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ChildrenPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = str(os.getpid())
        while True:
            for pid in os.listdir("/proc") if os.path.isdir("/proc") else ():
                if not pid.isdigit():
                    continue
                try:
                    with open(f"/proc/{pid}/status") as fh:
                        status = dict(line.split(":", 1) for line in fh if ":" in line)
                except OSError:  # gone meanwhile, or not ours to read
                    continue
                if status.get("PPid", "").strip() == me and "VmHWM" in status:
                    self.mib = max(self.mib, int(status["VmHWM"].split()[0]) / 1024)
            if self._stop.wait(0.1):
                return


def customers(count: int) -> list[dict[str, Any]]:
    """``count`` customers (the billing service's read copy) with multilingual names and
    addresses from :mod:`datagen`, the same for every run."""
    rng = random.Random(count)
    out = []
    for c in range(1, count + 1):
        lang = datagen.LANGS[c % len(datagen.LANGS)]
        out.append(
            {"id": c, "code": f"C{c:06d}", "name": datagen.company_name(rng, lang), "kind": "company",
             "owner_id": 3, "language": lang, "tax_id": datagen.tax_id(rng, lang),
             "address": datagen.address(rng, lang), "email": f"billing{c}@example.com", "deleted": False}
        )  # fmt: skip
    return out


def contract_payload(i: int, customer: dict[str, Any]) -> dict[str, Any]:
    """A ``contract_activated`` payload (services/contracts/README.md) of contract ``i`` (1-based)."""
    start = FIRST_START + dt.timedelta(days=(i - 1) % 28)
    end = dt.date(start.year + 1, start.month, start.day) - dt.timedelta(days=1)
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
        "id": i, "number": f"C-2027-{i:06d}", "version": 1, "status": "active", "customer_id": customer["id"],
        "customer_name": customer["name"], "customer_code": customer["code"],
        "customer_language": customer["language"], "owner_id": 3, "title": "Maintenance",
        "kind": "maintenance", "currency": "EUR", "start_date": start.isoformat(), "end_date": end.isoformat(),
        "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30}, "lines": lines,
    }  # fmt: skip


def seed(db: DatabaseHandle, n: int) -> None:
    """N schedules and their customers (the read copy), in multi-row inserts of ``CHUNK``."""
    now = utcnow()
    people = customers((n + CONTRACTS_PER_CUSTOMER - 1) // CONTRACTS_PER_CUSTOMER)
    with db.transaction(FINANCE) as uow:
        s = uow.session
        for first in range(0, len(people), CHUNK):
            s.execute(insert(m.customers), [{**c, "event_at": now} for c in people[first : first + CHUNK]])
        for first in range(1, n + 1, CHUNK):
            rows = [
                schedule_values(contract_payload(i, people[(i - 1) // CONTRACTS_PER_CUSTOMER]), now)
                for i in range(first, min(n, first + CHUNK - 1) + 1)
            ]
            s.execute(insert(m.schedules), rows)


def timed(label: str, fn: Callable[[], Any], say: Callable[[str], None] = print) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    say(f"{label:<52} {seconds:8.2f} s   peak RSS {peak_rss_mb():7.0f} MiB")
    return result, seconds


def billing_run(
    db: DatabaseHandle,
    as_of: dt.date,
    batch_size: int,
    expected: int | None,
    say: Callable[[str], None] = print,
) -> tuple[dict[str, Any], float]:
    """One ``run_billing``; :class:`BenchFailure` unless it created ``expected`` invoices."""
    summary, seconds = timed(
        f"run_billing as_of {as_of}", lambda: run_billing(db, FINANCE, as_of, batch_size=batch_size), say
    )
    keys = ("status", "contracts_due", "contracts_processed", "contracts_invoiced", "invoices_created", "skipped", "failed")  # fmt: skip
    say("    " + ", ".join(f"{k}={summary[k]}" for k in keys))
    created = summary["invoices_created"]
    if created:
        say(f"    {created / seconds:,.0f} invoices/s")
    if summary["failures"]:
        say(f"    first failures: {summary['failures'][:3]}")
    if expected is not None and created != expected:
        raise BenchFailure(f"expected {expected} invoices, the run created {created}")
    return summary, seconds


def check_totals(db: DatabaseHandle, n: int, periods: int, say: Callable[[str], None] = print) -> None:
    """Every invoice and its line amounts add up (:class:`BenchFailure` if not)."""
    with db.read() as s:
        # summed here as Decimal: SQLite's SUM of a NUMERIC column is a float
        totals = s.execute(select(m.invoices.c.total)).scalars().all()
        invoices, total = len(totals), sum(totals, Decimal(0))
        lines = s.execute(select(func.count()).select_from(m.invoice_lines)).scalar_one()
    # odd contracts: 81.00 a month; even ones 81.00 + 99.99; no tax rate set (0 %)
    per_period = Decimal("81.00") * n + Decimal("99.99") * (n // 2)
    say(f"    invoices {invoices}, lines {lines}, total {total} (expected {per_period * periods})")
    if invoices != n * periods or total != per_period * periods:
        raise BenchFailure(
            f"{invoices} invoices totalling {total}; the seeded contracts call for "
            f"{n * periods} totalling {per_period * periods}"
        )


def measure(url: str, n: int, batch_size: int, say: Callable[[str], None] = print) -> dict[str, float]:
    """Seed N contracts, bill them (N invoices, totals checked), bill again (nothing): figures."""
    db = DatabaseHandle("billing", m.metadata, url)
    db.create_all()
    try:
        _, t_seed = timed(
            f"seed {n} schedules ({n // CONTRACTS_PER_CUSTOMER} customers)", lambda: seed(db, n), say
        )
        with ChildrenPeak() as children:
            summary, t_run = billing_run(db, dt.date(2027, 1, 31), batch_size, n, say)
        check_totals(db, n, 1, say)
        again, t_again = billing_run(db, dt.date(2027, 1, 31), batch_size, 0, say)
    finally:
        db.dispose()
    return {
        "seed_s": t_seed,
        "run_s": t_run,
        "invoices_per_s": summary["invoices_created"] / t_run,
        "rerun_s": t_again,
        "rerun_created": again["invoices_created"],
        "peak_caller_mib": peak_rss_mb(),
        "peak_partition_mib": children.mib,
    }


def run(url: str, n: int, batch_size: int) -> None:
    measure(url, n, batch_size)


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


UNITS = {
    "seed_s": "s", "run_s": "s", "invoices_per_s": "invoices/s", "rerun_s": "s", "rerun_created": "invoices",
    "peak_caller_mib": "MiB", "peak_partition_mib": "MiB",
}  # fmt: skip


@scenario("billing.run", "billing run over 10k (quick) / 10k and 100k (full) active contracts, then a re-run")
def bench_billing_run(ctx: Context) -> None:
    for n in ctx.size(quick=[10_000], full=[10_000, 100_000]):
        repeat = min(ctx.repeat, 3) if n >= 100_000 else ctx.repeat
        samples: dict[str, list[float]] = {}
        for i in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                figures = measure(f"sqlite:///{tmp}/billing.db", n, 500, say=lambda _msg: None)
            ctx.log(f"{n} contracts, run {i + 1}/{repeat}: {figures['run_s']:.2f} s")
            for k, v in figures.items():
                samples.setdefault(k, []).append(v)
        ctx.record(
            f"{n:,} contracts, SQLite",
            samples,
            UNITS,
            note=f"{run_processes(n)} run processes, batches of 500, median of {repeat}; "
            "caller peak is the process's so far (sizes run smallest first), partition peak the "
            "largest partition process's",
        )


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
