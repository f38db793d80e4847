"""Reservation use cases: reserving stock for a contract (named units or a quantity spread over
warehouses, all or with the shortfall reported), releasing and dispatching a contract's active
reservations, the reservation list, and the contract events that drive them
(``contract_approved`` reserves once, ``contract_terminated`` / ``contract_cancelled`` release).
Built on :mod:`inventory.store`, :mod:`inventory.reorder` and :mod:`inventory.stock`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import Conflict, NotFound, ValidationFailed, load_or_raise
from crm_common.money import to_decimal
from crm_common.paging import page_of, run_page, sorted_query
from marshmallow import ValidationError
from sqlalchemy import insert, select, update

from . import domain, schemas
from . import events as ev
from . import models as m
from .reorder import Reorder
from .stock import apply_out, serial_unit
from .store import (
    P,
    R,
    U,
    doc_out,
    document_id,
    history,
    lock_levels,
    lock_product_levels,
    plain_filters,
    product_row,
    save_level,
    warehouse_row,
)

reserve_in = schemas.ReserveSchema()


def reservation_out(r: Mapping) -> dict:
    return {
        "id": r["id"],
        "contract_id": doc_out(r["contract_id"]),
        "product_id": r["product_id"],
        "warehouse_id": r["warehouse_id"],
        "quantity": r["quantity"],
        "serial_numbers": list(r["serial_numbers"] or []),
        "status": r["status"],
    }


def reserve_items(
    uow,
    contract_id: str,
    items: list[dict],
    allow_partial: bool,
    reorder: Reorder,
    shortfall: list[dict] | None = None,
) -> dict:
    """Reserve each item (named units, or a quantity spread over warehouses with stock);
    ``allow_partial`` reserves what there is and reports the shortfall instead of a 409."""
    s = uow.session
    actor = uow.caller.actor
    now = utcnow()
    made: list[dict] = []
    shortfall = list(shortfall or [])
    for item in sorted(items, key=lambda i: i["product_id"]):
        product = product_row(s, item["product_id"])
        pid, qty = product["id"], item["quantity"]
        if product["kind"] == "service":
            continue
        if item.get("warehouse_id") is not None:
            warehouse_row(s, item["warehouse_id"])
        serials: list[str] = []
        if item.get("serial_numbers"):
            serials = domain.check_serials(product["serialized"], qty, item["serial_numbers"])
        if serials:
            # the product's stock rows first, then its units: the order every mover locks in
            levels = lock_product_levels(s, pid)
            per_wh: dict[int, list[dict]] = {}
            for serial in serials:
                unit = serial_unit(s, pid, serial)
                if unit is None:
                    if allow_partial:
                        shortfall.append(
                            {"product_id": pid, "serial_number": serial, "missing": 1, "status": None}
                        )
                        continue
                    raise NotFound(f"Unit {serial} not found", {"entity": "unit", "serial_number": serial})
                ok = unit["status"] == "in_stock" and (
                    item.get("warehouse_id") in (None, unit["warehouse_id"])
                )
                if not ok:
                    if allow_partial:
                        shortfall.append(
                            {
                                "product_id": pid,
                                "serial_number": serial,
                                "missing": 1,
                                "status": unit["status"],
                            }
                        )
                        continue
                    raise Conflict(
                        f"Unit {serial} is not in stock ({unit['status']})",
                        {"serial_number": serial, "status": unit["status"]},
                    )
                per_wh.setdefault(unit["warehouse_id"], []).append(unit)
            for wid, units in sorted(per_wh.items()):
                level = domain.reserve(levels[wid], len(units), pid, wid)
                save_level(s, pid, wid, level)
                names = [u["serial_number"] for u in units]
                rid = s.execute(
                    insert(m.reservations)
                    .values(
                        contract_id=contract_id,
                        product_id=pid,
                        warehouse_id=wid,
                        quantity=len(units),
                        serial_numbers=names,
                        status="active",
                        created_at=now,
                        updated_at=now,
                    )  # fmt: skip
                    .returning(R.id)
                ).scalar_one()
                for u in units:
                    s.execute(update(m.units).where(U.id == u["id"]).values(status="reserved", contract_id=contract_id,
                                                                             reservation_id=rid, updated_at=now))  # fmt: skip
                    history(s, u["id"], "reserved", "reserved", wid, contract_id, actor)
                made.append({"id": rid, "contract_id": doc_out(contract_id), "product_id": pid, "warehouse_id": wid,
                             "quantity": len(units), "serial_numbers": names, "status": "active"})  # fmt: skip
                reorder.note(pid, len(units), wid)
            continue
        if item.get("warehouse_id") is not None:
            levels = {
                item["warehouse_id"]: lock_levels(s, [(pid, item["warehouse_id"])])[
                    (pid, item["warehouse_id"])
                ]
            }
        else:
            levels = lock_product_levels(s, pid)
        candidates = [(w, lv.available) for w, lv in sorted(levels.items())]
        plan = domain.plan_reservation(candidates, qty)
        got = sum(t for _, t in plan)
        if got < qty:
            if not allow_partial:
                have = sum(a for _, a in candidates)
                raise domain.shortage("reserve", pid, item.get("warehouse_id") or 0, qty, have)
            shortfall.append({"product_id": pid, "missing": qty - got})
        for wid, take in plan:
            save_level(s, pid, wid, domain.reserve(levels[wid], take, pid, wid))
            rid = s.execute(
                insert(m.reservations)
                .values(
                    contract_id=contract_id,
                    product_id=pid,
                    warehouse_id=wid,
                    quantity=take,
                    serial_numbers=[],
                    status="active",
                    created_at=now,
                    updated_at=now,
                )  # fmt: skip
                .returning(R.id)
            ).scalar_one()
            made.append({"id": rid, "contract_id": doc_out(contract_id), "product_id": pid, "warehouse_id": wid,
                         "quantity": take, "serial_numbers": [], "status": "active"})  # fmt: skip
            reorder.note(pid, take, wid)
    result = {"contract_id": doc_out(contract_id), "reservations": made, "shortfall": shortfall}
    if made or shortfall:
        uow.publish(ev.STOCK_RESERVED, result)
        uow.audit("reservation", contract_id, "reserve", {"reservations": [None, [r["id"] for r in made]]})
    return result


def reserve_stock(db, caller: CallerContext, data: Any) -> dict:
    domain.require(caller, domain.STOCK_ROLES + ("sales_manager",), "reserve stock")
    v = load_or_raise(reserve_in, data)
    contract_id = document_id(v["contract_id"])
    with db.transaction() as uow:
        reorder = Reorder()
        out = reserve_items(uow, contract_id, v["items"], v["allow_partial"], reorder)
        out["purchase_orders"] = reorder.run(uow)
    return out


def release_active(uow, contract_id: str, reason: str | None) -> dict:
    s = uow.session
    actor = uow.caller.actor
    active = (
        s.execute(
            select(m.reservations).where(R.contract_id == contract_id, R.status == "active").order_by(R.id)
        )
        .mappings()
        .all()
    )
    if not active:
        return {"contract_id": doc_out(contract_id), "released": []}
    levels = lock_levels(s, [(r["product_id"], r["warehouse_id"]) for r in active])
    now = utcnow()
    for r in active:
        key = (r["product_id"], r["warehouse_id"])
        levels[key] = domain.release(levels[key], r["quantity"])
        s.execute(update(m.reservations).where(R.id == r["id"]).values(status="released", updated_at=now))
        units = (
            s.execute(select(U.id).where(U.reservation_id == r["id"], U.status == "reserved")).scalars().all()
        )
        for unit_id in units:
            s.execute(update(m.units).where(U.id == unit_id).values(status="in_stock", contract_id=None,
                                                                     reservation_id=None, updated_at=now))  # fmt: skip
            history(s, unit_id, "released", "in_stock", r["warehouse_id"], contract_id, actor, note=reason)
    for (pid, wid), level in levels.items():
        save_level(s, pid, wid, level)
    released = [reservation_out({**r, "status": "released"}) for r in active]
    out = {"contract_id": doc_out(contract_id), "released": released, "reason": reason}
    uow.publish(ev.STOCK_RELEASED, out)
    uow.audit("reservation", contract_id, "release", {"reservations": [None, [r["id"] for r in active]]})
    return out


def release_reservations(db, caller: CallerContext, contract_id: Any, reason: Any = None) -> dict:
    domain.require(caller, domain.STOCK_ROLES + ("sales_manager",), "release reservations")
    contract_id = document_id(contract_id)
    with db.transaction() as uow:
        return release_active(uow, contract_id, reason if isinstance(reason, str) else None)


def dispatch_reservations(db, caller: CallerContext, contract_id: Any, lease: Any = False) -> dict:
    """Convert every active reservation of a contract into a dispatch (one move per product and
    warehouse). A serialized product reserved by quantity needs its serial numbers: dispatch it
    with ``POST /stock/moves`` (reason dispatch, the contract id, the serials) instead."""
    domain.require(caller, domain.STOCK_ROLES, "dispatch stock")
    contract_id = document_id(contract_id)
    with db.transaction() as uow:
        s = uow.session
        active = (
            s.execute(
                select(m.reservations)
                .where(R.contract_id == contract_id, R.status == "active")
                .order_by(R.id)
            )
            .mappings()
            .all()
        )
        if not active:
            raise Conflict(
                f"Contract {contract_id} has no active reservation", {"contract_id": doc_out(contract_id)}
            )
        groups: dict[tuple[int, int], list[Mapping]] = {}
        for r in active:
            groups.setdefault((r["product_id"], r["warehouse_id"]), []).append(r)
        moves = []
        reorder = Reorder()
        for (pid, wid), rows in sorted(groups.items()):
            product = product_row(s, pid)
            qty = sum(r["quantity"] for r in rows)
            serials = [x for r in rows for x in (r["serial_numbers"] or [])]
            if product["serialized"] and len(serials) != qty:
                raise ValidationFailed.field(
                    "serial_numbers",
                    f"product {product['sku']} is reserved by quantity: dispatch it with its serial numbers",
                )
            moves.append(
                apply_out(
                    uow,
                    product,
                    wid,
                    qty,
                    "dispatch",
                    serials,
                    reorder,
                    contract_id=contract_id,
                    lease=bool(lease),
                )
            )
        reorder.run(uow)
    return {"contract_id": doc_out(contract_id), "moves": moves}


# the fields this list may be sorted by and their columns
RESERVATION_SORT = {"created_at": R.created_at, "quantity": R.quantity, "status": R.status, "id": R.id}


def list_reservations(
    db, caller: CallerContext, filters: Any, page: Any = 1, page_size: Any = 50, sort: Any = None
) -> dict:
    domain.require(caller, domain.READ_ROLES, "read reservations")
    page, page_size = domain.page_args(page, page_size)
    f = plain_filters(filters)
    query = select(m.reservations)
    if f.get("contract_id") is not None:
        query = query.where(R.contract_id == document_id(f["contract_id"]))
    if f.get("product_id") is not None:
        query = query.where(R.product_id == domain.parse_id(f["product_id"], "product_id"))
    if f.get("status") is not None:
        query = query.where(R.status == str(f["status"]))
    with db.read() as s:
        rows, total = run_page(s, sorted_query(query, sort, RESERVATION_SORT, R.id), page, page_size)
    return page_of([reservation_out(r) for r in rows], total, page, page_size)


# -- contract events ----------------------------------------------------------------------


def handle_contract_approved(db, envelope: Mapping[str, Any]) -> dict:
    """Reserve the stock of an approved contract's lines (what there is; the shortfall is in
    ``stock_reserved``). Idempotent twice over: the event id is recorded with the effect, and a
    contract that already has reservations is not reserved again."""
    try:
        payload = ev.contract_approved_payload.load(envelope["payload"])
    except ValidationError as exc:
        raise ValueError(f"malformed contract_approved payload: {exc.messages}") from None
    contract_id = document_id(payload["contract_id"] or payload["id"])
    with db.transaction() as uow:
        s = uow.session
        if s.execute(select(R.id).where(R.contract_id == contract_id).limit(1)).first() is not None:
            return {"contract_id": doc_out(contract_id), "skipped": "already reserved"}
        items, unknown = [], []
        for line in payload["lines"]:
            try:
                qty = int(to_decimal(line["quantity"]))
            except (ValueError, TypeError):
                qty = 0
            try:
                line_product = domain.parse_id(line["product_id"], "product_id")
            except ValidationFailed:
                unknown.append(line["product_id"])
                continue
            product = s.execute(select(P.id, P.serialized).where(P.id == line_product)).first()
            if qty <= 0:
                continue
            if product is None:
                unknown.append(line["product_id"])
                continue
            item: dict[str, Any] = {
                "product_id": product.id,
                "quantity": qty,
                "warehouse_id": line["warehouse_id"],
            }
            if product.serialized and line["serial_number"] and qty == 1:
                item["serial_numbers"] = [line["serial_number"].strip()]
            items.append(item)
        reorder = Reorder()
        missing = [{"product_id": p, "missing": None, "error": "unknown product"} for p in unknown]
        out = reserve_items(uow, contract_id, merge_items(items), True, reorder, missing)
        reorder.run(uow)
        return out


def merge_items(items: list[dict]) -> list[dict]:
    """Lines of one product (and warehouse) together: named units joined, quantities added."""
    merged: dict[tuple, dict] = {}
    for item in items:
        key = (item["product_id"], item.get("warehouse_id"), bool(item.get("serial_numbers")))
        if key in merged:
            merged[key]["quantity"] += item["quantity"]
            merged[key]["serial_numbers"] = (merged[key].get("serial_numbers") or []) + (
                item.get("serial_numbers") or []
            )
        else:
            merged[key] = {**item, "serial_numbers": list(item.get("serial_numbers") or [])}
    return list(merged.values())


def handle_contract_terminated(db, envelope: Mapping[str, Any]) -> dict:
    try:
        payload = ev.contract_terminated_payload.load(envelope["payload"])
    except ValidationError as exc:
        raise ValueError(f"malformed contract_terminated payload: {exc.messages}") from None
    contract_id = document_id(payload["contract_id"] or payload["id"])
    with db.transaction() as uow:
        return release_active(uow, contract_id, payload["reason"] or "contract terminated")
