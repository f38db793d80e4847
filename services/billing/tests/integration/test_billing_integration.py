"""The billing service in real Nameko containers on a throwaway RabbitMQ vhost, beside the real
customers, inventory, approvals and contracts services: a contract approved and activated through
them becomes a billing schedule by its events; a billing run invoices the year; contracts sees the
invoices and payments through billing's events. Two billing replicas on SQLite and on PostgreSQL
(migrated with Alembic) run billing at the same time and number concurrent invoices: no period
twice, no number twice, no gap."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import time
import uuid
from decimal import Decimal

import pytest
from approvals.service import ApprovalsService
from billing.service import BillingService
from contracts.service import ContractsService
from crm_common.context import CallerContext
from crm_common.migrations import upgrade
from crm_common.rpc import ClusterRpcProxy  # signs the caller context, as the gateway does
from customers.service import CustomersService
from inventory.service import InventoryService

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICES = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def wait_for(predicate, timeout=30.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def person(*roles, user_id=None):
    return CallerContext(
        user_id=user_id, username=f"u{user_id}", roles=tuple(roles), request_id=uuid.uuid4().hex
    )


ADMIN = person("admin", user_id=1)
FINANCE = person("finance", user_id=2)
REP = person("sales_rep", user_id=3)
APPROVER = person("approver", user_id=8)


@pytest.fixture
def running(container_factory, crm_amqp_uri, any_db_url, tmp_path):
    """billing (two replicas) on ``any_db_url``; the other services on their own SQLite files."""
    urls = {"billing": any_db_url}
    for name in ("customers", "inventory", "approvals", "contracts"):
        urls[name] = f"sqlite:///{tmp_path / name}.db"
    for name, url in urls.items():
        upgrade(os.path.join(SERVICES, name), url)
    classes = [
        (BillingService, "billing"),
        (BillingService, "billing"),
        (ContractsService, "contracts"),
        (CustomersService, "customers"),
        (InventoryService, "inventory"),
        (ApprovalsService, "approvals"),
    ]
    containers = []
    for cls, name in classes:
        c = container_factory(cls, {"AMQP_URI": crm_amqp_uri, "DATABASE_URL": urls[name], "max_workers": 8})
        c.start()
        containers.append(c)

    class Running:
        @staticmethod
        def rpc(caller: CallerContext):
            return ClusterRpcProxy(
                {"AMQP_URI": crm_amqp_uri}, context_data=caller.to_context_data(), timeout=60
            )

    yield Running
    for c in containers:
        c.kill()


def active_contract(running, start="2027-01-15", end="2028-01-14"):
    with running.rpc(ADMIN) as admin:
        customer = admin.customers.create_customer(
            {"name": f"София Сервиз {uuid.uuid4().hex[:6]}", "kind": "company", "language": "bg", "owner_id": 3,
             "tax_id": f"BG{uuid.uuid4().int % 10**9:09d}", "address": "бул. Витоша 1, София"}
        )  # fmt: skip
        product = admin.inventory.create_product(
            {"sku": f"S-{uuid.uuid4().hex[:8]}", "name": "Поддръжка", "kind": "service", "unit_price": "100.00",
             "currency": "EUR"}
        )  # fmt: skip
    body = {"customer_id": customer["id"], "title": "Поддръжка 2027", "kind": "maintenance", "currency": "EUR",
            "start_date": start, "end_date": end, "billing": {"frequency": "monthly", "in_advance": True,
            "payment_terms_days": 14}, "lines": [{"product_id": product["id"]}]}  # fmt: skip
    with running.rpc(REP) as rep:
        c = rep.contracts.create_contract(body)
        rep.contracts.submit_contract(c["id"])
    with running.rpc(APPROVER) as approver:
        request = wait_for(
            lambda: next(iter(approver.approvals.list_approvals({"status": "pending"})["items"]), None)
        )
        approver.approvals.decide_approval(request["id"], {"decision": "approve", "comment": "ok"})
    with running.rpc(ADMIN) as admin:
        admin.contracts.run_daily(start)  # the term starts: active, contract_activated
    return customer, c


def test_contract_to_invoices_to_payment_through_real_services(running):
    customer, c = active_contract(running)
    with running.rpc(FINANCE) as finance:
        # the schedule comes from contract_approved; contracts' job for the start date activated
        # the contract, and its contract_activated (as_of = the start date) billed what billing's
        # own job for that date bills: the first period (ADR 0011)
        schedule = first_period_billed(finance, c["id"], "2027-02-15")
        assert len(schedule["periods"]) == 12 and schedule["contract_status"] == "active"
        assert schedule["periods"][0]["status"] == "invoiced"
        run = finance.billing.start_billing_run({"as_of": "2027-12-31"})
        assert run["status"] == "completed" and run["invoices_created"] == 11 and run["failed"] == 0
        items = finance.billing.list_invoices({"contract_id": c["id"]}, 1, 50)["items"]
        assert sum(Decimal(i["total"]) for i in items) == Decimal("1200.00")
        assert {i["customer"]["address"] for i in items} == {"бул. Витоша 1, София"}
        assert finance.billing.start_billing_run({"as_of": "2027-12-31"})["invoices_created"] == 0
        first = min(items, key=lambda i: i["period_start"])
        pdf = finance.billing.render_invoice_pdf(first["id"])
        assert pdf["language"] == "bg" and pdf["content_type"] == "application/pdf"
        assert finance.billing.render_invoice_pdf(first["id"])["cached"] is True
        paid = finance.billing.record_payment(
            {"customer_id": customer["id"], "amount": "250.00", "currency": "EUR", "method": "bank_transfer",
             "received_at": "2027-02-20T10:00:00Z", "reference": "BANK-42"}
        )  # fmt: skip
        assert [a["amount"] for a in paid["allocations"]] == ["100.00", "100.00", "50.00"]
    with running.rpc(REP) as rep:
        # contracts follows billing's events: invoiced and paid
        progress = wait_for(
            lambda: (lambda p: p if p["billing"] and p["billing"][0]["paid"] == "250.00" else None)(
                rep.contracts.get_progress(c["id"])
            )
        )
        assert progress["billing"][0]["invoiced"] == "1200.00" and progress["billing"][0]["invoices"] == 12


def first_period_billed(finance, contract_id, next_bill_date):
    """The schedule once the activation by contracts' job for the start date has billed the first
    period (ADR 0011: billing does for it what its own run for that date does)."""

    def ready():
        schedule = _try(lambda: finance.billing.get_schedule(contract_id))
        return schedule if schedule and schedule["next_bill_date"] == next_bill_date else None

    return wait_for(ready)


def _try(call):
    try:
        return call()
    except Exception:
        return None


def test_replicas_number_concurrent_invoices_without_gaps_or_repeats(running):
    with running.rpc(ADMIN) as admin:
        customer = admin.customers.create_customer({"name": f"Ankara {uuid.uuid4().hex[:6]}", "kind": "company",
                                                    "language": "tr", "owner_id": 3})  # fmt: skip
    body = {"customer_id": customer["id"], "currency": "TRY", "issue_date": "2027-05-02",
            "lines": [{"description": "Kurulum", "quantity": "1", "unit_price": "10.00"}]}  # fmt: skip

    def create(_):
        # 24 requests, each with its own request id as the gateway gives them (calls under one
        # request id are one call: crm_common.idempotency)
        with running.rpc(dataclasses.replace(FINANCE, request_id=uuid.uuid4().hex)) as finance:
            return finance.billing.create_invoice(body)["number"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(create, range(24)))
    assert sorted(numbers) == [f"INV-2027-{n:06d}" for n in range(1, 25)]


def test_concurrent_runs_on_both_replicas_invoice_each_period_once(running):
    customer, c = active_contract(running, start="2027-03-01", end="2028-02-29")
    with running.rpc(FINANCE) as finance:
        first_period_billed(finance, c["id"], "2027-04-01")

    def run(_):
        with running.rpc(FINANCE) as finance:
            return finance.billing.start_billing_run({"as_of": "2028-02-29"})["invoices_created"]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        created = list(pool.map(run, range(4)))
    assert sum(created) == 11  # the first was billed when the start date's job activated it
    with running.rpc(FINANCE) as finance:
        items = finance.billing.list_invoices({"contract_id": c["id"]}, 1, 50)["items"]
        assert len({i["period_start"] for i in items}) == len(items) == 12
