"""The dashboard on a database migrated with Alembic, SQLite and PostgreSQL: the users copy
through the service's event handlers, a department's manager and the administrator, figures
summed in SQL on both (NUMERIC on PostgreSQL, integer millionths on SQLite)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from billing import runs
from billing.models import metadata
from billing.service import BillingService
from billing_fixtures import ADMIN, CUSTOMERS, FINANCE, contract
from crm_common.db import DatabaseHandle, WorkerDatabase, make_envelope
from crm_common.migrations import upgrade
from crm_common.testing import new_caller
from nameko.testing.services import worker_factory

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICE_DIR = os.path.dirname(os.path.dirname(HERE))


class Customers:
    def get_customer(self, customer_id):
        return dict(CUSTOMERS[customer_id])


@pytest.fixture
def migrated(any_db_url):
    upgrade(SERVICE_DIR, any_db_url)
    handle = DatabaseHandle("billing", metadata, any_db_url)
    yield handle
    handle.dispose()


def test_dashboard_on_a_migrated_database(migrated):
    def worker(caller):
        return worker_factory(
            BillingService,
            db=WorkerDatabase(migrated, caller, None),
            caller=caller,
            customers_rpc=Customers(),
        )

    admin, finance = worker(ADMIN), worker(FINANCE)
    for c in CUSTOMERS.values():
        admin.handle_customer_created(make_envelope("customers", "customer_created", c))
    for user_id, department in ((3, "north"), (4, "south")):
        admin.handle_user_created(
            make_envelope(
                "gateway", "user_created", {"id": user_id, "department": department, "roles": ["sales_rep"]}
            )
        )
    admin.handle_contract_activated(make_envelope("contracts", "contract_activated", contract(1)))
    runs.run_billing(migrated, FINANCE, dt.date(2027, 2, 28))  # 100.00 on 15 Jan and 15 Feb
    for customer, amount in ((10, "0.10"), (10, "0.20"), (11, "1234567.89"), (11, "0.01")):
        finance.create_invoice({"customer_id": customer, "currency": "EUR", "issue_date": "2027-03-01",
                                "lines": [{"description": "x", "quantity": "1", "unit_price": amount}]})  # fmt: skip
    finance.record_payment(
        {
            "customer_id": 10,
            "amount": "100.00",
            "currency": "EUR",
            "method": "cash",
            "received_at": "2027-02-10T23:30:00-02:00",
        }
    )  # fmt: skip  (11 Feb UTC)
    board = admin.dashboard({"year": 2027, "as_of": "2027-03-20"})
    assert board["receivables"] == {"EUR": "1234668.20"}  # 100.00 + 0.10 + 0.20 + 1234567.89 + 0.01
    assert board["overdue"] == {"EUR": "100.00"} and board["overdue_invoices"] == 1
    assert board["cash_flow"][2]["invoiced"] == {"EUR": "1234568.20"}
    assert board["cash_flow"][1]["collected"] == {"EUR": "100.00"}
    assert [(t["customer_id"], t["invoiced"], t["balance"]) for t in board["top_customers"]] == [
        (11, "1234567.90", "1234567.90"),
        (10, "200.30", "100.30"),
    ]
    north = worker(new_caller("sales_manager", user_id=20, department="north"))
    board = north.dashboard({"year": 2027, "as_of": "2027-03-20"})
    assert board["receivables"] == {"EUR": "100.30"} and board["mrr"] == {"EUR": "100.00"}
    assert [t["customer_id"] for t in board["top_customers"]] == [10]
