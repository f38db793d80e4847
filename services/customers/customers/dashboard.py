"""The customers part of the company dashboard: the sales funnel (``pipeline`` RPC).

Which opportunities count for a year is :func:`customers.domain.in_pipeline_year` (expected
close in the year, or — without one — created in the year), whose they are
:func:`customers.domain.pipeline_scope` (a rep's own, a department manager's department, else
all). Both become ``WHERE`` conditions of two aggregate queries (``GROUP BY stage, currency``
and, for the opportunities won in the year, ``GROUP BY currency``). Amounts are summed exactly
per currency (:func:`crm_common.db.sum_by`).
10,000 opportunities: see ``bench/dashboard_pipeline.py`` and the README."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import sum_by
from crm_common.errors import load_or_raise
from crm_common.money import per_currency
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from . import domain, schemas
from . import models as m

OP = m.opportunities.c
C = m.customers.c
U = m.users.c

args_in = schemas.PipelineArgsSchema()


def scope_conditions(scope: domain.PipelineScope) -> list:
    if scope.owner_id is not None:
        return [OP.owner_id == scope.owner_id]
    if scope.department is not None:
        return [OP.owner_id.in_(select(U.id).where(U.department == scope.department))]
    return []


def year_condition(year: int):
    """:func:`customers.domain.in_pipeline_year` as SQL."""
    first, last = domain.year_dates(year)
    start, end = domain.year_span(year)
    return or_(
        and_(OP.expected_close >= first, OP.expected_close <= last),
        and_(OP.expected_close.is_(None), OP.created_at >= start, OP.created_at < end),
    )


def won_condition(year: int):
    """:func:`customers.domain.won_in_year` as SQL."""
    start, end = domain.year_span(year)
    return and_(OP.stage == "won", OP.closed_at >= start, OP.closed_at < end)


def grouped(s: Session, keys: Sequence, conditions: Sequence) -> list[tuple]:
    """``(*keys, count, exact sum of amount)`` per group of live customers' opportunities."""
    joined = m.opportunities.join(m.customers, C.id == OP.customer_id)
    return sum_by(s, keys, OP.amount, [C.deleted_at.is_(None), *conditions], select_from=joined)


def pipeline(db, caller: CallerContext, args: Any = None) -> dict:
    """``{"year", "stages": {stage: {"count", "amount": {currency: "…"}}} (funnel order, every
    stage), "currencies": [...], "won_in_year": {"count", "amount": {currency: "…"}}}``."""
    scope = domain.pipeline_scope(caller)
    v = load_or_raise(args_in, args if args is not None else {})
    year = v.get("year") or dt.datetime.now(dt.UTC).year
    scoped = scope_conditions(scope)
    with db.read() as s:
        if s.get_bind().dialect.name == "postgresql":
            # both queries from one snapshot (SQLite's read transaction is one already)
            s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        stages = grouped(s, (OP.stage, OP.currency), [*scoped, year_condition(year)])
        won = grouped(s, (OP.currency,), [*scoped, won_condition(year)])
    answer = domain.funnel(stages, won, year)
    for part in answer["stages"].values():
        part["amount"] = per_currency(part["amount"])
    answer["won_in_year"]["amount"] = per_currency(answer["won_in_year"]["amount"])
    return answer
