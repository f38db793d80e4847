"""Fixtures of the customers service's tests: a real SQLite database per test, real caller
contexts, and service workers built with nameko's ``worker_factory`` on that database."""

from __future__ import annotations

import itertools
import uuid

import pytest
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, WorkerDatabase
from crm_common.testing import new_caller, outbox_payloads
from customers.models import metadata
from customers.service import CustomersService
from nameko.testing.services import worker_factory
from sqlalchemy import func, select

_ids = itertools.count(1)


@pytest.fixture
def db(sqlite_url):
    handle = DatabaseHandle("customers", metadata, sqlite_url)
    handle.create_all()
    yield handle
    handle.dispose()


class FakeActivityRpc:
    """The contracts / billing ``customer_activity`` RPC over a dictionary {customer_id: counts}."""

    def __init__(self) -> None:
        self.counts: dict[int, dict] = {}
        self.calls: list[int] = []

    def customer_activity(self, customer_id):
        self.calls.append(customer_id)
        return {"customer_id": customer_id, **self.counts.get(customer_id, {})}


@pytest.fixture
def peers():
    """``peers.contracts.counts[id] = {"contracts": 2}``, ``peers.billing.counts[id] = {...}``."""

    class Peers:
        contracts = FakeActivityRpc()
        billing = FakeActivityRpc()

    return Peers


@pytest.fixture
def service(db, peers):
    """``service(caller)`` → a CustomersService worker with the real database and that caller
    (contracts and billing answer from :func:`peers`)."""

    def make(caller: CallerContext | None) -> CustomersService:
        caller = caller if caller is not None else CallerContext()
        return worker_factory(
            CustomersService,
            db=WorkerDatabase(db, caller, None),
            caller=caller,
            contracts_rpc=peers.contracts,
            billing_rpc=peers.billing,
        )

    return make


@pytest.fixture
def admin(service):
    return service(new_caller("admin", user_id=1))


@pytest.fixture
def create_customer(admin):
    """``create_customer(**overrides)`` → a customer made by an admin (unique name by default)."""

    def create(**overrides):
        n = next(_ids)
        data = {"name": f"Customer {uuid.uuid4().hex[:8]}", "kind": "company", **overrides}
        data.setdefault("tax_id", f"TAX{n:06d}{uuid.uuid4().hex[:4]}")
        if data["tax_id"] is None:
            del data["tax_id"]
        return admin.create_customer(data)

    return create


@pytest.fixture
def count(db):
    def count(table, *where) -> int:
        with db.read() as s:
            return s.execute(select(func.count()).select_from(table).where(*where)).scalar_one()

    return count


@pytest.fixture
def outbox(db):
    """``outbox(type)`` → payloads of the events of that type written so far, oldest first."""
    return lambda event_type: outbox_payloads(db, event_type)
