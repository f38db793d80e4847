"""Fixtures of the billing service's tests: a real SQLite database per test, real caller
contexts, service workers built with nameko's ``worker_factory`` on that database, contract and
customer events delivered as the other services publish them (the customers service itself is
answered from a dictionary; the end-to-end tests run the real one)."""

from __future__ import annotations

import pytest
from billing import customers, schedules
from billing.models import metadata
from billing_fixtures import ADMIN, CUSTOMERS, FINANCE, MANAGER, REP, contract
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, WorkerDatabase, make_envelope
from crm_common.errors import NotFound
from crm_common.testing import outbox_payloads
from nameko.testing.services import worker_factory


class FakeCustomersRpc:
    """``get_customer`` as the customers service answers it (no scopes: the tests of scopes use
    the local copy)."""

    def __init__(self, known):
        self.known = known
        self.calls = []

    def get_customer(self, customer_id):
        self.calls.append(customer_id)
        if customer_id not in self.known:
            raise NotFound(f"customer {customer_id} not found", {"entity": "customer", "id": customer_id})
        return dict(self.known[customer_id])


@pytest.fixture
def db(sqlite_url):
    handle = DatabaseHandle("billing", metadata, sqlite_url)
    handle.create_all()
    yield handle
    handle.dispose()


@pytest.fixture
def service(db):
    """``service(caller)`` → a BillingService worker on the real database with that caller."""
    from billing.service import BillingService

    def make(caller: CallerContext) -> BillingService:
        return worker_factory(
            BillingService,
            db=WorkerDatabase(db, caller, None),
            caller=caller,
            customers_rpc=FakeCustomersRpc(CUSTOMERS),
        )

    return make


@pytest.fixture
def admin(service):
    return service(ADMIN)


@pytest.fixture
def finance(service):
    return service(FINANCE)


@pytest.fixture
def rep(service):
    return service(REP)


@pytest.fixture
def manager(service):
    return service(MANAGER)


@pytest.fixture
def deliver(db):
    """``deliver("contract_activated", payload)`` → what billing does with that event."""

    def send(event_type: str, payload: dict, source: str = "contracts"):
        envelope = make_envelope(source, event_type, payload)
        if source == "customers":
            return customers.apply_customer_event(db, envelope, deleted=event_type == "customer_deleted")
        return schedules.apply_contract_event(db, envelope)

    return send


@pytest.fixture
def customers_known(deliver):
    """The customers copy holds customers 10 and 11 (from their ``customer_created``)."""
    for c in CUSTOMERS.values():
        deliver("customer_created", c, source="customers")


@pytest.fixture
def activate(deliver, customers_known):
    """``activate(contract_id=1, **overrides)`` → the payload delivered as ``contract_activated``."""

    def make(contract_id: int = 1, **overrides):
        payload = contract(contract_id, **overrides)
        deliver("contract_activated", payload)
        return payload

    return make


@pytest.fixture
def events(db):
    def read(event_type: str) -> list[dict]:
        return outbox_payloads(db, event_type)

    return read
