"""The customers read copy: fed by the customers service's events, completed from contract
events (name, code, language, owner) for customers billing has not heard of yet, and — where a
customer is still unknown — fetched once from the customers service. Invoices snapshot it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from crm_common.db import utcnow
from crm_common.readcopy import apply_newer, event_time
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from . import models as m

log = logging.getLogger(__name__)

FIELDS = ("code", "name", "kind", "owner_id", "language", "tax_id", "address", "email")
# rows made from a contract event lose against any customers-service event
NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _values(payload: Mapping[str, Any]) -> dict[str, Any]:
    values = {k: payload[k] for k in FIELDS if k in payload}
    for field, change in (payload.get("changes") or {}).items():
        if field in FIELDS and field not in values and isinstance(change, list) and len(change) == 2:
            values[field] = change[1]
    for key in ("code", "name", "kind", "language", "tax_id", "address", "email"):
        if key in values and values[key] is not None:
            values[key] = str(values[key])
    return values


def apply_customer_event(db, envelope: Mapping[str, Any], deleted: bool = False) -> str:
    """``customer_created`` / ``customer_updated`` / ``customer_deleted`` → the copy."""
    payload = envelope.get("payload") or {}
    customer_id = payload.get("id")
    if not isinstance(customer_id, int):
        raise ValueError("customer event without an integer id")
    values = _values(payload)
    values["deleted"] = deleted
    with db.transaction() as uow:
        return apply_newer(uow.session, m.customers, customer_id, values, event_time(envelope))


def remember_from_contract(s: Session, payload: Mapping[str, Any]) -> None:
    """A contract event names its customer: keep what it says when the copy has no row yet."""
    customer_id = payload.get("customer_id")
    if not isinstance(customer_id, int):
        return
    exists = s.execute(select(m.customers.c.id).where(m.customers.c.id == customer_id)).first()
    if exists is not None:
        return
    s.execute(
        insert(m.customers).values(
            id=customer_id,
            code=payload.get("customer_code"),
            name=payload.get("customer_name"),
            owner_id=payload.get("customer_owner_id"),
            language=payload.get("customer_language") or payload.get("language"),
            deleted=False,
            event_at=NEVER,
        )
    )


def store_fetched(s: Session, customers: Iterable[Mapping[str, Any]]) -> None:
    """Customers fetched from the customers service (RPC) — as fresh as an event of now."""
    for c in customers:
        if isinstance(c.get("id"), int):
            apply_newer(s, m.customers, c["id"], _values(c), utcnow(), {"deleted": False})


def rows_of(s: Session, customer_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = sorted(set(customer_ids))
    out: dict[int, dict[str, Any]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for row in s.execute(select(m.customers).where(m.customers.c.id.in_(chunk))).mappings():
            out[row["id"]] = dict(row)
    return out


def snapshot(row: Mapping[str, Any] | None, fallback: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What an invoice keeps of its customer, as it was when the invoice was issued."""
    row = row or {}
    fallback = fallback or {}
    return {
        "name": row.get("name") or fallback.get("customer_name"),
        "code": row.get("code") or fallback.get("customer_code"),
        "address": row.get("address"),
        "tax_id": row.get("tax_id"),
        "email": row.get("email"),
        "language": row.get("language") or fallback.get("customer_language"),
    }


def owner_of(s: Session, customer_id: int) -> int | None:
    return s.execute(select(m.customers.c.owner_id).where(m.customers.c.id == customer_id)).scalar()
