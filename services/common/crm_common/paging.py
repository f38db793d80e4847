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


def sort_keys(sort: Any, allowed: Any) -> list[tuple[str, bool]]:
    """``sort`` as ``[(field, descending)]``: a list of ``"field"`` / ``"-field"`` or one
    comma-separated string (``"name,-created_at"``); ``None`` or empty → ``[]``. A field outside
    ``allowed`` is a 422 on ``sort`` naming it and the allowed fields; a field given again later
    adds nothing (its first place and direction count)."""
    if sort is None or sort == "" or sort == []:
        return []
    if isinstance(sort, str):
        parts = sort.split(",")
    elif isinstance(sort, (list, tuple)) and all(isinstance(p, str) for p in sort):
        parts = list(sort)
    else:
        raise ValidationFailed.field("sort", "must be a list of field names, '-' before one for descending")
    keys: list[tuple[str, bool]] = []
    for raw in parts:
        part = raw.strip()
        name = part[1:] if part.startswith("-") else part
        if name not in allowed:
            raise ValidationFailed(
                f"Cannot sort by {name!r}",
                {"sort": [f"unknown sort field {name!r}; allowed: {', '.join(sorted(allowed))}"]},
            )
        if all(name != seen for seen, _ in keys):
            keys.append((name, part.startswith("-")))
    return keys


def sorted_query(query: Select, sort: Any, columns: dict[str, Any], *default: Any) -> Select:
    """``query`` ordered by ``sort`` (see :func:`sort_keys`; ``columns`` maps each sortable
    field to its column or expression) and then by ``default``, the list's own order, which
    also breaks ties. Nulls sort as the database puts them (last ascending in PostgreSQL)."""
    keys = sort_keys(sort, columns)
    order = [columns[name].desc() if desc else columns[name].asc() for name, desc in keys]
    return query.order_by(*order, *default)


def sort_rows(rows: list[dict], sort: Any, allowed: Any) -> list[dict]:
    """``rows`` (dicts) ordered by ``sort`` in Python, for the short lists a service answers
    whole; ``None`` values sort last ascending and first descending (as in PostgreSQL)."""
    result = list(rows)
    for name, desc in reversed(sort_keys(sort, allowed)):
        present = [r for r in result if r.get(name) is not None]
        absent = [r for r in result if r.get(name) is None]
        present.sort(key=lambda r: r[name], reverse=desc)
        result = absent + present if desc else present + absent
    return result
