"""Fixtures of the contracts service's tests: a real SQLite database per test, real caller
contexts, service workers built with nameko's ``worker_factory`` on that database, and the other
services (customers, inventory) answered from dictionaries (they lie outside this service; the
integration and end-to-end tests run the real ones)."""

from __future__ import annotations

import datetime as dt

import pytest
from contracts import usecases
from contracts.models import metadata
from contracts.peers import FakeCustomersRpc, FakeInventoryRpc, FakePeers
from contracts_fixtures import (
    ADMIN,
    CUSTOMERS,
    FINANCE,
    MANAGER,
    OTHER_REP,
    PRICES,
    PRODUCTS,
    REP,
    UNITS,
    contract_body,
)
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, WorkerDatabase, make_envelope
from crm_common.testing import outbox_payloads
from nameko.testing.services import worker_factory


@pytest.fixture
def db(sqlite_url):
    handle = DatabaseHandle("contracts", metadata, sqlite_url)
    handle.create_all()
    yield handle
    handle.dispose()


@pytest.fixture
def peers() -> FakePeers:
    return FakePeers(CUSTOMERS, PRODUCTS, PRICES, UNITS)


@pytest.fixture
def service(db):
    """``service(caller)`` → a ContractsService worker with the real database, that caller, and
    customers / inventory answered from the dictionaries above."""

    from contracts.service import ContractsService

    def make(caller: CallerContext) -> ContractsService:
        calls: list[tuple] = []
        return worker_factory(
            ContractsService,
            db=WorkerDatabase(db, caller, None),
            caller=caller,
            customers_rpc=FakeCustomersRpc(CUSTOMERS, calls),
            inventory_rpc=FakeInventoryRpc(PRODUCTS, PRICES, UNITS, calls),
        )

    return make


@pytest.fixture
def admin(service):
    return service(ADMIN)


@pytest.fixture
def manager(service):
    return service(MANAGER)


@pytest.fixture
def rep(service):
    return service(REP)


@pytest.fixture
def other_rep(service):
    return service(OTHER_REP)


@pytest.fixture
def finance(service):
    return service(FINANCE)


@pytest.fixture(name="contract_body")
def contract_body_fixture():
    """``contract_body(**overrides)`` → a valid create body."""
    return contract_body


@pytest.fixture
def create_contract(rep):
    def create(svc=None, **overrides):
        return (svc or rep).create_contract(contract_body(**overrides))

    return create


@pytest.fixture
def decide(db):
    """``decide(document_id, "approved"|"rejected", document_type="contract")`` delivers what the
    approvals service publishes."""

    def send(document_id, outcome="approved", document_type="contract", comment="ok", user=9):
        payload = {"id": 77, "document_type": document_type, "document_id": document_id, "comment": comment,
                   "user": user, "submitter": 3}  # fmt: skip
        envelope = make_envelope("approvals", f"approval_{outcome}", payload)
        return usecases.handle_approval_decided(db, envelope, outcome)

    return send


@pytest.fixture
def events(db):
    """``events("contract_approved")`` → payloads written to the outbox, oldest first."""

    def read(event_type: str) -> list[dict]:
        return outbox_payloads(db, event_type)

    return read


@pytest.fixture
def active_contract(rep, create_contract, decide):
    """``active_contract(**overrides)`` → a contract submitted, approved and (start in the past)
    active."""

    def make(**overrides):
        overrides.setdefault("start_date", "2026-01-01")
        overrides.setdefault("end_date", "2026-12-31")
        c = create_contract(**overrides)
        rep.submit_contract(c["id"])
        decide(c["id"])
        return rep.get_contract(c["id"])

    return make


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
