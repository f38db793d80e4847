"""Bulk operations of the contracts service at scale (not a test; prints figures).

    .venv/bin/python bench/contracts_bulk.py [--contracts 10000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Seeds N active contracts of one customer (2 lines each: a printer and a service visit) directly
in a fresh database — an SQLite file in a temporary directory, or, with ``--pg`` (a server URL
whose user may create databases), a throwaway PostgreSQL database dropped afterwards — and
times, through the use-case functions the RPC methods call (one transaction each):

* ``co_terminate`` of all N contracts to one end date (every line and contract, a version and a
  ``contract_amended`` event each);
* a direct ``bulk_price_update`` (+3 % on the printer lines: N lines, N versions, N events);
* a ``bulk_price_update`` for approval (a batch of N amendments, numbered) and its approval
  (``apply_price_batch``: N contracts changed);
* a CSV import of N/2 contracts of 2 lines (N rows) into another fresh database: the rows sent
  in batches of 1000 (``import_batch``) and ``finish_import`` (validate every contract, insert
  them all in one transaction), customers and products answered by ``FakePeers``.

``make bench`` runs it as the ``contracts.bulk`` scenario (2,000 contracts quick, 10,000 full;
SQLite), one figure per operation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from harness import Context, scenario
from pg_scratch import pg_database

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "services" / "contracts") not in sys.path:
    sys.path.insert(0, str(ROOT / "services" / "contracts"))

from contracts import bulk, domain, importer  # noqa: E402
from contracts import models as m  # noqa: E402
from contracts.peers import FakePeers  # noqa: E402
from crm_common.db import DatabaseHandle, utcnow  # noqa: E402
from crm_common.testing import new_caller  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

ADMIN = new_caller("admin", user_id=1)
MANAGER = new_caller("sales_manager", user_id=2)
START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def seed(db: DatabaseHandle, n: int) -> list[int]:
    """N active contracts (version 1), 2 lines each, in multi-row inserts of 1000."""
    now = utcnow()
    contract = {
        "customer_id": 1, "customer_name": "Ankara Makine A.Ş.", "customer_code": "C000001",
        "customer_language": "tr", "customer_level": "A", "customer_owner_id": 3, "kind": "maintenance",
        "title": "Bakım sözleşmesi", "currency": "EUR", "start_date": START, "end_date": END,
        "payment_terms_days": 30, "billing_frequency": "monthly", "billing_in_advance": True,
        "auto_renew": False, "notice_days": 0, "renewal_uplift_percent": Decimal(0), "owner_id": 3,
        "field_values": {}, "status": domain.ACTIVE, "version": 1, "total": Decimal("180.99"),
        "amounts_locked": False, "created_at": now, "updated_at": now, "approved_at": now, "activated_at": now,
    }  # fmt: skip
    printer = {
        "position": 1, "product_id": 10, "sku": "PRN-1", "product_name": "Laser printer", "product_kind": "device",
        "category": "Devices/Printers", "category_key": "devices/printers", "quantity": Decimal(1),
        "unit_price": Decimal("99.99"), "discount_percent": Decimal(0), "amount": Decimal("99.99"),
        "price_source": "manual", "created_at": now, "updated_at": now,
    }  # fmt: skip
    visit = {
        **printer, "position": 2, "product_id": 11, "sku": "SVC-1", "product_name": "Maintenance visit",
        "product_kind": "service", "category": "Services", "category_key": "services", "quantity": Decimal(2),
        "unit_price": Decimal("45.00"), "discount_percent": Decimal(10), "amount": Decimal("81.00"),
    }  # fmt: skip
    ids: list[int] = []
    with db.transaction(ADMIN) as uow:
        s = uow.session
        for start in range(0, n, 1000):
            rows = [
                {**contract, "number": domain.contract_number(2026, i + 1)}
                for i in range(start, min(n, start + 1000))
            ]
            chunk = list(
                s.execute(
                    insert(m.contracts).returning(m.contracts.c.id, sort_by_parameter_order=True), rows
                ).scalars()
            )
            lines = [{**line, "contract_id": cid} for cid in chunk for line in (printer, visit)]
            s.execute(insert(m.contract_lines), lines)
            ids.extend(chunk)
        s.execute(insert(m.counters).values(name=domain.counter_name(2026), value=n))
    return ids


def timed(label: str, fn, say: Callable[[str], None] = print):
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    say(f"{label:<48} {seconds:7.2f} s")
    return result, seconds


def run(url: str, n: int, say: Callable[[str], None] = print) -> dict[str, float]:
    db = DatabaseHandle("contracts", m.metadata, url)
    db.create_all()
    try:
        ids, t_seed = timed(f"seed {n} active contracts (2 lines each)", lambda: seed(db, n), say)
        co, t_co = timed(
            f"co_terminate {n} contracts",
            lambda: bulk.co_terminate(db, ADMIN, {"contract_ids": ids, "end_date": "2027-03-31"}),
            say,
        )
        assert co["changed"] == n, co["skipped"][:3]
        direct, t_direct = timed(
            f"bulk_price_update direct, {n} lines",
            lambda: bulk.bulk_price_update(
                db,
                ADMIN,
                {"percent": "3", "product_ids": [10], "effective_date": "2026-12-01", "direct": True},
            ),
            say,
        )
        assert direct["lines_changed"] == n
        batch, t_submit = timed(
            f"bulk_price_update for approval, {n} amendments",
            lambda: bulk.bulk_price_update(
                db, MANAGER, {"percent": "-10", "category": "Services", "effective_date": "2027-01-01"}
            ),
            say,
        )
        assert batch["contracts_changed"] == n
        applied, t_apply = timed(
            "apply_price_batch (approved)",
            lambda: bulk.apply_price_batch(db, batch["batch_id"], True, "ok"),
            say,
        )
        assert applied["summary"]["applied_contracts"] == n
        with db.read() as s:
            versions = s.execute(select(func.count()).select_from(m.contract_versions)).scalar_one()
            events = s.execute(select(func.count()).select_from(db.infra.outbox)).scalar_one()
        say(f"{'versions written / events in the outbox':<48} {versions} / {events}")
        return {
            "seed": t_seed,
            "co_terminate": t_co,
            "direct": t_direct,
            "submit": t_submit,
            "apply": t_apply,
        }
    finally:
        db.dispose()


def run_import(url: str, n: int, say: Callable[[str], None] = print) -> float:
    """N/2 contracts of 2 lines each through the CSV import's use cases; returns the seconds."""
    db = DatabaseHandle("contracts", m.metadata, url)
    db.create_all()
    peers = FakePeers(
        customers={1: {"name": "Ankara Makine A.Ş.", "code": "C000001", "language": "tr", "level": "A", "owner_id": 2}},
        products={10: {"sku": "PRN-1", "name": "Laser printer", "kind": "device", "unit_price": "99.99",
                       "currency": "EUR", "category": "Devices/Printers", "serialized": False},
                  11: {"sku": "SVC-1", "name": "Maintenance visit", "kind": "service", "unit_price": "45.00",
                       "currency": "EUR", "category": "Services", "serialized": False}},
    )  # fmt: skip
    header = {"customer_id": "1", "title": "Eski sözleşme", "kind": "maintenance", "currency": "EUR",
              "start_date": "2027-01-01", "end_date": "2027-12-31", "billing_frequency": "monthly"}  # fmt: skip
    rows = []
    for i in range(n // 2):
        for product, price in (("10", "99.99"), ("11", "45.00")):
            data = {
                **header,
                "contract_ref": f"R{i}",
                "product_id": product,
                "quantity": "1",
                "unit_price": price,
            }
            rows.append({"line": len(rows) + 2, "data": data})
    try:
        job = importer.start_import(db, MANAGER, "all_or_nothing", "bench.csv")
        _, t_send = timed(
            f"import: send {len(rows)} rows in batches of 1000",
            lambda: [importer.import_batch(db, MANAGER, job["job_id"], rows[i : i + 1000]) for i in range(0, len(rows), 1000)],
            say,
        )  # fmt: skip
        result, t_finish = timed(
            f"import: finish ({n // 2} contracts)",
            lambda: importer.finish_import(db, peers, MANAGER, job["job_id"]),
            say,
        )
        assert result["created"] == n // 2, result.get("errors", [])[:3]
        return t_send + t_finish
    finally:
        db.dispose()


UNITS = {k: "s" for k in ("seed", "co_terminate", "direct", "submit", "apply", "import")}


@scenario("contracts.bulk", "bulk contract operations and CSV import over 2k (quick) / 10k (full) contracts")
def bench_contracts_bulk(ctx: Context) -> None:
    n = ctx.size(quick=2_000, full=10_000)
    samples: dict[str, list[float]] = {}
    for i in range(ctx.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            figures = run(f"sqlite:///{tmp}/contracts.db", n, say=lambda _msg: None)
            figures["import"] = run_import(f"sqlite:///{tmp}/import.db", n, say=lambda _msg: None)
        ctx.log(f"run {i + 1}/{ctx.repeat}: " + ", ".join(f"{k} {v:.2f} s" for k, v in figures.items()))
        for k, v in figures.items():
            samples.setdefault(k, []).append(v)
    ctx.record(
        f"{n:,} contracts, SQLite",
        samples,
        UNITS,
        note="seconds per operation over all N contracts (co_terminate, direct +3 %, batch for approval, "
        f"its approval); import = {n // 2:,} contracts of 2 lines sent in batches and finished",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--pg", help="PostgreSQL server URL (a throwaway database is made on it)")
    args = parser.parse_args()
    if args.pg:
        url, drop = pg_database(args.pg)
        print(f"PostgreSQL ({url.rsplit('/', 1)[-1]})")
        try:
            run(url, args.contracts)
        finally:
            drop()
        url, drop = pg_database(args.pg)
        try:
            run_import(url, args.contracts)
        finally:
            drop()
        return
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite ({tmp}/contracts.db)")
        run(f"sqlite:///{tmp}/contracts.db", args.contracts)
        run_import(f"sqlite:///{tmp}/import.db", args.contracts)


if __name__ == "__main__":
    main()
