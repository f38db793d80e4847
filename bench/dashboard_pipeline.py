"""The customers part of the dashboard (``pipeline``) at scale — not a test; prints figures.

    .venv/bin/python bench/dashboard_pipeline.py [--opportunities 10000] [--runs 30] \
        [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Seeds N opportunities directly in a fresh database (an SQLite file in a temporary directory, or
with ``--pg`` a throwaway PostgreSQL database dropped afterwards): 500 customers, every stage,
three currencies, expected closes over three years (a tenth without one), 20 owners in 4
departments (the users read copy); ``ANALYZE`` on PostgreSQL (what autovacuum does after a bulk
load). Then times ``pipeline`` through the use-case function the RPC
method calls, for an admin (everything), a department manager and a sales rep: median and
slowest of ``--runs``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "customers"))

from crm_common.db import DatabaseHandle, utcnow  # noqa: E402
from crm_common.testing import new_caller  # noqa: E402
from crm_common.text import name_key  # noqa: E402
from customers import dashboard, domain  # noqa: E402
from customers import models as m  # noqa: E402
from dashboard_billing import customer_language, customer_name  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

ADMIN = new_caller("admin", user_id=1)
MANAGER = new_caller("sales_manager", user_id=2, department="D1")
REP = new_caller("sales_rep", user_id=103)
CURRENCIES = ("EUR", "EUR", "USD", "TRY")


def seed(db: DatabaseHandle, n: int) -> None:
    now = utcnow()
    with db.transaction(ADMIN) as uow:
        s = uow.session
        s.execute(
            insert(m.users),
            [
                {"id": 100 + i, "username": f"u{i}", "roles": ["sales_rep"], "department": f"D{i % 4}",
                 "is_department_head": False, "active": True, "event_at": now, "updated_at": now}
                for i in range(20)
            ],
        )  # fmt: skip
        customers = [
            {"code": domain.customer_code(i + 1), "name": customer_name(i + 1), "kind": "company", "tags": [],
             "owner_id": 100 + i % 20, "language": customer_language(i + 1), "name_key": name_key(customer_name(i + 1)),
             "tags_key": "", "search_key": domain.search_key(customer_name(i + 1), domain.customer_code(i + 1), None, None, None),
             "created_at": now, "updated_at": now, "red_listed": False}
            for i in range(500)
        ]  # fmt: skip
        s.execute(insert(m.customers), customers)
        rows = []
        for i in range(n):
            stage = domain.STAGES[i % len(domain.STAGES)]
            rows.append(
                {"customer_id": 1 + i % 500, "title": f"Deal {i}", "amount": f"{i % 997}.{i % 100:02d}",
                 "currency": CURRENCIES[i % 4], "stage": stage,
                 "expected_close": None if i % 10 == 0 else dt.date(2026 + i % 3, 1 + i % 12, 1 + i % 28),
                 "owner_id": 100 + i % 20, "closed_at": now if stage in domain.CLOSED_STAGES else None,
                 "created_at": now, "updated_at": now}
            )  # fmt: skip
        s.execute(insert(m.opportunities), rows)


def timed(db, caller, runs: int) -> tuple[float, float, dict]:
    times, answer = [], {}
    for _ in range(runs):
        t0 = time.perf_counter()
        answer = dashboard.pipeline(db, caller, {"year": 2027})
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times), answer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--opportunities", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pg", help="a PostgreSQL server URL (a throwaway database is made on it)")
    args = parser.parse_args()
    drop = None
    if args.pg:
        name = f"bench_pipeline_{uuid.uuid4().hex[:8]}"
        args.pg = args.pg.replace("postgresql://", "postgresql+psycopg2://", 1)
        admin_engine = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        parts = urllib.parse.urlsplit(args.pg)
        url = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))

        def drop() -> None:
            with admin_engine.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/customers.db"
    db = DatabaseHandle("customers", m.metadata, url)
    try:
        db.create_all()
        t0 = time.perf_counter()
        seed(db, args.opportunities)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("ANALYZE"))  # what autovacuum does after a bulk load
        print(
            f"{db.engine.dialect.name}: seeded {args.opportunities} opportunities in {time.perf_counter() - t0:.1f} s"
        )
        for label, caller in (("admin", ADMIN), ("department manager", MANAGER), ("sales rep", REP)):
            median, worst, answer = timed(db, caller, args.runs)
            n = sum(v["count"] for v in answer["stages"].values())
            print(f"pipeline {label:20s} median {median:6.1f} ms  max {worst:6.1f} ms  ({n} in 2027)")
    finally:
        db.dispose()
        if drop:
            drop()


if __name__ == "__main__":
    main()
