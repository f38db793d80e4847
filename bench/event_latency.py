"""End-to-end latency of the event chain contract approved → invoice issued → notification in the
inbox (not a test).

    .venv/bin/python bench/harness.py --only events.latency [--mode quick|full]
    .venv/bin/python bench/event_latency.py [--mode quick|full] [--contracts N]

Starts the whole system with the local runner (``make run``'s code path) on a throwaway vhost and
data directory, with ``CRM_OUTBOX_POLL_SECONDS`` at its default (1 s: the relay is woken by the
commit that wrote outbox rows in the same process, the poll only catches rows written by other
processes). A sales rep owns N customers (multilingual names from :mod:`datagen`) with a
monthly contract each starting today, drafted and submitted by the rep; then, one contract at a
time, nothing else going on:

1. the administrator approves the contract's approval request: ``t0`` = the
   ``POST /api/v1/approvals/{id}/decision`` call returned;
2. approvals announces the decision, contracts approves the contract and, its term having
   started, activates it (``activated_at``, stored by contracts) and announces
   ``contract_activated``;
3. billing makes the contract's schedule (``created_at``, stored by billing, read from its
   database afterwards); the schedule is polled every 20 ms over HTTP;
4. as soon as the schedule is visible, a billing run for today (``POST /api/v1/billing/runs``,
   what the daily job does) issues the invoice (``created_at``, stored by billing) and billing
   announces ``invoice_issued``;
5. notify puts "Invoice … issued" in the rep's inbox (``created_at``, stored by notify), polled
   every 20 ms over ``GET /api/v1/notifications``.

The hops are differences of the stored timestamps (one clock: every process runs on this
machine), so the 20 ms polling does not blur them; the polled times are reported beside them.
Billing issues invoices in billing runs, not on activation: in production the run is the daily
job, so a contract approved today waits for the next run; here the run is started at once and its
duration is reported as its own hop. ``--outbox-poll`` sets ``CRM_OUTBOX_POLL_SECONDS`` for a
comparison (the harness runs the default). Reported: p50/p95/max over the contracts of each hop and of
the total (approval returned → notification stored). Quick: 10 contracts; full: 50.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

import datagen
import httpx
from billing import models as billing_models
from gateway_http import run_standalone
from harness import Context, percentile, scenario
from sqlalchemy import create_engine, select

T = TypeVar("T")
POLL = 0.02  # seconds between two polls
DEFAULT_OUTBOX_POLL = "1.0 s (CRM_OUTBOX_POLL_SECONDS unset; the relay is also woken on commit)"
HOPS = {
    "approved_to_active_ms": "decision returned → contract active (approvals → contracts)",
    "active_to_schedule_ms": "contract active → billing schedule stored (contracts → billing)",
    "billing_run_ms": "POST /api/v1/billing/runs: schedule visible → invoice stored and run returned",
    "invoice_to_inbox_ms": "invoice stored → inbox notification stored (billing → notify)",
    "total_ms": "decision returned → notification stored",
    "polled_total_ms": "decision returned → notification seen by a 20 ms poll",
}


def poll(fn: Callable[[], T | None], timeout: float = 60.0, what: str = "condition") -> tuple[T, float]:
    """Call ``fn`` every 20 ms until it returns something; that and the wall time it was seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value, time.time()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not seen within {timeout:.0f} s")
        time.sleep(POLL)


def stamp(value: str) -> float:
    """A stored ISO timestamp as seconds since the epoch."""
    return dt.datetime.fromisoformat(value).timestamp()


def ok(r: httpx.Response, status: int = 200) -> Any:
    if r.status_code != status:
        raise RuntimeError(
            f"{r.request.method} {r.request.url.path} answered {r.status_code}: {r.text[:500]}"
        )
    return r.json()


def login(base_url: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=60)
    token = ok(client.post("/api/v1/auth/token", data={"username": username, "password": password}))
    client.headers["Authorization"] = f"Bearer {token['access_token']}"
    return client


def prepare(admin: httpx.Client, rep: httpx.Client, n: int, rng: random.Random) -> list[dict[str, Any]]:
    """N customers of the rep with a monthly maintenance contract each, starting today, submitted;
    returns the contracts with their pending approval request."""
    today = dt.datetime.now(dt.UTC).date()
    product = ok(
        admin.post(
            "/api/v1/products",
            json={"sku": f"SVC-{uuid.uuid4().hex[:8]}", "name": "Printer maintenance / 打印机维护",
                  "kind": "service", "unit_price": "120.00", "currency": "EUR"},
        ),
        201,
    )  # fmt: skip
    contracts = []
    for i in range(n):
        lang = datagen.LANGS[i % len(datagen.LANGS)]
        customer = ok(
            rep.post(
                "/api/v1/customers",
                json={"name": f"{datagen.company_name(rng, lang)} {uuid.uuid4().hex[:6]}", "kind": "company",
                      "language": lang},
            ),
            201,
        )  # fmt: skip
        contract = ok(
            rep.post(
                "/api/v1/contracts",
                json={"customer_id": customer["id"], "title": f"Maintenance {today.year} — {customer['name']}",
                      "kind": "maintenance", "currency": "EUR", "start_date": today.isoformat(),
                      "end_date": (today + dt.timedelta(days=364)).isoformat(),
                      "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
                      "lines": [{"product_id": product["id"], "quantity": 1}]},
            ),
            201,
        )  # fmt: skip
        ok(rep.post(f"/api/v1/contracts/{contract['id']}/submit"))
        contracts.append(contract)

    def pending() -> dict[str, int] | None:
        items = ok(
            admin.get("/api/v1/approvals", params={"status": "pending", "mine": "true", "page_size": 500})
        )
        found = {str(a["document_id"]): a["id"] for a in items["items"] if a["document_type"] == "contract"}
        return found if all(str(c["id"]) in found for c in contracts) else None

    requests, _ = poll(pending, what="approval requests of the submitted contracts")
    return [{**c, "approval_request": requests[str(c["id"])]} for c in contracts]


def follow(admin: httpx.Client, rep: httpx.Client, contract: dict[str, Any]) -> dict[str, float]:
    """Approve one contract and follow it to the owner's inbox; its hops in ms (stored
    timestamps) and the polled times."""
    today = dt.datetime.now(dt.UTC).date()
    cid = contract["id"]
    ok(
        admin.post(
            f"/api/v1/approvals/{contract['approval_request']}/decision",
            json={"decision": "approve", "comment": "bench"},
        )
    )
    t0 = time.time()

    def active() -> dict | None:
        body = ok(admin.get(f"/api/v1/contracts/{cid}"))
        return body if body["status"] == "active" else None

    body, _ = poll(active, what=f"contract {cid} active")
    r = None

    def schedule() -> bool:
        nonlocal r
        r = admin.get(f"/api/v1/billing/schedules/{cid}")
        return r.status_code == 200

    _, t_schedule_seen = poll(schedule, what=f"billing schedule of contract {cid}")
    run = ok(admin.post("/api/v1/billing/runs", json={"as_of": today.isoformat()}), 201)
    t_run = time.time()
    if run["status"] != "completed" or run["failed"]:
        raise RuntimeError(f"the billing run did not complete: {run}")
    invoices = ok(admin.get("/api/v1/invoices", params={"contract_id": cid}))["items"]
    if len(invoices) != 1:
        raise RuntimeError(f"contract {cid}: {len(invoices)} invoices after the run, not 1")
    invoice = invoices[0]

    def note() -> dict | None:
        items = ok(rep.get("/api/v1/notifications", params={"page_size": 20}))["items"]
        return next(
            (
                x
                for x in items
                if x["event_type"] == "invoice_issued" and x["document_id"] == str(invoice["id"])
            ),
            None,
        )

    notification, t_note_seen = poll(note, what=f"inbox notification of invoice {invoice['number']}")
    return {
        "t0": t0,
        "activated": stamp(body["activated_at"]),
        "schedule_seen": t_schedule_seen,
        "run_returned": t_run,
        "invoice": stamp(invoice["created_at"]),
        "notification": stamp(notification["created_at"]),
        "notification_seen": t_note_seen,
    }


def schedule_stamps(data_dir: Path) -> dict[int, float]:
    """``created_at`` of every billing schedule, read from billing's database (the API does not
    show it)."""
    engine = create_engine(f"sqlite:///{data_dir / 'billing.db'}")
    try:
        with engine.connect() as conn:
            s = billing_models.schedules.c
            return {
                row.contract_id: row.created_at.timestamp()
                for row in conn.execute(select(s.contract_id, s.created_at))
            }
    finally:
        engine.dispose()


@scenario("events.latency", "contract approved → invoice issued → notification in the inbox, per contract")
def bench_events(ctx: Context, contracts: int | None = None, outbox_poll: float | None = None) -> None:
    n = contracts or ctx.size(quick=10, full=50)
    rng = random.Random(5)
    overrides = {} if outbox_poll is None else {"CRM_OUTBOX_POLL_SECONDS": str(outbox_poll)}
    poll_note = DEFAULT_OUTBOX_POLL if outbox_poll is None else f"{outbox_poll:g} s (CRM_OUTBOX_POLL_SECONDS)"
    with ctx.system(overrides) as system:
        with closing(login(system.base_url, "admin", system.admin_password)) as admin:
            username, password = f"rep_{uuid.uuid4().hex[:8]}", "bench-Pa55word!"
            ok(
                admin.post(
                    "/api/v1/users",
                    json={"username": username, "password": password, "roles": ["sales_rep"],
                          "full_name": datagen.person_name(rng, "tr"), "language": "tr"},
                ),
                201,
            )  # fmt: skip
            with closing(login(system.base_url, username, password)) as rep:
                prepared = prepare(admin, rep, n, rng)
                ctx.log(f"{n} contracts submitted, approval requests open; following each one")
                traces = {c["id"]: follow(admin, rep, c) for c in prepared}
        schedules = schedule_stamps(system.data_dir)
    samples: dict[str, list[float]] = {k: [] for k in HOPS}
    for cid, t in traces.items():
        ms = {
            "approved_to_active_ms": t["activated"] - t["t0"],
            "active_to_schedule_ms": schedules[cid] - t["activated"],
            "billing_run_ms": t["run_returned"] - t["schedule_seen"],
            "invoice_to_inbox_ms": t["notification"] - t["invoice"],
            "total_ms": t["notification"] - t["t0"],
            "polled_total_ms": t["notification_seen"] - t["t0"],
        }
        for k, v in ms.items():
            samples[k].append(v * 1000)
    for hop, label in HOPS.items():
        values = samples[hop]
        ctx.record(
            label,
            {"p50": values, "p95": percentile(values, 0.95), "max": max(values)},
            {"p50": "ms", "p95": "ms", "max": "ms"},
            note=f"{n} contracts one after the other; outbox poll {poll_note}" if hop == "total_ms" else "",
        )
        ctx.log(
            f"{label}: p50 {percentile(values, 0.5):.0f} ms, p95 {percentile(values, 0.95):.0f} ms, max {max(values):.0f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["quick", "full"], default="full")
    parser.add_argument("--contracts", type=int, default=None, help="contracts to follow (quick 10, full 50)")
    parser.add_argument(
        "--outbox-poll", type=float, default=None, help="CRM_OUTBOX_POLL_SECONDS (default: unset, 1 s)"
    )
    args = parser.parse_args(argv)
    ctx = Context("events.latency", args.mode)
    return run_standalone("events.latency", ctx, lambda: bench_events(ctx, args.contracts, args.outbox_poll))


if __name__ == "__main__":
    sys.exit(main())
