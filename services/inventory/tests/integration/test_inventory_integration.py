"""The real service in Nameko containers on a throwaway RabbitMQ vhost, on SQLite and on
PostgreSQL (migrated with Alembic), driven over real RPC and real events: racing dispatches,
contract and approval events from stand-in publishers, events out on the broker."""

from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid

import pytest
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, make_envelope
from crm_common.errors import Conflict, PermissionDenied, ValidationFailed
from crm_common.migrations import upgrade
from crm_common.outbox import event_exchange
from crm_common.rpc import ClusterRpcProxy  # signs the caller context, as the gateway does
from crm_common.testing import publish_event
from inventory import models as m
from inventory.service import InventoryService
from kombu import Connection, Queue
from sqlalchemy import func, select

SERVICE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def wait_for(predicate, timeout=15.0, interval=0.05):
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
KEEPER = person("warehouse", user_id=2)


@pytest.fixture
def running(container_factory, crm_amqp_uri, any_db_url):
    """TWO containers of the inventory service (competing consumers) on one migrated database."""
    upgrade(SERVICE_DIR, any_db_url)
    config = {"AMQP_URI": crm_amqp_uri, "DATABASE_URL": any_db_url, "max_workers": 10}
    containers = [container_factory(InventoryService, config) for _ in range(2)]
    for c in containers:
        c.start()
    handle = DatabaseHandle("inventory", m.metadata, any_db_url)

    class Running:
        amqp_uri = crm_amqp_uri
        db = handle

        @staticmethod
        def rpc(caller: CallerContext):
            return ClusterRpcProxy(
                {"AMQP_URI": crm_amqp_uri}, context_data=caller.to_context_data(), timeout=30
            )

    yield Running
    for c in containers:
        c.kill()
    handle.dispose()


def publish(amqp_uri, envelope):
    publish_event(amqp_uri, envelope["source"], envelope)  # signed, as an outbox relay does


def setup_stock(rpc, qty, serialized=False, **product):
    p = rpc.inventory.create_product(
        {
            "sku": f"S-{uuid.uuid4().hex[:8]}",
            "name": "Copier",
            "kind": "device",
            "unit_price": "1000.00",
            "currency": "EUR",
            "serialized": serialized,
            **product,
        }  # fmt: skip
    )
    w = rpc.inventory.create_warehouse({"code": f"W-{uuid.uuid4().hex[:6]}", "name": "Main"})
    if qty:
        serials = [f"SN-{p['id']}-{i}" for i in range(qty)] if serialized else []
        rpc.inventory.record_move({"warehouse_id": w["id"], "product_id": p["id"], "quantity": qty, "direction": "in",
                                   "reason": "purchase", "serial_numbers": serials})  # fmt: skip
    return p, w


def race(running, caller, calls):
    """Start every call before waiting for any, each a request of its own with its own request
    id as the gateway gives them (calls under one request id are one call:
    crm_common.idempotency); ``(results, errors)``."""
    proxies = [running.rpc(dataclasses.replace(caller, request_id=uuid.uuid4().hex)) for _ in calls]
    try:
        rpcs = [proxy.start() for proxy in proxies]
        replies = [
            getattr(r.inventory, name).call_async(*args) for r, (name, args) in zip(rpcs, calls, strict=True)
        ]
        results, errors = [], []
        for reply in replies:
            try:
                results.append(reply.result())
            except Conflict as exc:
                errors.append(exc)
        return results, errors
    finally:
        for proxy in proxies:
            proxy.stop()


def test_two_dispatches_racing_for_the_last_unit_one_wins(running):
    with running.rpc(KEEPER) as rpc:
        p, w = setup_stock(rpc, 1)
        dispatch = {
            "warehouse_id": w["id"],
            "product_id": p["id"],
            "quantity": 1,
            "direction": "out",
            "reason": "dispatch",
        }
        ok, refused = race(running, KEEPER, [("record_move", (dispatch,)), ("record_move", (dispatch,))])
        assert (len(ok), len(refused)) == (1, 1)
        (level,) = rpc.inventory.get_stock({"product_id": p["id"]})["items"]
        assert (level["on_hand"], level["available"]) == (0, 0)


def test_many_racing_moves_never_oversell(running):
    with running.rpc(KEEPER) as rpc:
        p, w = setup_stock(rpc, 5, serialized=False, kind="consumable")
        out = {
            "warehouse_id": w["id"],
            "product_id": p["id"],
            "quantity": 1,
            "direction": "out",
            "reason": "dispatch",
        }
        reserve = {"contract_id": 1, "items": [{"product_id": p["id"], "quantity": 1}]}
        calls = [("record_move", (out,))] * 8 + [("reserve_stock", (reserve,))] * 4
        ok, refused = race(running, KEEPER, calls)
        assert len(ok) == 5 and len(refused) == 7
        (level,) = rpc.inventory.get_stock({"product_id": p["id"]})["items"]
        assert level["available"] == 0 and level["on_hand"] >= 0 and level["on_hand"] == level["reserved"]
    with running.db.read() as s:
        moved_out = s.execute(
            select(func.count()).select_from(m.stock_moves).where(m.stock_moves.c.direction == "out")
        ).scalar_one()
        reserved = s.execute(select(func.coalesce(func.sum(m.reservations.c.quantity), 0))).scalar_one()
    assert moved_out + reserved == 5


def test_racing_reorders_raise_one_purchase_order(running):
    with running.rpc(KEEPER) as rpc:
        p, w = setup_stock(rpc, 10, kind="consumable", reorder_point=8, preferred_partner="Acme")
        out = {
            "warehouse_id": w["id"],
            "product_id": p["id"],
            "quantity": 1,
            "direction": "out",
            "reason": "dispatch",
        }
        ok, _ = race(running, KEEPER, [("record_move", (out,))] * 6)
        assert len(ok) == 6
        pos = rpc.inventory.list_purchase_orders({"status": "open"})["items"]
        assert len(pos) == 1 and pos[0]["partner"] == "Acme"


def test_contract_events_reserve_once_and_release(running):
    with running.rpc(KEEPER) as rpc:
        p, w = setup_stock(rpc, 2, serialized=True)
        approved = make_envelope(
            "contracts", "contract_approved",
            {"id": 501, "number": "K-1", "lines": [{"product_id": p["id"], "quantity": 1, "serial_number": f"SN-{p['id']}-1"}]},
        )  # fmt: skip
        publish(running.amqp_uri, approved)
        publish(running.amqp_uri, approved)  # redelivered
        publish(running.amqp_uri, {**approved, "event_id": uuid.uuid4().hex})  # published twice by contracts

        def reserved():
            items = rpc.inventory.get_stock({"product_id": p["id"]})["items"]
            return items and items[0]["reserved"] == 1 and items[0]

        wait_for(reserved)
        time.sleep(1.0)  # the duplicates had their chance
        assert rpc.inventory.get_stock({"product_id": p["id"]})["items"][0]["reserved"] == 1
        assert rpc.inventory.get_unit(f"SN-{p['id']}-1")["status"] == "reserved"
        publish(
            running.amqp_uri,
            make_envelope("contracts", "contract_terminated", {"id": 501, "reason": "customer left"}),
        )
        wait_for(lambda: rpc.inventory.get_stock({"product_id": p["id"]})["items"][0]["reserved"] == 0)
        assert rpc.inventory.get_unit(f"SN-{p['id']}-1")["status"] == "in_stock"


def test_trade_in_approval_event_keeps_the_valuation(running):
    with running.rpc(person("sales_rep", user_id=5)) as rpc:
        ti = rpc.inventory.create_trade_in(
            {"serial_number": "OLD-9", "condition": "fair", "requested_value": "500.00", "currency": "TRY"}
        )
        with pytest.raises(PermissionDenied):
            rpc.inventory.record_move({})
    publish(running.amqp_uri, make_envelope("approvals", "approval_approved",
                                            {"document_type": "contract", "document_id": ti["id"]}))  # fmt: skip
    publish(running.amqp_uri, make_envelope("approvals", "approval_approved",
                                            {"document_type": "trade_in", "document_id": ti["id"], "approved_value": "420.50"}))  # fmt: skip
    with running.rpc(ADMIN) as rpc:
        got = wait_for(lambda: (t := rpc.inventory.get_trade_in(ti["id"]))["status"] == "approved" and t)
        assert got["approved_value"] == "420.50"


def test_purchase_order_created_reaches_the_broker(running):
    with Connection(running.amqp_uri) as conn:
        channel = conn.channel()
        event_exchange("inventory")(channel).declare()
        probe = Queue(f"probe-{uuid.uuid4().hex[:8]}", exchange=event_exchange("inventory"),
                      routing_key="purchase_order_created", auto_delete=True)(channel)  # fmt: skip
        probe.declare()
        with running.rpc(KEEPER) as rpc:
            p, w = setup_stock(
                rpc, 1, kind="consumable", reorder_point=1, reorder_quantity=10, preferred_partner="Partner"
            )
            rpc.inventory.record_move({"warehouse_id": w["id"], "product_id": p["id"], "quantity": 1, "direction": "out",
                                       "reason": "adjustment"})  # fmt: skip
            with pytest.raises(ValidationFailed):
                rpc.inventory.record_move({"warehouse_id": w["id"], "product_id": p["id"], "quantity": "NaN",
                                           "direction": "in", "reason": "purchase"})  # fmt: skip
        message = wait_for(lambda: probe.get(no_ack=True))
    event = json.loads(message.body)
    assert event["source"] == "inventory" and event["payload"]["partner"] == "Partner"
    assert event["payload"]["quantity"] == 10 and event["payload"]["sku"] == p["sku"]


def test_one_named_unit_raced_by_a_reservation_a_dispatch_and_a_transfer_goes_to_one(running):
    with running.rpc(KEEPER) as rpc:
        p, w = setup_stock(rpc, 2, serialized=True)
        w2 = rpc.inventory.create_warehouse({"code": f"W-{uuid.uuid4().hex[:6]}", "name": "Second"})
        serial = f"SN-{p['id']}-0"
        reserve = {
            "contract_id": 77,
            "items": [{"product_id": p["id"], "quantity": 1, "serial_numbers": [serial]}],
        }
        dispatch = {"warehouse_id": w["id"], "product_id": p["id"], "quantity": 1, "direction": "out",
                    "reason": "dispatch", "serial_numbers": [serial]}  # fmt: skip
        transfer = {"product_id": p["id"], "from_warehouse_id": w["id"], "to_warehouse_id": w2["id"], "quantity": 1,
                    "serial_numbers": [serial]}  # fmt: skip
        calls = [
            ("reserve_stock", (reserve,)),
            ("record_move", (dispatch,)),
            ("transfer_stock", (transfer,)),
        ] * 2
        ok, refused = race(running, KEEPER, calls)
        assert (len(ok), len(refused)) == (1, 5)
        unit = rpc.inventory.get_unit(serial)
        assert len(unit["history"]) == 2  # received, then exactly one of the three
        levels = {x["warehouse_id"]: x for x in rpc.inventory.get_stock({"product_id": p["id"]})["items"]}
        assert sum(x["on_hand"] for x in levels.values()) + (unit["status"] == "dispatched") == 2
        assert all(x["available"] >= 0 for x in levels.values())
