"""``fast_insert`` (rows straight through the driver) and ``next_counter_values`` (gapless
counters) on SQLite and PostgreSQL: what they write reads back exactly as SQLAlchemy's own insert
would have written it."""

import concurrent.futures
import datetime as dt
from decimal import Decimal

from crm_common.db import (
    DatabaseHandle,
    ExactDecimal,
    UTCDateTime,
    fast_insert,
    next_counter_values,
    service_metadata,
)
from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, Integer, String, Table, insert, select

metadata, _infra = service_metadata()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
    Column("day", Date, nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("data", JSON, nullable=True),
    Column("flag", Boolean, nullable=False),
)
counters = Table(
    "counters", metadata, Column("name", String(60), primary_key=True), Column("value", BigInteger)
)


def rows(n: int, start: int = 0) -> list[dict]:
    at = dt.datetime(2027, 3, 1, 12, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    return [
        {"name": f"İstanbul №{i}", "amount": Decimal("1234567.000001") * i, "day": dt.date(2027, 2, 28) if i % 2 else None,
         "at": at, "data": {"k": ["上海", i, None]}, "flag": bool(i % 3)}
        for i in range(start, start + n)
    ]  # fmt: skip


def read(db) -> list[dict]:
    with db.read() as s:
        return [
            {k: v for k, v in r.items() if k != "id"}
            for r in s.execute(select(things).order_by(things.c.id)).mappings()
        ]


def test_fast_insert_reads_back_like_sqlalchemy(any_db_url):
    db = DatabaseHandle("test", metadata, any_db_url)
    db.create_all()
    try:
        with db.transaction() as uow:
            uow.session.execute(insert(things), rows(60))
        expected = read(db)
        with db.transaction() as uow:
            uow.session.execute(things.delete())
            fast_insert(uow.session, things, rows(60), page_size=25)
        got = read(db)
        assert got == expected and len(got) == 60
        assert got[1]["amount"] == Decimal("1234567.000001") and got[1]["at"].tzinfo is not None
        assert got[1]["at"] == dt.datetime(2027, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
        # a rollback takes the fast rows with it
        try:
            with db.transaction() as uow:
                fast_insert(uow.session, things, rows(5))
                raise RuntimeError("abort")
        except RuntimeError:
            pass
        assert len(read(db)) == 60
    finally:
        db.dispose()


def test_counters_are_gapless_and_unique_under_concurrency(any_db_url):
    db = DatabaseHandle("test", metadata, any_db_url)
    db.create_all()
    try:

        def take(i: int) -> list[int]:
            with db.transaction() as uow:
                values = next_counter_values(uow.session, counters, "INV-2027", 1 + i % 3)
                if i % 5 == 4:
                    raise RuntimeError("rolled back: the values go back")
                return values

        taken: list[int] = []
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            for fut in [pool.submit(take, i) for i in range(30)]:
                try:
                    taken += fut.result()
                except RuntimeError:
                    pass
        assert sorted(taken) == list(range(1, len(taken) + 1))
    finally:
        db.dispose()
