"""Issue 17 §3 between real services: the contracts service in a Nameko container beside the real
approvals (its built-in subscriptions), customers and inventory services, on a throwaway
RabbitMQ vhost. A rep's back-dated termination reaches approvals as a ``termination`` request
and terminates the contract once approved; a rep's co-termination of contracts in force is ONE
``change_batch`` request, applied when approved."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid

import pytest
from approvals.service import ApprovalsService
from contracts.service import ContractsService
from crm_common.context import CallerContext
from crm_common.migrations import upgrade
from crm_common.rpc import ClusterRpcProxy
from customers.service import CustomersService
from inventory.service import InventoryService

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICES = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
TODAY = dt.date.today()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def person(*roles, user_id=None):
    return CallerContext(
        user_id=user_id, username=f"u{user_id}", roles=tuple(roles), request_id=uuid.uuid4().hex
    )


def rpc_as(uri, *roles, user_id):
    # a fresh request id per call (as the gateway sends one per request)
    return ClusterRpcProxy(
        {"AMQP_URI": uri}, context_data=person(*roles, user_id=user_id).to_context_data(), timeout=30
    )


def wait_for(predicate, timeout=30.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.fixture
def uri(container_factory, crm_amqp_uri, tmp_path):
    classes = [(ContractsService, "contracts"), (CustomersService, "customers"),
               (InventoryService, "inventory"), (ApprovalsService, "approvals")]  # fmt: skip
    containers = []
    for cls, name in classes:
        url = f"sqlite:///{tmp_path / name}.db"
        upgrade(os.path.join(SERVICES, name), url)
        c = container_factory(cls, {"AMQP_URI": crm_amqp_uri, "DATABASE_URL": url, "max_workers": 8})
        c.start()
        containers.append(c)
    yield crm_amqp_uri
    for c in containers:
        c.kill()


def decide(uri, document_type, document_id):
    def pending():
        with rpc_as(uri, "approver", user_id=8) as approver:
            items = approver.approvals.list_approvals({"status": "pending"})["items"]
        return next(
            (
                a
                for a in items
                if a["document_type"] == document_type and str(a["document_id"]) == str(document_id)
            ),
            None,
        )

    request = wait_for(pending)
    with rpc_as(uri, "approver", user_id=8) as approver:
        approver.approvals.decide_approval(request["id"], {"decision": "approve", "comment": "ok"})
    return request


def test_back_dated_termination_and_co_termination_go_through_the_approvals_service(uri):
    with rpc_as(uri, "admin", user_id=1) as admin:
        customer = admin.customers.create_customer({"name": f"Plovdiv Print {uuid.uuid4().hex[:6]}", "kind": "company",
                                                    "owner_id": 3})  # fmt: skip
        product = admin.inventory.create_product({"sku": f"S-{uuid.uuid4().hex[:8]}", "name": "Поддръжка",
                                                  "kind": "service", "unit_price": "55.00", "currency": "EUR"})  # fmt: skip
    body = {"customer_id": customer["id"], "title": "Договор", "kind": "service", "currency": "EUR",
            "start_date": day(-300), "end_date": day(300), "billing": {"frequency": "monthly"},
            "lines": [{"product_id": product["id"], "quantity": 1}]}  # fmt: skip
    ids = []
    for _ in range(3):
        with rpc_as(uri, "sales_rep", user_id=3) as rep:
            c = rep.contracts.create_contract(body)
        with rpc_as(uri, "sales_rep", user_id=3) as rep:
            rep.contracts.submit_contract(c["id"])
        decide(uri, "contract", c["id"])
        ids.append(c["id"])
    for cid in ids:
        with rpc_as(uri, "sales_rep", user_id=3) as rep:
            wait_for(lambda cid=cid: rep.contracts.get_contract(cid)["status"] == "active")

    first, *others = ids
    with rpc_as(uri, "sales_rep", user_id=3) as rep:
        out = rep.contracts.terminate_contract(first, {"reason": "moved", "effective_date": day(-200)})
    assert out["status"] == "active" and out["termination_request"]["status"] == "pending_approval"
    request = decide(uri, "termination", out["termination_request"]["id"])
    assert "moved" in request["summary"]
    with rpc_as(uri, "sales_rep", user_id=3) as rep:
        done = wait_for(
            lambda: (lambda x: x if x["status"] == "terminated" else None)(rep.contracts.get_contract(first))
        )
    assert done["termination_date"] == day(-200)

    with rpc_as(uri, "sales_rep", user_id=3) as rep:
        batch = rep.contracts.co_terminate({"contract_ids": others, "end_date": day(700)})
    assert batch["status"] == "pending_approval" and {c["contract_id"] for c in batch["contracts"]} == set(
        others
    )
    with rpc_as(uri, "sales_rep", user_id=3) as rep:
        assert {rep.contracts.get_contract(cid)["end_date"] for cid in others} == {day(300)}
    decide(uri, "change_batch", batch["batch_id"])
    for cid in others:
        with rpc_as(uri, "sales_rep", user_id=3) as rep:
            wait_for(lambda cid=cid: rep.contracts.get_contract(cid)["end_date"] == day(700))
