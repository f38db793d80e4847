"""Use cases: one function per RPC method (the service class only forwards to them).

Each takes the worker's database (``crm_common.db.WorkerDatabase`` or a ``DatabaseHandle``) and
the caller, checks the caller's scope (:mod:`customers.domain`), validates the input
(:mod:`customers.schemas`) and does its work in ONE transaction — state change, audit trail and
outbox events commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import changes_between, is_sqlite, utcnow
from crm_common.errors import ValidationFailed, load_or_raise
from crm_common.paging import sorted_query
from crm_common.readcopy import USER_DEFAULTS, apply_newer, event_time, user_values
from sqlalchemy import Select, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from . import domain, schemas
from . import events as ev
from . import models as m
from .exceptions import Conflict, NotFound, duplicate_customer, invalid, not_found

C = m.customers.c
CT = m.contacts.c
F = m.follow_ups.c
OP = m.opportunities.c

# the fields each list may be sorted by (``sort=["name", "-created_at"]``) and their columns
CUSTOMER_SORT = {
    "name": C.name_key, "code": C.code, "level": C.level, "region": C.region, "industry": C.industry,
    "kind": C.kind, "created_at": C.created_at, "updated_at": C.updated_at, "id": C.id,
}  # fmt: skip
CONTACT_SORT = {"name": CT.name, "email": CT.email, "created_at": CT.created_at, "id": CT.id}
FOLLOW_UP_SORT = {
    "occurred_at": F.occurred_at, "next_action_at": F.next_action_at, "method": F.method,
    "created_at": F.created_at, "id": F.id,
}  # fmt: skip
OPPORTUNITY_SORT = {
    "title": OP.title, "stage": OP.stage, "amount": OP.amount, "expected_close": OP.expected_close,
    "probability": OP.probability, "created_at": OP.created_at, "updated_at": OP.updated_at, "id": OP.id,
}  # fmt: skip

CUSTOMER_FIELDS = domain.CUSTOMER_FIELDS
DERIVED_FIELDS = ("name_key", "tax_key", "email_key", "phone_key", "tags_key", "search_key")
RED_LIST_FIELDS = ("red_list_reason", "red_listed_at", "red_listed_by")
CODE_COUNTER = "customer_code"

customer_create_in = schemas.CustomerCreateSchema()
customer_update_in = schemas.CustomerUpdateSchema()
customer_filters_in = schemas.CustomerFiltersSchema()
contact_in = schemas.ContactCreateSchema()
follow_up_in = schemas.FollowUpCreateSchema()
opportunity_create_in = schemas.OpportunityCreateSchema()
opportunity_update_in = schemas.OpportunityUpdateSchema()
opportunity_filters_in = schemas.OpportunityFiltersSchema()
customer_out = schemas.CustomerSchema()
contact_out = schemas.ContactSchema()
follow_up_out = schemas.FollowUpSchema()
opportunity_out = schemas.OpportunitySchema()


# --------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------


def page_of(items: list[dict], total: int, page: int, page_size: int) -> dict:
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def page_args(page: Any, page_size: Any) -> tuple[int, int]:
    p, s, errors = domain.page_args(page, page_size)
    if errors:
        raise invalid(errors)
    return p, s


def load_filters(schema, filters: Any) -> dict:
    if filters is None:
        return {}
    data = load_or_raise(schema, filters)
    return {k: v for k, v in data.items() if v is not None}


def run_page(session: Session, query: Select, page: int, page_size: int) -> tuple[list, int]:
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = session.execute(query.limit(page_size).offset((page - 1) * page_size)).all()
    return rows, total


def as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def allocate_codes(session: Session, n: int) -> list[str]:
    """``n`` new customer codes. The counter row is updated in the caller's transaction, so it
    is locked until commit (row lock on PostgreSQL, the write lock on SQLite): codes are unique
    and, the counter never going back, never reused."""
    if n <= 0:
        return []
    counter = m.counters.c
    done = session.execute(
        update(m.counters).where(counter.name == CODE_COUNTER).values(value=counter.value + n)
    )
    if done.rowcount == 0:  # a database made by create_all() (tests); migrations seed the row
        session.execute(insert(m.counters).values(name=CODE_COUNTER, value=n))
        end = n
    else:
        end = session.execute(select(counter.value).where(counter.name == CODE_COUNTER)).scalar_one()
    return [domain.customer_code(i) for i in range(end - n + 1, end + 1)]


def derived_columns(values: Mapping[str, Any], code: str) -> dict[str, Any]:
    keys = domain.customer_keys(
        values.get("name"), values.get("tax_id"), values.get("email"), values.get("phone")
    )
    return {
        "name_key": keys.name,
        "tax_key": keys.tax or None,
        "email_key": keys.email or None,
        "phone_key": keys.phone or None,
        "tags_key": domain.tags_key(values.get("tags") or []),
        "search_key": domain.search_key(
            values["name"], code, values.get("tax_id"), values.get("email"), values.get("phone")
        ),
    }


def new_customer_row(values: Mapping[str, Any], code: str, now: dt.datetime, actor: str) -> dict:
    row = {f: values.get(f) for f in CUSTOMER_FIELDS}
    row["kind"] = row["kind"] or "company"
    row["language"] = row["language"] or domain.DEFAULT_LANGUAGE
    row["tags"] = domain.normalise_tags(row["tags"] or [])
    row["red_listed"] = bool(row["red_listed"])
    row.update(domain_red_list_columns(row["red_listed"], None, now, actor))
    row.update(archived_at=None, archived_by=None)
    row["birthday"] = as_date(row["birthday"])
    row.update(code=code, created_at=now, updated_at=now, deleted_at=None, created_by=actor)
    row.update(derived_columns(row, code))
    return row


def domain_red_list_columns(listed: bool, reason: str | None, now: dt.datetime, actor: str) -> dict:
    """The red list's reason, who and when: set while listed, cleared when taken off."""
    if not listed:
        return {"red_list_reason": None, "red_listed_at": None, "red_listed_by": None}
    return {"red_list_reason": reason, "red_listed_at": now, "red_listed_by": actor}


def customer_public(row: Mapping[str, Any]) -> dict[str, Any]:
    """The customer's own fields (for the audit trail and ``changes``)."""
    out = {f: row[f] for f in CUSTOMER_FIELDS}
    out["tags"] = list(out["tags"] or [])
    return out


def keys_of_row(row: Mapping[str, Any]) -> domain.CustomerKeys:
    return domain.CustomerKeys(
        row["tax_key"] or "", row["name_key"] or "", row["email_key"] or "", row["phone_key"] or ""
    )


DUPLICATE_LOCK_CLASS = 7301  # advisory lock namespace: customer duplicate keys


def lock_keys(session: Session, keys: domain.CustomerKeys) -> None:
    """On PostgreSQL, serialise concurrent writers of the same duplicate keys for the rest of
    the transaction, so two people creating the same customer at the same moment cannot both
    pass the duplicate check. (SQLite writers are serialised anyway.)"""
    if session.get_bind().dialect.name != "postgresql":
        return
    for token in sorted({f"{f}:{k}" for f, k in keys.items()}):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:cls, hashtext(:token))"),
            {"cls": DUPLICATE_LOCK_CLASS, "token": token},
        )


def find_duplicates(
    session: Session, keys: domain.CustomerKeys, exclude_id: int | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    column = {"tax_id": C.tax_key, "name": C.name_key, "email": C.email_key, "phone": C.phone_key}
    conditions = [column[f] == k for f, k in keys.items()]
    if not conditions:
        return []
    U = m.users.c
    owner_name = func.coalesce(U.full_name, U.username).label("owner_name")
    keys_cols = (C.tax_key, C.name_key, C.email_key, C.phone_key)
    query = (
        select(C.id, C.name, owner_name, C.archived_at, *keys_cols)
        .outerjoin(m.users, U.id == C.owner_id)
        .where(C.deleted_at.is_(None), or_(*conditions))
        .order_by(C.id)
        .limit(limit)
    )
    if exclude_id is not None:
        query = query.where(C.id != exclude_id)
    out = []
    for r in session.execute(query).mappings():
        out.append(
            {  # enough to tell "this customer is already someone's", never the record itself
                "id": r["id"],
                "name": r["name"],
                "owner_name": r["owner_name"],
                "reasons": domain.duplicate_reasons(keys, keys_of_row(r)),
                "archived": r["archived_at"] is not None,  # archived customers are still found
            }
        )
    return out


def owner_directory(session: Session, owner_ids: Iterable[int]) -> tuple[dict[int, bool], bool]:
    """``({user id: active}, directory_empty)`` from the users read copy."""
    ids = sorted({i for i in owner_ids if i is not None})
    empty = session.execute(select(m.users.c.id).limit(1)).first() is None
    if empty or not ids:
        return {}, empty
    rows = session.execute(select(m.users.c.id, m.users.c.active).where(m.users.c.id.in_(ids)))
    return {r.id: r.active for r in rows}, False


def check_owner_exists(session: Session, owner_id: int | None) -> None:
    known, empty = owner_directory(session, [owner_id] if owner_id is not None else [])
    problem = domain.owner_problem(owner_id, known, empty)
    if problem:
        raise invalid({"owner_id": [problem]})


def visible_customer(
    session: Session, customer_id: int, access: domain.Access, for_update: bool = False
) -> dict[str, Any]:
    query = select(m.customers).where(C.id == customer_id, C.deleted_at.is_(None))
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).mappings().first()
    if row is None or not access.allows(row["owner_id"]):
        raise not_found("customer", customer_id)  # out of scope looks the same as missing
    return dict(row)


def contacts_of(session: Session, customer_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {i: [] for i in customer_ids}
    if not customer_ids:
        return out
    rows = session.execute(
        select(m.contacts).where(CT.customer_id.in_(customer_ids)).order_by(CT.id)
    ).mappings()
    for r in rows:
        out[r["customer_id"]].append(dict(r))
    return out


def dump_customer(row: Mapping[str, Any], contacts: list[dict]) -> dict:
    return customer_out.dump({**row, "contacts": contacts})


def created_payload(row: Mapping[str, Any], contacts: list[dict], imported: bool = False) -> dict:
    return ev.customer_created_payload.dump({**row, "contacts": contacts, "imported": imported})


def updated_payload(row: Mapping[str, Any], changes: dict, imported: bool = False) -> dict:
    return ev.customer_updated_payload.dump(
        {**row, "changes": changes, "fields_changed": sorted(changes), "imported": imported}
    )


# --------------------------------------------------------------------------------------
# Customers
# --------------------------------------------------------------------------------------


def create_customer(db, caller: CallerContext, data: Any) -> dict:
    access = domain.write_access(caller)
    values = load_or_raise(customer_create_in, data)
    allow_duplicate = bool(values.pop("allow_duplicate", False))
    contacts = values.pop("contacts", None) or []
    values["owner_id"] = domain.default_owner(access, values.get("owner_id"), "owner_id" in values)
    domain.check_owner_assignment(access, values["owner_id"])
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        check_owner_exists(s, values["owner_id"])
        keys = domain.customer_keys(
            values["name"], values.get("tax_id"), values.get("email"), values.get("phone")
        )
        lock_keys(s, keys)
        if not allow_duplicate:
            candidates = find_duplicates(s, keys)
            if candidates:
                raise duplicate_customer(candidates)
        code = allocate_codes(s, 1)[0]
        row = new_customer_row(values, code, now, caller.actor)
        row["id"] = s.execute(insert(m.customers).returning(C.id), row).scalar_one()
        contact_rows = []
        for contact in contacts:
            crow = contact_row(row["id"], contact, now)
            crow["id"] = s.execute(insert(m.contacts).returning(CT.id), crow).scalar_one()
            contact_rows.append(crow)
        uow.audit("customer", row["id"], "create", changes_between({}, customer_public(row)))
        uow.publish(ev.CUSTOMER_CREATED, created_payload(row, contact_rows))
    return dump_customer(row, contact_rows)


def get_customer(db, caller: CallerContext, customer_id: Any) -> dict:
    access = domain.read_access(caller)
    customer_id = domain.parse_id(customer_id, "customer_id")
    with db.read() as s:
        row = visible_customer(s, customer_id, access)
        return dump_customer(row, contacts_of(s, [customer_id])[customer_id])


def get_customers(db, caller: CallerContext, customer_ids: Any) -> list[dict]:
    """The customers of ``customer_ids`` (at most 1,000) the caller may see, in id order; ids
    missing or out of scope are simply absent (a batch lookup for imports in other services)."""
    access = domain.read_access(caller)
    if not isinstance(customer_ids, list) or len(customer_ids) > 1000:
        raise ValidationFailed.field("customer_ids", "must be a list of at most 1000 ids")
    ids = sorted({domain.parse_id(i, "customer_ids") for i in customer_ids})
    if not ids:
        return []
    with db.read() as s:
        query = select(m.customers).where(C.id.in_(ids), C.deleted_at.is_(None)).order_by(C.id)
        rows = [dict(r) for r in s.execute(query).mappings() if access.allows(r["owner_id"])]
        contacts = contacts_of(s, [r["id"] for r in rows])
        return [dump_customer(r, contacts[r["id"]]) for r in rows]


def list_customers(
    db, caller: CallerContext, filters: Any, page: Any, page_size: Any, sort: Any = None
) -> dict:
    access = domain.read_access(caller)
    f = load_filters(customer_filters_in, filters)
    page, page_size = page_args(page, page_size)
    query = select(m.customers).where(C.deleted_at.is_(None))
    if not f.get("include_archived"):
        query = query.where(C.archived_at.is_(None))
    if "red_listed" in f:
        query = query.where(C.red_listed.is_(f["red_listed"]))
    if access.restricted:
        query = query.where(C.owner_id == access.owner_id)
    if "q" in f:
        patterns = domain.search_patterns(f["q"])
        if patterns:
            query = query.where(or_(*[C.search_key.contains(p, autoescape=True) for p in patterns]))
    if "tag" in f:
        query = query.where(C.tags_key.contains(domain.tag_pattern(f["tag"]), autoescape=True))
    for name in ("level", "owner_id", "region", "industry", "kind"):
        if name in f:
            query = query.where(C[name] == f[name])
    query = sorted_query(query, sort, CUSTOMER_SORT, C.name_key, C.id)
    with db.read() as s:
        rows, total = run_page(s, query, page, page_size)
        ids = [r.id for r in rows]
        contacts = contacts_of(s, ids)
        items = [dump_customer(r._mapping, contacts[r.id]) for r in rows]
    return page_of(items, total, page, page_size)


def update_customer(db, caller: CallerContext, customer_id: Any, data: Any) -> dict:
    read, write = domain.read_access(caller), domain.write_access(caller)
    customer_id = domain.parse_id(customer_id, "customer_id")
    values = load_or_raise(customer_update_in, data)
    allow_duplicate = bool(values.pop("allow_duplicate", False))
    if "tags" in values:
        values["tags"] = domain.normalise_tags(values["tags"] or [])
    with db.transaction() as uow:
        s = uow.session
        old = visible_customer(s, customer_id, read, for_update=True)
        domain.check_can_write(write, old["owner_id"])
        if "owner_id" in values and values["owner_id"] != old["owner_id"]:
            domain.check_owner_assignment(write, values["owner_id"])
            check_owner_exists(s, values["owner_id"])
        new = {**old, **values}
        changes = changes_between(customer_public(old), customer_public(new))
        if not changes:
            return dump_customer(old, contacts_of(s, [customer_id])[customer_id])
        if "red_listed" in changes:  # the red list is not the owner's to change
            caller.require_any(domain.RED_LIST_ROLES, "put customers on the red list or take them off")
            new.update(domain_red_list_columns(new["red_listed"], None, utcnow(), caller.actor))
        new_keys = domain.customer_keys(new["name"], new["tax_id"], new["email"], new["phone"])
        # only keys that change are checked: an accepted duplicate stays accepted
        changed_keys = domain.changed_keys(keys_of_row(old), new_keys)
        lock_keys(s, changed_keys)
        if not allow_duplicate:
            candidates = find_duplicates(s, changed_keys, exclude_id=customer_id)
            if candidates:
                raise duplicate_customer(candidates)
        new.update(derived_columns(new, new["code"]), updated_at=utcnow())
        s.execute(
            update(m.customers)
            .where(C.id == customer_id)
            .values(
                **{f: new[f] for f in CUSTOMER_FIELDS + DERIVED_FIELDS + RED_LIST_FIELDS},
                updated_at=new["updated_at"],
            )
        )
        uow.audit("customer", customer_id, "update", changes)
        uow.publish(ev.CUSTOMER_UPDATED, updated_payload(new, changes))
        return dump_customer(new, contacts_of(s, [customer_id])[customer_id])


def open_opportunities(session: Session, customer_id: int) -> int:
    query = select(func.count()).where(OP.customer_id == customer_id, OP.stage.in_(domain.OPEN_STAGES))
    return session.execute(query).scalar_one()


def delete_customer(db, caller: CallerContext, customer_id: Any, activity=None) -> dict:
    """Soft delete — refused (409 naming what blocks it: contracts, invoices, payments, credit
    notes, open opportunities) while anything refers to the customer; such a customer is
    archived instead. ``activity(customer_id)`` → the other services' counts (RPC, asked
    before the transaction: no lock is held while they answer)."""
    read, write = domain.read_access(caller), domain.write_access(caller)
    customer_id = domain.parse_id(customer_id, "customer_id")
    with db.read() as s:
        row = visible_customer(s, customer_id, read)
        domain.check_can_write(write, row["owner_id"])
    counts = dict(activity(customer_id)) if activity is not None else {}
    with db.transaction() as uow:
        s = uow.session
        row = visible_customer(s, customer_id, read, for_update=True)
        domain.check_can_write(write, row["owner_id"])
        counts["open_opportunities"] = open_opportunities(s, customer_id)
        blockers = domain.delete_blockers(counts)
        if blockers:
            raise Conflict(
                domain.blockers_message(row["code"], blockers),
                {"customer_id": customer_id, "blocked_by": blockers, "archive_instead": True},
            )
        now = utcnow()
        s.execute(update(m.customers).where(C.id == customer_id).values(deleted_at=now, updated_at=now))
        uow.audit("customer", customer_id, "delete", {"deleted_at": [None, now.isoformat()]})
        uow.publish(ev.CUSTOMER_DELETED, ev.customer_deleted_payload.dump(row))
    return {"id": customer_id, "deleted": True}


# --------------------------------------------------------------------------------------
# Contacts
# --------------------------------------------------------------------------------------


CONTACT_FIELDS = ("customer_id", "name", "email", "phone", "title", "notes", "is_primary")


def contact_row(customer_id: int, values: Mapping[str, Any], now: dt.datetime) -> dict:
    return {
        "customer_id": customer_id,
        "name": values["name"],
        "email": values.get("email"),
        "phone": values.get("phone"),
        "title": values.get("title"),
        "notes": values.get("notes"),
        "is_primary": bool(values.get("is_primary")),
        "email_key": domain.customer_keys(email=values.get("email")).email or None,
        "phone_key": domain.customer_keys(phone=values.get("phone")).phone or None,
        "created_at": now,
    }


def add_contact(db, caller: CallerContext, customer_id: Any, data: Any) -> dict:
    read, write = domain.read_access(caller), domain.write_access(caller)
    customer_id = domain.parse_id(customer_id, "customer_id")
    values = load_or_raise(contact_in, data)
    with db.transaction() as uow:
        s = uow.session
        customer = visible_customer(s, customer_id, read)
        domain.check_can_write(write, customer["owner_id"])
        row = contact_row(customer_id, values, utcnow())
        row["id"] = s.execute(insert(m.contacts).returning(CT.id), row).scalar_one()
        uow.audit("contact", row["id"], "create", changes_between({}, {k: row[k] for k in CONTACT_FIELDS}))
    return contact_out.dump(row)


def list_contacts(
    db, caller: CallerContext, customer_id: Any, page: Any, page_size: Any, sort: Any = None
) -> dict:
    access = domain.read_access(caller)
    customer_id = domain.parse_id(customer_id, "customer_id")
    page, page_size = page_args(page, page_size)
    with db.read() as s:
        visible_customer(s, customer_id, access)
        query = sorted_query(
            select(m.contacts).where(CT.customer_id == customer_id), sort, CONTACT_SORT, CT.id
        )
        rows, total = run_page(s, query, page, page_size)
        return page_of([contact_out.dump(r._mapping) for r in rows], total, page, page_size)


# --------------------------------------------------------------------------------------
# Follow-ups
# --------------------------------------------------------------------------------------


def add_follow_up(db, caller: CallerContext, customer_id: Any, data: Any) -> dict:
    read, write = domain.read_access(caller), domain.write_access(caller)
    customer_id = domain.parse_id(customer_id, "customer_id")
    values = load_or_raise(follow_up_in, data)
    with db.transaction() as uow:
        s = uow.session
        customer = visible_customer(s, customer_id, read)
        domain.check_can_write(write, customer["owner_id"])
        if values.get("contact_id") is not None:
            owner = s.execute(
                select(CT.customer_id).where(CT.id == values["contact_id"])
            ).scalar_one_or_none()
            if owner != customer_id:
                raise invalid({"contact_id": ["not a contact of this customer"]})
        row = {
            "customer_id": customer_id,
            "method": values["method"],
            "occurred_at": values["occurred_at"].astimezone(dt.UTC),
            "result": values["result"],
            "contact_id": values.get("contact_id"),
            "notes": values.get("notes"),
            "next_action": values.get("next_action"),
            "next_action_at": (
                values["next_action_at"].astimezone(dt.UTC) if values.get("next_action_at") else None
            ),
            "created_by": caller.user_id,
            "created_at": utcnow(),
        }
        row["id"] = s.execute(insert(m.follow_ups).returning(F.id), row).scalar_one()
        out = follow_up_out.dump(row)
        uow.audit(
            "follow_up",
            row["id"],
            "create",
            changes_between({}, {k: v for k, v in out.items() if k not in ("id", "created_at")}),
        )
    return out


def list_follow_ups(
    db, caller: CallerContext, customer_id: Any, page: Any, page_size: Any, sort: Any = None
) -> dict:
    access = domain.read_access(caller)
    customer_id = domain.parse_id(customer_id, "customer_id")
    page, page_size = page_args(page, page_size)
    with db.read() as s:
        visible_customer(s, customer_id, access)
        query = sorted_query(
            select(m.follow_ups).where(F.customer_id == customer_id),
            sort, FOLLOW_UP_SORT, F.occurred_at.desc(), F.id.desc(),
        )  # fmt: skip
        rows, total = run_page(s, query, page, page_size)
        return page_of([follow_up_out.dump(r._mapping) for r in rows], total, page, page_size)


def publish_due_follow_ups(db, as_of: dt.date) -> int:
    """Publish ``follow_up_due`` once per follow-up whose next action falls on ``as_of``; the
    follow-up is marked in the same transaction, so re-runs (and replicas) publish nothing
    twice."""
    start, end = domain.due_window(as_of)
    query = (
        select(
            m.follow_ups,
            C.code.label("customer_code"),
            C.name.label("customer_name"),
            C.owner_id.label("owner_id"),
            C.language.label("language"),
            CT.name.label("contact_name"),
            CT.email.label("contact_email"),
            CT.phone.label("contact_phone"),
            CT.title.label("contact_title"),
        )
        .join(m.customers, C.id == F.customer_id)
        .outerjoin(m.contacts, CT.id == F.contact_id)
        .where(
            F.next_action_at >= start,
            F.next_action_at < end,
            F.due_notified_at.is_(None),
            C.deleted_at.is_(None),
        )
        .order_by(F.id)
    )
    handle = db.handle if hasattr(db, "handle") else db
    if not is_sqlite(handle.url):
        query = query.with_for_update(skip_locked=True, of=m.follow_ups)
    with db.transaction() as uow:
        rows = uow.session.execute(query).mappings().all()
        for r in rows:
            contact = None
            if r["contact_id"] is not None:
                contact = {
                    "id": r["contact_id"],
                    "name": r["contact_name"],
                    "email": r["contact_email"],
                    "phone": r["contact_phone"],
                    "title": r["contact_title"],
                }
            uow.publish(
                ev.FOLLOW_UP_DUE, ev.follow_up_due_payload.dump({**r, "due_date": as_of, "contact": contact})
            )
        if rows:
            uow.session.execute(
                update(m.follow_ups).where(F.id.in_([r["id"] for r in rows])).values(due_notified_at=utcnow())
            )
    return len(rows)


# --------------------------------------------------------------------------------------
# Opportunities
# --------------------------------------------------------------------------------------


def opportunity_query() -> Select:
    return (
        select(
            m.opportunities,
            C.code.label("customer_code"),
            C.name.label("customer_name"),
            C.owner_id.label("customer_owner_id"),
            C.language.label("language"),
        )
        .join(m.customers, C.id == OP.customer_id)
        .where(C.deleted_at.is_(None))
    )


def visible_opportunity(
    session: Session, opportunity_id: int, access: domain.Access, for_update: bool = False
) -> dict:
    query = opportunity_query().where(OP.id == opportunity_id)
    if for_update:
        query = query.with_for_update(of=m.opportunities)
    row = session.execute(query).mappings().first()
    if row is None or not access.allows(row["customer_owner_id"]):
        raise not_found("opportunity", opportunity_id)
    return dict(row)


def stage_events(uow, row: Mapping[str, Any], old_stage: str | None) -> None:
    if old_stage is not None and old_stage != row["stage"]:
        uow.publish(
            ev.OPPORTUNITY_STAGE_CHANGED,
            ev.opportunity_stage_changed_payload.dump(
                {**row, "from_stage": old_stage, "to_stage": row["stage"]}
            ),
        )
    if row["stage"] == "won" and old_stage != "won":
        uow.publish(ev.OPPORTUNITY_WON, ev.opportunity_won_payload.dump(row))


OPPORTUNITY_FIELDS = (
    "title",
    "amount",
    "currency",
    "stage",
    "expected_close",
    "probability",
    "needs",
    "competitors",
    "notes",
    "lost_reason",
    "owner_id",
)


def create_opportunity(db, caller: CallerContext, data: Any) -> dict:
    read, write = domain.read_access(caller), domain.write_access(caller)
    values = load_or_raise(opportunity_create_in, data)
    with db.transaction() as uow:
        s = uow.session
        try:
            customer = visible_customer(s, values["customer_id"], read)
        except NotFound:  # a reference in the body: 422 naming the field
            raise invalid({"customer_id": ["no such customer"]}) from None
        domain.check_can_write(write, customer["owner_id"])
        domain.check_not_archived(customer, "a new opportunity")
        if "owner_id" in values:
            domain.check_owner_assignment(write, values["owner_id"])
            check_owner_exists(s, values["owner_id"])
        else:
            values["owner_id"] = customer["owner_id"] if customer["owner_id"] is not None else caller.user_id
        now = utcnow()
        row = {f: values.get(f) for f in OPPORTUNITY_FIELDS}
        row["probability"] = domain.closing_probability(row["stage"], row["probability"])
        row.update(
            customer_id=customer["id"],
            created_at=now,
            updated_at=now,
            closed_at=now if domain.is_closed(row["stage"]) else None,
        )
        row["id"] = s.execute(insert(m.opportunities).returning(OP.id), row).scalar_one()
        row.update(
            customer_code=customer["code"], customer_name=customer["name"], language=customer["language"]
        )
        uow.audit(
            "opportunity",
            row["id"],
            "create",
            changes_between({}, {f: row[f] for f in ("customer_id",) + OPPORTUNITY_FIELDS}),
        )
        stage_events(uow, row, None)
    return opportunity_out.dump(row)


def get_opportunity(db, caller: CallerContext, opportunity_id: Any) -> dict:
    access = domain.read_access(caller)
    opportunity_id = domain.parse_id(opportunity_id, "opportunity_id")
    with db.read() as s:
        return opportunity_out.dump(visible_opportunity(s, opportunity_id, access))


def list_opportunities(
    db, caller: CallerContext, filters: Any, page: Any, page_size: Any, sort: Any = None
) -> dict:
    access = domain.read_access(caller)
    f = load_filters(opportunity_filters_in, filters)
    page, page_size = page_args(page, page_size)
    query = opportunity_query()
    if access.restricted:
        query = query.where(C.owner_id == access.owner_id)
    for name in ("stage", "owner_id", "customer_id"):
        if name in f:
            query = query.where(OP[name] == f[name])
    query = sorted_query(query, sort, OPPORTUNITY_SORT, OP.id.desc())
    with db.read() as s:
        rows, total = run_page(s, query, page, page_size)
        return page_of([opportunity_out.dump(r._mapping) for r in rows], total, page, page_size)


def update_opportunity(db, caller: CallerContext, opportunity_id: Any, data: Any) -> dict:
    read, write = domain.read_access(caller), domain.write_access(caller)
    opportunity_id = domain.parse_id(opportunity_id, "opportunity_id")
    values = load_or_raise(opportunity_update_in, data)
    with db.transaction() as uow:
        s = uow.session
        old = visible_opportunity(s, opportunity_id, read, for_update=True)
        domain.check_can_write(write, old["customer_owner_id"])
        changes = changes_between(
            {f: old[f] for f in OPPORTUNITY_FIELDS if f in values},
            {f: values[f] for f in OPPORTUNITY_FIELDS if f in values},
        )
        if "stage" in changes:
            domain.check_stage_change(old["stage"], values["stage"])
        domain.check_closed_edit(old["stage"], changes)
        if "owner_id" in changes:
            domain.check_owner_assignment(write, values["owner_id"])
            check_owner_exists(s, values["owner_id"])
        if not changes:
            return opportunity_out.dump(old)
        new = {**old, **values}
        now = utcnow()
        if "stage" in changes:
            new["probability"] = domain.closing_probability(new["stage"], new["probability"])
            if domain.is_closed(new["stage"]):
                new["closed_at"] = now
        new["updated_at"] = now
        s.execute(
            update(m.opportunities)
            .where(OP.id == opportunity_id)
            .values(**{f: new[f] for f in OPPORTUNITY_FIELDS}, closed_at=new["closed_at"], updated_at=now)
        )
        uow.audit(
            "opportunity",
            opportunity_id,
            "update",
            changes_between({f: old[f] for f in OPPORTUNITY_FIELDS}, {f: new[f] for f in OPPORTUNITY_FIELDS}),
        )
        stage_events(uow, new, old["stage"])
    return opportunity_out.dump(new)


# --------------------------------------------------------------------------------------
# Users read copy (gateway.user_created / user_updated)
# --------------------------------------------------------------------------------------


def apply_user_event(db, envelope: Mapping[str, Any]) -> str:
    """Upsert the user of a gateway user event; an event older than the one already applied
    (the two event types travel on different queues) changes nothing."""
    from marshmallow import ValidationError

    try:
        user = ev.user_event_payload.load(envelope["payload"])
    except ValidationError as exc:
        raise ValueError(f"malformed user event payload: {exc.messages}") from None
    user_id = user.pop("id")
    values = {**user_values(user, USER_FIELDS), "updated_at": utcnow()}
    with db.transaction() as uow:
        return apply_newer(uow.session, m.users, user_id, values, event_time(envelope), USER_DEFAULTS)


USER_FIELDS = (
    "username",
    "roles",
    "department",
    "full_name",
    "email",
    "language",
    "is_department_head",
    "active",
    "customer_id",
)
