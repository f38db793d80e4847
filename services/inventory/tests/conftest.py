"""Fixtures of the inventory service's tests: a real SQLite database per test, real caller
contexts, and service workers built with nameko's ``worker_factory`` on that database."""

from __future__ import annotations

import uuid

import pytest
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, WorkerDatabase
from crm_common.testing import new_caller, outbox_payloads
from inventory.models import metadata
from inventory.service import InventoryService
from nameko.testing.services import worker_factory


@pytest.fixture
def db(sqlite_url):
    handle = DatabaseHandle("inventory", metadata, sqlite_url)
    handle.create_all()
    yield handle
    handle.dispose()


@pytest.fixture
def service(db):
    """``service(caller)`` → an InventoryService worker with the real database and that caller."""

    def make(caller: CallerContext) -> InventoryService:
        return worker_factory(InventoryService, db=WorkerDatabase(db, caller, None), caller=caller)

    return make


@pytest.fixture
def admin(service):
    return service(new_caller("admin", user_id=1))


@pytest.fixture
def keeper(service):
    """A warehouse user: moves stock."""
    return service(new_caller("warehouse", user_id=2))


@pytest.fixture
def rep(service):
    return service(new_caller("sales_rep", user_id=3))


@pytest.fixture
def create_product(admin):
    def create(**overrides):
        data = {
            "sku": f"SKU-{uuid.uuid4().hex[:8]}",
            "name": "Laser printer",
            "kind": "device",
            "unit_price": "100.00",
            "currency": "EUR",
            **overrides,
        }
        return admin.create_product(data)

    return create


@pytest.fixture
def create_warehouse(admin):
    def create(**overrides):
        data = {"code": f"W-{uuid.uuid4().hex[:6]}", "name": "Main", **overrides}
        return admin.create_warehouse(data)

    return create


@pytest.fixture
def outbox(db):
    """``outbox(type)`` → payloads of the events of that type written so far, oldest first."""
    return lambda event_type: outbox_payloads(db, event_type)


def stock_of(svc, product_id, warehouse_id) -> dict:
    items = svc.get_stock({"product_id": product_id, "warehouse_id": warehouse_id})["items"]
    return items[0] if items else {"on_hand": 0, "reserved": 0, "available": 0}


@pytest.fixture
def stock():
    return stock_of
