"""Trade-in use cases: an application for a used machine offered against a new one (submitted for
approval, ``trade_in_submitted``), get and list (a sales rep sees only their own), the decision —
from the approvals service's events (``handle_approval_decided``) or taken directly
(``decide_trade_in``) — and receiving an approved trade-in's unit into stock. Built on
:mod:`inventory.store` and :mod:`inventory.stock`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import row_or_404, utcnow
from crm_common.errors import Conflict, NotFound, ValidationFailed, load_or_raise, not_found
from crm_common.money import fmt, to_decimal
from crm_common.paging import page_of, run_page, sorted_query
from marshmallow import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from . import domain, schemas
from . import events as ev
from . import models as m
from .stock import apply_in
from .store import TI, doc_out, document_id, money, plain_filters, product_row, warehouse_row

trade_in_in = schemas.TradeInCreateSchema()
trade_in_receive_in = schemas.TradeInReceiveSchema()
trade_in_out = schemas.TradeInSchema()


def trade_in_row(s: Session, trade_in_id: int, for_update: bool = False) -> dict:
    return row_or_404(s, m.trade_ins, trade_in_id, "trade-in", for_update)


def dump_trade_in(row: Mapping) -> dict:
    out = trade_in_out.dump({**row, "customer_id": doc_out(row["customer_id"])})
    out["requested_value"] = money(row["requested_value"], row["currency"])
    out["approved_value"] = money(row["approved_value"], row["currency"])
    return out


def create_trade_in(db, caller: CallerContext, data: Any, get_customer: Any = None) -> dict:
    """A trade-in application (a used machine offered against a new one), submitted for
    approval: ``trade_in_submitted`` asks the approvals service for a decision. Its customer is
    looked up with ``get_customer`` (the customers service, in the caller's scope): one the
    caller may not see is as unknown as a missing one (422 naming ``customer_id``)."""
    domain.require(caller, domain.TRADE_IN_ROLES, "submit trade-ins")
    v = load_or_raise(trade_in_in, data)
    customer_id = document_id(v["customer_id"], "customer_id") if v["customer_id"] is not None else None
    if customer_id is not None and get_customer is not None:
        try:
            get_customer(int(customer_id) if customer_id.isdigit() else customer_id)
        except NotFound:
            raise ValidationFailed.field("customer_id", "unknown customer") from None
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        for field in ("product_id", "against_product_id"):
            if v[field] is not None:
                product_row(s, v[field])
        row = {**{k: v[k] for k in v if k != "customer_id"}, "customer_id": customer_id, "status": "submitted",
               "approved_value": None, "decision_comment": None, "submitted_by": caller.actor,
               "created_at": now, "updated_at": now}  # fmt: skip
        row["serial_number"] = row["serial_number"].strip()
        row["id"] = s.execute(insert(m.trade_ins).values(**row).returning(TI.id)).scalar_one()
        out = dump_trade_in(row)
        uow.audit("trade_in", row["id"], "create", {"requested_value": [None, fmt(row["requested_value"])]})
        uow.publish(
            ev.TRADE_IN_SUBMITTED,
            {
                **out,
                "document_type": "trade_in",
                "document_id": row["id"],
                "amount": out["requested_value"],
                "submitter": caller.actor,
                "submitter_id": caller.user_id,
                "department": caller.department,
                "summary": domain.trade_in_summary(
                    row["model"],
                    row["serial_number"],
                    row["condition"],
                    out["requested_value"],
                    row["currency"],
                ),
            },  # fmt: skip
        )
    return out


def get_trade_in(db, caller: CallerContext, trade_in_id: Any) -> dict:
    """A trade-in; a sales rep's view is limited to the ones they submitted (another rep's → 404,
    like a missing one)."""
    domain.require(caller, domain.READ_ROLES, "read trade-ins")
    trade_in_id = domain.parse_id(trade_in_id, "trade_in_id")
    submitter = domain.trade_in_submitter_scope(caller)
    with db.read() as s:
        row = trade_in_row(s, trade_in_id)
        if submitter is not None and row["submitted_by"] != submitter:
            raise not_found("trade-in", trade_in_id)
        return dump_trade_in(row)


# the fields this list may be sorted by and their columns
TRADE_IN_SORT = {
    "status": TI.status,
    "requested_value": TI.requested_value,
    "approved_value": TI.approved_value,
    "created_at": TI.created_at,
    "updated_at": TI.updated_at,
    "id": TI.id,
}


def list_trade_ins(
    db, caller: CallerContext, filters: Any, page: Any = 1, page_size: Any = 50, sort: Any = None
) -> dict:
    domain.require(caller, domain.READ_ROLES, "read trade-ins")
    page, page_size = domain.page_args(page, page_size)
    f = plain_filters(filters)
    query = select(m.trade_ins)
    submitter = domain.trade_in_submitter_scope(caller)
    if submitter is not None:
        query = query.where(TI.submitted_by == submitter)
    if f.get("status") is not None:
        if f["status"] not in domain.TRADE_IN_STATUSES:
            raise ValidationFailed.field("status", f"one of {', '.join(domain.TRADE_IN_STATUSES)}")
        query = query.where(TI.status == f["status"])
    with db.read() as s:
        rows, total = run_page(s, sorted_query(query, sort, TRADE_IN_SORT, TI.id), page, page_size)
    return page_of([dump_trade_in(r) for r in rows], total, page, page_size)


def decide(uow, trade_in_id: int, approved: bool, value: Any, comment: str | None) -> dict:
    s = uow.session
    row = trade_in_row(s, trade_in_id, for_update=True)
    status = domain.trade_in_decision(row["status"], approved)
    approved_value = None
    if approved:
        try:
            approved_value = to_decimal(value) if value is not None else row["requested_value"]
        except ValueError:
            raise ValidationFailed.field("approved_value", "not an amount") from None
        if approved_value < 0:
            raise ValidationFailed.field("approved_value", "must not be negative")
    now = utcnow()
    s.execute(update(m.trade_ins).where(TI.id == trade_in_id).values(status=status, approved_value=approved_value,
                                                                      decision_comment=comment, updated_at=now))  # fmt: skip
    row.update(status=status, approved_value=approved_value, decision_comment=comment, updated_at=now)
    out = dump_trade_in(row)
    uow.audit("trade_in", trade_in_id, status, {"status": ["submitted", status]})
    uow.publish(ev.TRADE_IN_DECIDED, out)
    return out


def handle_approval_decided(db, envelope: Mapping[str, Any], approved: bool) -> dict | None:
    """``approvals.approval_approved`` / ``approval_rejected`` for ``document_type:
    "trade_in"``: keep the decision and the valuation decided in the approval
    (``approved_value`` in ``currency``; else, or in another currency than the trade-in's, the
    requested value). Other document types, unknown or already decided trade-ins: ignored."""
    try:
        payload = ev.approval_decided_payload.load(envelope["payload"])
    except ValidationError as exc:
        raise ValueError(f"malformed approval payload: {exc.messages}") from None
    if payload["document_type"] != "trade_in":
        return None
    try:
        trade_in_id = domain.parse_id(payload["document_id"], "document_id")
    except ValidationFailed:
        return None
    value = payload["approved_value"]
    try:
        if value is not None and (isinstance(value, float) or to_decimal(value) < 0):
            value = None
    except ValueError:
        value = None  # an unreadable valuation: the requested value is kept
    with db.transaction() as uow:
        row = uow.session.execute(select(TI.status, TI.currency).where(TI.id == trade_in_id)).first()
        if row is None or row.status != "submitted":
            return None
        if value is not None and payload["currency"] not in (None, row.currency):
            value = None  # a valuation in another currency is no valuation of this trade-in
        return decide(uow, trade_in_id, approved, value, payload["comment"])


def decide_trade_in(db, caller: CallerContext, trade_in_id: Any, data: Any) -> dict:
    """A decision taken directly (admin / approver) while no approval flow covers trade-ins:
    ``{"approved": bool, "approved_value"?, "comment"?}``."""
    domain.require(caller, ("admin", "approver", "system"), "decide trade-ins")
    trade_in_id = domain.parse_id(trade_in_id, "trade_in_id")
    if not isinstance(data, dict) or not isinstance(data.get("approved"), bool):
        raise ValidationFailed.field("approved", "required: true or false")
    unknown = set(data) - {"approved", "approved_value", "comment"}
    if unknown:
        raise ValidationFailed("Unknown fields", {f: ["Unknown field."] for f in sorted(unknown)})
    value = data.get("approved_value")
    if isinstance(value, float):
        raise ValidationFailed.field("approved_value", "amounts are strings, never floats")
    with db.transaction() as uow:
        return decide(uow, trade_in_id, data["approved"], value, data.get("comment"))


def receive_trade_in(db, caller: CallerContext, trade_in_id: Any, data: Any) -> dict:
    """Receive an approved trade-in's unit into stock (reason trade_in)."""
    domain.require(caller, domain.STOCK_ROLES, "receive stock")
    trade_in_id = domain.parse_id(trade_in_id, "trade_in_id")
    v = load_or_raise(trade_in_receive_in, data)
    with db.transaction() as uow:
        s = uow.session
        row = trade_in_row(s, trade_in_id, for_update=True)
        if row["status"] != "approved":
            raise Conflict(
                f"Trade-in {trade_in_id} is {row['status']}, not approved", {"status": row["status"]}
            )
        product_id = v["product_id"] or row["product_id"]
        if product_id is None:
            raise ValidationFailed.field("product_id", "required: the trade-in names no product")
        product = product_row(s, product_id)
        warehouse_row(s, v["warehouse_id"])
        serials = [row["serial_number"]] if product["serialized"] else []
        mfg = {row["serial_number"]: row["manufacturing_number"]} if row["manufacturing_number"] else {}
        move = apply_in(uow, product, v["warehouse_id"], 1, "trade_in", serials, mfg, trade_in_id=trade_in_id,
                        reference=f"trade-in {trade_in_id}")  # fmt: skip
        s.execute(
            update(m.trade_ins)
            .where(TI.id == trade_in_id)
            .values(status="received", product_id=product_id, updated_at=utcnow())
        )
        row.update(status="received", product_id=product_id)
        uow.audit("trade_in", trade_in_id, "receive", {"status": ["approved", "received"]})
    return {**dump_trade_in(row), "move": move}
