"""The whole dashboard through the gateway at scale (not a test; prints figures).

    .venv/bin/python bench/harness.py --only dashboard.latency [--mode quick|full]
    .venv/bin/python bench/dashboard.py [--contracts 10000] [--invoices 100000] [--payments 60000]
        [--opportunities 10000] [--requests 30]

Seeds the embedded SQLite databases of a fresh data directory, each migrated like a deployment
(Alembic) and filled through its own service's tables: contracts with ``bench/dashboard_contracts.py``'s
seed (N contracts with their lines and a users copy), billing with ``bench/dashboard_billing.py``'s
(N schedules, M invoices, P payments, credit notes, refunds, customers and users copies) and the
customers service with K opportunities over every stage, three currencies and two years. Then
starts the whole system with the local runner (``make run``'s code path) on a throwaway vhost
and times ``GET /api/v1/dashboard?year=&as_of=`` over HTTP, one request after the other: the
first (after ``--settle`` seconds, in which billing warms its dashboard up) and the median, p95 and slowest of ``--requests`` more, for an administrator (every
record) and for a sales manager of one department. The three services answer their parts in
parallel; the slowest part bounds the answer. Customer names are multilingual (Chinese, Turkish,
Bulgarian, English companies from :mod:`datagen`), the same customer number the same name in
every service. As the harness scenario ``dashboard.latency``: 2,000 contracts, 20,000 invoices,
12,000 payments, 2,000 opportunities and 10 requests per role in quick mode; 10,000 / 100,000 /
60,000 / 10,000 and 30 requests in full mode.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "services" / "customers"))

import dashboard_billing  # noqa: E402
import dashboard_contracts  # noqa: E402
from billing import models as billing_models  # noqa: E402
from contracts import models as contracts_models  # noqa: E402
from crm_common.db import DatabaseHandle, fast_insert, utcnow  # noqa: E402
from crm_common.migrations import upgrade  # noqa: E402
from crm_common.testing import run_system  # noqa: E402
from crm_common.text import name_key  # noqa: E402
from customers import models as customers_models  # noqa: E402
from customers.domain import search_key  # noqa: E402
from dashboard_billing import customer_language, customer_name  # noqa: E402
from harness import Context, scenario  # noqa: E402
from sqlalchemy import func, update  # noqa: E402

STAGES = ("lead", "qualified", "proposal", "negotiation", "won", "lost")
CURRENCIES = ("EUR", "EUR", "USD", "TRY")


def migrated(service: str, metadata, data_dir: Path) -> DatabaseHandle:
    url = f"sqlite:///{data_dir / (service + '.db')}"
    upgrade(str(ROOT / "services" / service), url)
    return DatabaseHandle(service, metadata, url)


def seed_opportunities(db: DatabaseHandle, n: int) -> None:
    rnd = random.Random(11)
    now = utcnow()
    customers = 500
    with db.transaction() as uow:
        s = uow.session
        fast_insert(
            s,
            customers_models.users,
            [{"id": u, "roles": ["sales_rep"], "department": f"D{u % 4}", "is_department_head": False,
              "active": True, "event_at": now, "updated_at": now} for u in range(3, 23)],
        )  # fmt: skip
        fast_insert(
            s,
            customers_models.customers,
            [{"id": c, "code": f"C{c:06d}", "name": customer_name(c), "kind": "company", "tags": [],
              "language": customer_language(c), "red_listed": False, "name_key": name_key(customer_name(c)),
              "tags_key": "", "search_key": search_key(customer_name(c), f"C{c:06d}", None, None, None),
              "owner_id": 3 + c % 20, "created_at": now, "updated_at": now}
             for c in range(1, customers + 1)],
        )  # fmt: skip
        rows = []
        for i in range(n):
            close = dt.date(2026, 1, 1) + dt.timedelta(days=rnd.randrange(730))
            rows.append({
                "customer_id": 1 + i % customers, "title": f"Opportunity {i}",
                "amount": Decimal(rnd.randint(1000, 500000)) / 100, "currency": CURRENCIES[i % 4],
                "stage": STAGES[i % 6], "expected_close": close if i % 10 else None,
                "owner_id": 3 + i % 20, "created_at": now, "updated_at": now,
            })  # fmt: skip
        fast_insert(s, customers_models.opportunities, rows)


def timed_requests(client: httpx.Client, headers: dict, params: dict, n: int) -> dict:
    started = time.perf_counter()
    first = client.get("/api/v1/dashboard", params=params, headers=headers)
    cold = (time.perf_counter() - started) * 1000
    assert first.status_code == 200 and first.json()["unavailable"] == [], first.text
    times = []
    for _ in range(n):
        started = time.perf_counter()
        r = client.get("/api/v1/dashboard", params=params, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
    times.sort()
    return {
        "cold": cold,
        "median": statistics.median(times),
        "p95": times[min(len(times) - 1, int(0.95 * len(times)))],
        "max": times[-1],
        "times": times,
        "body": first.json(),
    }


def seed_all(data_dir: Path, contracts: int, invoices: int, payments: int, opportunities: int) -> None:
    """Migrate and fill the contracts, billing and customers databases of ``data_dir``."""
    db = migrated("contracts", contracts_models.metadata, data_dir)
    dashboard_contracts.seed(db, contracts)
    db.dispose()
    db = migrated("billing", billing_models.metadata, data_dir)
    dashboard_billing.seed(db, contracts, invoices, payments)
    with db.transaction() as uow:  # one spelling of the departments in every service (D0..D3)
        uow.session.execute(
            update(billing_models.users).values(department=func.upper(billing_models.users.c.department))
        )
    db.dispose()
    db = migrated("customers", customers_models.metadata, data_dir)
    seed_opportunities(db, opportunities)
    db.dispose()


def measure(data_dir: Path, requests: int, settle: float) -> dict[str, dict]:
    """Start the system on the seeded ``data_dir`` and time the dashboard for an administrator
    and a sales manager of department D1 (:func:`timed_requests` each)."""
    overrides = {"CRM_RPC_TIMEOUT": "30", "CRM_LOG_LEVEL": "WARNING"}
    results: dict[str, dict] = {}
    with (
        run_system(ROOT, data_dir, overrides) as system,
        httpx.Client(base_url=system.base_url, timeout=60) as client,
    ):

        def token(username: str, password: str) -> dict:
            r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        admin = token("admin", system.admin_password)
        r = client.post(
            "/api/v1/users",
            json={"username": "bench-manager", "password": "bench-manager-1", "roles": ["sales_manager"],
                  "department": "D1"},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        manager = token("bench-manager", "bench-manager-1")
        time.sleep(settle)
        params = {"year": dashboard_billing.YEAR, "as_of": dashboard_billing.AS_OF.isoformat()}
        for label, headers in (
            ("administrator (everything)", admin),
            ("sales manager, department D1", manager),
        ):
            results[label] = timed_requests(client, headers, params, requests)
    return results


@scenario("dashboard.latency", "GET /api/v1/dashboard, 2k/10k contracts and 20k/100k invoices, two roles")
def bench_dashboard(ctx: Context) -> None:
    contracts = ctx.size(quick=2_000, full=10_000)
    invoices = ctx.size(quick=20_000, full=100_000)
    payments, opportunities = invoices * 6 // 10, contracts
    requests = ctx.size(quick=10, full=30)
    with tempfile.TemporaryDirectory(prefix="crm-bench-dashboard-") as tmp:
        started = time.perf_counter()
        seed_all(Path(tmp), contracts, invoices, payments, opportunities)
        seeded = time.perf_counter() - started
        ctx.log(f"seeded in {seeded:.0f} s")
        results = measure(Path(tmp), requests, ctx.size(quick=5.0, full=15.0))
    for label, result in results.items():
        ctx.record(
            f"{label}",
            {"first": result["cold"], "median": result["times"], "p95": result["p95"], "max": result["max"]},
            {"first": "ms", "median": "ms", "p95": "ms", "max": "ms"},
            note=f"{contracts:,} contracts, {invoices:,} invoices, {payments:,} payments, "
            f"{opportunities:,} opportunities (SQLite); {requests} requests one after the other",
        )
    ctx.record("seeding", {"seconds": seeded}, {"seconds": "s"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--payments", type=int, default=60_000)
    parser.add_argument("--opportunities", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--settle", type=float, default=15.0, help="seconds to wait after start (billing's dashboard warm-up)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="crm-bench-dashboard-") as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        seed_all(data_dir, args.contracts, args.invoices, args.payments, args.opportunities)
        print(
            f"seeded {args.contracts} contracts (+ as many billing schedules), {args.invoices} invoices, "
            f"{args.payments} payments, {args.opportunities} opportunities in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        for label, result in measure(data_dir, args.requests, args.settle).items():
            body = result["body"]
            print(
                f"GET /api/v1/dashboard, {label:<30} cold {result['cold']:6.0f} ms   median "
                f"{result['median']:6.0f} ms   p95 {result['p95']:6.0f} ms   max {result['max']:6.0f} ms",
                flush=True,
            )
            print(
                f"    active contracts {body['active_contracts']}, MRR {body['mrr']}, "
                f"receivables {body['receivables']}, pipeline lead {body['pipeline']['lead']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
