"""The partner bus through a real RabbitMQ: a throwaway internal vhost per test (``vhost_uri_fresh``),
its partner vhost and partner users provisioned by ``crm-partner-bridge setup``'s code and removed
afterwards; the public/internal split and personal fields come from the real event catalogue."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from amqp.exceptions import AccessRefused, NotAllowed
from crm_common import partner_bridge as pb
from crm_common.partner_admin import (
    PARTNER_TAG,
    Partner,
    PartnerSetupError,
    broker_admin,
    parse_partners,
    provision,
)
from crm_common.testing import create_vhost, delete_vhost, publish_event, vhost_uri
from kombu import Connection, Exchange, Queue

KEY = uuid.uuid4().hex + uuid.uuid4().hex


ROUTES = pb.load_routes()  # the generated catalogue (make events)


def _public_with_personal() -> tuple[str, str, str]:
    for (source, event_type), versions in sorted(ROUTES.public.items()):
        for fields in versions.values():
            top = [f for f in fields if "." not in f]
            if top and ROUTES.internal.get(source):
                return source, event_type, top[0]
    raise AssertionError("the catalogue has no public event with a personal field")


SOURCE, PUBLIC_TYPE, PERSONAL_FIELD = _public_with_personal()
INTERNAL_TYPE = sorted(ROUTES.internal[SOURCE])[0]


class Bus:
    def __init__(self, internal_uri: str, partner: Partner):
        self.internal_uri = internal_uri
        self.partner = partner
        self.vhost = pb.partner_vhost(internal_uri)
        self.bridge_uri = pb.with_vhost(internal_uri, self.vhost)
        self.partner_uri = pb.with_vhost(
            internal_uri.replace("guest:guest@", f"{partner.name}:{partner.password}@"), self.vhost
        )
        self.queue_name = f"partner.{partner.name}.{uuid.uuid4().hex[:8]}"
        self.bridges: list[tuple[pb.PartnerBridge, threading.Thread]] = []

    def bridge(self, personal_data: bool = False) -> pb.PartnerBridge:
        bridge = pb.PartnerBridge(
            ROUTES, self.internal_uri, self.bridge_uri, keys=(KEY.encode(),), personal_data=personal_data
        )
        self.bridges.append((bridge, bridge.start_thread()))
        return bridge

    def stop(self, bridge: pb.PartnerBridge) -> None:
        bridge.stop()
        for b, thread in self.bridges:
            if b is bridge:
                thread.join(10)
                assert not thread.is_alive()

    def subscribe(self, pattern: str = "#") -> None:
        """As a partner does (docs/partners.md): its own durable queue bound to crm.public."""
        with Connection(self.partner_uri) as conn:
            channel = conn.default_channel
            queue = Queue(
                self.queue_name,
                Exchange(pb.PUBLIC_EXCHANGE, type="topic", durable=True, passive=True),
                routing_key=pattern,
                durable=True,
            )
            queue(channel).declare()

    def receive(self, count: int, seconds: float = 20.0) -> list:
        got: list = []
        deadline = time.monotonic() + seconds
        with Connection(self.partner_uri) as conn:
            queue = Queue(self.queue_name, durable=True, no_declare=True)(conn.default_channel)
            while len(got) < count and time.monotonic() < deadline:
                message = queue.get(no_ack=True)
                if message is None:
                    time.sleep(0.1)
                    continue
                if isinstance(message.body, str):  # kombu decodes a UTF-8 body: the bytes sent
                    message.body = message.body.encode("utf-8")
                got.append(message)
        return got


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory):
    """One internal vhost and its partner vhost, provisioned with one partner, for this module."""
    vhost = f"crm-test-{uuid.uuid4().hex[:12]}"
    create_vhost(vhost)
    name = f"p{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex + uuid.uuid4().hex
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_DATA_DIR", str(tmp_path_factory.mktemp("partner")))
        mp.setenv("CRM_PARTNER_KEY", KEY)
        mp.setenv("CRM_PARTNERS", name)
        mp.setenv(f"CRM_PARTNER_PASSWORD_{name.upper()}", password)
        summary = pb.setup(vhost_uri(vhost), ROUTES)
    assert summary["partners"] == [name]
    try:
        yield vhost_uri(vhost), Partner(name, password)
    finally:
        admin = broker_admin()
        admin.delete_vhost(pb.partner_vhost(vhost_uri(vhost)))
        admin.delete_user(name)
        delete_vhost(vhost)


@pytest.fixture
def bus(provisioned):
    """The partner's own queue for one test (removed afterwards) and the bridges it starts."""
    b = Bus(*provisioned)
    try:
        yield b
    finally:
        for bridge, thread in b.bridges:
            bridge.stop()
            thread.join(10)
        with Connection(b.partner_uri) as conn:
            Queue(b.queue_name, no_declare=True)(conn.default_channel).delete()


def envelope(event_type: str, payload: dict) -> dict:
    return {
        "event_id": uuid.uuid4().hex,
        "type": event_type,
        "version": 1,
        "occurred_at": "2026-01-02T03:04:05+00:00",
        "source": SOURCE,
        "request_id": uuid.uuid4().hex,
        "payload": payload,
    }


def test_public_event_reaches_partner_without_personal_fields(bus):
    bus.subscribe()
    bridge = bus.bridge()
    event = publish_event(
        bus.internal_uri, SOURCE, envelope(PUBLIC_TYPE, {"id": 41, PERSONAL_FIELD: "Jane Roe"})
    )
    [message] = bus.receive(1)
    body = json.loads(message.body)
    assert body["event_id"] == event["event_id"]
    assert sorted(body) == ["event_id", "occurred_at", "payload", "source", "type", "version"]
    assert body["payload"] == {"id": 41}  # the personal field is absent, the rest kept
    assert message.delivery_info["routing_key"] == f"{SOURCE}.{PUBLIC_TYPE}"
    assert message.properties["message_id"] == event["event_id"]
    assert message.headers[pb.REMOVED_HEADER] == PERSONAL_FIELD
    assert pb.verify(KEY.encode(), message.headers[pb.SIGNATURE_HEADER], message.body)
    assert not pb.verify(KEY.encode(), message.headers[pb.SIGNATURE_HEADER], message.body + b" ")
    assert not pb.verify(b"another-key", message.headers[pb.SIGNATURE_HEADER], message.body)
    assert bridge.forwarded == 1


def test_personal_fields_kept_when_allowed(bus):
    bus.subscribe(f"{SOURCE}.{PUBLIC_TYPE}")
    bus.bridge(personal_data=True)
    publish_event(bus.internal_uri, SOURCE, envelope(PUBLIC_TYPE, {"id": 1, PERSONAL_FIELD: "Jane Roe"}))
    [message] = bus.receive(1)
    assert json.loads(message.body)["payload"] == {"id": 1, PERSONAL_FIELD: "Jane Roe"}
    assert pb.REMOVED_HEADER not in message.headers


def test_internal_and_forged_events_are_not_forwarded(bus):
    bus.subscribe()
    bridge = bus.bridge()
    publish_event(bus.internal_uri, SOURCE, envelope(INTERNAL_TYPE, {"id": 1}))
    forged = publish_event(bus.internal_uri, SOURCE, envelope(PUBLIC_TYPE, {"id": 2}), signed=False)
    last = publish_event(bus.internal_uri, SOURCE, envelope(PUBLIC_TYPE, {"id": 3}))
    got = bus.receive(3, seconds=5)
    assert [json.loads(m.body)["event_id"] for m in got] == [last["event_id"]]
    assert bridge.parked == 1
    with Connection(bus.internal_uri) as conn:
        dlq = Queue(f"partner-bridge.{SOURCE}.dlq", no_declare=True)(conn.default_channel)
        parked = dlq.get(no_ack=True)
    assert json.loads(parked.body)["event_id"] == forged["event_id"]
    assert parked.headers["x-crm-error"].startswith("untrusted event")


def test_partner_cannot_publish_nor_reach_the_internal_vhost(bus):
    bus.subscribe()
    with Connection(bus.partner_uri, transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        with pytest.raises(AccessRefused):
            producer.publish(
                b"{}", exchange=pb.PUBLIC_EXCHANGE, routing_key=f"{SOURCE}.{PUBLIC_TYPE}", retry=False
            )
    with Connection(bus.partner_uri) as conn:
        other = Queue("partner.someone-else.q", durable=True)
        with pytest.raises(AccessRefused):
            other(conn.default_channel).declare()
    internal_as_partner = bus.internal_uri.replace(
        "guest:guest@", f"{bus.partner.name}:{bus.partner.password}@"
    )
    with Connection(internal_as_partner) as conn:
        with pytest.raises((AccessRefused, NotAllowed, ConnectionError, OSError)):
            conn.connect()


def test_bridge_restart_loses_nothing(bus):
    bus.subscribe()
    sent = [
        publish_event(bus.internal_uri, SOURCE, envelope(PUBLIC_TYPE, {"id": i}))["event_id"]
        for i in range(60)
    ]
    first = bus.bridge()
    deadline = time.monotonic() + 20
    while first.forwarded < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    bus.stop(first)
    more = [
        publish_event(bus.internal_uri, SOURCE, envelope(PUBLIC_TYPE, {"id": i}))["event_id"]
        for i in range(20)
    ]
    bus.bridge()
    got = bus.receive(len(sent) + len(more), seconds=30)
    ids = [json.loads(m.body)["event_id"] for m in got]
    assert set(ids) == set(sent + more)


def test_provisioning_revokes_unlisted_partners_and_refuses_other_users(vhost_uri_fresh):
    admin = broker_admin()
    vhost = pb.partner_vhost(vhost_uri_fresh)
    name, other = f"p{uuid.uuid4().hex[:10]}", f"u{uuid.uuid4().hex[:10]}"
    try:
        provision(admin, vhost, "guest", [Partner(name, uuid.uuid4().hex * 2)])
        assert PARTNER_TAG in admin.users()[name]
        assert name in admin.vhost_users(vhost)
        summary = provision(admin, vhost, "guest", [])
        assert summary["revoked"] == [name]
        assert name not in admin.users()
        admin.put_user(other, uuid.uuid4().hex, [])  # an ordinary broker user
        with pytest.raises(PartnerSetupError, match="not a partner"):
            provision(admin, vhost, "guest", [Partner(other, uuid.uuid4().hex * 2)])
        with pytest.raises(PartnerSetupError, match="bridge's own broker user"):
            provision(admin, vhost, "guest", [Partner("guest", uuid.uuid4().hex * 2)])
    finally:
        admin.delete_vhost(vhost)
        admin.delete_user(name)
        admin.delete_user(other)


def test_personal_fields_and_partner_list():
    payload = {"a": 1, "email": "x@y", "contacts": [{"name": "A", "role": "b"}, {"name": "B"}]}
    out, removed = pb.strip_personal(payload, ("email", "contacts.name", "phone"))
    assert out == {"a": 1, "contacts": [{"role": "b"}, {}]}
    assert removed == ["email", "contacts.name"]
    assert payload["email"] == "x@y"  # the original is not changed
    with pytest.raises(PartnerSetupError, match="partner name"):
        parse_partners("Bad.Name:/nonexistent")
    with pytest.raises(PartnerSetupError, match="no password"):
        parse_partners("acme")


def test_weak_partner_password_refused_in_production(monkeypatch):
    monkeypatch.setenv("CRM_PARTNER_PASSWORD_ACME_X", "short")
    with pytest.raises(PartnerSetupError, match="shorter"):
        parse_partners("acme-x", production=True)
    assert parse_partners("acme-x") == [Partner("acme-x", "short")]  # development: a warning


def test_signature_header_carries_every_key():
    body = b'{"a":1}'
    header = pb.signature_header((b"new-key", b"old-key"), 1700000000, body)
    assert header.startswith("t=1700000000,v1=")
    assert pb.verify(b"new-key", header, body) and pb.verify(b"old-key", header, body)
    assert not pb.verify(b"third", header, body)


def test_a_source_without_public_types_is_unbound(vhost_uri_fresh):
    """Its bridge queue (from when it had public types) stops receiving; a missing one is fine."""
    with Connection(vhost_uri_fresh) as conn:
        channel = conn.default_channel
        old = pb.Routes(public={("retired", "thing_done"): {1: ()}})
        pb.bridge_queues(old, channel)
        retired = pb.Routes(internal={"retired": {"thing_done"}, "never": {"x"}})
        assert pb.bridge_queues(retired, channel) == []
        publish_event(vhost_uri_fresh, "retired", {"event_id": "e1", "type": "thing_done", "payload": {}})
        queue = Queue("partner-bridge.retired", no_declare=True)(channel)
        assert queue.get(no_ack=True) is None
