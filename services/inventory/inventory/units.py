"""Serialized unit use cases: a unit by serial number with where it is and its full history
(``get_unit``), and the unit list (``list_units`` with ``UNIT_SORT``). Read only: units are created
and moved by the stock, reservation and trade-in use cases. Built on :mod:`inventory.store`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.errors import Conflict, NotFound, ValidationFailed
from crm_common.paging import page_of, run_page, sorted_query
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import domain
from . import models as m
from .store import UH, U, doc_out, document_id, plain_filters, product_row, warehouse_row


def unit_out(s: Session, unit: Mapping) -> dict:
    product = product_row(s, unit["product_id"])
    wh = None
    if unit["warehouse_id"] is not None:
        w = warehouse_row(s, unit["warehouse_id"])
        wh = {"id": w["id"], "code": w["code"], "name": w["name"]}
    hist = s.execute(select(m.unit_history).where(UH.unit_id == unit["id"]).order_by(UH.id)).mappings().all()
    return {
        "id": unit["id"],
        "serial_number": unit["serial_number"],
        "manufacturing_number": unit["manufacturing_number"],
        "status": unit["status"],
        "product": {
            "id": product["id"],
            "sku": product["sku"],
            "name": product["name"],
            "model": product["model"],
        },
        "warehouse": wh,
        "contract_id": doc_out(unit["contract_id"]),
        "created_at": unit["created_at"].isoformat(),
        "updated_at": unit["updated_at"].isoformat(),
        "history": [
            {
                "at": h["at"].isoformat(),
                "event": h["event"],
                "status": h["status"],
                "warehouse_id": h["warehouse_id"],
                "contract_id": doc_out(h["contract_id"]),
                "move_id": h["move_id"],
                "actor": h["actor"],
                "note": h["note"],
            }
            for h in hist
        ],
    }


def get_unit(db, caller: CallerContext, serial_number: Any, product_id: Any = None) -> dict:
    """A unit by serial number (``product_id`` when two products share the serial), where it
    is, and its full history."""
    domain.require(caller, domain.READ_ROLES, "read units")
    if not isinstance(serial_number, str) or not serial_number.strip():
        raise ValidationFailed.field("serial_number", "required")
    query = select(m.units).where(U.serial_key == domain.key(serial_number))
    if product_id is not None:
        query = query.where(U.product_id == domain.parse_id(product_id, "product_id"))
    with db.read() as s:
        rows = s.execute(query.order_by(U.id)).mappings().all()
        if not rows:
            raise NotFound(
                f"Unit {serial_number} not found", {"entity": "unit", "serial_number": serial_number}
            )
        if len(rows) > 1:
            raise Conflict(
                f"Serial number {serial_number} exists for several products: give product_id",
                {"product_ids": [r["product_id"] for r in rows]},
            )
        return unit_out(s, rows[0])


# the fields this list may be sorted by and their columns
UNIT_SORT = {
    "serial_number": U.serial_key,
    "status": U.status,
    "created_at": U.created_at,
    "updated_at": U.updated_at,
    "id": U.id,
}


def list_units(db, caller: CallerContext, filters: Any, page: Any, page_size: Any, sort: Any = None) -> dict:
    domain.require(caller, domain.READ_ROLES, "read units")
    page, page_size = domain.page_args(page, page_size)
    f = plain_filters(filters)
    query = select(m.units)
    for name in ("product_id", "warehouse_id"):
        if f.get(name) is not None:
            query = query.where(U[name] == domain.parse_id(f[name], name))
    if f.get("status") is not None:
        if f["status"] not in domain.UNIT_STATUSES:
            raise ValidationFailed.field("status", f"one of {', '.join(domain.UNIT_STATUSES)}")
        query = query.where(U.status == f["status"])
    if f.get("contract_id") is not None:
        query = query.where(U.contract_id == document_id(f["contract_id"]))
    if f.get("q"):
        query = query.where(U.serial_key.contains(domain.key(f["q"]), autoescape=True))
    with db.read() as s:
        rows, total = run_page(s, sorted_query(query, sort, UNIT_SORT, U.id), page, page_size)
        items = []
        for r in rows:
            items.append({k: r[k] for k in ("id", "product_id", "serial_number", "manufacturing_number", "status", "warehouse_id")}
                         | {"contract_id": doc_out(r["contract_id"])})  # fmt: skip
    return page_of(items, total, page, page_size)
