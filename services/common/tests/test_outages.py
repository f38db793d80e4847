"""Outages of what a service depends on, found by the fault tests (tests/faults) and pinned
here fast: a database that cannot be reached answers ``Unavailable`` (the gateway's 503) and the
service answers normally once it is back; acking on a connection the broker dropped does not
raise (it killed the whole service during a broker restart); a call to a service that is down
gives up after its timeout instead of holding the caller's worker forever.

    .venv/bin/python -m pytest services/common/tests/test_outages.py -q --suppress-nameko-eventlet-notification
"""

import socket
import sqlite3
import time
import uuid

import pytest
from crm_common.consumer import SafeQueueConsumer
from crm_common.errors import Unavailable
from crm_common.rpc import unavailable_error
from crm_common.testing import PG_ADMIN, create_pg_database, drop_pg_database, pg_available
from kombu import Connection, Exchange, Queue
from nameko.messaging import QueueConsumer
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc

from .sample_service import SampleService
from .test_infrastructure import config, make_handle


def sqlalchemy_error(url: str, sql: str) -> sa_exc.DBAPIError:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    except sa_exc.DBAPIError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("no error")


def test_an_unreachable_sqlite_file_is_unavailable_but_a_missing_table_is_a_bug(tmp_path):
    unreachable = sqlalchemy_error(f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}", "SELECT 1")
    assert isinstance(unreachable.orig, sqlite3.OperationalError)
    err = unavailable_error(unreachable)
    assert isinstance(err, Unavailable) and "unable to open database" in err.details["reason"]
    missing = sqlalchemy_error(f"sqlite:///{tmp_path / 'x.db'}", "SELECT * FROM nothing_here")
    assert unavailable_error(missing) is None
    assert unavailable_error(ValueError("no")) is None


def _set_connections(database: str, allowed: bool) -> None:
    import psycopg2

    conn = psycopg2.connect(PG_ADMIN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,)
            )
    conn.close()


def test_a_database_that_is_down_answers_unavailable_and_the_service_recovers(
    container_factory, vhost_uri_fresh
):
    if not pg_available():
        pytest.skip("PostgreSQL is not reachable at TEST_PG_URL")
    name = f"crm_test_{uuid.uuid4().hex[:12]}"
    url = create_pg_database(name)
    try:
        make_handle(url)
        container = container_factory(SampleService, config(vhost_uri_fresh, url))
        container.start()
        with ClusterRpcProxy({"AMQP_URI": vhost_uri_fresh}) as rpc:
            assert rpc.sample.seen_count() == 0
            _set_connections(name, False)
            try:
                with pytest.raises(Unavailable) as err:
                    rpc.sample.seen_count()
                assert err.value.details["reason"]
            finally:
                _set_connections(name, True)
            assert rpc.sample.seen_count() == 0  # the pool reconnects: the same service answers
    finally:
        drop_pg_database(name)


def test_acking_on_a_dropped_connection_does_not_raise_and_the_message_comes_back(vhost_uri_fresh):
    queue = Queue(f"outage-{uuid.uuid4().hex[:8]}", durable=True)
    with Connection(vhost_uri_fresh) as conn:
        bound = queue(conn.default_channel)
        bound.declare()
        conn.Producer().publish({"n": 1}, exchange="", routing_key=queue.name, serializer="json")
    conn = Connection(vhost_uri_fresh)
    message = queue(conn.default_channel).get(no_ack=False)
    assert message is not None
    conn.connection.transport.sock.shutdown(socket.SHUT_RDWR)  # the broker connection drops under the worker
    with pytest.raises(OSError):  # what Nameko's own ack_message lets escape
        QueueConsumer().ack_message(message)
    SafeQueueConsumer().ack_message(message)  # logged, not raised
    SafeQueueConsumer().requeue_message(message)
    with Connection(vhost_uri_fresh) as again:  # unacked: the broker delivers it again
        redelivered = queue(again.default_channel).get(no_ack=False)
        assert redelivered is not None and redelivered.payload == {"n": 1}
        redelivered.ack()


def test_a_call_to_a_service_that_is_down_gives_up_and_expires(
    container_factory, vhost_uri_fresh, sqlite_url
):
    make_handle(sqlite_url)
    with Connection(vhost_uri_fresh) as conn:  # the ghost service ran once: its queue remains
        ghost = Queue(
            "rpc-ghost", exchange=Exchange("nameko-rpc", type="topic", durable=True), routing_key="ghost.*"
        )
        ghost(conn.default_channel).declare()
    container = container_factory(SampleService, config(vhost_uri_fresh, sqlite_url))
    container.start()
    with ClusterRpcProxy({"AMQP_URI": vhost_uri_fresh}) as rpc:
        with pytest.raises(Unavailable) as err:
            rpc.sample.call_ghost()
        assert err.value.details["service"] == "ghost"
        assert rpc.sample.seen_count() == 0  # the worker was freed: the service still answers

    def depth():
        with Connection(vhost_uri_fresh) as conn:
            return ghost(conn.default_channel).queue_declare(passive=True).message_count

    deadline = time.monotonic() + 10
    while depth() and time.monotonic() < deadline:  # the request expired: nobody runs it late
        time.sleep(0.2)
    assert depth() == 0
