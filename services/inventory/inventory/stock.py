"""Warehouse and stock use cases: warehouses (create, get, list), stock levels per product and
warehouse (``get_stock``), stock moves in and out (``record_move``; :func:`apply_in` and
:func:`apply_out` are shared with purchase orders, trade-ins and reservation dispatches, which
consume the contract's reservations first), transfers between warehouses and the move list. Every
change locks its stock rows first (:func:`inventory.store.lock_levels`). Built on
:mod:`inventory.store` and :mod:`inventory.reorder`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import Conflict, NotFound, ValidationFailed, load_or_raise
from crm_common.paging import load_filters, page_of, run_page, sorted_query
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from . import domain, schemas
from . import events as ev
from . import models as m
from .reorder import Reorder
from .store import (
    MV,
    L,
    P,
    R,
    U,
    W,
    doc_out,
    document_id,
    history,
    level_out,
    lock_levels,
    plain_filters,
    product_row,
    save_level,
    warehouse_row,
)

warehouse_in = schemas.WarehouseCreateSchema()
move_in = schemas.MoveSchema()
transfer_in = schemas.TransferSchema()
stock_filters_in = schemas.StockFiltersSchema()


def warehouse_out(r: Mapping) -> dict:
    return {
        "id": r["id"],
        "code": r["code"],
        "name": r["name"],
        "address": r["address"],
        "active": r["active"],
    }


def create_warehouse(db, caller: CallerContext, data: Any) -> dict:
    domain.require(caller, ("admin", "warehouse", "system"), "manage warehouses")
    v = load_or_raise(warehouse_in, data)
    with db.transaction() as uow:
        s = uow.session
        code_key = domain.key(v["code"])
        if s.execute(select(W.id).where(W.code_key == code_key)).first() is not None:
            raise Conflict(f"Warehouse {v['code']} exists", {"code": v["code"]})
        row = {"code": v["code"].strip(), "code_key": code_key, "name": v["name"].strip(),
               "address": v["address"], "active": True, "created_at": utcnow()}  # fmt: skip
        row["id"] = s.execute(insert(m.warehouses).values(**row).returning(W.id)).scalar_one()
        uow.audit("warehouse", row["id"], "create", {"code": [None, row["code"]]})
    return warehouse_out(row)


def get_warehouse(db, caller: CallerContext, warehouse_id: Any) -> dict:
    domain.require(caller, domain.READ_ROLES, "read warehouses")
    with db.read() as s:
        return warehouse_out(warehouse_row(s, domain.parse_id(warehouse_id, "warehouse_id")))


# the fields this list may be sorted by and their columns
WAREHOUSE_SORT = {"code": W.code_key, "name": W.name, "created_at": W.created_at, "id": W.id}


def list_warehouses(db, caller: CallerContext, page: Any, page_size: Any, sort: Any = None) -> dict:
    domain.require(caller, domain.READ_ROLES, "read warehouses")
    page, page_size = domain.page_args(page, page_size)
    with db.read() as s:
        rows, total = run_page(
            s, sorted_query(select(m.warehouses), sort, WAREHOUSE_SORT, W.code_key), page, page_size
        )
    return page_of([warehouse_out(r) for r in rows], total, page, page_size)


# the fields this list may be sorted by and their columns
STOCK_SORT = {
    "sku": P.sku_key,
    "name": P.name,
    "warehouse": W.code_key,
    "on_hand": L.on_hand,
    "reserved": L.reserved,
}


def get_stock(
    db, caller: CallerContext, filters: Any, page: Any = 1, page_size: Any = 50, sort: Any = None
) -> dict:
    """On hand, reserved and available per product and warehouse."""
    domain.require(caller, domain.READ_ROLES, "read stock")
    f = load_filters(stock_filters_in, filters)
    page, page_size = domain.page_args(page, page_size)
    query = (
        select(L.product_id, L.warehouse_id, L.on_hand, L.reserved, P.sku, P.name, W.code)
        .join(m.products, P.id == L.product_id)
        .join(m.warehouses, W.id == L.warehouse_id)
    )
    with db.read() as s:
        if "product_id" in f:
            product_row(s, f["product_id"])
            query = query.where(L.product_id == f["product_id"])
        if "warehouse_id" in f:
            warehouse_row(s, f["warehouse_id"])
            query = query.where(L.warehouse_id == f["warehouse_id"])
        rows, total = run_page(
            s, sorted_query(query, sort, STOCK_SORT, P.sku_key, W.code_key), page, page_size
        )
    items = [
        {
            "product_id": r["product_id"],
            "sku": r["sku"],
            "product_name": r["name"],
            "warehouse_id": r["warehouse_id"],
            "warehouse_code": r["code"],
            "on_hand": r["on_hand"],
            "reserved": r["reserved"],
            "available": r["on_hand"] - r["reserved"],
        }
        for r in rows
    ]
    return page_of(items, total, page, page_size)


def move_row(
    s: Session,
    actor: str,
    product_id: int,
    warehouse_id: int,
    direction: str,
    reason: str,
    qty: int,
    serials: list[str],
    **extra: Any,
) -> dict:
    row = {
        "product_id": product_id,
        "warehouse_id": warehouse_id,
        "direction": direction,
        "reason": reason,
        "quantity": qty,
        "serial_numbers": serials,
        "contract_id": extra.get("contract_id"),
        "reference": extra.get("reference"),
        "transfer_id": extra.get("transfer_id"),
        "purchase_order_id": extra.get("purchase_order_id"),
        "trade_in_id": extra.get("trade_in_id"),
        "note": extra.get("note"),
        "created_at": utcnow(),
        "created_by": actor,
    }
    row["id"] = s.execute(insert(m.stock_moves).values(**row).returning(MV.id)).scalar_one()
    return row


def move_out(row: Mapping, level: domain.Level | None = None) -> dict:
    out = {
        "id": row["id"],
        "product_id": row["product_id"],
        "warehouse_id": row["warehouse_id"],
        "direction": row["direction"],
        "reason": row["reason"],
        "quantity": row["quantity"],
        "serial_numbers": list(row["serial_numbers"] or []),
        "contract_id": doc_out(row["contract_id"]),
        "reference": row["reference"],
        "transfer_id": row["transfer_id"],
        "purchase_order_id": row["purchase_order_id"],
        "trade_in_id": row["trade_in_id"],
        "note": row["note"],
        "created_at": row["created_at"].isoformat(),
        "created_by": row["created_by"],
    }
    if level is not None:
        out["stock"] = {"on_hand": level.on_hand, "reserved": level.reserved, "available": level.available}
    return out


def serial_unit(s: Session, product_id: int, serial: str, for_update: bool = True) -> dict | None:
    query = select(m.units).where(U.product_id == product_id, U.serial_key == domain.key(serial))
    if for_update:
        query = query.with_for_update()
    row = s.execute(query).mappings().first()
    return dict(row) if row is not None else None


def apply_in(
    uow,
    product: Mapping,
    warehouse_id: int,
    qty: int,
    reason: str,
    serials: list[str],
    manufacturing: Mapping[str, str] | None = None,
    **extra: Any,
) -> dict:
    """Stock in (purchase, trade_in, returns, adjustment): units created or brought back."""
    s = uow.session
    actor = uow.caller.actor
    levels = lock_levels(s, [(product["id"], warehouse_id)])
    level = domain.receive(levels[(product["id"], warehouse_id)], qty)
    units = []
    for serial in serials:
        unit = serial_unit(s, product["id"], serial)
        if unit is not None:
            if not domain.unit_can_come_in(unit["status"], reason):
                raise Conflict(
                    f"Serial number {serial} exists ({unit['status']})",
                    {"serial_number": serial, "status": unit["status"], "product_id": product["id"]},
                )
            units.append(unit)
        else:
            units.append({"id": None, "serial_number": serial})
    move = move_row(s, actor, product["id"], warehouse_id, "in", reason, qty, serials, **extra)
    now = utcnow()
    for unit in units:
        mfg = (manufacturing or {}).get(unit["serial_number"])
        if unit["id"] is None:
            unit["id"] = s.execute(
                insert(m.units)
                .values(
                    product_id=product["id"],
                    serial_number=unit["serial_number"],
                    serial_key=domain.key(unit["serial_number"]),
                    manufacturing_number=mfg,
                    status="in_stock",
                    warehouse_id=warehouse_id,
                    contract_id=None,
                    reservation_id=None,
                    created_at=now,
                    updated_at=now,
                )
                .returning(U.id)
            ).scalar_one()
        else:
            values: dict[str, Any] = {"status": "in_stock", "warehouse_id": warehouse_id, "contract_id": None,
                                      "reservation_id": None, "updated_at": now}  # fmt: skip
            if mfg:
                values["manufacturing_number"] = mfg
            s.execute(update(m.units).where(U.id == unit["id"]).values(**values))
        history(s, unit["id"], reason, "in_stock", warehouse_id, extra.get("contract_id"), actor, move["id"])
    save_level(s, product["id"], warehouse_id, level)
    out = move_out(move, level)
    uow.publish(ev.STOCK_RECEIVED, {**out, "sku": product["sku"]})
    return out


def consume_reservation(s: Session, res: Mapping, qty: int, serials: list[str]) -> None:
    """Turn ``qty`` of an active reservation (and these of its named units) into a dispatch:
    the rest stays reserved, the part taken is kept as a ``dispatched`` reservation row."""
    now = utcnow()
    left_serials = [
        x for x in (res["serial_numbers"] or []) if domain.key(x) not in {domain.key(y) for y in serials}
    ]
    if qty >= res["quantity"]:
        s.execute(update(m.reservations).where(R.id == res["id"]).values(status="dispatched", updated_at=now))
        return
    s.execute(
        update(m.reservations)
        .where(R.id == res["id"])
        .values(quantity=res["quantity"] - qty, serial_numbers=left_serials, updated_at=now)
    )
    s.execute(
        insert(m.reservations).values(
            contract_id=res["contract_id"],
            product_id=res["product_id"],
            warehouse_id=res["warehouse_id"],
            quantity=qty,
            serial_numbers=serials,
            status="dispatched",
            created_at=res["created_at"],
            updated_at=now,
        )
    )


def apply_out(
    uow,
    product: Mapping,
    warehouse_id: int,
    qty: int,
    reason: str,
    serials: list[str],
    reorder: Reorder,
    contract_id: str | None = None,
    lease: bool = False,
    **extra: Any,
) -> dict:
    """Stock out. A dispatch for a contract uses that contract's reservations first (its named
    units, then reserved quantity); the rest must be available."""
    s = uow.session
    actor = uow.caller.actor
    pid = product["id"]
    levels = lock_levels(s, [(pid, warehouse_id)])
    level = levels[(pid, warehouse_id)]
    units = []
    for serial in serials:
        unit = serial_unit(s, pid, serial)
        if unit is None:
            raise NotFound(
                f"Unit {serial} not found", {"entity": "unit", "serial_number": serial, "product_id": pid}
            )
        reserved_here = (
            unit["status"] == "reserved"
            and reason == "dispatch"
            and contract_id is not None
            and unit["contract_id"] == contract_id
        )
        if unit["warehouse_id"] != warehouse_id or not (unit["status"] == "in_stock" or reserved_here):
            raise Conflict(
                f"Unit {serial} is not available in this warehouse ({unit['status']})",
                {"serial_number": serial, "status": unit["status"], "warehouse_id": unit["warehouse_id"]},
            )
        units.append(unit)
    from_reserved = 0
    if contract_id is not None and reason == "dispatch":
        active = (
            s.execute(
                select(m.reservations)
                .where(
                    R.contract_id == contract_id,
                    R.product_id == pid,
                    R.warehouse_id == warehouse_id,
                    R.status == "active",
                )
                .order_by(R.id)
                .with_for_update()
            )
            .mappings()
            .all()
        )
        by_id = {r["id"]: dict(r) for r in active}
        # named units reserved for this contract first
        named: dict[int, list[str]] = {}
        for unit in units:
            if unit["status"] == "reserved" and unit["reservation_id"] in by_id:
                named.setdefault(unit["reservation_id"], []).append(unit["serial_number"])
        for rid, taken in named.items():
            res = by_id[rid]
            consume_reservation(s, res, len(taken), taken)
            gone = {domain.key(x) for x in taken}
            res["quantity"] -= len(taken)
            res["serial_numbers"] = [x for x in res["serial_numbers"] or [] if domain.key(x) not in gone]
            from_reserved += len(taken)
        # then the contract's reserved quantity without names
        left = qty - from_reserved
        for res in by_id.values():
            take = min(left, res["quantity"] - len(res["serial_numbers"] or []))
            if take > 0:
                consume_reservation(s, res, take, [])
                res["quantity"] -= take
                from_reserved += take
                left -= take
    unreserved = qty - from_reserved
    try:
        base = domain.Level(level.on_hand - from_reserved, level.reserved - from_reserved)
        new_level = domain.take_out(base, unreserved, pid, warehouse_id)
    except Conflict as exc:
        exc.details["requested"] = qty
        raise
    move = move_row(
        s, actor, pid, warehouse_id, "out", reason, qty, serials, contract_id=contract_id, **extra
    )
    status = domain.status_after_out(reason, lease)
    now = utcnow()
    for unit in units:
        s.execute(
            update(m.units)
            .where(U.id == unit["id"])
            .values(
                status=status, warehouse_id=None, contract_id=contract_id, reservation_id=None, updated_at=now
            )
        )
        history(s, unit["id"], reason, status, warehouse_id, contract_id, actor, move["id"])
    save_level(s, pid, warehouse_id, new_level)
    if unreserved > 0:
        reorder.note(pid, unreserved, warehouse_id)
    out = move_out(move, new_level)
    event = ev.STOCK_DISPATCHED if reason == "dispatch" else ev.STOCK_ADJUSTED
    uow.publish(event, {**out, "sku": product["sku"], "from_reservation": from_reserved})
    return out


def check_reason(direction: str, reason: str) -> None:
    allowed = domain.IN_REASONS if direction == "in" else domain.OUT_REASONS
    if reason not in allowed:
        raise ValidationFailed.field(
            "reason", f"a move {direction} has one of the reasons {', '.join(allowed)}"
        )


def record_move(db, caller: CallerContext, data: Any) -> dict:
    """``POST /stock/moves``: one move in or out."""
    domain.require(caller, domain.STOCK_ROLES, "move stock")
    v = load_or_raise(move_in, data)
    check_reason(v["direction"], v["reason"])
    contract_id = document_id(v["contract_id"]) if v["contract_id"] is not None else None
    with db.transaction() as uow:
        s = uow.session
        product = product_row(s, v["product_id"])
        warehouse_row(s, v["warehouse_id"])
        serials = domain.check_serials(product["serialized"], v["quantity"], v["serial_numbers"])
        if product["kind"] == "service":
            raise ValidationFailed.field("product_id", "a service is not stocked")
        extra = {"reference": v["reference"], "note": v["note"]}
        if v["direction"] == "in":
            out = apply_in(uow, product, v["warehouse_id"], v["quantity"], v["reason"], serials,
                           v["manufacturing_numbers"], contract_id=contract_id, **extra)  # fmt: skip
        else:
            reorder = Reorder()
            out = apply_out(uow, product, v["warehouse_id"], v["quantity"], v["reason"], serials, reorder,
                            contract_id=contract_id, lease=v["lease"], **extra)  # fmt: skip
            out["purchase_orders"] = reorder.run(uow)
        uow.audit(
            "stock_move",
            out["id"],
            v["direction"],
            {"quantity": [None, v["quantity"]], "reason": [None, v["reason"]]},
        )
    return out


def transfer_stock(db, caller: CallerContext, data: Any) -> dict:
    domain.require(caller, domain.STOCK_ROLES, "move stock")
    v = load_or_raise(transfer_in, data)
    src, dst = v["from_warehouse_id"], v["to_warehouse_id"]
    if src == dst:
        raise ValidationFailed.field("to_warehouse_id", "must differ from from_warehouse_id")
    with db.transaction() as uow:
        s = uow.session
        actor = uow.caller.actor
        product = product_row(s, v["product_id"])
        warehouse_row(s, src)
        warehouse_row(s, dst)
        serials = domain.check_serials(product["serialized"], v["quantity"], v["serial_numbers"])
        pid, qty = product["id"], v["quantity"]
        levels = lock_levels(s, [(pid, src), (pid, dst)])
        new_src = domain.take_out(levels[(pid, src)], qty, pid, src)
        new_dst = domain.receive(levels[(pid, dst)], qty)
        transfer_id = str(uuid.uuid4())
        units = []
        for serial in serials:
            unit = serial_unit(s, pid, serial)
            if unit is None:
                raise NotFound(f"Unit {serial} not found", {"entity": "unit", "serial_number": serial})
            if unit["status"] != "in_stock" or unit["warehouse_id"] != src:
                raise Conflict(
                    f"Unit {serial} is not in stock in warehouse {src}",
                    {"serial_number": serial, "status": unit["status"], "warehouse_id": unit["warehouse_id"]},
                )
            units.append(unit)
        out_move = move_row(
            s, actor, pid, src, "out", "transfer", qty, serials, transfer_id=transfer_id, note=v["note"]
        )
        in_move = move_row(
            s, actor, pid, dst, "in", "transfer", qty, serials, transfer_id=transfer_id, note=v["note"]
        )
        for unit in units:
            s.execute(update(m.units).where(U.id == unit["id"]).values(warehouse_id=dst, updated_at=utcnow()))
            history(
                s,
                unit["id"],
                "transfer",
                "in_stock",
                dst,
                None,
                actor,
                in_move["id"],
                f"from warehouse {src}",
            )
        save_level(s, pid, src, new_src)
        save_level(s, pid, dst, new_dst)
        out = {
            "transfer_id": transfer_id,
            "product_id": pid,
            "quantity": qty,
            "serial_numbers": serials,
            "from": level_out(product, src, new_src),
            "to": level_out(product, dst, new_dst),
            "moves": [move_out(out_move), move_out(in_move)],
        }
        uow.publish(
            ev.STOCK_TRANSFERRED,
            {k: out[k] for k in ("transfer_id", "product_id", "quantity", "serial_numbers", "from", "to")},
        )
        uow.audit(
            "stock_transfer",
            transfer_id,
            "transfer",
            {"quantity": [None, qty], "from": [None, src], "to": [None, dst]},
        )
    return out


# the fields this list may be sorted by and their columns
MOVE_SORT = {
    "created_at": MV.created_at,
    "quantity": MV.quantity,
    "direction": MV.direction,
    "reason": MV.reason,
    "id": MV.id,
}


def list_moves(db, caller: CallerContext, filters: Any, page: Any, page_size: Any, sort: Any = None) -> dict:
    domain.require(caller, domain.READ_ROLES, "read stock")
    page, page_size = domain.page_args(page, page_size)
    f = plain_filters(filters)
    query = select(m.stock_moves)
    for name in ("product_id", "warehouse_id"):
        if f.get(name) is not None:
            query = query.where(MV[name] == domain.parse_id(f[name], name))
    if f.get("contract_id") is not None:
        query = query.where(MV.contract_id == document_id(f["contract_id"]))
    with db.read() as s:
        rows, total = run_page(s, sorted_query(query, sort, MOVE_SORT, MV.id.desc()), page, page_size)
    return page_of([move_out(r) for r in rows], total, page, page_size)
