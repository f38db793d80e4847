"""The common infrastructure on a real broker and real databases: the outbox relay, idempotent
handlers, retries and the dead-letter queue, malformed messages, caller context."""

import json
import threading
import time

import pytest
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, make_envelope
from crm_common.events import handler_queues
from crm_common.outbox import OutboxRelay, event_exchange
from crm_common.rpc import ClusterRpcProxy  # signs the caller context, as the gateway does
from crm_common.testing import publish_event
from kombu import Connection, Exchange, Queue
from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy import func, insert, select

from .sample_service import DAILY_CALLS, POISON_CALLS, SampleService, attempts, items, metadata, seen


def wait_for(predicate, timeout=15.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def count(handle, table, *where):
    with handle.read() as s:
        return s.execute(select(func.count()).select_from(table).where(*where)).scalar()


def make_handle(url):
    handle = DatabaseHandle("sample", metadata, url)
    handle.create_all()
    return handle


def config(amqp, url, **extra):
    return {
        "AMQP_URI": amqp,
        "DATABASE_URL": url,
        "EVENT_MAX_ATTEMPTS": 3,
        "EVENT_RETRY_BASE_SECONDS": 0.05,
        **extra,
    }


def queue_depth(amqp, name):
    with Connection(amqp) as conn:
        return Queue(name, durable=True)(conn.default_channel).queue_declare(passive=True).message_count


def test_event_published_by_a_commit_reaches_its_handler(container_factory, vhost_uri_fresh, any_db_url):
    handle = make_handle(any_db_url)
    container = container_factory(SampleService, config(vhost_uri_fresh, any_db_url))
    container.start()
    with ClusterRpcProxy({"AMQP_URI": vhost_uri_fresh}) as rpc:
        rpc.sample.create_item("İstanbul 北京")
    wait_for(lambda: count(handle, seen) == 1)
    with handle.read() as s:
        assert s.execute(select(seen.c.name)).scalar() == "İstanbul 北京"
    assert count(handle, handle.infra.outbox, handle.infra.outbox.c.published_at.is_(None)) == 0
    assert count(handle, handle.infra.audit_log) == 1


def test_event_committed_while_no_relay_runs_is_published_after_restart(
    container_factory, vhost_uri_fresh, any_db_url
):
    """A crash between commit and publish: the state change and its event are committed, the
    process dies before publishing. The next start publishes it; nothing is lost."""
    handle = make_handle(any_db_url)
    # declare the consumer's queues first, as the setup step does before any service starts
    main, retry, dlq = handler_queues("sample", "item_created", "sample", "handle_item_created")
    with Connection(vhost_uri_fresh) as conn:
        for q in (main, retry, dlq):
            q(conn.default_channel).declare()
    with handle.transaction() as uow:
        uow.session.execute(insert(items).values(name="written before the crash"))
        uow.publish("item_created", {"id": 1, "name": "written before the crash"})
    outbox = handle.infra.outbox
    assert count(handle, outbox, outbox.c.published_at.is_(None)) == 1

    container = container_factory(SampleService, config(vhost_uri_fresh, any_db_url))
    container.start()
    wait_for(lambda: count(handle, seen) == 1)
    assert count(handle, outbox, outbox.c.published_at.is_(None)) == 0


def test_relay_failing_mid_batch_loses_nothing_and_publishes_once(vhost_uri_fresh, sqlite_url):
    handle = make_handle(sqlite_url)
    with handle.transaction() as uow:
        for i in range(5):
            uow.publish("item_created", {"id": i, "name": f"n{i}"})
    probe = Queue("probe", exchange=event_exchange("sample"), routing_key="#", durable=True)
    with Connection(vhost_uri_fresh) as conn:
        probe(conn.default_channel).declare()

    broken = OutboxRelay(handle, "amqp://guest:guest@127.0.0.1:1/")  # nothing listens there
    with pytest.raises(KombuOperationalError):  # connection refused
        broken.publish_pending()
    outbox = handle.infra.outbox
    assert count(handle, outbox, outbox.c.published_at.is_(None)) == 5

    relay = OutboxRelay(handle, vhost_uri_fresh)
    assert relay.publish_pending() == 5
    assert relay.publish_pending() == 0
    assert queue_depth(vhost_uri_fresh, "probe") == 5


def test_redelivered_event_changes_nothing(container_factory, vhost_uri_fresh, sqlite_url):
    handle = make_handle(sqlite_url)
    container = container_factory(SampleService, config(vhost_uri_fresh, sqlite_url))
    container.start()
    envelope = make_envelope("sample", "item_created", {"id": 7, "name": "once"})
    # at-least-once delivery: the same event arrives three times
    publish_event(vhost_uri_fresh, "sample", envelope, times=3)
    wait_for(lambda: count(handle, seen) >= 1)
    name = "evt-sample-item_created--sample.handle_item_created"
    wait_for(lambda: queue_depth(vhost_uri_fresh, name) == 0)
    time.sleep(0.3)
    assert count(handle, seen) == 1
    assert count(handle, handle.infra.processed_events) == 1


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
def test_failing_handler_is_retried_then_dead_lettered(
    container_factory, vhost_uri_fresh, sqlite_url, queue_type, monkeypatch
):
    monkeypatch.setenv("CRM_QUEUE_TYPE", queue_type)  # quorum: as on a RabbitMQ cluster
    handle = make_handle(sqlite_url)
    container = container_factory(SampleService, config(vhost_uri_fresh, sqlite_url))
    container.start()
    envelope = make_envelope("sample", "poison", {"why": "test"})
    publish_event(vhost_uri_fresh, "sample", envelope)  # signed: every retry still verifies
    dlq = "evt-sample-poison--sample.handle_poison.dlq"
    wait_for(lambda: queue_depth(vhost_uri_fresh, dlq) == 1)
    # the handler ran exactly max-attempts times; its effects were rolled back each time
    assert POISON_CALLS.count(envelope["event_id"]) == 3
    assert count(handle, attempts) == 0
    if queue_type == "quorum":  # every queue of the handler, the DLQ included, is a quorum queue
        from crm_common.dlq import main as dlq_main

        assert dlq_main(["--amqp-uri", vhost_uri_fresh, "show", dlq]) == 0
    with Connection(vhost_uri_fresh) as conn:
        msg = Queue(dlq, durable=True)(conn.default_channel).get(no_ack=True)
    assert msg.headers["x-crm-attempts"] == 3
    assert "cannot handle this event" in msg.headers["x-crm-error"]
    assert json.loads(msg.body)["event_id"] == envelope["event_id"]
    # the service is still healthy
    with ClusterRpcProxy({"AMQP_URI": vhost_uri_fresh}) as rpc:
        assert rpc.sample.health()["status"] == "ok"


def test_malformed_messages_do_not_take_the_service_down(container_factory, vhost_uri_fresh, sqlite_url):
    make_handle(sqlite_url)
    container = container_factory(SampleService, config(vhost_uri_fresh, sqlite_url))
    container.start()
    rpc_exchange = Exchange("nameko-rpc", type="topic", durable=True)
    with Connection(vhost_uri_fresh) as conn:
        p = conn.Producer()
        # event queue: not JSON; JSON but not an envelope; a content type nobody accepts
        p.publish(
            b"\xff\x00not json",
            exchange=event_exchange("sample"),
            routing_key="item_created",
            content_type="application/json",
            content_encoding="binary",
        )
        p.publish(
            json.dumps([1, 2, 3]),
            exchange=event_exchange("sample"),
            routing_key="item_created",
            content_type="application/json",
        )
        p.publish(
            b"\x80\x04K\x01.",
            exchange=event_exchange("sample"),
            routing_key="item_created",
            content_type="application/x-python-serialize",
            content_encoding="binary",
        )
        # RPC queue: garbage body, a list body, no reply_to
        p.publish(
            b"{{{",
            exchange=rpc_exchange,
            routing_key="sample.create_item",
            content_type="application/json",
            content_encoding="binary",
            reply_to="nowhere",
        )
        p.publish(
            json.dumps(["x"]),
            exchange=rpc_exchange,
            routing_key="sample.create_item",
            content_type="application/json",
            reply_to="nowhere",
        )
        p.publish(
            json.dumps({"args": ["x"], "kwargs": {}}),
            exchange=rpc_exchange,
            routing_key="sample.create_item",
            content_type="application/json",
        )
    dlq = "evt-sample-item_created--sample.handle_item_created.dlq"
    wait_for(lambda: queue_depth(vhost_uri_fresh, dlq) == 3)
    wait_for(lambda: queue_depth(vhost_uri_fresh, "crm.malformed") == 3)
    with ClusterRpcProxy({"AMQP_URI": vhost_uri_fresh}) as rpc:
        assert rpc.sample.create_item("still alive") >= 1
        wait_for(lambda: rpc.sample.seen_count() == 1)


def test_caller_context_reaches_the_service(container_factory, vhost_uri_fresh, sqlite_url):
    make_handle(sqlite_url)
    container = container_factory(SampleService, config(vhost_uri_fresh, sqlite_url))
    container.start()
    caller = CallerContext(user_id=42, username="rep", roles=("sales_rep",), request_id="req-123")
    expected = {"user_id": 42, "roles": ["sales_rep"], "request_id": "req-123"}
    with ClusterRpcProxy({"AMQP_URI": vhost_uri_fresh}, context_data=caller.to_context_data()) as rpc:
        assert rpc.sample.whoami() == expected
        # a service calling another passes the original caller on, so scopes still apply
        assert rpc.sample.whoami_via_proxy() == expected


@pytest.mark.postgres
def test_concurrent_relays_publish_every_event_exactly_once(vhost_uri_fresh, pg_url):
    """Several replicas relaying the same PostgreSQL outbox: SKIP LOCKED shares the rows."""
    handle = make_handle(pg_url)
    total = 600
    with handle.transaction() as uow:
        for i in range(total):
            uow.publish("item_created", {"id": i, "name": f"n{i}"})
    probe = Queue("probe", exchange=event_exchange("sample"), routing_key="#", durable=True)
    with Connection(vhost_uri_fresh) as conn:
        probe(conn.default_channel).declare()
    relays = [
        OutboxRelay(DatabaseHandle("sample", metadata, pg_url), vhost_uri_fresh, batch_size=20)
        for _ in range(3)
    ]
    counts = [0, 0, 0]

    def drain(i):
        while True:
            n = relays[i].publish_pending()
            if n == 0:
                return
            counts[i] += n

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == total
    ids = set()
    with Connection(vhost_uri_fresh) as conn:
        q = probe(conn.default_channel)
        while (msg := q.get(no_ack=True)) is not None:
            ids.add(json.loads(msg.body)["event_id"])
    assert len(ids) == total


def test_event_published_before_the_consumer_ever_started_is_not_lost(
    container_factory, vhost_uri_fresh, sqlite_url
):
    from crm_common.topology import declare, event_subscriptions

    assert ("sample", "item_created", "handle_item_created") in event_subscriptions(SampleService)
    declare([SampleService], vhost_uri_fresh)  # the setup step, run before any service starts
    handle = make_handle(sqlite_url)
    envelope = make_envelope("sample", "item_created", {"id": 1, "name": "early bird"})
    publish_event(vhost_uri_fresh, "sample", envelope)
    container = container_factory(SampleService, config(vhost_uri_fresh, sqlite_url))
    container.start()
    wait_for(lambda: count(handle, seen) == 1)


def test_dead_lettered_events_can_be_replayed(container_factory, vhost_uri_fresh, sqlite_url, capsys):
    from crm_common import dlq as dlq_cli

    make_handle(sqlite_url)
    container = container_factory(SampleService, config(vhost_uri_fresh, sqlite_url))
    container.start()
    envelope = make_envelope("sample", "poison", {"why": "replay"})
    publish_event(vhost_uri_fresh, "sample", envelope)  # the replay keeps its signature
    dlq = "evt-sample-poison--sample.handle_poison.dlq"
    wait_for(lambda: queue_depth(vhost_uri_fresh, dlq) == 1)
    runs_before = POISON_CALLS.count(envelope["event_id"])
    assert dlq_cli.main(["--amqp-uri", vhost_uri_fresh, "replay", dlq]) == 0
    assert "replayed 1 messages" in capsys.readouterr().out
    # the handler runs again from attempt 1 and, still failing, parks it again after 3 tries
    wait_for(lambda: POISON_CALLS.count(envelope["event_id"]) == runs_before + 3)
    wait_for(lambda: queue_depth(vhost_uri_fresh, dlq) == 1)


def test_error_details_keep_their_types_over_rpc(container_factory, vhost_uri_fresh, sqlite_url):
    from crm_common.errors import Conflict

    make_handle(sqlite_url)
    container = container_factory(SampleService, config(vhost_uri_fresh, sqlite_url))
    container.start()
    with ClusterRpcProxy({"AMQP_URI": vhost_uri_fresh}) as rpc:
        with pytest.raises(Conflict) as err:
            rpc.sample.fail_typed()
    assert err.value.details == {"candidates": [{"id": 7, "owner_id": None, "ok": True}]}
    assert str(err.value) == "Likely duplicate"
    with ClusterRpcProxy({"AMQP_URI": vhost_uri_fresh}) as rpc:
        with pytest.raises(Conflict) as sub:  # a subclass travels as the CRM error it derives from
            rpc.sample.fail_subclass()
    assert type(sub.value) is Conflict and sub.value.details == {"id": 3}


def test_daily_timer_runs_the_jobs_once_a_day_as_the_system(
    container_factory, vhost_uri_fresh, sqlite_url, monkeypatch
):
    import datetime as dt

    from crm_common.daily import DailyTimer

    monkeypatch.setenv("CRM_DAILY_AT", "00:00")
    handle = make_handle(sqlite_url)
    container = container_factory(SampleService, config(vhost_uri_fresh, sqlite_url))
    container.start()
    timer = next(ep for ep in container.entrypoints if isinstance(ep, DailyTimer))
    DAILY_CALLS.clear()
    timer.handle_timer_tick()
    wait_for(lambda: DAILY_CALLS)
    timer.handle_timer_tick()  # a later tick the same day (or another replica) does nothing
    wait_for(lambda: count(handle, handle.infra.job_runs, handle.infra.job_runs.c.finished_at.isnot(None)))
    time.sleep(0.2)
    today = dt.datetime.now(dt.UTC).date()
    assert DAILY_CALLS == [(today, ("system",))]


def test_a_rolled_back_transaction_does_not_use_up_the_processed_marker(
    container_factory, vhost_uri_fresh, sqlite_url
):
    handle = make_handle(sqlite_url)
    container = container_factory(SampleService, config(vhost_uri_fresh, sqlite_url))
    container.start()
    envelope = make_envelope("sample", "item_refused", {"name": "nope"})
    publish_event(vhost_uri_fresh, "sample", envelope, times=2)  # delivered twice
    wait_for(lambda: count(handle, seen) >= 1)
    wait_for(lambda: queue_depth(vhost_uri_fresh, "evt-sample-item_refused--sample.handle_item_refused") == 0)
    time.sleep(0.3)
    assert count(handle, seen) == 1  # the second transaction carried the marker: no repeat
    assert count(handle, items) == 0
    assert count(handle, handle.infra.processed_events) == 1
