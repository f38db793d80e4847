"""The contracts part of the dashboard at scale (not a test; prints figures).

    .venv/bin/python bench/dashboard_contracts.py [--contracts 10000] [--runs 30] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Seeds N contracts directly in a fresh database (an SQLite file in a temporary directory, or with
``--pg`` a throwaway PostgreSQL database dropped afterwards): mixed statuses (60 % active, the
rest approved, draft, expired, terminated, cancelled), three currencies, end dates over three
years, 20 owners in 4 departments (the users read copy), 2 lines each (a printer with a serial
number, a service visit). Then times, through the use-case functions the RPC methods call, the
``dashboard`` for an admin (every contract), a department manager and a sales rep, and
``list_items`` for a portal user and a staff search — the median and the slowest of ``--runs``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from dashboard_billing import customer_language, customer_name
from pg_scratch import pg_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "contracts"))

from contracts import dashboard, domain, portal  # noqa: E402
from contracts import models as m  # noqa: E402
from crm_common.context import CallerContext  # noqa: E402
from crm_common.db import DatabaseHandle, utcnow  # noqa: E402
from crm_common.testing import new_caller  # noqa: E402
from sqlalchemy import insert  # noqa: E402

ADMIN = new_caller("admin", user_id=1)
MANAGER = new_caller("sales_manager", user_id=2, department="D1")
REP = new_caller("sales_rep", user_id=3)
PORTAL = CallerContext(user_id=99, username="portal", roles=("portal",), customer_id=7)
AS_OF = dt.date(2026, 11, 23)
STATUSES = ["active"] * 12 + [
    "approved",
    "approved",
    "draft",
    "draft",
    "expired",
    "expired",
    "terminated",
    "cancelled",
]
CURRENCIES = ("EUR", "EUR", "USD", "TRY")


def seed(db: DatabaseHandle, n: int) -> None:
    now = utcnow()
    with db.transaction(ADMIN) as uow:
        s = uow.session
        s.execute(
            insert(m.users),
            [{"id": u, "department": f"D{u % 4}", "roles": ["sales_rep"], "active": True, "event_at": now}
             for u in range(3, 23)],
        )  # fmt: skip
        for start in range(0, n, 1000):
            rows = []
            for i in range(start, min(n, start + 1000)):
                status = STATUSES[i % len(STATUSES)]
                end = dt.date(2026, 1, 1) + dt.timedelta(days=(i * 7) % 1095)
                signed = (
                    now - dt.timedelta(days=(i * 3) % 700) if status not in ("draft", "cancelled") else None
                )
                rows.append({
                    "number": domain.contract_number(2026, i + 1), "customer_id": 1 + i % 500,
                    "customer_name": customer_name(1 + i % 500), "customer_language": customer_language(1 + i % 500), "customer_owner_id": 3,
                    "kind": "maintenance", "title": f"Contract {i}", "currency": CURRENCIES[i % 4],
                    "start_date": end - dt.timedelta(days=364), "end_date": end, "payment_terms_days": 30,
                    "billing_frequency": "monthly", "billing_in_advance": True, "auto_renew": i % 3 == 0,
                    "notice_days": 30, "renewal_uplift_percent": Decimal(0), "owner_id": 3 + i % 20,
                    "field_values": {}, "status": status, "version": 1, "total": Decimal(f"{100 + i % 900}.{i % 100:02d}"),
                    "amounts_locked": False, "created_at": now, "updated_at": now, "approved_at": signed,
                    "renewed_by_id": 1 if i % 10 == 0 else None,
                })  # fmt: skip
            ids = list(
                s.execute(
                    insert(m.contracts).returning(m.contracts.c.id, sort_by_parameter_order=True), rows
                ).scalars()
            )
            lines = []
            for cid in ids:
                base = {"contract_id": cid, "quantity": Decimal(1), "unit_price": Decimal(100), "discount_percent": Decimal(0),
                        "amount": Decimal(100), "created_at": now, "updated_at": now}  # fmt: skip
                lines.append({**base, "position": 1, "product_id": 10, "sku": "PRN-1", "product_name": "Laser printer",
                              "product_kind": "device", "model": f"LJ-{cid % 50}", "serial_number": f"SN-{cid:06d}",
                              "manufacturing_number": f"MFG-{cid:06d}"})  # fmt: skip
                lines.append({**base, "position": 2, "product_id": 11, "sku": "SVC-1",
                              "product_name": "Maintenance visit", "product_kind": "service", "model": None,
                              "serial_number": None, "manufacturing_number": None})  # fmt: skip
            s.execute(insert(m.contract_lines), lines)


def measure(label: str, fn, runs: int) -> float:
    fn()  # warm: connections, statement caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    median = statistics.median(times)
    print(f"{label:<52} median {median:6.1f} ms   max {max(times):6.1f} ms", flush=True)
    return median


def run(url: str, n: int, runs: int) -> None:
    db = DatabaseHandle("contracts", m.metadata, url)
    db.create_all()
    try:
        started = time.perf_counter()
        seed(db, n)
        print(f"seeded {n} contracts, {2 * n} lines in {time.perf_counter() - started:.1f} s")
        args = {"as_of": AS_OF.isoformat()}
        d = dashboard.dashboard(db, ADMIN, args)
        print(f"  admin: active {d['active_contracts']}, renewals {d['renewals']['count']}, "
              f"signed in {d['year']}: {d['signed_in_year']['count']}, by status {d['by_status']}")  # fmt: skip
        print(f"  active value {d['active_value']}")
        measure("dashboard, admin (all contracts)", lambda: dashboard.dashboard(db, ADMIN, args), runs)
        measure(
            "dashboard, sales manager of a department", lambda: dashboard.dashboard(db, MANAGER, args), runs
        )
        measure("dashboard, sales rep", lambda: dashboard.dashboard(db, REP, args), runs)
        measure("list_items, portal user (own customer)", lambda: portal.list_items(db, PORTAL), runs)
        measure(
            "list_items, admin q='sn-0042' (all lines)",
            lambda: portal.list_items(db, ADMIN, {"q": "sn-0042"}),
            runs,
        )
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pg", help="PostgreSQL server URL (a throwaway database is made on it)")
    args = parser.parse_args()
    if args.pg:
        url, drop = pg_database(args.pg)
        print(f"PostgreSQL ({url.rsplit('/', 1)[-1]})")
        try:
            run(url, args.contracts, args.runs)
        finally:
            drop()
        return
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite ({tmp}/contracts.db)")
        run(f"sqlite:///{tmp}/contracts.db", args.contracts, args.runs)


if __name__ == "__main__":
    main()
