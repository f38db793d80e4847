"""Exact money sums grouped in SQL, on PostgreSQL and on SQLite.

PostgreSQL stores money as NUMERIC: ``SUM`` is exact. SQLite stores it as text
(:class:`crm_common.db.ExactDecimal`) and its ``SUM`` would add floats, so there each amount is
summed as an integer of millionths — ``CAST(ROUND(CAST(amount AS REAL) * 1e6) AS INTEGER)`` —
which is exact while every amount has at most six decimals and is below 10⁹ in size (the double
nearest to such an amount, times 10⁶, is within 0.25 of the integer). The same query checks both
conditions (``MAX`` of the size and of the decimals of each column); where they do not hold, or
SQLite's integer ``SUM`` overflows, the rows are summed in Python as ``Decimal`` instead.

Grouping in SQL keeps the reports and the dashboard fast on large books (100,000 invoices):
the database reads the rows, Python sees one row per group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, Integer, String, case, cast, func, literal, or_
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from . import domain

SCALE = 10**domain.EXACT_PLACES
SAFE_SIZE = 10**9


@dataclass(frozen=True)
class Amount:
    """A sum of columns with signs: ``Amount(((1, I.total), (-1, I.paid), (-1, I.credited)))``."""

    terms: tuple[tuple[int, Any], ...]

    @classmethod
    def of(cls, column: Any) -> Amount:
        return cls(((1, column),))

    def columns(self) -> list[Any]:
        return [c for _, c in self.terms]

    def sql(self, sqlite: bool) -> Any:
        expr = None
        for sign, column in self.terms:
            part = cast(func.round(cast(column, Float) * SCALE), Integer) if sqlite else column
            part = part if sign > 0 else -part
            expr = part if expr is None else expr + part
        return expr

    def python(self, values: Sequence[Decimal]) -> Decimal:
        return sum(
            (v if sign > 0 else -v for (sign, _), v in zip(self.terms, values, strict=True)), domain.ZERO
        )


@dataclass
class Group:
    amount: Decimal
    count: int


def _decimals(column: Any) -> Any:
    dot = func.instr(column, ".")
    return case((dot > 0, func.length(column) - dot), else_=0)


def grouped(
    s: Session,
    base: Callable[[list[Any]], Any],
    keys: Sequence[Any],
    amount: Amount,
    positive: bool = False,
) -> dict[tuple[Any, ...], Group]:
    """``{key values: Group(sum of amount, rows)}`` over the rows of ``base(columns)`` (a select
    of those columns with its FROM, joins, conditions and scope), grouped by ``keys``;
    ``positive``: only rows whose amount is above zero."""
    sqlite = s.get_bind().dialect.name == "sqlite"
    value = amount.sql(sqlite)
    checks: list[Any] = []
    if sqlite:
        for column in amount.columns():
            checks += [func.max(func.abs(cast(column, Float))), func.max(_decimals(column))]
    query = base([*keys, func.sum(value), func.count(literal(1)), *checks])
    if positive and sqlite:
        # an unsafe row must reach the checks (then all is summed in Python), whatever its sign
        unsafe = [
            or_(_decimals(c) > domain.EXACT_PLACES, func.abs(cast(c, Float)) >= SAFE_SIZE)
            for c in amount.columns()
        ]
        query = query.where(or_(value > 0, *unsafe))
    elif positive:
        query = query.where(value > 0)
    query = query.group_by(*keys)
    n = len(keys)
    try:
        rows = s.execute(query).all()
    except OperationalError:  # SQLite: integer overflow in SUM
        if not sqlite:
            raise
        return _in_python(s, base, keys, amount, positive)
    if sqlite and not all(
        r[n + 2 + i] is None or (r[n + 2 + i] < SAFE_SIZE and r[n + 3 + i] <= domain.EXACT_PLACES)
        for r in rows
        for i in range(0, len(checks), 2)
    ):
        return _in_python(s, base, keys, amount, positive)
    out: dict[tuple[Any, ...], Group] = {}
    for r in rows:
        total = r[n]
        if sqlite:
            total = domain.from_scaled(int(total or 0))
        out[tuple(r[:n])] = Group(Decimal(total or 0), int(r[n + 1]))
    return out


def _in_python(
    s: Session, base: Callable[[list[Any]], Any], keys: Sequence[Any], amount: Amount, positive: bool
) -> dict[tuple[Any, ...], Group]:
    out: dict[tuple[Any, ...], Group] = {}
    n = len(keys)
    for r in s.execute(base([*keys, *amount.columns()])):
        value = amount.python([Decimal(v) for v in r[n:]])
        if positive and value <= 0:
            continue
        group = out.setdefault(tuple(r[:n]), Group(domain.ZERO, 0))
        group.amount += value
        group.count += 1
    return out


def month_of(s: Session, column: Any, timestamp: bool = False) -> Any:
    """``YYYY-MM`` of a date (or UTC timestamp) column, in SQL."""
    if s.get_bind().dialect.name == "sqlite":
        return func.substr(column, 1, 7)  # ISO text; timestamps are stored in UTC
    if timestamp:
        column = func.timezone("UTC", column)
    return func.to_char(column, "YYYY-MM")


def date_text(s: Session, column: Any) -> Any:
    """A date column as ``YYYY-MM-DD`` text, in SQL (whatever PostgreSQL's DateStyle)."""
    if s.get_bind().dialect.name == "sqlite":
        return cast(column, String(10))
    return func.to_char(column, "YYYY-MM-DD")
