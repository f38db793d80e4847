"""The contracts service in a real Nameko container with the real customers, inventory and
approvals services beside it, on a throwaway RabbitMQ vhost: contracts on SQLite and on PostgreSQL
(migrated with Alembic), the others on their own SQLite files. Driven over real RPC; the
lifecycle moves on the approvals service's real events; inventory reserves on contract_approved."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from approvals.service import ApprovalsService
from contracts.service import ContractsService
from crm_common.context import CallerContext
from crm_common.db import make_envelope
from crm_common.errors import NotFound, ValidationFailed
from crm_common.migrations import upgrade
from crm_common.rpc import ClusterRpcProxy  # signs the caller context, as the gateway does
from crm_common.testing import publish_event
from customers.service import CustomersService
from inventory.service import InventoryService

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICES = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def wait_for(predicate, timeout=20.0, interval=0.1):
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
REP = person("sales_rep", user_id=3)
OTHER_REP = person("sales_rep", user_id=4)
APPROVER = person("approver", user_id=8)


@pytest.fixture
def running(container_factory, crm_amqp_uri, any_db_url, tmp_path):
    """contracts (two replicas) on ``any_db_url``; customers, inventory, approvals on SQLite."""
    urls = {"contracts": any_db_url}
    for name in ("customers", "inventory", "approvals"):
        urls[name] = f"sqlite:///{tmp_path / name}.db"
    for name, url in urls.items():
        upgrade(os.path.join(SERVICES, name), url)
    classes = [
        (ContractsService, "contracts"),
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
        amqp_uri = crm_amqp_uri

        @staticmethod
        def rpc(caller: CallerContext):
            return ClusterRpcProxy(
                {"AMQP_URI": crm_amqp_uri}, context_data=caller.to_context_data(), timeout=30
            )

    yield Running
    for c in containers:
        c.kill()


def setup_catalogue(rpc):
    customer = rpc.customers.create_customer({"name": f"Plovdiv Print {uuid.uuid4().hex[:6]}", "kind": "company",
                                              "language": "bg", "owner_id": 3, "level": "A"})  # fmt: skip
    printer = rpc.inventory.create_product({"sku": f"P-{uuid.uuid4().hex[:8]}", "name": "Принтер", "kind": "device",
                                            "unit_price": "900.00", "currency": "EUR", "serialized": True,
                                            "model": "LJ-9"})  # fmt: skip
    service = rpc.inventory.create_product({"sku": f"S-{uuid.uuid4().hex[:8]}", "name": "Поддръжка",
                                            "kind": "service", "unit_price": "55.00", "currency": "EUR"})  # fmt: skip
    warehouse = rpc.inventory.create_warehouse({"code": f"W-{uuid.uuid4().hex[:6]}", "name": "Main"})
    rpc.inventory.record_move({"warehouse_id": warehouse["id"], "product_id": printer["id"], "quantity": 1,
                               "direction": "in", "reason": "purchase", "serial_numbers": ["SN-INT-1"],
                               "manufacturing_numbers": {"SN-INT-1": "MFG-77"}})  # fmt: skip
    return customer, printer, service


def test_contracts_lifecycle_through_real_services(running):
    with running.rpc(ADMIN) as admin:
        customer, printer, service = setup_catalogue(admin)
    body = {
        "customer_id": customer["id"],
        "title": "Договор за поддръжка",
        "kind": "sales",
        "currency": "EUR",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "billing": {"frequency": "monthly"},
        "lines": [
            {"product_id": printer["id"], "serial_number": "SN-INT-1"},
            {"product_id": service["id"], "quantity": 2},
        ],
    }
    with running.rpc(REP) as rep:
        c = rep.contracts.create_contract(body)
        # prices from inventory (no price list: the products' own prices)
        assert [li["unit_price"] for li in c["lines"]] == ["900.00", "55.00"] and c["total"] == "1010.00"
        with pytest.raises(ValidationFailed) as err:
            rep.contracts.create_contract({**body, "customer_id": 999999})
        assert "customer_id" in err.value.details
        rep.contracts.submit_contract(c["id"])
    with running.rpc(APPROVER) as approver:
        request = wait_for(
            lambda: next(iter(approver.approvals.list_approvals({"status": "pending"})["items"]), None)
        )
        assert request["document_type"] == "contract" and str(request["document_id"]) == str(c["id"])
        approver.approvals.decide_approval(request["id"], {"decision": "approve", "comment": "одобрено"})
    with running.rpc(REP) as rep:
        done = wait_for(
            lambda: (lambda x: x if x["status"] == "active" else None)(rep.contracts.get_contract(c["id"]))
        )
        assert done["version"] == 1 and done["lines"][0]["manufacturing_number"] == "MFG-77"
    with running.rpc(ADMIN) as admin:
        # inventory reserved the unit on contract_approved
        unit = wait_for(
            lambda: (lambda u: u if u["status"] == "reserved" else None)(admin.inventory.get_unit("SN-INT-1"))
        )
        assert str(unit["contract_id"]) == str(c["id"])
    with running.rpc(OTHER_REP) as other:
        with pytest.raises(NotFound):
            other.contracts.get_contract(c["id"])
    # billing reports an invoice of the contract (a stand-in publisher: billing is built next)
    envelope = make_envelope(
        "billing",
        "invoice_issued",
        {"id": "INV-2026-000001", "number": "INV-2026-000001", "contract_id": c["id"], "customer_id": customer["id"],
         "currency": "EUR", "total": "1010.00", "issue_date": "2026-01-01", "due_date": "2026-01-31",
         "status": "issued"},
    )  # fmt: skip
    publish_event(running.amqp_uri, "billing", envelope, event_type="invoice_issued")
    with running.rpc(REP) as rep:
        wait_for(lambda: rep.contracts.get_progress(c["id"])["billing"][0]["invoices"] == 1)
        assert rep.contracts.get_progress(c["id"])["billing"][0]["invoiced"] == "1010.00"
