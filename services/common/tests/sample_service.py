"""A small real service exercising the common infrastructure in tests."""

from crm_common import catalogue
from crm_common.catalogue import EventSpec
from crm_common.db import Database, define_infra_tables
from crm_common.errors import Conflict
from crm_common.events import event_handler
from crm_common.outbox import OutboxRelayProvider
from crm_common.rpc import RpcProxy, rpc
from crm_common.service import ServiceBase
from marshmallow import Schema, fields
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

metadata = MetaData()
infra = define_infra_tables(metadata)
items = Table("items", metadata, Column("id", Integer, primary_key=True), Column("name", String(100)))
seen = Table(
    "seen",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(36)),
    Column("name", String(100)),
)
attempts = Table(
    "attempts", metadata, Column("id", Integer, primary_key=True), Column("event_id", String(36))
)


class ItemPayload(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


# "sample" has no events.py in the catalogue build: its event is declared here, so publishing it
# passes the catalogue check the tests run with (CRM_VALIDATE_EVENTS)
catalogue.register(
    EventSpec(
        source="sample",
        type="item_created",
        payload=ItemPayload,
        summary="An item was created.",
        public=False,
    )
)


class ItemLocked(Conflict):
    """A service's own error type, derived from a CRM error."""


POISON_CALLS: list[str] = []
FLAKY_CALLS: list[str] = []  # event ids handle_flaky saw (it fails the first time of each)
DAILY_CALLS: list[
    tuple
] = []  # (as_of, caller roles) of each daily run  # in-process record of handler runs (the DB effect rolls back)


class SampleService(ServiceBase):
    name = "sample"
    db = Database(metadata)
    relay = OutboxRelayProvider()
    sample_rpc = RpcProxy("sample")  # calls itself: enough to prove context propagation
    ghost_rpc = RpcProxy("ghost", timeout=1)  # a service whose queue exists but nobody consumes

    @rpc
    def create_item(self, name):
        with self.db.transaction() as uow:
            item_id = uow.session.execute(insert(items).values(name=name)).inserted_primary_key[0]
            uow.publish("item_created", {"id": item_id, "name": name})
            uow.audit("item", item_id, "create", {"name": [None, name]})
        return item_id

    @rpc
    def whoami(self):
        c = self.caller
        return {"user_id": c.user_id, "roles": list(c.roles), "request_id": c.request_id}

    @rpc
    def fail_typed(self):
        raise Conflict("Likely duplicate", {"candidates": [{"id": 7, "owner_id": None, "ok": True}]})

    @rpc
    def whoami_via_proxy(self):
        return self.sample_rpc.whoami()

    @rpc
    def call_ghost(self):
        return self.ghost_rpc.anything()

    @rpc
    def fail_subclass(self):
        raise ItemLocked("Item 3 is locked", {"id": 3})

    @rpc
    def seen_count(self):
        with self.db.read() as s:
            return s.execute(select(func.count()).select_from(seen)).scalar()

    @event_handler("sample", "item_created")
    def handle_item_created(self, event):
        with self.db.transaction() as uow:
            uow.session.execute(
                insert(seen).values(event_id=event["event_id"], name=event["payload"]["name"])
            )

    @event_handler("sample", "item_refused")
    def handle_item_refused(self, event):
        """Tries, fails (rolled back), then records the refusal in a second transaction."""
        try:
            with self.db.transaction() as uow:
                uow.session.execute(insert(items).values(name=event["payload"]["name"]))
                raise ValueError("refused")
        except ValueError:
            with self.db.transaction() as uow:
                uow.session.execute(insert(seen).values(event_id=event["event_id"], name="refused"))

    def daily_jobs(self, as_of):
        DAILY_CALLS.append((as_of, tuple(self.caller.roles)))
        return {"as_of": as_of.isoformat()}

    @event_handler("sample", "poison")
    def handle_poison(self, event):
        POISON_CALLS.append(event["event_id"])
        with self.db.transaction() as uow:
            uow.session.execute(insert(attempts).values(event_id=event["event_id"]))
            raise RuntimeError("cannot handle this event")

    @event_handler("sample", "flaky")
    def handle_flaky(self, event):
        FLAKY_CALLS.append(event["event_id"])
        if FLAKY_CALLS.count(event["event_id"]) == 1:
            raise RuntimeError("fails once")
        with self.db.transaction() as uow:
            uow.session.execute(insert(seen).values(event_id=event["event_id"], name="flaky"))
