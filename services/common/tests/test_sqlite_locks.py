"""An SQLite file locked by another process: a writer of this process waits for it with green
sleeps, so the other green threads (readers included) keep answering meanwhile, and the writer
gives up with "database is locked" after ``CRM_SQLITE_BUSY_SECONDS``."""

import subprocess
import sys
import time

import eventlet
import pytest
from crm_common.db import DatabaseHandle, service_metadata
from sqlalchemy import Column, Integer, String, Table, func, insert, select
from sqlalchemy.exc import OperationalError

metadata, _infra = service_metadata()
notes = Table("notes", metadata, Column("id", Integer, primary_key=True), Column("text", String(50)))

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
conn.execute("INSERT INTO notes (text) VALUES ('held')")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


@pytest.fixture
def db(tmp_path):
    handle = DatabaseHandle("locks", metadata, f"sqlite:///{tmp_path / 'locks.db'}")
    handle.create_all()
    yield handle
    handle.dispose()


def hold_lock(db: DatabaseHandle, seconds: float) -> subprocess.Popen:
    path = db.url.split("///", 1)[1]
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def write(db: DatabaseHandle, text: str) -> None:
    with db.transaction() as uow:
        uow.session.execute(insert(notes).values(text=text))


def count(db: DatabaseHandle) -> int:
    with db.read() as s:
        return s.execute(select(func.count()).select_from(notes)).scalar_one()


def test_wal_is_on_and_sqlite_itself_never_waits(db):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 0


def test_readers_and_other_green_threads_run_while_a_writer_waits(db):
    write(db, "before")
    holder = hold_lock(db, 1.5)
    try:
        ticks = []
        ticker = eventlet.spawn(lambda: [ticks.append(eventlet.sleep(0.02)) for _ in range(40)])
        writer = eventlet.spawn(write, db, "after")
        slowest, reads = 0.0, 0
        started = time.monotonic()
        while time.monotonic() - started < 0.8:
            t0 = time.monotonic()
            assert count(db) == 1  # the holder's uncommitted row is not seen; the writer's neither
            slowest = max(slowest, time.monotonic() - t0)
            reads += 1
            eventlet.sleep(0.01)
        assert not writer.dead  # still waiting for the other process's lock
        assert reads >= 20 and slowest < 0.25, (reads, slowest)
        assert len(ticks) >= 20, len(ticks)  # the hub was never blocked
        writer.wait()  # gets the lock once the other process commits
        ticker.wait()
    finally:
        holder.wait(timeout=10)
    assert count(db) == 3


def test_a_writer_gives_up_after_the_configured_wait(db, monkeypatch):
    monkeypatch.setenv("CRM_SQLITE_BUSY_SECONDS", "0.3")
    holder = hold_lock(db, 1.5)
    try:
        ticks = []
        ticker = eventlet.spawn(lambda: [ticks.append(eventlet.sleep(0.02)) for _ in range(10)])
        t0 = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            write(db, "too late")
        waited = time.monotonic() - t0
        ticker.wait()
        assert 0.25 <= waited < 1.2, waited
        assert len(ticks) == 10
    finally:
        holder.wait(timeout=10)
    write(db, "now")  # the lock is free again: the process's write lock was released too
    assert count(db) == 2
