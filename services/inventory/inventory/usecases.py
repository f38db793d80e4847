"""Use cases: one function per RPC method (the service class only forwards to them).

Each takes the worker's database (``crm_common.db.WorkerDatabase`` or a ``DatabaseHandle``)
and the caller, checks the caller's role (:mod:`inventory.domain`), validates the input
(:mod:`inventory.schemas`) and does its work in ONE transaction — state change, audit trail and
outbox events commit together or not at all.

Concurrency: every change of stock goes through :func:`lock_levels`, which locks the
``stock_levels`` rows involved (``SELECT ... FOR UPDATE`` on PostgreSQL, always in
(product, warehouse) order so two movers never deadlock; SQLite write transactions are
serialised by crm_common) before reading them, so the check "enough available" and the change
happen under the same lock: two dispatches racing for the last unit cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import changes_between, row_or_404, utcnow
from crm_common.errors import Conflict, NotFound, ValidationFailed, load_or_raise, not_found
from crm_common.money import fmt, fmt_amount, to_decimal
from crm_common.paging import load_filters, page_of, run_page
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import domain, schemas
from . import events as ev
from . import models as m

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

product_create_in = schemas.ProductCreateSchema()
product_update_in = schemas.ProductUpdateSchema()
product_filters_in = schemas.ProductFiltersSchema()
product_out = schemas.ProductSchema()
category_in = schemas.CategoryCreateSchema()
price_list_in = schemas.PriceListCreateSchema()
prices_in = schemas.PricesSetSchema()
bulk_in = schemas.BulkUpdateSchema()
warehouse_in = schemas.WarehouseCreateSchema()
move_in = schemas.MoveSchema()
transfer_in = schemas.TransferSchema()
stock_filters_in = schemas.StockFiltersSchema()
reserve_in = schemas.ReserveSchema()
po_receive_in = schemas.ReceivePurchaseOrderSchema()
po_create_in = schemas.PurchaseOrderCreateSchema()
trade_in_in = schemas.TradeInCreateSchema()
trade_in_receive_in = schemas.TradeInReceiveSchema()
trade_in_out = schemas.TradeInSchema()


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Catalogue
# --------------------------------------------------------------------------------------


def category_for_path(s: Session, path: str, create: bool) -> dict | None:
    parts = domain.category_parts(path)
    parent_id = None
    row = None
    for i in range(len(parts)):
        pkey = domain.path_key(parts[: i + 1])
        row = s.execute(select(m.categories).where(CAT.path_key == pkey)).mappings().first()
        if row is None:
            if not create:
                return None
            cid = s.execute(
                insert(m.categories)
                .values(
                    name=parts[i],
                    parent_id=parent_id,
                    path="/".join(parts[: i + 1]),
                    path_key=pkey,
                    created_at=utcnow(),
                )
                .returning(CAT.id)
            ).scalar_one()
            row = s.execute(select(m.categories).where(CAT.id == cid)).mappings().one()
        parent_id = row["id"]
    return dict(row) if row is not None else None


def category_out(row: Mapping) -> dict:
    return {"id": row["id"], "name": row["name"], "parent_id": row["parent_id"], "path": row["path"]}


def create_category(db, caller: CallerContext, data: Any) -> dict:
    domain.require(caller, domain.CATALOGUE_ROLES, "manage the catalogue")
    v = load_or_raise(category_in, data)
    with db.transaction() as uow:
        s = uow.session
        parts = [v["name"].strip()]
        if v["parent_id"] is not None:
            parent = s.execute(select(m.categories).where(CAT.id == v["parent_id"])).mappings().first()
            if parent is None:
                raise not_found("category", v["parent_id"])
            parts = domain.category_parts(parent["path"]) + parts
        domain.category_parts("/".join(parts))
        pkey = domain.path_key(parts)
        if s.execute(select(CAT.id).where(CAT.path_key == pkey)).first() is not None:
            raise Conflict(f"Category {'/'.join(parts)} exists", {"path": "/".join(parts)})
        row = category_for_path(s, "/".join(parts), create=True)
        assert row is not None
        uow.audit("category", row["id"], "create", {"path": [None, row["path"]]})
    return category_out(row)


def list_categories(db, caller: CallerContext) -> list[dict]:
    domain.require(caller, domain.READ_ROLES, "read the catalogue")
    with db.read() as s:
        rows = s.execute(select(m.categories).order_by(CAT.path_key)).mappings().all()
    return [category_out(r) for r in rows]


def dump_product(row: Mapping, category_path: str | None) -> dict:
    out = product_out.dump({**row, "category": category_path})
    out["unit_price"] = money(row["unit_price"], row["currency"])
    return out


def category_paths(s: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {r.id: r.path for r in s.execute(select(CAT.id, CAT.path).where(CAT.id.in_(wanted)))}


def product_public(row: Mapping) -> dict:
    keys = ("sku", "name", "kind", "model", "manufacturer", "unit", "unit_price", "currency", "category_id",
            "serialized", "reorder_point", "reorder_quantity", "preferred_partner", "active")  # fmt: skip
    return {k: row[k] for k in keys}


def insert_product(s: Session, v: dict, actor: str) -> dict:
    sku_key = domain.key(v["sku"])
    if s.execute(select(P.id).where(P.sku_key == sku_key)).first() is not None:
        raise Conflict(f"SKU {v['sku']} exists", {"sku": v["sku"]})
    category = category_for_path(s, v["category"], create=True) if v.get("category") else None
    now = utcnow()
    row = {
        "sku": v["sku"].strip(),
        "sku_key": sku_key,
        "name": v["name"].strip(),
        "kind": v["kind"],
        "model": v.get("model"),
        "manufacturer": v.get("manufacturer"),
        "unit": v.get("unit") or "pcs",
        "unit_price": v["unit_price"],
        "currency": v["currency"],
        "category_id": category["id"] if category else None,
        "serialized": bool(v.get("serialized")),
        "reorder_point": v.get("reorder_point"),
        "reorder_quantity": v.get("reorder_quantity"),
        "preferred_partner": v.get("preferred_partner"),
        "active": v.get("active", True),
        "search_key": domain.product_search_key(v["sku"], v["name"], v.get("model"), v.get("manufacturer")),
        "created_at": now,
        "updated_at": now,
    }
    row["id"] = s.execute(insert(m.products).values(**row).returning(P.id)).scalar_one()
    row["category_path"] = category["path"] if category else None
    return row


def create_product(db, caller: CallerContext, data: Any) -> dict:
    domain.require(caller, domain.CATALOGUE_ROLES, "manage the catalogue")
    v = load_or_raise(product_create_in, data)
    with db.transaction() as uow:
        row = insert_product(uow.session, v, caller.actor)
        out = dump_product(row, row["category_path"])
        uow.audit("product", row["id"], "create", changes_between({}, product_public(row)))
        uow.publish(ev.PRODUCT_CREATED, out)
    return out


def get_product(db, caller: CallerContext, product_id: Any) -> dict:
    domain.require(caller, domain.READ_ROLES, "read the catalogue")
    product_id = domain.parse_id(product_id, "product_id")
    with db.read() as s:
        row = product_row(s, product_id)
        return dump_product(row, category_paths(s, [row["category_id"]]).get(row["category_id"]))


def get_products(db, caller: CallerContext, product_ids: Any) -> list[dict]:
    """The products of ``product_ids`` (at most 1,000) in id order; unknown ids are absent (a
    batch lookup for imports in other services)."""
    domain.require(caller, domain.READ_ROLES, "read the catalogue")
    if not isinstance(product_ids, list) or len(product_ids) > 1000:
        raise ValidationFailed.field("product_ids", "must be a list of at most 1000 ids")
    ids = sorted({domain.parse_id(i, "product_ids") for i in product_ids})
    if not ids:
        return []
    with db.read() as s:
        rows = s.execute(select(m.products).where(P.id.in_(ids)).order_by(P.id)).mappings().all()
        paths = category_paths(s, [r["category_id"] for r in rows])
        return [dump_product(r, paths.get(r["category_id"])) for r in rows]


def list_products(db, caller: CallerContext, filters: Any, page: Any, page_size: Any) -> dict:
    domain.require(caller, domain.READ_ROLES, "read the catalogue")
    f = load_filters(product_filters_in, filters)
    page, page_size = domain.page_args(page, page_size)
    query = select(m.products)
    for term in domain.search_terms(f.get("q", "")):
        query = query.where(P.search_key.contains(term, autoescape=True))
    if "sku" in f:
        query = query.where(P.sku_key == domain.key(f["sku"]))
    if "kind" in f:
        query = query.where(P.kind == f["kind"])
    if "active" in f:
        query = query.where(P.active == f["active"])
    with db.read() as s:
        if "category" in f:
            pkey = domain.path_key(domain.category_parts(f["category"]))
            subtree = select(CAT.id).where(or_(CAT.path_key == pkey, CAT.path_key.startswith(pkey + "/")))
            query = query.where(P.category_id.in_(subtree))
        rows, total = run_page(s, query.order_by(P.sku_key, P.id), page, page_size)
        paths = category_paths(s, [r["category_id"] for r in rows])
        items = [dump_product(r, paths.get(r["category_id"])) for r in rows]
    return page_of(items, total, page, page_size)


def update_product(db, caller: CallerContext, product_id: Any, data: Any) -> dict:
    domain.require(caller, domain.CATALOGUE_ROLES, "manage the catalogue")
    product_id = domain.parse_id(product_id, "product_id")
    v = load_or_raise(product_update_in, data)
    for required in ("name", "kind", "unit_price", "currency", "unit", "active"):
        if required in v and v[required] is None:  # pragma: no cover - schema refuses None
            raise ValidationFailed.field(required, "must not be null")
    with db.transaction() as uow:
        s = uow.session
        old = product_row(s, product_id, for_update=True)
        values = {k: val for k, val in v.items() if k != "category"}
        if "category" in v:
            cat = category_for_path(s, v["category"], create=True) if v["category"] else None
            values["category_id"] = cat["id"] if cat else None
        new = {**old, **values}
        new["search_key"] = domain.product_search_key(
            new["sku"], new["name"], new["model"], new["manufacturer"]
        )
        new["updated_at"] = utcnow()
        s.execute(
            update(m.products)
            .where(P.id == product_id)
            .values(**{k: new[k] for k in values}, search_key=new["search_key"], updated_at=new["updated_at"])
        )
        changes = changes_between(product_public(old), product_public(new))
        path = category_paths(s, [new["category_id"]]).get(new["category_id"])
        out = dump_product(new, path)
        if changes:
            uow.audit("product", product_id, "update", changes)
            uow.publish(ev.PRODUCT_UPDATED, {**out, "fields_changed": sorted(changes)})
    return out


# --------------------------------------------------------------------------------------
# Price lists
# --------------------------------------------------------------------------------------


def price_list_row(s: Session, price_list_id: int, for_update: bool = False) -> dict:
    return row_or_404(s, m.price_lists, price_list_id, "price list", for_update)


def price_out(r: Mapping, currency: str) -> dict:
    return {
        "id": r["id"],
        "product_id": r["product_id"],
        "unit_price": money(r["unit_price"], currency),
        "valid_from": r["valid_from"].isoformat(),
        "valid_to": r["valid_to"].isoformat() if r["valid_to"] else None,
    }


def price_list_out(s: Session, pl: Mapping, on: dt.date, with_history: bool = False) -> dict:
    rows = s.execute(
        select(m.prices).where(PR.price_list_id == pl["id"]).order_by(PR.product_id, PR.valid_from, PR.id)
    )
    all_rows = [dict(r) for r in rows.mappings()]
    current = [
        price_out(r, pl["currency"])
        for r in all_rows
        if domain.price_valid(r["valid_from"], r["valid_to"], on)
    ]
    out = {
        "id": pl["id"],
        "name": pl["name"],
        "channel": pl["channel"],
        "tier": pl["tier"],
        "currency": pl["currency"],
        "active": pl["active"],
        "as_of": on.isoformat(),
        "items": current,
    }
    if with_history:
        out["history"] = [price_out(r, pl["currency"]) for r in all_rows]
    return out


def set_price(
    s: Session, price_list_id: int, product_id: int, price: Decimal, start: dt.date, end: dt.date | None
) -> None:
    """A new price from ``start``: the row valid on that day is closed the day before (kept in
    history) and the new one runs to ``end`` (else to where the old one ran)."""
    current = (
        s.execute(
            select(m.prices).where(
                PR.price_list_id == price_list_id,
                PR.product_id == product_id,
                PR.valid_from <= start,
                or_(PR.valid_to.is_(None), PR.valid_to >= start),
            )
        )
        .mappings()
        .first()
    )
    if current is not None:
        s.execute(update(m.prices).where(PR.id == current["id"]).values(valid_to=domain.day_before(start)))
        if end is None:
            end = current["valid_to"]
    if end is not None and end < start:
        raise ValidationFailed.field("valid_to", "must not be before valid_from")
    s.execute(
        insert(m.prices).values(
            price_list_id=price_list_id,
            product_id=product_id,
            unit_price=price,
            valid_from=start,
            valid_to=end,
            created_at=utcnow(),
        )
    )


def add_prices(s: Session, pl: Mapping, items: list[dict]) -> list[int]:
    ids = sorted({i["product_id"] for i in items})
    found = {r.id for r in s.execute(select(P.id).where(P.id.in_(ids)))}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(
            f"product {missing[0]} not found", {"entity": "product", "id": missing[0], "ids": missing}
        )
    today = utcnow().date()
    for item in items:
        set_price(
            s, pl["id"], item["product_id"], item["unit_price"], item["valid_from"] or today, item["valid_to"]
        )
    return ids


def create_price_list(db, caller: CallerContext, data: Any) -> dict:
    domain.require(caller, domain.PRICE_ROLES, "manage price lists")
    v = load_or_raise(price_list_in, data)
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        pl_id = s.execute(
            insert(m.price_lists)
            .values(
                name=v["name"].strip(),
                channel=v["channel"],
                tier=v["tier"],
                currency=v["currency"],
                active=True,
                created_at=now,
                updated_at=now,
            )
            .returning(PL.id)
        ).scalar_one()
        pl = price_list_row(s, pl_id)
        ids = add_prices(s, pl, v["items"])
        out = price_list_out(s, pl, now.date())
        uow.audit(
            "price_list", pl_id, "create", {"name": [None, pl["name"]], "channel": [None, pl["channel"]]}
        )
        uow.publish(ev.PRICE_LIST_UPDATED, price_list_event(pl, "created", ids, now.date()))
    return out


def price_list_event(
    pl: Mapping, change: str, product_ids: list[int], effective: dt.date, percent=None
) -> dict:
    return {
        "price_list_id": pl["id"],
        "name": pl["name"],
        "channel": pl["channel"],
        "tier": pl["tier"],
        "currency": pl["currency"],
        "change": change,
        "percent": fmt(percent) if percent is not None else None,
        "effective_date": effective.isoformat(),
        "product_ids": product_ids,
    }


def set_prices(db, caller: CallerContext, price_list_id: Any, data: Any) -> dict:
    domain.require(caller, domain.PRICE_ROLES, "manage price lists")
    price_list_id = domain.parse_id(price_list_id, "price_list_id")
    v = load_or_raise(prices_in, data)
    with db.transaction() as uow:
        s = uow.session
        pl = price_list_row(s, price_list_id, for_update=True)
        ids = add_prices(s, pl, v["items"])
        today = utcnow().date()
        effective = min((i["valid_from"] or today) for i in v["items"])
        uow.audit("price_list", price_list_id, "set_prices", {"product_ids": [None, ids]})
        uow.publish(ev.PRICE_LIST_UPDATED, price_list_event(pl, "prices_set", ids, effective))
        return price_list_out(s, pl, today)


def get_price_list(db, caller: CallerContext, price_list_id: Any, as_of: Any = None) -> dict:
    domain.require(caller, domain.READ_ROLES, "read price lists")
    price_list_id = domain.parse_id(price_list_id, "price_list_id")
    on = as_date(as_of, "as_of")
    with db.read() as s:
        return price_list_out(s, price_list_row(s, price_list_id), on, with_history=True)


def list_price_lists(db, caller: CallerContext, filters: Any, page: Any, page_size: Any) -> dict:
    domain.require(caller, domain.READ_ROLES, "read price lists")
    page, page_size = domain.page_args(page, page_size)
    f = plain_filters(filters)
    query = select(m.price_lists)
    if f.get("channel"):
        if f["channel"] not in domain.CHANNELS:
            raise ValidationFailed.field("channel", f"one of {', '.join(domain.CHANNELS)}")
        query = query.where(PL.channel == f["channel"])
    with db.read() as s:
        rows, total = run_page(s, query.order_by(PL.id), page, page_size)
        items = [{k: r[k] for k in ("id", "name", "channel", "tier", "currency", "active")} for r in rows]
    return page_of(items, total, page, page_size)


def bulk_update_prices(db, caller: CallerContext, price_list_id: Any, data: Any) -> dict:
    """Change prices by ``percent`` from ``effective_date`` (default today) in one list, or in
    every list when ``price_list_id`` is None; limited to a category (and its sub-categories)
    and/or a set of products. Old prices stay in history."""
    domain.require(caller, domain.PRICE_ROLES, "manage price lists")
    if price_list_id is not None:
        price_list_id = domain.parse_id(price_list_id, "price_list_id")
    v = load_or_raise(bulk_in, data)
    percent = v["percent"]
    effective = v["effective_date"] or utcnow().date()
    domain.apply_percent(Decimal("1"), percent, "EUR")  # checks the percent's range
    results = []
    with db.transaction() as uow:
        s = uow.session
        if price_list_id is not None:
            lists = [price_list_row(s, price_list_id, for_update=True)]
        else:
            lists = [
                dict(r)
                for r in s.execute(
                    select(m.price_lists).where(PL.active.is_(True)).order_by(PL.id).with_for_update()
                ).mappings()
            ]
        product_filter = []
        if v["product_ids"]:
            ids = sorted(set(v["product_ids"]))
            found = {r.id for r in s.execute(select(P.id).where(P.id.in_(ids)))}
            missing = [i for i in ids if i not in found]
            if missing:
                raise NotFound(f"product {missing[0]} not found", {"entity": "product", "ids": missing})
            product_filter.append(PR.product_id.in_(ids))
        if v["category"]:
            pkey = domain.path_key(domain.category_parts(v["category"]))
            cats = select(CAT.id).where(or_(CAT.path_key == pkey, CAT.path_key.startswith(pkey + "/")))
            if s.execute(cats.limit(1)).first() is None:
                raise NotFound(
                    f"category {v['category']} not found", {"entity": "category", "id": v["category"]}
                )
            product_filter.append(PR.product_id.in_(select(P.id).where(P.category_id.in_(cats))))
        for pl in lists:
            rows = (
                s.execute(
                    select(m.prices)
                    .where(
                        PR.price_list_id == pl["id"],
                        PR.valid_from <= effective,
                        or_(PR.valid_to.is_(None), PR.valid_to >= effective),
                        *product_filter,
                    )
                    .order_by(PR.product_id)
                )
                .mappings()
                .all()
            )
            changed = []
            for r in rows:
                new_price = domain.apply_percent(r["unit_price"], percent, pl["currency"])
                set_price(s, pl["id"], r["product_id"], new_price, effective, None)
                changed.append(r["product_id"])
            if changed:
                uow.publish(
                    ev.PRICE_LIST_UPDATED, price_list_event(pl, "bulk_update", changed, effective, percent)
                )
                uow.audit(
                    "price_list",
                    pl["id"],
                    "bulk_update",
                    {"percent": [None, fmt(percent)], "products": [None, changed]},
                )
            results.append({"price_list_id": pl["id"], "updated": len(changed), "product_ids": changed})
    return {
        "percent": fmt(percent),
        "effective_date": effective.isoformat(),
        "updated": sum(r["updated"] for r in results),
        "price_lists": results,
    }


def price_for(
    db,
    caller: CallerContext,
    product_id: Any,
    channel: Any,
    on: Any = None,
    currency: Any = None,
    tier: Any = None,
) -> dict:
    """The unit price of a product for a channel on a date: the active price list of that
    channel (and currency / tier when given; the lowest list id first) with a price valid on
    that day, else the product's base price (``source: "base_price"``)."""
    domain.require(caller, domain.READ_ROLES, "read prices")
    product_id = domain.parse_id(product_id, "product_id")
    if channel not in domain.CHANNELS:
        raise ValidationFailed.field("channel", f"one of {', '.join(domain.CHANNELS)}")
    day = as_date(on, "date")
    with db.read() as s:
        product = product_row(s, product_id)
        query = (
            select(PR.unit_price, PL.id, PL.name, PL.currency)
            .join(m.price_lists, PL.id == PR.price_list_id)
            .where(
                PR.product_id == product_id,
                PL.channel == channel,
                PL.active.is_(True),
                PR.valid_from <= day,
                or_(PR.valid_to.is_(None), PR.valid_to >= day),
            )
            .order_by(PL.id)
        )
        if currency:
            query = query.where(PL.currency == str(currency).upper())
        if tier:
            query = query.where(PL.tier == tier)
        row = s.execute(query.limit(1)).first()
    base = {"product_id": product_id, "sku": product["sku"], "channel": channel, "date": day.isoformat()}
    if row is None:
        return {**base, "unit_price": money(product["unit_price"], product["currency"]), "currency": product["currency"],
                "price_list_id": None, "price_list_name": None, "source": "base_price"}  # fmt: skip
    return {**base, "unit_price": money(row.unit_price, row.currency), "currency": row.currency, "price_list_id": row.id,
            "price_list_name": row.name, "source": "price_list"}  # fmt: skip


# --------------------------------------------------------------------------------------
# Warehouses and stock
# --------------------------------------------------------------------------------------


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


def list_warehouses(db, caller: CallerContext, page: Any, page_size: Any) -> dict:
    domain.require(caller, domain.READ_ROLES, "read warehouses")
    page, page_size = domain.page_args(page, page_size)
    with db.read() as s:
        rows, total = run_page(s, select(m.warehouses).order_by(W.code_key), page, page_size)
    return page_of([warehouse_out(r) for r in rows], total, page, page_size)


def get_stock(db, caller: CallerContext, filters: Any, page: Any = 1, page_size: Any = 50) -> dict:
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
        rows, total = run_page(s, query.order_by(P.sku_key, W.code_key), page, page_size)
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


def list_moves(db, caller: CallerContext, filters: Any, page: Any, page_size: Any) -> dict:
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
        rows, total = run_page(s, query.order_by(MV.id.desc()), page, page_size)
    return page_of([move_out(r) for r in rows], total, page, page_size)


# --------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------


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


def list_units(db, caller: CallerContext, filters: Any, page: Any, page_size: Any) -> dict:
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
        rows, total = run_page(s, query.order_by(U.id), page, page_size)
        items = []
        for r in rows:
            items.append({k: r[k] for k in ("id", "product_id", "serial_number", "manufacturing_number", "status", "warehouse_id")}
                         | {"contract_id": doc_out(r["contract_id"])})  # fmt: skip
    return page_of(items, total, page, page_size)


# --------------------------------------------------------------------------------------
# Reservations
# --------------------------------------------------------------------------------------


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


def list_reservations(db, caller: CallerContext, filters: Any, page: Any = 1, page_size: Any = 50) -> dict:
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
        rows, total = run_page(s, query.order_by(R.id), page, page_size)
    return page_of([reservation_out(r) for r in rows], total, page, page_size)


# -- contract events ----------------------------------------------------------------------


def handle_contract_approved(db, envelope: Mapping[str, Any]) -> dict:
    """Reserve the stock of an approved contract's lines (what there is; the shortfall is in
    ``stock_reserved``). Idempotent twice over: the event id is recorded with the effect, and a
    contract that already has reservations is not reserved again."""
    from marshmallow import ValidationError

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
    from marshmallow import ValidationError

    try:
        payload = ev.contract_terminated_payload.load(envelope["payload"])
    except ValidationError as exc:
        raise ValueError(f"malformed contract_terminated payload: {exc.messages}") from None
    contract_id = document_id(payload["contract_id"] or payload["id"])
    with db.transaction() as uow:
        return release_active(uow, contract_id, payload["reason"] or "contract terminated")


# --------------------------------------------------------------------------------------
# Purchase orders
# --------------------------------------------------------------------------------------


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


def list_purchase_orders(db, caller: CallerContext, filters: Any, page: Any = 1, page_size: Any = 50) -> dict:
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
        rows, total = run_page(s, query.order_by(PO.id), page, page_size)
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


# --------------------------------------------------------------------------------------
# Trade-ins
# --------------------------------------------------------------------------------------


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


def list_trade_ins(db, caller: CallerContext, filters: Any, page: Any = 1, page_size: Any = 50) -> dict:
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
        rows, total = run_page(s, query.order_by(TI.id), page, page_size)
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
    from marshmallow import ValidationError

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
