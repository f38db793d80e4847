"""Signed events (docs/security.md "Caller context on the broker"): the outbox relay signs what
it publishes, handlers park anything unsigned or altered in their DLQ before a worker runs."""

import json
import logging
import time

import pytest
from crm_common.db import DatabaseHandle, make_envelope
from crm_common.metrics import Metrics
from crm_common.outbox import OutboxRelay
from crm_common.signing import (
    EVENT_SIGNATURE_HEADER,
    ContextKeys,
    event_headers,
    event_problem,
    event_signature,
    sign_event,
)
from crm_common.testing import publish_event, signed_headers
from kombu import Connection, Queue
from sqlalchemy import func, select

from .sample_service import FLAKY_CALLS, SampleService, metadata, seen

KEY = b"e" * 8 + bytes(range(40))
OLD = bytes(range(48))
BODY = json.dumps(make_envelope("approvals", "approval_approved", {"document_id": "7"})).encode()


def keys(current=KEY, previous=None):
    return ContextKeys(current, previous, "test")


def headers(source="approvals", event_type="approval_approved", event_id="e-1", body=BODY, key=KEY):
    return {
        "event_id": event_id,
        "event_type": event_type,
        EVENT_SIGNATURE_HEADER: sign_event(source, event_type, event_id, body, key=key),
    }


# -- signing and verifying -------------------------------------------------------------------


def test_a_signed_event_verifies():
    assert event_problem(headers(), BODY, "approvals", "approval_approved", keys=keys()) is None
    # the body may be given as the text it was encoded from
    assert event_problem(headers(), BODY.decode(), "approvals", "approval_approved", keys=keys()) is None


def test_an_unsigned_event_is_refused():
    plain = {"event_id": "e-1", "event_type": "approval_approved"}
    assert event_problem(plain, BODY, "approvals", "approval_approved", keys=keys()) == "unsigned"
    assert event_problem(None, BODY, "approvals", "approval_approved", keys=keys()) == "unsigned"


def test_a_tampered_body_is_refused():
    body = BODY.replace(b'"7"', b'"8"')
    assert body != BODY
    assert event_problem(headers(), body, "approvals", "approval_approved", keys=keys()) == "bad_signature"
    # one more byte (whitespace) is another body too
    assert event_problem(headers(), BODY + b" ", "approvals", "approval_approved", keys=keys()) == (
        "bad_signature"
    )


@pytest.mark.parametrize(
    "source, event_type, claimed_id",
    [
        ("contracts", "approval_approved", "e-1"),  # signed by approvals, received as contracts'
        ("approvals", "approval_rejected", "e-1"),  # signed for another type
        ("approvals", "approval_approved", "e-2"),  # another event id in the header
    ],
)
def test_an_event_signed_for_something_else_is_refused(source, event_type, claimed_id):
    h = headers()
    h["event_id"] = claimed_id
    assert event_problem(h, BODY, source, event_type, keys=keys()) == "bad_signature"


def test_another_key_is_refused_and_malformed_signatures_are_told_apart():
    assert event_problem(headers(key=OLD), BODY, "approvals", "approval_approved", keys=keys()) == (
        "bad_signature"
    )
    for bad in ("abc", "", 12):
        h = {**headers(), EVENT_SIGNATURE_HEADER: bad}
        assert event_problem(h, BODY, "approvals", "approval_approved", keys=keys()) == "malformed"
    h = headers()
    del h["event_id"]
    assert event_problem(h, BODY, "approvals", "approval_approved", keys=keys()) == "malformed"
    # header values arriving as bytes (some AMQP clients) verify the same
    h = {k: v.encode() for k, v in headers().items()}
    assert event_problem(h, BODY, "approvals", "approval_approved", keys=keys()) is None


def test_rotation_accepts_the_previous_key_until_it_is_removed():
    old = headers(key=OLD)  # published before the rotation, still queued
    assert event_problem(old, BODY, "approvals", "approval_approved", keys=keys(KEY, OLD)) is None
    assert event_problem(old, BODY, "approvals", "approval_approved", keys=keys(KEY)) == "bad_signature"
    # the previous key never signs
    assert (
        event_problem(headers(key=KEY), BODY, "approvals", "approval_approved", keys=keys(KEY, OLD)) is None
    )


def test_the_process_key_signs_with_the_current_key(monkeypatch):
    monkeypatch.setenv("CRM_CONTEXT_KEY", "n" * 16 + OLD.hex())
    monkeypatch.setenv("CRM_CONTEXT_KEY_PREVIOUS", "p" * 16 + KEY.hex())
    h = event_headers("approvals", "approval_approved", "e-1", BODY)
    current = ("n" * 16 + OLD.hex()).encode()
    assert h[EVENT_SIGNATURE_HEADER] == event_signature(
        current, "approvals", "approval_approved", "e-1", BODY
    )
    assert event_problem(h, BODY, "approvals", "approval_approved") is None
    monkeypatch.setenv("CRM_CONTEXT_KEY", "q" * 16 + KEY.hex())  # rotated: the old one is previous
    monkeypatch.setenv("CRM_CONTEXT_KEY_PREVIOUS", "n" * 16 + OLD.hex())
    assert event_problem(h, BODY, "approvals", "approval_approved") is None
    monkeypatch.delenv("CRM_CONTEXT_KEY_PREVIOUS")
    assert event_problem(h, BODY, "approvals", "approval_approved") == "bad_signature"


# -- on a real broker ------------------------------------------------------------------------


def wait_for(predicate, timeout=15.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def queue_depth(amqp, name):
    with Connection(amqp) as conn:
        return Queue(name, durable=True)(conn.default_channel).queue_declare(passive=True).message_count


def seen_count(handle, *where):
    with handle.read() as s:
        return s.execute(select(func.count()).select_from(seen).where(*where)).scalar()


@pytest.fixture
def sample(container_factory, vhost_uri_fresh, sqlite_url):
    handle = DatabaseHandle("sample", metadata, sqlite_url)
    handle.create_all()
    container = container_factory(
        SampleService,
        {
            "AMQP_URI": vhost_uri_fresh,
            "DATABASE_URL": sqlite_url,
            "EVENT_MAX_ATTEMPTS": 3,
            "EVENT_RETRY_BASE_SECONDS": 0.05,
        },
    )
    container.start()

    class Sample:
        amqp_uri = vhost_uri_fresh
        db = handle

        @staticmethod
        def untrusted(event_type: str, reason: str) -> float:
            (metrics,) = [d for d in container.extensions if isinstance(d, Metrics)]
            counter = metrics.registry._metrics.get("crm_untrusted_events_total")
            return counter.value("sample", "sample", event_type, reason) if counter else 0.0

    return Sample


CREATED_DLQ = "evt-sample-item_created--sample.handle_item_created.dlq"


def parked(amqp, queue):
    with Connection(amqp) as conn:
        msg = Queue(queue, durable=True)(conn.default_channel).get(no_ack=True)
    assert msg is not None
    return msg


@pytest.mark.parametrize(
    "forge, reason",
    [
        (lambda env: {}, "unsigned"),
        (
            lambda env: signed_headers("other", "item_created", env["event_id"], json.dumps(env)),
            "bad_signature",
        ),
        (
            lambda env: {
                **signed_headers("sample", "item_created", env["event_id"], json.dumps(env)),
                EVENT_SIGNATURE_HEADER: "0" * 64,
            },
            "bad_signature",
        ),
        (
            lambda env: signed_headers(
                "sample", "item_created", env["event_id"], json.dumps({**env, "x": 1})
            ),
            "bad_signature",
        ),
    ],
    ids=["unsigned", "other_source", "zero_signature", "other_body"],
)
def test_a_forged_event_is_parked_and_its_handler_never_runs(sample, forge, reason, caplog):
    envelope = make_envelope("sample", "item_created", {"id": 1, "name": "forged\nline"})
    forged = forge(envelope)
    with caplog.at_level(logging.WARNING, logger="crm_common.events"):
        publish_event(sample.amqp_uri, "sample", envelope, signed=False, headers=forged)
        wait_for(lambda: queue_depth(sample.amqp_uri, CREATED_DLQ) == 1)
    msg = parked(sample.amqp_uri, CREATED_DLQ)
    assert msg.headers["x-crm-error"].startswith("untrusted event: ")
    assert msg.headers["x-crm-attempts"] == 0
    assert json.loads(msg.body)["event_id"] == envelope["event_id"]
    time.sleep(0.3)
    assert seen_count(sample.db) == 0  # the handler never ran
    assert sample.untrusted("item_created", reason) == 1
    (line,) = [r.getMessage() for r in caplog.records if "untrusted event" in r.getMessage()]
    assert f"untrusted event: {reason}" in line and repr(envelope["event_id"]) in line
    # a signed event still runs afterwards: the service is fine
    good = make_envelope("sample", "item_created", {"id": 2, "name": "real"})
    publish_event(sample.amqp_uri, "sample", good)
    wait_for(lambda: seen_count(sample.db, seen.c.event_id == good["event_id"]) == 1)


def test_a_claimed_caller_header_is_quoted_and_cut_in_the_log(sample, caplog):
    envelope = make_envelope("sample", "item_created", {"id": 1, "name": "x"})
    with caplog.at_level(logging.WARNING, logger="crm_common.events"):
        publish_event(
            sample.amqp_uri, "sample", envelope, signed=False, headers={"event_id": "a\nb" + "z" * 500}
        )
        wait_for(lambda: queue_depth(sample.amqp_uri, CREATED_DLQ) == 1)
    (line,) = [r.getMessage() for r in caplog.records if "untrusted event" in r.getMessage()]
    assert "\n" not in line and "z" * 200 not in line


def test_a_signed_event_runs_and_a_retried_one_still_verifies(sample):
    envelope = make_envelope("sample", "flaky", {"id": 3, "name": "retry me"})
    publish_event(sample.amqp_uri, "sample", envelope)
    # the first delivery fails; the retry (same body and headers, via the .retry queue) verifies
    wait_for(lambda: seen_count(sample.db, seen.c.event_id == envelope["event_id"]) == 1)
    assert FLAKY_CALLS.count(envelope["event_id"]) == 2
    assert queue_depth(sample.amqp_uri, "evt-sample-flaky--sample.handle_flaky.dlq") == 0
    assert sample.untrusted("flaky", "bad_signature") == 0


def test_the_outbox_relay_signs_the_bytes_it_publishes(vhost_uri_fresh, sqlite_url):
    from crm_common.outbox import event_exchange

    handle = DatabaseHandle("sample", metadata, sqlite_url)
    handle.create_all()
    with Connection(vhost_uri_fresh) as conn:
        probe = Queue("probe", exchange=event_exchange("sample"), routing_key="#", durable=False)
        probe(conn.default_channel).declare()
    with handle.transaction() as uow:
        uow.publish("item_created", {"id": 1, "name": "Çağrı €"})
    relay = OutboxRelay(handle, vhost_uri_fresh)
    assert relay.publish_pending() == 1
    with Connection(vhost_uri_fresh) as conn:
        msg = Queue("probe", durable=False)(conn.default_channel).get(no_ack=True)
    assert msg.headers["event_type"] == "item_created"
    assert event_problem(msg.headers, msg.body, "sample", "item_created") is None
    assert event_problem(msg.headers, msg.body, "gateway", "item_created") == "bad_signature"


def test_a_signed_but_malformed_envelope_is_parked_as_malformed(sample):
    body = json.dumps({"event_id": "e-bad", "type": "item_created", "payload": 7})
    publish_event(
        sample.amqp_uri,
        "sample",
        {"event_id": "e-bad", "type": "item_created"},
        signed=False,
        headers=signed_headers("sample", "item_created", "e-bad", body),
    )
    # that signature covers another body than the one sent: untrusted, whatever the body says
    wait_for(lambda: queue_depth(sample.amqp_uri, CREATED_DLQ) == 1)
    assert parked(sample.amqp_uri, CREATED_DLQ).headers["x-crm-error"].startswith("untrusted event: ")
    with Connection(sample.amqp_uri) as conn:
        conn.Producer().publish(
            body,
            exchange="",
            routing_key="evt-sample-item_created--sample.handle_item_created",
            content_type="application/json",
            headers=signed_headers("sample", "item_created", "e-bad", body),
        )
    # signed over the very bytes sent: trusted, then refused as malformed (never run)
    wait_for(lambda: queue_depth(sample.amqp_uri, CREATED_DLQ) == 1)
    msg = parked(sample.amqp_uri, CREATED_DLQ)
    assert msg.headers["x-crm-error"] == "malformed: payload is not an object"
    assert seen_count(sample.db) == 0
