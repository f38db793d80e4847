"""What a customer's portal users see and ask beyond their contracts: the **installed items**
their contracts cover (``list_items``) and their **requests** — a renewal quote on a contract, a
service call on an item (``create_service_request``, ``list_service_requests``).

Scopes are those of the contracts (:func:`contracts.usecases.scoped`): a portal user sees only
their customer's signed contracts (never drafts, pending or cancelled ones), a sales rep their
own, every other reader all. Something outside the caller's scope answers exactly like something
that does not exist (404)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import load_or_raise, not_found
from crm_common.money import fmt_amount
from crm_common.paging import load_filters, page_args, page_of, run_page, sorted_query
from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session

from . import domain, schemas
from . import events as ev
from . import models as m
from .usecases import iso, scoped, visible_contract

C = m.contracts.c
L = m.contract_lines.c
R = m.service_requests.c

items_in = schemas.ItemFiltersSchema()
request_in = schemas.ServiceRequestSchema()
requests_in = schemas.ServiceRequestFiltersSchema()

SEARCHED = (L.serial_number, L.manufacturing_number, L.model, L.product_name, L.sku)


# --------------------------------------------------------------------------------------
# Installed items
# --------------------------------------------------------------------------------------


def is_item_line():
    """SQL for :func:`contracts.domain.is_item`."""
    return or_(
        L.product_kind.in_(domain.ITEM_KINDS), and_(L.serial_number.is_not(None), L.serial_number != "")
    )


def item_query():
    return select(
        L.id.label("line_id"),
        L.contract_id,
        C.number.label("contract_number"),
        C.status.label("contract_status"),
        C.start_date.label("contract_start_date"),
        C.end_date.label("contract_end_date"),
        C.customer_id,
        C.customer_name,
        C.customer_language,
        C.customer_owner_id,
        C.owner_id,
        L.product_id,
        L.sku,
        L.product_name,
        L.model,
        L.manufacturer,
        L.serial_number,
        L.manufacturing_number,
        L.quantity,
        L.start_date,
        L.end_date,
    ).select_from(m.contract_lines.join(m.contracts, C.id == L.contract_id))


def quantity_text(q) -> str | None:
    if q is None:
        return None
    return fmt_amount(q, None) if q % 1 else str(int(q))


def item_view(r: Mapping[str, Any]) -> dict:
    return {
        "line_id": r["line_id"],
        "contract_id": r["contract_id"],
        "contract_number": r["contract_number"],
        "contract_status": r["contract_status"],
        "contract_end_date": iso(r["contract_end_date"]),
        "customer_id": r["customer_id"],
        "product_id": r["product_id"],
        "sku": r["sku"],
        "product_name": r["product_name"],
        "model": r["model"],
        "manufacturer": r["manufacturer"],
        "serial_number": r["serial_number"],
        "manufacturing_number": r["manufacturing_number"],
        "quantity": quantity_text(r["quantity"]),
        # the line's own term, else the contract's
        "start_date": iso(r["start_date"] or r["contract_start_date"]),
        "end_date": iso(r["end_date"] or r["contract_end_date"]),
    }


# the fields installed items may be sorted by and their columns
ITEM_SORT = {
    "contract_number": C.number, "sku": L.sku, "product_name": L.product_name, "serial_number": L.serial_number,
    "contract_end_date": C.end_date, "line_id": L.id,
}  # fmt: skip


def list_items(
    db, caller: CallerContext, filters: Any = None, page: Any = 1, page_size: Any = 50, sort: Any = None
) -> dict:
    """Installed items (device lines, lines naming a unit) of the contracts in the caller's scope,
    of approved and active contracts unless ``status`` says otherwise. ``q`` searches serial
    number, manufacturing number, model, product name and SKU, case-insensitively."""
    access = domain.read_access(caller)
    page, page_size = page_args(page, page_size)
    f = load_filters(items_in, filters)
    query = scoped(item_query(), access).where(
        is_item_line(), C.status.in_(f.get("status") or domain.ITEM_STATUSES)
    )
    if f.get("customer_id"):
        query = query.where(C.customer_id == f["customer_id"])
    if f.get("contract_id"):
        query = query.where(C.id == f["contract_id"])
    query = sorted_query(query, sort, ITEM_SORT, L.contract_id.desc(), L.position, L.id)
    q = f.get("q")
    with db.read() as s:
        if q is None or q.isascii():
            if q:
                needle = q.lower()
                query = query.where(
                    or_(*(func.lower(col).contains(needle, autoescape=True) for col in SEARCHED))
                )
            rows, total = run_page(s, query, page, page_size)
        else:
            # SQLite's lower() folds ASCII only: other scripts (Принтер, İSTANBUL) are matched
            # here with the Unicode fold over the items in scope
            found = [
                r
                for r in s.execute(query).mappings()
                if domain.item_matches(
                    q,
                    (r["serial_number"], r["manufacturing_number"], r["model"], r["product_name"], r["sku"]),
                )  # fmt: skip
            ]
            total = len(found)
            rows = found[(page - 1) * page_size : page * page_size]
    return page_of([item_view(r) for r in rows], total, page, page_size)


# --------------------------------------------------------------------------------------
# Service requests
# --------------------------------------------------------------------------------------


def requested_item(s: Session, access: domain.Access, v: Mapping[str, Any]) -> Mapping[str, Any]:
    """The contract line a service call is about, in the caller's scope, or 404 (the same for an
    unknown serial number and another customer's)."""
    serial = v["serial_number"]
    if v["line_id"] is not None:
        visible_contract(s, v["contract_id"], access)
        row = (
            s.execute(item_query().where(L.id == v["line_id"], L.contract_id == v["contract_id"]))
            .mappings()
            .first()
        )
        if row is None or (serial is not None and (row["serial_number"] or "").lower() != serial.lower()):
            raise not_found("item", v["line_id"])
        return row
    query = scoped(item_query(), access).where(func.lower(L.serial_number) == serial.lower())
    if v["contract_id"] is not None:
        query = query.where(C.id == v["contract_id"])
    found = domain.best_item(list(s.execute(query).mappings()))
    if found is None:
        raise not_found("item", serial)
    return found


def request_view(r: Mapping[str, Any]) -> dict:
    return {
        "id": r["id"],
        "kind": r["kind"],
        "status": r["status"],
        "customer_id": r["customer_id"],
        "customer_name": r["customer_name"],
        "contract_id": r["contract_id"],
        "contract_number": r["contract_number"],
        "line_id": r["line_id"],
        "serial_number": r["serial_number"],
        "product_name": r["product_name"],
        "message": r["message"],
        "requested_by": r["requested_by"],
        "created_at": iso(r["created_at"]),
    }


def request_query():
    return select(
        m.service_requests,
        C.number.label("contract_number"),
        C.customer_name,
        L.product_name,
    ).select_from(
        m.service_requests.join(m.contracts, C.id == R.contract_id).outerjoin(
            m.contract_lines, L.id == R.line_id
        )
    )


def create_service_request(db, caller: CallerContext, data: Any) -> dict:
    """A portal user (for their customer) or staff who may read the contract asks for a renewal
    quote on a contract or a service call on an installed item; ``service_request_created``
    (same transaction) lets notify open a task for the contract's owner."""
    access = domain.read_access(caller)
    v = load_or_raise(request_in, data)
    with db.transaction() as uow:
        s = uow.session
        if v["kind"] == "renewal_quote":
            row = visible_contract(s, v["contract_id"], access)
            item: Mapping[str, Any] | None = None
        else:
            item = requested_item(s, access, v)
            row = visible_contract(s, item["contract_id"], access)
        values = {
            "kind": v["kind"],
            "customer_id": row["customer_id"],
            "contract_id": row["id"],
            "line_id": item["line_id"] if item else None,
            "serial_number": item["serial_number"] if item else None,
            "message": v["message"],
            "status": "open",
            "requested_by": caller.user_id,
            "created_at": utcnow(),
        }
        rid = s.execute(insert(m.service_requests).values(**values).returning(R.id)).scalar_one()
        uow.audit(
            "service_request", rid, "create", {"kind": [None, v["kind"]], "contract_id": [None, row["id"]]}
        )
        view = request_view(
            {
                **values,
                "id": rid,
                "contract_number": row["number"],
                "customer_name": row["customer_name"],
                "product_name": item["product_name"] if item else None,
            }  # fmt: skip
        )
        uow.publish(
            ev.SERVICE_REQUEST_CREATED,
            {
                "service_request_id": rid,
                "kind": v["kind"],
                "customer_id": row["customer_id"],
                "customer_name": row["customer_name"],
                "contract_id": row["id"],
                "contract_number": row["number"],
                "line_id": view["line_id"],
                "serial_number": view["serial_number"],
                "product_name": view["product_name"],
                "owner_id": domain.request_owner(row["owner_id"], row["customer_owner_id"]),
                "message": v["message"],
                "requested_by": caller.user_id,
                "language": row["customer_language"],
                "created_at": view["created_at"],
            },
        )
        return view


# the fields this list may be sorted by and their columns
SERVICE_REQUEST_SORT = {"created_at": R.created_at, "status": R.status, "kind": R.kind, "id": R.id}


def list_service_requests(
    db, caller: CallerContext, filters: Any = None, page: Any = 1, page_size: Any = 50, sort: Any = None
) -> dict:
    """Requests on the contracts in the caller's scope (a portal user: their customer's), newest
    first; filters ``kind``, ``status``, ``customer_id``, ``contract_id``."""
    access = domain.read_access(caller)
    page, page_size = page_args(page, page_size)
    f = load_filters(requests_in, filters)
    query = scoped(request_query(), access)
    for name in ("kind", "status", "customer_id", "contract_id"):
        if f.get(name):
            query = query.where(R[name] == f[name])
    with db.read() as s:
        rows, total = run_page(
            s, sorted_query(query, sort, SERVICE_REQUEST_SORT, R.id.desc()), page, page_size
        )
    return page_of([request_view(r) for r in rows], total, page, page_size)
