"""Catalogue use cases: the category tree (``create_category``, ``list_categories``, paths
created on demand by :func:`category_for_path`) and products (create, get, batch get, list with
search / category / kind filters and ``PRODUCT_SORT``, update), with the product JSON
(:func:`dump_product`) and the insert the CSV importer shares (:func:`insert_product`). Built on
:mod:`inventory.store`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import changes_between, utcnow
from crm_common.errors import Conflict, ValidationFailed, load_or_raise, not_found
from crm_common.paging import load_filters, page_of, run_page, sorted_query
from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from . import domain, schemas
from . import events as ev
from . import models as m
from .store import CAT, P, money, product_row

product_create_in = schemas.ProductCreateSchema()
product_update_in = schemas.ProductUpdateSchema()
product_filters_in = schemas.ProductFiltersSchema()
product_out = schemas.ProductSchema()
category_in = schemas.CategoryCreateSchema()


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


# the fields product lists may be sorted by (``sort=["name", "-unit_price"]``)
PRODUCT_SORT = {
    "sku": P.sku_key, "name": P.name, "kind": P.kind, "manufacturer": P.manufacturer,
    "unit_price": P.unit_price, "created_at": P.created_at, "updated_at": P.updated_at, "id": P.id,
}  # fmt: skip


def list_products(
    db, caller: CallerContext, filters: Any, page: Any, page_size: Any, sort: Any = None
) -> dict:
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
        rows, total = run_page(s, sorted_query(query, sort, PRODUCT_SORT, P.sku_key, P.id), page, page_size)
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
