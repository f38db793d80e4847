"""Fixtures of the customers service's tests: a real SQLite database per test, real caller
contexts, and service workers built with nameko's ``worker_factory`` on that database."""

from __future__ import annotations

import itertools
import uuid

import pytest
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, WorkerDatabase
from crm_common.errors import EXPECTED_EXCEPTIONS
from customers.models import metadata
from customers.service import CustomersService
from nameko.exceptions import deserialize_to_instance
from nameko.testing.services import worker_factory
from sqlalchemy import func, select

# Remote errors arrive in RPC clients as the crm_common classes with their details
# (instead of nameko's generic RemoteError), so tests can look at details.candidates.
for _cls in EXPECTED_EXCEPTIONS:
    deserialize_to_instance(_cls)

_ids = itertools.count(1)


def new_caller(*roles: str, user_id: int | None = None, department: str | None = None) -> CallerContext:
    return CallerContext(
        user_id=user_id,
        username=f"user{user_id}" if user_id else None,
        roles=tuple(roles),
        department=department,
        request_id=uuid.uuid4().hex,
    )


@pytest.fixture
def make_caller():
    """``make_caller("sales_rep", user_id=5)`` → a CallerContext as the gateway sends it."""
    return new_caller


@pytest.fixture
def db(sqlite_url):
    handle = DatabaseHandle("customers", metadata, sqlite_url)
    handle.create_all()
    yield handle
    handle.dispose()


@pytest.fixture
def service(db):
    """``service(caller)`` → a CustomersService worker with the real database and that caller."""

    def make(caller: CallerContext | None) -> CustomersService:
        caller = caller if caller is not None else CallerContext()
        return worker_factory(CustomersService, db=WorkerDatabase(db, caller, None), caller=caller)

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
    import json

    def events(event_type: str) -> list[dict]:
        table = db.infra.outbox
        with db.read() as s:
            rows = s.execute(select(table.c.body).where(table.c.type == event_type).order_by(table.c.id))
            return [json.loads(r.body)["payload"] for r in rows]

    return events
