"""Small helpers the billing use cases share: today, ISO strings, money strings, chunks, and the
gapless counters behind document numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from crm_common.db import next_counter_values, utcnow
from crm_common.money import fmt_amount
from sqlalchemy.orm import Session

from . import models as m

T = TypeVar("T")
ZERO = Decimal(0)


def today() -> dt.date:
    return utcnow().date()


def iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


@lru_cache(maxsize=8192)
def _money(amount: Decimal, currency: str) -> str | None:
    return fmt_amount(amount, currency)


def money(amount: Decimal | None, currency: str) -> str | None:
    """An amount as the API shows it (cached: a billing run formats the same prices again and
    again)."""
    return None if amount is None else _money(amount, currency)


def number(value: Decimal | None) -> str | None:
    """A quantity or percentage as text: ``2``, ``2.5``, ``12.5``."""
    if value is None:
        return None
    value = Decimal(value)
    return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")


def chunks(items: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def next_values(s: Session, name: str, n: int = 1) -> list[int]:
    """``n`` consecutive values of the counter ``name`` (gapless; see
    :func:`crm_common.db.next_counter_values`)."""
    return next_counter_values(s, m.counters, name, n)
