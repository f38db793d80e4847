"""The crash of issue 17 §6, made to happen every time: a service commits a create and dies
before its reply (Nameko acknowledges the message only after the reply), RabbitMQ delivers the
request again to the next instance, which must answer it without creating anything twice."""

import time

import eventlet
from crm_common.context import CallerContext
from crm_common.db import Database, DatabaseHandle, service_metadata
from crm_common.idempotency import idempotent, reload_entity
from crm_common.rpc import ClusterRpcProxy, rpc  # signs the caller context, as the gateway does
from crm_common.service import ServiceBase
from sqlalchemy import Column, Integer, String, Table, func, insert, select

metadata, infra = service_metadata()
orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
)
STALL = eventlet.event.Event()  # set: the first instance stalls for good after its commit
STALLING = {"on": False}


class OrdersService(ServiceBase):
    name = "orders_idem"
    db = Database(metadata)

    @rpc
    @idempotent(reload=reload_entity("order", "get_order"))
    def create_order(self, data):
        with self.db.transaction() as uow:
            new_id = uow.session.execute(
                insert(orders).returning(orders.c.id), {"name": data["name"]}
            ).scalar_one()
            uow.audit("order", new_id, "create")
        if STALLING["on"]:
            STALL.wait()  # "killed" here: committed, no reply, no acknowledgement
        return {"id": new_id, "name": data["name"]}

    @rpc
    def get_order(self, order_id):
        with self.db.read() as s:
            row = s.execute(select(orders).where(orders.c.id == order_id)).mappings().one()
            return {"id": row["id"], "name": row["name"]}


def count(handle, table) -> int:
    with handle.read() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_create_redelivered_after_a_crash_is_answered_not_repeated(
    container_factory, vhost_uri_fresh, sqlite_url
):
    handle = DatabaseHandle("orders_idem", metadata, sqlite_url)
    handle.create_all()
    config = {"AMQP_URI": vhost_uri_fresh, "DATABASE_URL": sqlite_url}
    first = container_factory(OrdersService, config)
    first.start()
    caller = CallerContext(user_id=1, username="admin", roles=("admin",), request_id="gateway-req-1")
    STALLING["on"] = True
    try:
        with ClusterRpcProxy(
            {"AMQP_URI": vhost_uri_fresh}, context_data=caller.to_context_data(), timeout=60
        ) as proxy:
            reply = proxy.orders_idem.create_order.call_async({"name": "Kraków"})
            deadline = time.monotonic() + 15
            while count(handle, orders) == 0:  # committed ...
                assert time.monotonic() < deadline, "the first instance never committed"
                eventlet.sleep(0.05)
            first.kill()  # ... and died before replying: the message goes back to the queue
            STALLING["on"] = False
            second = container_factory(OrdersService, config)
            second.start()
            answer = reply.result()  # the redelivery, answered by the second instance
    finally:
        STALLING["on"] = False
        STALL.send()
    assert answer == {"id": 1, "name": "Kraków"}
    assert count(handle, orders) == 1
    assert count(handle, infra.audit_log) == 1
    with handle.read() as s:
        record = s.execute(select(infra.idempotency_keys)).mappings().one()
    assert record["method"] == "create_order" and record["effect"] == [["order", "1", "create"]]
    handle.dispose()
