"""Purchase-order use cases: manual purchase orders (create, get, list with
``PURCHASE_ORDER_SORT``, cancel), receiving an open one into stock (reason purchase), and the daily
``reorder_scan`` that raises the orders due. Built on :mod:`inventory.store`,
:mod:`inventory.reorder` and :mod:`inventory.stock`."""

from __future__ import annotations

from typing import Any

from crm_common.context import CallerContext
from crm_common.db import row_or_404, utcnow
from crm_common.errors import Conflict, ValidationFailed, load_or_raise
from crm_common.paging import page_of, run_page, sorted_query
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import domain, schemas
from . import events as ev
from . import models as m
from .reorder import Reorder, create_po_row, po_out
from .stock import apply_in
from .store import PO, P, plain_filters, product_row, warehouse_row

po_receive_in = schemas.ReceivePurchaseOrderSchema()
po_create_in = schemas.PurchaseOrderCreateSchema()


def po_row(s: Session, po_id: int, for_update: bool = False) -> dict:
    return row_or_404(s, m.purchase_orders, po_id, "purchase order", for_update)


def create_purchase_order(db, caller: CallerContext, data: Any) -> dict:
    domain.require(caller, domain.STOCK_ROLES, "order stock")
    v = load_or_raise(po_create_in, data)
    with db.transaction() as uow:
        s = uow.session
        product = product_row(s, v["product_id"], for_update=True)
        if v["warehouse_id"] is not None:
            warehouse_row(s, v["warehouse_id"])
        partner = v["partner"] or product["preferred_partner"]
        return create_po_row(uow, product, v["quantity"], v["warehouse_id"], partner, "manual")


# the fields this list may be sorted by and their columns
PURCHASE_ORDER_SORT = {
    "number": PO.number,
    "status": PO.status,
    "quantity": PO.quantity,
    "created_at": PO.created_at,
    "received_at": PO.received_at,
    "id": PO.id,
}


def list_purchase_orders(
    db, caller: CallerContext, filters: Any, page: Any = 1, page_size: Any = 50, sort: Any = None
) -> dict:
    domain.require(caller, domain.READ_ROLES, "read purchase orders")
    page, page_size = domain.page_args(page, page_size)
    f = plain_filters(filters)
    query = select(m.purchase_orders, P.sku, P.name).join(m.products, P.id == PO.product_id)
    if f.get("status") is not None:
        if f["status"] not in domain.PO_STATUSES:
            raise ValidationFailed.field("status", f"one of {', '.join(domain.PO_STATUSES)}")
        query = query.where(PO.status == f["status"])
    if f.get("product_id") is not None:
        query = query.where(PO.product_id == domain.parse_id(f["product_id"], "product_id"))
    with db.read() as s:
        rows, total = run_page(s, sorted_query(query, sort, PURCHASE_ORDER_SORT, PO.id), page, page_size)
    items = [po_out(r, {"sku": r["sku"], "name": r["name"]}) for r in rows]
    return page_of(items, total, page, page_size)


def get_purchase_order(db, caller: CallerContext, po_id: Any) -> dict:
    domain.require(caller, domain.READ_ROLES, "read purchase orders")
    with db.read() as s:
        po = po_row(s, domain.parse_id(po_id, "purchase_order_id"))
        return po_out(po, product_row(s, po["product_id"]))


def receive_purchase_order(db, caller: CallerContext, po_id: Any, data: Any = None) -> dict:
    """Receive an open PO into stock (reason purchase): its warehouse unless another is given,
    its quantity unless another is given; serial numbers for a serialized product."""
    domain.require(caller, domain.STOCK_ROLES, "receive stock")
    po_id = domain.parse_id(po_id, "purchase_order_id")
    v = load_or_raise(po_receive_in, data if data is not None else {})
    with db.transaction() as uow:
        s = uow.session
        po = po_row(s, po_id, for_update=True)
        if po["status"] != "open":
            raise Conflict(f"Purchase order {po['number']} is {po['status']}", {"status": po["status"]})
        product = product_row(s, po["product_id"])
        wid = v["warehouse_id"] or po["warehouse_id"]
        if wid is None:
            raise ValidationFailed.field("warehouse_id", "required: the purchase order names no warehouse")
        warehouse_row(s, wid)
        qty = v["quantity"] or po["quantity"]
        serials = domain.check_serials(product["serialized"], qty, v["serial_numbers"])
        move = apply_in(
            uow, product, wid, qty, "purchase", serials, reference=po["number"], purchase_order_id=po_id
        )
        now = utcnow()
        s.execute(
            update(m.purchase_orders)
            .where(PO.id == po_id)
            .values(status="received", received_at=now, warehouse_id=wid)
        )
        po.update(status="received", received_at=now, warehouse_id=wid)
        out = po_out(po, product)
        out["received_quantity"] = qty
        out["move"] = move
        uow.publish(ev.PURCHASE_ORDER_RECEIVED, {k: v for k, v in out.items() if k != "move"})
        uow.audit(
            "purchase_order", po_id, "receive", {"status": ["open", "received"], "quantity": [None, qty]}
        )
    return out


def reorder_scan(db) -> int:
    """The daily safety net: every active product below its reorder point without an open
    purchase order gets one (a reorder point raised by an edit, a PO cancelled)."""
    with db.transaction() as uow:
        ids = uow.session.execute(
            select(P.id).where(P.active.is_(True), P.reorder_point.is_not(None)).order_by(P.id)
        ).scalars()
        reorder = Reorder()
        for product_id in ids:
            reorder.reduced[product_id] = (0, None)
        return len(reorder.run(uow))


def cancel_purchase_order(db, caller: CallerContext, po_id: Any, reason: Any = None) -> dict:
    """An open PO the partner will not deliver: ``cancelled`` (a new one can then be raised)."""
    domain.require(caller, domain.STOCK_ROLES, "cancel purchase orders")
    po_id = domain.parse_id(po_id, "purchase_order_id")
    with db.transaction() as uow:
        s = uow.session
        po = po_row(s, po_id, for_update=True)
        if po["status"] != "open":
            raise Conflict(f"Purchase order {po['number']} is {po['status']}", {"status": po["status"]})
        s.execute(update(m.purchase_orders).where(PO.id == po_id).values(status="cancelled"))
        po["status"] = "cancelled"
        note = str(reason)[:500] if reason else None
        uow.audit(
            "purchase_order", po_id, "cancel", {"status": ["open", "cancelled"], "reason": [None, note]}
        )
        return po_out(po, product_row(s, po["product_id"]))
