"""Price-list use cases: price lists per channel (and tier, currency) with dated prices — a new
price closes the one valid that day, which stays in history (:func:`set_price`) — create, set
prices, get as of a date, list (``PRICE_LIST_SORT``), bulk percent updates over one list or every
active one, and ``price_for`` (the channel's price of a product on a day, else its base price).
Built on :mod:`inventory.store`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import row_or_404, utcnow
from crm_common.errors import NotFound, ValidationFailed, load_or_raise
from crm_common.money import fmt
from crm_common.paging import page_of, run_page, sorted_query
from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from . import domain, schemas
from . import events as ev
from . import models as m
from .store import CAT, PL, PR, P, as_date, money, plain_filters, product_row

price_list_in = schemas.PriceListCreateSchema()
prices_in = schemas.PricesSetSchema()
bulk_in = schemas.BulkUpdateSchema()


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


# the fields this list may be sorted by and their columns
PRICE_LIST_SORT = {
    "name": PL.name,
    "channel": PL.channel,
    "currency": PL.currency,
    "created_at": PL.created_at,
    "updated_at": PL.updated_at,
    "id": PL.id,
}


def list_price_lists(
    db, caller: CallerContext, filters: Any, page: Any, page_size: Any, sort: Any = None
) -> dict:
    domain.require(caller, domain.READ_ROLES, "read price lists")
    page, page_size = domain.page_args(page, page_size)
    f = plain_filters(filters)
    query = select(m.price_lists)
    if f.get("channel"):
        if f["channel"] not in domain.CHANNELS:
            raise ValidationFailed.field("channel", f"one of {', '.join(domain.CHANNELS)}")
        query = query.where(PL.channel == f["channel"])
    with db.read() as s:
        rows, total = run_page(s, sorted_query(query, sort, PRICE_LIST_SORT, PL.id), page, page_size)
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
