"""Database access shared by every service.

* :func:`make_engine` — SQLite (the embedded default, one file per service) or PostgreSQL
  (``<SERVICE>_DATABASE_URL``), configured for running under eventlet.
* :func:`define_infra_tables` — the outbox, processed-event, audit and job-run tables every
  service keeps in its own database next to its own tables.
* :class:`UnitOfWork` — one transaction that commits the state change, the events announcing it
  (outbox rows) and the audit trail together, and wakes the outbox relay after the commit.
* :class:`Database` — the Nameko dependency: ``with self.db.transaction() as uow`` and
  ``with self.db.read() as session``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nameko.extensions import DependencyProvider
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
    func,
    insert,
    select,
    type_coerce,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import catalogue, config
from .context import CallerContext, caller_of

log = logging.getLogger(__name__)

BigId = BigInteger().with_variant(Integer(), "sqlite")
_MISSING = object()
FAST_INSERT_MIN = 50  # from this many rows, bulk inserts go straight through the driver


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps, on SQLite too (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: timestamps must be timezone-aware")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class ExactDecimal(TypeDecorator):
    """A decimal stored exactly: NUMERIC(24, 6) on PostgreSQL, text on SQLite (whose NUMERIC
    is a float underneath). Money columns use it; amounts are never floats."""

    impl = Numeric(24, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(24, 6, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(value)


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    return json.dumps(value, default=json_default, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return url.startswith("sqlite")


def _green() -> bool:
    try:
        from eventlet import patcher

        return patcher.is_monkey_patched("socket")
    except ImportError:  # pragma: no cover
        return False


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg2 here (made cooperative under eventlet
    by psycogreen); SQLAlchemy 2.1 would otherwise pick psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def sqlite_busy_seconds() -> float:
    """How long an SQLite statement waits, in all, for a lock another process holds
    (``CRM_SQLITE_BUSY_SECONDS``, default 30) before "database is locked" reaches the caller."""
    return config.env_float("CRM_SQLITE_BUSY_SECONDS", 30.0)


def _is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


def _pause(seconds: float) -> None:
    """Sleep without stopping the other green threads (eventlet's sleep when running under it)."""
    if _green():
        import eventlet

        eventlet.sleep(seconds)
    else:
        time.sleep(seconds)


def _retry_busy(run: Callable[[], Any]) -> Any:
    """``run()``, again after a short pause while SQLite answers "database is locked", for up to
    :func:`sqlite_busy_seconds`. SQLite's own busy handler (``busy_timeout``) would wait inside
    the C library, holding the one OS thread every green thread of the process shares: one
    writer waiting for another process's lock would stall every reader too. Here the wait is a
    green sleep (1 ms, doubling to 50 ms). A busy statement did nothing, so running it again is
    safe; the write lock is taken at ``BEGIN IMMEDIATE``, where nearly every wait happens."""
    deadline = None
    delay = 0.001
    while True:
        try:
            return run()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            now = time.monotonic()
            if deadline is None:
                deadline = now + sqlite_busy_seconds()
            if now >= deadline:
                raise
            _pause(min(delay, max(deadline - now, 0.0)))
            delay = min(delay * 2, 0.05)


class GreenCursor(sqlite3.Cursor):
    """An sqlite3 cursor whose statements wait for locks with :func:`_retry_busy`."""

    def execute(self, sql, parameters=(), /):  # type: ignore[override]
        return _retry_busy(lambda: sqlite3.Cursor.execute(self, sql, parameters))

    def executemany(self, sql, seq_of_parameters, /):  # type: ignore[override]
        rows = seq_of_parameters if isinstance(seq_of_parameters, (list, tuple)) else list(seq_of_parameters)
        return _retry_busy(lambda: sqlite3.Cursor.executemany(self, sql, rows))


class GreenConnection(sqlite3.Connection):
    """An sqlite3 connection with no busy timeout of its own: its cursors (and its commit) wait
    for other processes' locks with green sleeps, see :func:`_retry_busy`."""

    def cursor(self, factory=GreenCursor):  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, sql, parameters=(), /):  # type: ignore[override]
        return self.cursor().execute(sql, parameters)

    def commit(self) -> None:
        _retry_busy(super().commit)


def make_engine(url: str, immediate: bool = True, **kwargs: Any) -> Engine:
    """An engine for ``url``.

    SQLite: WAL journal (readers never wait for the writer), foreign keys on, and ``BEGIN
    IMMEDIATE`` so a write transaction takes the database lock up front (no lock-upgrade
    deadlocks between replicas sharing the file; ``immediate=False`` for a read-only engine).
    SQLite's own busy timeout is 0: a lock held by another process is waited for with green
    sleeps (:class:`GreenConnection`), never inside the C library, so one stuck writer does not
    stop the other green threads. PostgreSQL: psycopg2 made cooperative with psycogreen under
    eventlet.
    """
    url = normalise_url(url)
    if is_sqlite(url):
        engine = create_engine(
            url,
            connect_args={
                "timeout": 0,
                "check_same_thread": False,
                "isolation_level": None,
                "factory": GreenConnection,
            },
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=0")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    if url.startswith("postgresql") and _green():
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


# --------------------------------------------------------------------------------------
# Infrastructure tables, kept in every service's own database
# --------------------------------------------------------------------------------------


class InfraTables:
    def __init__(self, metadata: MetaData):
        self.outbox = Table(
            "outbox",
            metadata,
            Column("id", BigId, primary_key=True, autoincrement=True),
            Column("event_id", String(36), nullable=False, unique=True),
            Column("type", String(100), nullable=False),
            Column("body", Text, nullable=False),
            Column("created_at", UTCDateTime(), nullable=False),
            Column("published_at", UTCDateTime(), nullable=True, index=True),
            Column("attempts", Integer, nullable=False, default=0),
            Column("last_error", Text, nullable=True),
        )
        self.processed_events = Table(
            "processed_events",
            metadata,
            Column("event_id", String(36), primary_key=True),
            Column("handler", String(200), primary_key=True),
            Column("processed_at", UTCDateTime(), nullable=False),
        )
        self.audit_log = Table(
            "audit_log",
            metadata,
            Column("id", BigId, primary_key=True, autoincrement=True),
            Column("at", UTCDateTime(), nullable=False, index=True),
            Column("actor", String(100), nullable=False),
            Column("request_id", String(64), nullable=True),
            Column("entity", String(50), nullable=False),
            Column("entity_id", String(64), nullable=False),
            Column("action", String(50), nullable=False),
            Column("changes", JSON, nullable=True),
        )
        self.job_runs = Table(
            "job_runs",
            metadata,
            Column("job", String(100), primary_key=True),
            Column("as_of", Date, primary_key=True),
            Column("started_at", UTCDateTime(), nullable=False),
            Column("finished_at", UTCDateTime(), nullable=True),
            Column("result", JSON, nullable=True),
        )
        # one row per RPC call carried out under a request id (crm_common.idempotency): committed
        # with the call's effect; the result is stored once the call returns
        self.idempotency_keys = Table(
            "idempotency_keys",
            metadata,
            Column("key", String(64), primary_key=True),
            Column("method", String(100), primary_key=True),
            Column("fingerprint", String(64), nullable=False),
            Column("effect", JSON, nullable=True),
            Column("result_json", Text, nullable=True),
            Column("created_at", UTCDateTime(), nullable=False, index=True),
        )


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata() -> tuple[MetaData, "InfraTables"]:
    """A service's MetaData (with the naming convention every service's constraints follow)
    and its infrastructure tables: ``metadata, infra = service_metadata()`` in models.py."""
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    return metadata, define_infra_tables(metadata)


def define_infra_tables(metadata: MetaData) -> InfraTables:
    """Add the outbox, processed_events, audit_log, job_runs and idempotency_keys tables to a
    service's metadata."""
    existing = getattr(metadata, "_crm_infra", None)
    if existing is None:
        existing = InfraTables(metadata)
        metadata._crm_infra = existing  # type: ignore[attr-defined]
    return existing


def changes_between(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value differs (for the audit trail)."""
    out = {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            out[key] = [old.get(key), new.get(key)]
    return json.loads(dumps(out))


# --------------------------------------------------------------------------------------
# Event envelopes
# --------------------------------------------------------------------------------------


def make_envelope(
    source: str,
    event_type: str,
    payload: dict[str, Any],
    version: int = 1,
    request_id: str | None = None,
    event_id: str | None = None,
    normalize: bool = True,
    occurred_at: str | None = None,
) -> dict[str, Any]:
    """The envelope of an event. ``normalize``: the payload as JSON will carry it (decimals and
    dates as strings); the outbox skips that round trip, its body is serialised once anyway.
    ``occurred_at``: the events of one transaction share the time of their commit's work."""
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "version": version,
        "occurred_at": occurred_at or utcnow().isoformat(),
        "source": source,
        "request_id": request_id,
        "payload": json.loads(dumps(payload)) if normalize else payload,
    }


# --------------------------------------------------------------------------------------
# Unit of work
# --------------------------------------------------------------------------------------


@dataclass
class IdempotencyClaim:
    """An RPC call under way with a request id (see :mod:`crm_common.idempotency`): the first
    unit of work of the call that commits inserts its ``idempotency_keys`` row in the same
    transaction as its effect (``committed`` then turns true)."""

    key: str
    method: str
    fingerprint: str
    committed: bool = False


_SQLITE_LOCKS: dict[str, threading.RLock] = {}
_SQLITE_LOCKS_GUARD = threading.Lock()


def _sqlite_lock(url: str) -> threading.RLock:
    import os

    key = os.path.realpath(url.split("///", 1)[-1]) if "///" in url else url
    with _SQLITE_LOCKS_GUARD:
        return _SQLITE_LOCKS.setdefault(key, threading.RLock())


class DatabaseHandle:
    """Engine, session factory and infra tables of one service; usable outside Nameko too
    (the gateway, CLIs, tests)."""

    def __init__(self, service: str, metadata: MetaData, url: str | None = None):
        self.service = service
        self.metadata = metadata
        self.infra = define_infra_tables(metadata)
        self.url = url or config.database_url(service)
        self.engine = make_engine(self.url)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        if is_sqlite(self.url):
            # SQLite allows one writer. Readers get their own engine with a deferred BEGIN
            # (in WAL mode they never wait for the writer); this process's write transactions
            # are serialised by a lock per database file (green-thread aware under eventlet),
            # so a writer never spins in sqlite's busy handler, blocking the whole process,
            # while another thread of the same process holds the database lock.
            self.read_engine = make_engine(self.url, immediate=False)
            self.write_lock: threading.RLock | None = _sqlite_lock(self.url)
        else:
            self.read_engine = self.engine
            self.write_lock = None
        self.read_sessionmaker = sessionmaker(bind=self.read_engine, expire_on_commit=False)
        self.after_commit_hooks: list[Callable[[], None]] = []

    def create_all(self) -> None:
        """Create missing tables (tests and throwaway databases; services use Alembic)."""
        self.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold this process's SQLite write lock (no-op on PostgreSQL)."""
        if self.write_lock is None:
            yield
            return
        with self.write_lock:
            yield

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self.read_sessionmaker()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def transaction(
        self,
        caller: CallerContext | None = None,
        processed: tuple[str, str] | None = None,
        on_processed: Callable[[], None] | None = None,
        claim: IdempotencyClaim | None = None,
    ) -> "UnitOfWork":
        return UnitOfWork(self, caller or CallerContext.system(self.service), processed, on_processed, claim)


class UnitOfWork:
    """``with db.transaction() as uow:`` — commits at the end of the block (rolls back on an
    exception). ``uow.publish`` adds events to the outbox in the same transaction;
    ``uow.audit`` records who changed what; an :class:`IdempotencyClaim` not yet committed is
    committed with this transaction (its ``effect``: the records audited here)."""

    def __init__(
        self,
        db: DatabaseHandle,
        caller: CallerContext,
        processed: tuple[str, str] | None,
        on_processed: Callable[[], None] | None = None,
        claim: IdempotencyClaim | None = None,
    ):
        self.db = db
        self.caller = caller
        self.processed = processed
        self.on_processed = on_processed
        self.claim = claim if claim is not None and not claim.committed else None
        self.session: Session = None  # type: ignore[assignment]
        self.events: list[dict[str, Any]] = []
        self.audited: list[list[str]] = []
        self._locked = False

    def __enter__(self) -> "UnitOfWork":
        if self.db.write_lock is not None:
            self.db.write_lock.acquire()
            self._locked = True
        try:
            self.session = self.db.sessionmaker()
        except Exception:
            self._release()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.commit()
            else:
                self.session.rollback()
        finally:
            self.session.close()
            self._release()
        if exc_type is None and self.events:
            for hook in self.db.after_commit_hooks:
                try:
                    hook()
                except Exception:  # pragma: no cover - a wake-up must never fail a commit
                    log.exception("after-commit hook failed")

    def _release(self) -> None:
        if self._locked:
            self._locked = False
            self.db.write_lock.release()  # type: ignore[union-attr]

    def commit(self) -> None:
        marker = self.processed
        if marker is not None:
            event_id, handler = marker
            self.session.execute(
                insert(self.db.infra.processed_events).values(
                    event_id=event_id, handler=handler, processed_at=utcnow()
                )
            )
        claim = self.claim
        if claim is not None:
            self.session.execute(
                insert(self.db.infra.idempotency_keys).values(
                    key=claim.key,
                    method=claim.method,
                    fingerprint=claim.fingerprint,
                    effect=self.audited[:50],
                    created_at=utcnow(),
                )
            )
        self.session.commit()
        if claim is not None:
            claim.committed = True
            self.claim = None
        if marker is not None:
            self.processed = None
            if self.on_processed is not None:
                self.on_processed()

    def publish(self, event_type: str, payload: dict[str, Any], version: int = 1) -> str:
        """Add one event to the outbox in this transaction; return its event id."""
        return self.publish_many(event_type, [payload], version)[0]

    def publish_many(self, event_type: str, payloads: list[dict[str, Any]], version: int = 1) -> list[str]:
        """Add many events of one type in a single multi-row insert (bulk operations). The type
        must be declared in the event catalogue (:func:`crm_common.catalogue.check_published`)."""
        if not payloads:
            return []
        catalogue.check_published(self.db.service, event_type, version, payloads)
        now = utcnow()
        occurred = now.isoformat()
        envelopes = [
            make_envelope(
                self.db.service,
                event_type,
                p,
                version,
                request_id=self.caller.request_id,
                normalize=False,
                occurred_at=occurred,
            )
            for p in payloads
        ]
        rows = [
            {
                "event_id": e["event_id"],
                "type": catalogue.routing_key(event_type, version),
                "body": dumps(e),
                "created_at": now,
                "attempts": 0,
            }
            for e in envelopes
        ]
        if len(rows) >= FAST_INSERT_MIN:
            fast_insert(self.session, self.db.infra.outbox, rows)
        else:
            self.session.execute(insert(self.db.infra.outbox), rows)
        self.events.extend(envelopes)
        return [e["event_id"] for e in envelopes]

    def audit(self, entity: str, entity_id: Any, action: str, changes: dict[str, Any] | None = None) -> None:
        """Record who changed what (``changes``: ``{field: [old, new]}``) in this transaction."""
        self.audit_many(entity, action, [(entity_id, changes)])

    def audit_many(self, entity: str, action: str, entries: list[tuple[Any, dict[str, Any] | None]]) -> None:
        """Audit many records of one entity in a single insert (bulk operations)."""
        if not entries:
            return
        now = utcnow()
        if self.claim is not None and len(self.audited) < 50:
            self.audited.extend([entity, str(entity_id), action] for entity_id, _ in entries[:50])
        self.session.execute(
            insert(self.db.infra.audit_log),
            [
                {
                    "at": now,
                    "actor": self.caller.actor,
                    "request_id": self.caller.request_id,
                    "entity": entity,
                    "entity_id": str(entity_id),
                    "action": action,
                    "changes": json.loads(dumps(changes)) if changes is not None else None,
                }
                for entity_id, changes in entries
            ],
        )


def next_counter_values(session: Session, counters: Table, name: str, n: int = 1) -> list[int]:
    """``n`` consecutive values of the counter ``name`` in a service's ``counters`` table
    (``name``, ``value``), taken in the caller's transaction: the counter row stays locked until
    commit, so concurrent transactions never share a value, and a rollback gives the values back
    (gapless document numbers)."""
    if n <= 0:
        return []
    from sqlalchemy import update
    from sqlalchemy.dialects import postgresql, sqlite

    make = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(make(counters).values(name=name, value=0).on_conflict_do_nothing(index_elements=["name"]))
    end = session.execute(
        update(counters)
        .where(counters.c.name == name)
        .values(value=counters.c.value + n)
        .returning(counters.c.value)
    ).scalar_one()
    return list(range(end - n + 1, end + 1))


def sum_by(
    session: Session,
    keys: Sequence[Any],
    amount: Any,
    conditions: Sequence[Any] = (),
    select_from: Any = None,
) -> list[tuple[Any, ...]]:
    """``(*key values, row count, exact sum of amount)`` per group of ``keys`` — an
    :class:`ExactDecimal` column summed exactly on both databases: ``SUM`` of NUMERIC on
    PostgreSQL; on SQLite, where the column is text (its ``SUM`` would add floats), each group's
    values come back joined in one string and are added as ``Decimal`` (one Python step per
    group, not per row)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    total = func.group_concat(type_coerce(amount, String), ",") if sqlite else func.sum(amount)
    query = select(*keys, func.count(), total).where(*conditions).group_by(*keys)
    if select_from is not None:
        query = query.select_from(select_from)
    rows = session.execute(query).all()
    if sqlite:
        return [(*r[:-1], sum(map(Decimal, r[-1].split(",")), Decimal(0))) for r in rows]
    return [(*r[:-1], Decimal(r[-1])) for r in rows]


def fast_insert(session: Session, table: Table, rows: list[dict[str, Any]], page_size: int = 1000) -> None:
    """Insert many rows of ``table`` (all with the same keys) in the session's transaction,
    straight through the driver: each column's bind processor applied once per value, then one
    ``executemany`` (SQLite) or ``execute_values`` pages (psycopg2). For bulk jobs (billing runs,
    imports): SQLAlchemy's per-statement parameter handling costs more than the database here."""
    if not rows:
        return
    keys = list(rows[0])
    conn = session.connection()
    dialect = conn.dialect
    processors = [table.c[k].type._cached_bind_processor(dialect) for k in keys]
    columns = ", ".join(dialect.identifier_preparer.quote(k) for k in keys)
    name = dialect.identifier_preparer.format_table(table)
    # bulk rows repeat values (timestamps, statuses, prices, dates): each distinct hashable value
    # is processed once per column
    caches: list[dict[Any, Any]] = [{} for _ in keys]

    def convert(p: Any, cache: dict[Any, Any], v: Any) -> Any:
        if p is None or v is None:
            return v
        if isinstance(v, (dict, list)):
            return p(v)
        key = (type(v), v)
        done = cache.get(key, _MISSING)
        if done is _MISSING:
            done = cache[key] = p(v)
        return done

    columns_of = list(zip(keys, processors, caches, strict=True))
    data = [tuple([convert(p, c, row[k]) for k, p, c in columns_of]) for row in rows]
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if dialect.name == "postgresql":
            from psycopg2.extras import execute_values

            execute_values(cursor, f"INSERT INTO {name} ({columns}) VALUES %s", data, page_size=page_size)
        else:
            marks = ", ".join("?" for _ in keys)
            cursor.executemany(f"INSERT INTO {name} ({columns}) VALUES ({marks})", data)
    finally:
        cursor.close()


def row_or_404(
    session: Session, table: Table, row_id: Any, entity: str, for_update: bool = False
) -> dict[str, Any]:
    """The row of ``table`` with primary key ``id`` = ``row_id`` as a dict (``SELECT … FOR
    UPDATE`` when asked), or :class:`~crm_common.errors.NotFound` naming ``entity``."""
    from .errors import not_found

    query = select(table).where(table.c.id == row_id)
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).mappings().first()
    if row is None:
        raise not_found(entity, row_id)
    return dict(row)


def already_processed(db: DatabaseHandle, event_id: str, handler: str) -> bool:
    with db.read() as s:
        return (
            s.execute(
                select(db.infra.processed_events.c.event_id).where(
                    db.infra.processed_events.c.event_id == event_id,
                    db.infra.processed_events.c.handler == handler,
                )
            ).first()
            is not None
        )


def is_duplicate_marker_error(exc: BaseException) -> bool:
    """True when a commit failed because another delivery of the same event won the race."""
    return isinstance(exc, IntegrityError) and "processed_events" in str(exc)


# --------------------------------------------------------------------------------------
# Nameko dependency
# --------------------------------------------------------------------------------------


class Database(DependencyProvider):
    """``db = Database(models.Base.metadata)`` on a service class.

    In a worker, ``self.db.transaction()`` opens a :class:`UnitOfWork` carrying the caller
    (for the audit trail) and, in an idempotent event handler, the ``(event_id, handler)``
    marker committed with the handler's effect; ``self.db.read()`` a read-only session.
    """

    def __init__(self, metadata: MetaData, service: str | None = None):
        self.metadata = metadata
        self.service = service
        self.handle: DatabaseHandle | None = None

    def setup(self) -> None:
        service = self.service or self.container.service_name
        url = self.container.config.get("DATABASE_URL") or config.database_url(service)
        self.handle = DatabaseHandle(service, self.metadata, url)

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.dispose()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx) -> "WorkerDatabase":
        assert self.handle is not None
        marker = None
        entrypoint = worker_ctx.entrypoint
        if getattr(entrypoint, "crm_idempotent", False) and worker_ctx.args:
            marker = (worker_ctx.args[0]["event_id"], entrypoint.handler_key)
        from nameko.rpc import Rpc

        return WorkerDatabase(
            self.handle, caller_of(worker_ctx), marker, rpc_call=isinstance(entrypoint, Rpc)
        )


class WorkerDatabase:
    def __init__(
        self,
        handle: DatabaseHandle,
        caller: CallerContext,
        marker: tuple[str, str] | None,
        rpc_call: bool = False,
    ):
        self.handle = handle
        self.caller = caller
        self._marker = marker
        # the database of one RPC call's worker (what crm_common.idempotency makes run once per
        # request id); a worker database made by hand (tests) runs every call
        self.rpc_call = rpc_call
        self.claim: IdempotencyClaim | None = None  # set by crm_common.idempotency.idempotent

    def transaction(self) -> UnitOfWork:
        """A unit of work. In an event handler, the first transaction that commits also records
        the event as processed (one that rolls back leaves the marker for the next); in an
        idempotent RPC call, it also commits the call's idempotency record."""
        return self.handle.transaction(self.caller, self._marker, self._marker_committed, self.claim)

    def _marker_committed(self) -> None:
        self._marker = None

    def read(self):
        return self.handle.read()

    @property
    def infra(self) -> InfraTables:
        return self.handle.infra
