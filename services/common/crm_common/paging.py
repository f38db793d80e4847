"""Ids, pages and filters of RPC calls: the argument checks every service's list and get methods
make the same way (a bad value is a 422 naming the argument)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from .errors import ValidationFailed, load_or_raise

MAX_PAGE_SIZE = 500


def parse_id(value: Any, field: str) -> int:
    """A positive integer id, given as an int or a string of digits."""
    if isinstance(value, bool):
        raise ValidationFailed.field(field, "must be a positive integer")
    if isinstance(value, int) and value >= 1:
        return value
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        n = int(value.strip())
        if n >= 1:
            return n
    raise ValidationFailed.field(field, "must be a positive integer")


def page_args(page: Any, page_size: Any) -> tuple[int, int]:
    errors: dict[str, list[str]] = {}
    p = page if isinstance(page, int) and not isinstance(page, bool) else None
    s = page_size if isinstance(page_size, int) and not isinstance(page_size, bool) else None
    if p is None or p < 1:
        errors["page"] = ["must be an integer ≥ 1"]
    if s is None or not 1 <= s <= MAX_PAGE_SIZE:
        errors["page_size"] = [f"must be an integer between 1 and {MAX_PAGE_SIZE}"]
    if errors:
        raise ValidationFailed("Invalid paging", errors)
    assert p is not None and s is not None
    return p, s


def page_of(items: list, total: int, page: int, page_size: int) -> dict:
    """The list shape of API.md: ``{"items", "total", "page", "page_size"}``."""
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def run_page(session: Session, query: Select, page: int, page_size: int) -> tuple[list, int]:
    """One page of ``query`` (rows as mappings) and the total count."""
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = session.execute(query.limit(page_size).offset((page - 1) * page_size)).mappings().all()
    return list(rows), total


def load_filters(schema, filters: Any) -> dict:
    """``filters`` loaded by a marshmallow schema, without the ones left empty."""
    if filters is None:
        return {}
    data = load_or_raise(schema, filters)
    return {k: v for k, v in data.items() if v is not None}


def parse_date(value: Any, field: str = "date", default: dt.date | None = None) -> dt.date:
    """An ISO 8601 date (``YYYY-MM-DD``), a ``date`` or a ``datetime``; ``None`` → ``default``."""
    if value is None and default is not None:
        return default
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationFailed.field(field, "must be an ISO 8601 date (YYYY-MM-DD)")
