"""Automatic reorder: :class:`Reorder` collects the products whose available stock went down in
a transaction and, at its end, publishes ``stock_low`` and raises a purchase order for each one
below its reorder point without an open one; :func:`create_po_row` (shared with manual purchase
orders) inserts and announces a purchase order, :func:`po_out` is its JSON. Built on
:mod:`inventory.store` only; used by the stock, reservation and purchase-order use cases."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from crm_common.db import changes_between, utcnow
from sqlalchemy import insert, select, update

from . import domain
from . import events as ev
from . import models as m
from .store import PO, product_row, total_available


class Reorder:
    """Products whose available stock went down in this transaction; at the end, one check per
    product: stock_low when it crossed below the reorder point, a purchase order when it is
    below and none is open."""

    def __init__(self) -> None:
        self.reduced: dict[int, tuple[int, int | None]] = {}

    def note(self, product_id: int, qty: int, warehouse_id: int) -> None:
        before, _ = self.reduced.get(product_id, (0, warehouse_id))
        self.reduced[product_id] = (before + qty, warehouse_id)

    def run(self, uow) -> list[dict]:
        s = uow.session
        created = []
        for product_id in sorted(self.reduced):
            reduced, warehouse_id = self.reduced[product_id]
            product = product_row(s, product_id, for_update=True)  # serialises reorder per product
            rp = product["reorder_point"]
            if rp is None or not product["active"]:
                continue
            available = total_available(s, product_id)
            if not domain.below_reorder_point(available, rp):
                continue
            if not domain.below_reorder_point(available + reduced, rp):
                uow.publish(
                    ev.STOCK_LOW,
                    {
                        "product_id": product_id,
                        "sku": product["sku"],
                        "name": product["name"],
                        "available": available,
                        "reorder_point": rp,
                        "warehouse_id": warehouse_id,
                    },
                )
            open_po = s.execute(
                select(PO.id).where(PO.product_id == product_id, PO.status == "open").limit(1)
            ).first()
            if open_po is not None:
                continue
            qty = domain.reorder_quantity(available, rp, product["reorder_quantity"])
            created.append(
                create_po_row(uow, product, qty, warehouse_id, product["preferred_partner"], "reorder")
            )
        return created


def create_po_row(uow, product: Mapping, qty: int, warehouse_id: int | None, partner, trigger: str) -> dict:
    s = uow.session
    now = utcnow()
    po_id = s.execute(
        insert(m.purchase_orders)
        .values(
            number=f"tmp-{uuid.uuid4().hex[:12]}",
            product_id=product["id"],
            warehouse_id=warehouse_id,
            partner=partner,
            quantity=qty,
            status="open",
            trigger=trigger,
            created_at=now,
        )
        .returning(PO.id)
    ).scalar_one()
    number = domain.po_number(po_id)
    s.execute(update(m.purchase_orders).where(PO.id == po_id).values(number=number))
    po = dict(s.execute(select(m.purchase_orders).where(PO.id == po_id)).mappings().one())
    out = po_out(po, product)
    uow.publish(ev.PURCHASE_ORDER_CREATED, out)
    uow.audit("purchase_order", po_id, "create", changes_between({}, {"quantity": qty, "partner": partner}))
    return out


def po_out(po: Mapping, product: Mapping) -> dict:
    return {
        "id": po["id"],
        "number": po["number"],
        "product_id": po["product_id"],
        "sku": product["sku"],
        "product_name": product["name"],
        "quantity": po["quantity"],
        "partner": po["partner"],
        "warehouse_id": po["warehouse_id"],
        "status": po["status"],
        "trigger": po["trigger"],
        "created_at": po["created_at"].isoformat(),
        "received_at": po["received_at"].isoformat() if po["received_at"] else None,
    }
