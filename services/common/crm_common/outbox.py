"""The transactional outbox relay.

A service's state change and the events announcing it are committed together in its own
database (``outbox`` rows, written by :meth:`crm_common.db.UnitOfWork.publish`). This relay
publishes unpublished rows in commit order to the service's topic exchange ``<service>.events``
(routing key = event type) as persistent messages with publisher confirms, and marks them
published in the same database transaction that claimed them:

* a crash between commit and publish loses nothing: the row stays unpublished and the next
  relay (after a restart, or another replica) publishes it;
* a crash after publishing but before marking may publish an event again — consumers are
  idempotent by ``event_id``, so at-least-once delivery is safe;
* replicas never publish one row at the same time: PostgreSQL claims rows with
  ``FOR UPDATE SKIP LOCKED`` (replicas share the work), SQLite with ``BEGIN IMMEDIATE``;
* signed: each message carries ``x-crm-signature`` (:func:`crm_common.signing.event_headers`,
  over the service, event type, event id and the exact body bytes) — handlers refuse events
  without it;
* low latency: a commit that wrote outbox rows wakes the relay at once; polling
  (``CRM_OUTBOX_POLL_SECONDS``, default 1 s) only catches rows written by other processes.

The relay runs as a thread (a green thread under eventlet): :class:`OutboxRelayProvider` starts
it in a Nameko service; :meth:`OutboxRelay.start_thread` anywhere else (the gateway).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from kombu import Connection, Exchange
from nameko.extensions import DependencyProvider
from sqlalchemy import select, update

from . import config
from .db import DatabaseHandle, is_sqlite, utcnow
from .signing import event_headers

log = logging.getLogger(__name__)

PERSISTENT = 2


def event_exchange(source: str) -> Exchange:
    """The topic exchange a service publishes its events to (the same one Nameko uses)."""
    return Exchange(f"{source}.events", type="topic", durable=True, delivery_mode=PERSISTENT)


class OutboxRelay:
    def __init__(
        self,
        db: DatabaseHandle,
        amqp_uri: str | None = None,
        batch_size: int = 200,
        poll_interval: float | None = None,
    ):
        self.db = db
        self.amqp_uri = amqp_uri or config.amqp_uri()
        self.batch_size = batch_size
        self.poll_interval = (
            poll_interval if poll_interval is not None else config.env_float("CRM_OUTBOX_POLL_SECONDS", 1.0)
        )
        self.exchange = event_exchange(db.service)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._conn: Connection | None = None
        self._producer: Any = None
        self._thread: threading.Thread | None = None
        self.published_total = 0
        self.failures = 0
        db.after_commit_hooks.append(self.wake)

    # -- publishing --------------------------------------------------------------------
    def _connect(self) -> None:
        if self._conn is not None:
            return
        conn = Connection(self.amqp_uri, transport_options={"confirm_publish": True}, heartbeat=0)
        conn.ensure_connection(max_retries=1)
        self.exchange(conn.default_channel).declare()
        self._conn = conn
        self._producer = conn.Producer(serializer="json")

    def _disconnect(self) -> None:
        conn, self._conn, self._producer = self._conn, None, None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # pragma: no cover
                pass

    def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; return how many were published."""
        outbox = self.db.infra.outbox
        query = (
            select(outbox.c.id, outbox.c.event_id, outbox.c.type, outbox.c.body)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.id)
            .limit(self.batch_size)
        )
        if not is_sqlite(self.db.url):
            query = query.with_for_update(skip_locked=True)
        if not self.has_pending():
            return 0  # an idle relay does not take the write lock
        with self.db.locked(), self.db.engine.begin() as conn:
            rows = conn.execute(query).all()
            if not rows:
                return 0
            self._connect()
            published = []
            try:
                for row in rows:
                    # the exact bytes published are the bytes signed (crm_common.signing)
                    body = row.body.encode("utf-8") if isinstance(row.body, str) else bytes(row.body)
                    self._producer.publish(
                        body,
                        exchange=self.exchange,
                        routing_key=row.type,
                        content_type="application/json",
                        content_encoding="utf-8",
                        delivery_mode=PERSISTENT,
                        message_id=row.event_id,
                        headers=event_headers(self.db.service, row.type, row.event_id, body),
                        retry=False,
                    )
                    published.append(row.id)
            finally:
                # rows confirmed before a failure are marked, so they are not sent again
                if published:
                    conn.execute(
                        update(outbox).where(outbox.c.id.in_(published)).values(published_at=utcnow())
                    )
            self.published_total += len(published)
            return len(published)

    def has_pending(self) -> bool:
        outbox = self.db.infra.outbox
        with self.db.read() as s:
            return (
                s.execute(select(outbox.c.id).where(outbox.c.published_at.is_(None)).limit(1)).first()
                is not None
            )

    # -- loop --------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                n = self.publish_pending()
                backoff = 0.5
            except Exception as exc:
                self.failures += 1
                log.warning("outbox relay of %s failed, retrying in %.1fs: %s", self.db.service, backoff, exc)
                self._disconnect()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if n >= self.batch_size:
                continue  # more waiting
            self._wake.wait(self.poll_interval)
            self._wake.clear()
        self._disconnect()

    def start_thread(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name=f"outbox-{self.db.service}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def lag(self) -> dict[str, Any]:
        """How far behind the relay is: unpublished rows and the age of the oldest."""
        from sqlalchemy import func

        outbox = self.db.infra.outbox
        with self.db.read() as s:
            count, oldest = s.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
            ).one()
        age = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:
                import datetime as dt

                oldest = oldest.replace(tzinfo=dt.UTC)
            age = (utcnow() - oldest).total_seconds()
        return {"pending": count, "oldest_seconds": round(age, 3)}


class OutboxRelayProvider(DependencyProvider):
    """Runs the outbox relay of a service's :class:`~crm_common.db.Database` in the container.

    ``relay = OutboxRelayProvider("db")`` on the service class (the name of the Database
    attribute). Set ``OUTBOX_RELAY: false`` in the config to run a service without one.
    """

    def __init__(self, database_attr: str = "db"):
        self.database_attr = database_attr
        self.relay: OutboxRelay | None = None

    def start(self) -> None:
        if self.container.config.get("OUTBOX_RELAY", True) is False:
            return
        database = next(d for d in self.container.dependencies if d.attr_name == self.database_attr)
        self.relay = OutboxRelay(database.handle, self.container.config["AMQP_URI"])
        self.container.spawn_managed_thread(self._run, identifier="outbox-relay")

    def _run(self) -> None:
        assert self.relay is not None
        self.relay.run()

    def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop()
            # give the loop a moment to notice
            time.sleep(0)

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.relay
