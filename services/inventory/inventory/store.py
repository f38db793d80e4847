"""The bottom of the inventory use cases: what every module of them shares. Column aliases of
the tables (``P`` products, ``L`` stock levels, ...), small helpers (``money``, ``plain_filters``,
``document_id`` / ``doc_out`` for other services' ids, ``as_date``), row loaders that answer 404
(``product_row``, ``warehouse_row``), the stock-level locks and writes, and the unit history.
Every use case takes the worker's database (``crm_common.db.WorkerDatabase`` or a
``DatabaseHandle``) and the caller, checks the caller's role (:mod:`inventory.domain`), validates
the input (:mod:`inventory.schemas`) and does its work in ONE transaction — state change, audit
trail and outbox events commit together or not at all. Concurrency: every change of stock goes
through :func:`lock_levels`, which locks the ``stock_levels`` rows involved (``SELECT ... FOR
UPDATE`` on PostgreSQL, always in (product, warehouse) order so two movers never deadlock; SQLite
write transactions are serialised by crm_common) before reading them, so the check "enough
available" and the change happen under the same lock: two dispatches racing for the last unit
cannot both succeed. Imports nothing of the package but ``domain`` and ``models``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from crm_common.db import row_or_404, utcnow
from crm_common.errors import Conflict, ValidationFailed
from crm_common.money import fmt_amount
from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import domain
from . import models as m

# column aliases of the tables, used by every use-case module
P = m.products.c
CAT = m.categories.c
PL = m.price_lists.c
PR = m.prices.c
W = m.warehouses.c
L = m.stock_levels.c
MV = m.stock_moves.c
U = m.units.c
UH = m.unit_history.c
R = m.reservations.c
PO = m.purchase_orders.c
TI = m.trade_ins.c


def money(amount: Decimal | None, currency: str) -> str | None:
    """An amount as JSON carries it (see crm_common.money.fmt_amount)."""
    return fmt_amount(amount, currency)


def plain_filters(filters: Any) -> dict:
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise ValidationFailed.field("filters", "must be an object")
    return filters


def document_id(value: Any, field: str = "contract_id") -> str:
    """Contract / customer ids of other services: positive integers or UUID strings, kept as
    text."""
    if isinstance(value, bool) or value is None:
        raise ValidationFailed.field(field, "must be an id (integer or UUID)")
    if isinstance(value, int) and value >= 1:
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit() and text.isascii() and int(text) >= 1:
            return str(int(text))
        try:
            return str(uuid.UUID(text))
        except ValueError:
            pass
    raise ValidationFailed.field(field, "must be an id (integer or UUID)")


def doc_out(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def as_date(value: Any, field: str = "date") -> dt.date:
    if value is None:
        return utcnow().date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed.field(field, "must be an ISO 8601 date (YYYY-MM-DD)") from None


def product_row(s: Session, product_id: int, for_update: bool = False) -> dict:
    return row_or_404(s, m.products, product_id, "product", for_update)


def warehouse_row(s: Session, warehouse_id: int) -> dict:
    return row_or_404(s, m.warehouses, warehouse_id, "warehouse")


def upsert_ignore(s: Session, table, values: dict) -> None:
    dialect = s.get_bind().dialect.name
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    s.execute(ins.values(**values).on_conflict_do_nothing())


def lock_levels(s: Session, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], domain.Level]:
    """Lock (creating when missing) the stock rows of ``(product_id, warehouse_id)`` pairs, in
    a fixed order; their current levels."""
    out: dict[tuple[int, int], domain.Level] = {}
    for product_id, warehouse_id in sorted(set(pairs)):
        upsert_ignore(
            s,
            m.stock_levels,
            {
                "product_id": product_id,
                "warehouse_id": warehouse_id,
                "on_hand": 0,
                "reserved": 0,
                "updated_at": utcnow(),
            },
        )
        row = s.execute(
            select(L.on_hand, L.reserved)
            .where(L.product_id == product_id, L.warehouse_id == warehouse_id)
            .with_for_update()
        ).one()
        out[(product_id, warehouse_id)] = domain.Level(row.on_hand, row.reserved)
    return out


def lock_product_levels(s: Session, product_id: int) -> dict[int, domain.Level]:
    """Lock every stock row of a product (warehouse order): ``{warehouse_id: level}``."""
    rows = s.execute(
        select(L.warehouse_id, L.on_hand, L.reserved)
        .where(L.product_id == product_id)
        .order_by(L.warehouse_id)
        .with_for_update()
    ).all()
    return {r.warehouse_id: domain.Level(r.on_hand, r.reserved) for r in rows}


def save_level(s: Session, product_id: int, warehouse_id: int, level: domain.Level) -> None:
    if level.on_hand < 0 or level.reserved < 0 or level.available < 0:  # pragma: no cover - guarded
        raise Conflict("Stock would go below zero", {"product_id": product_id, "warehouse_id": warehouse_id})
    s.execute(
        update(m.stock_levels)
        .where(L.product_id == product_id, L.warehouse_id == warehouse_id)
        .values(on_hand=level.on_hand, reserved=level.reserved, updated_at=utcnow())
    )


def total_available(s: Session, product_id: int) -> int:
    value = s.execute(
        select(func.coalesce(func.sum(L.on_hand - L.reserved), 0)).where(L.product_id == product_id)
    ).scalar_one()
    return int(value)


def level_out(product: Mapping, warehouse_id: int, level: domain.Level) -> dict:
    return {
        "product_id": product["id"],
        "sku": product["sku"],
        "warehouse_id": warehouse_id,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "available": level.available,
    }


def history(
    s: Session,
    unit_id: int,
    event: str,
    status: str,
    warehouse_id: int | None,
    contract_id: str | None,
    actor: str,
    move_id: int | None = None,
    note: str | None = None,
) -> None:
    s.execute(
        insert(m.unit_history).values(
            unit_id=unit_id,
            at=utcnow(),
            event=event,
            status=status,
            warehouse_id=warehouse_id,
            contract_id=contract_id,
            move_id=move_id,
            actor=actor,
            note=note,
        )
    )
