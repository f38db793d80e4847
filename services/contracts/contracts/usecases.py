"""Use cases of contracts: one function per RPC method (the service class only forwards to them),
plus the building blocks the other use-case modules share (loading in scope, views, versions,
events, numbers).

Each use case checks the caller (:mod:`contracts.domain`), validates the input
(:mod:`contracts.schemas`), asks the other services what it needs BEFORE its transaction
(:mod:`contracts.peers`: customer, products, prices, units), then writes in ONE transaction —
state, audit trail and outbox events commit together or not at all. A rejected request leaves no
trace, and no contract number is consumed by a failed creation (the counter moves inside the
transaction that inserts the contract).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import changes_between, next_counter_values, utcnow
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, load_or_raise, not_found
from crm_common.money import fmt_amount
from crm_common.paging import load_filters, page_args, page_of, parse_date, parse_id, run_page, sorted_query
from crm_common.text import fold
from marshmallow import ValidationError
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from . import domain, schemas
from . import events as ev
from . import models as m
from .peers import Peers

log = logging.getLogger(__name__)

C = m.contracts.c
L = m.contract_lines.c
V = m.contract_versions.c
A = m.amendments.c
N = m.expiry_notices.c

CHUNK = 500  # ids per IN (...) — well inside SQLite's variable limit

create_in = schemas.ContractCreateSchema()
fields_in = schemas.ContractFieldsSchema()
filters_in = schemas.ContractFiltersSchema()
terminate_in = schemas.TerminateSchema()
cancel_in = schemas.CancelSchema()
amendment_in = schemas.AmendmentSchema()
amendment_changes_in = schemas.AmendmentChangesSchema(partial=True)
renew_in = schemas.RenewSchema()


def chunks(ids: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def today() -> dt.date:
    return utcnow().date()


def iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def money(amount: Decimal | None, currency: str) -> str | None:
    return fmt_amount(amount, currency)


# --------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------


def next_values(s: Session, name: str, n: int = 1) -> list[int]:
    """``n`` consecutive values of the counter ``name`` (gapless; see
    :func:`crm_common.db.next_counter_values`)."""
    return next_counter_values(s, m.counters, name, n)


def contract_numbers(s: Session, year: int, n: int) -> list[str]:
    return [domain.contract_number(year, i) for i in next_values(s, domain.counter_name(year), n)]


# --------------------------------------------------------------------------------------
# Loading in scope
# --------------------------------------------------------------------------------------


def in_scope(row: Mapping[str, Any], access: domain.Access) -> bool:
    return access.allows(row["owner_id"], row["customer_id"]) and domain.portal_visible(access, row["status"])


def visible_contract(s: Session, contract_id: int, access: domain.Access, for_update: bool = False) -> dict:
    """The contract as a dict, or 404 — also when it exists but lies outside the caller's scope
    (another rep's contract looks exactly like a missing one)."""
    query = select(m.contracts).where(C.id == contract_id)
    if for_update:
        query = query.with_for_update()
    row = s.execute(query).mappings().first()
    if row is None or not in_scope(row, access):
        raise not_found("contract", contract_id)
    return dict(row)


def writable_contract(s: Session, contract_id: int, access: domain.Access, for_update: bool = True) -> dict:
    row = visible_contract(s, contract_id, access, for_update)
    domain.check_can_write(access, row["owner_id"])
    return row


def scoped(query, access: domain.Access):
    if access.customer_id is not None:
        return query.where(C.customer_id == access.customer_id, C.status.not_in(domain.PORTAL_HIDDEN))
    if access.owner_id is not None:
        return query.where(C.owner_id == access.owner_id)
    return query


def lines_of(s: Session, contract_ids: Sequence[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {i: [] for i in contract_ids}
    for chunk in chunks(list(contract_ids)):
        query = (
            select(m.contract_lines).where(L.contract_id.in_(chunk)).order_by(L.contract_id, L.position, L.id)
        )
        for r in s.execute(query).mappings():
            out[r["contract_id"]].append(dict(r))
    return out


def rows_of(s: Session, contract_ids: Sequence[int], for_update: bool = False) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for chunk in chunks(list(contract_ids)):
        query = select(m.contracts).where(C.id.in_(chunk))
        if for_update:
            query = query.with_for_update()
        out.update({r["id"]: dict(r) for r in s.execute(query).mappings()})
    return out


# --------------------------------------------------------------------------------------
# Views and payloads
# --------------------------------------------------------------------------------------


def billing_of(row: Mapping[str, Any]) -> dict:
    """A contract's billing plan as the API and events carry it."""
    return {
        "frequency": row["billing_frequency"],
        "in_advance": row["billing_in_advance"],
        "payment_terms_days": row["payment_terms_days"],
        "anchor_day": row["billing_anchor_day"],
    }


def line_view(line: Mapping[str, Any], currency: str) -> dict:
    return {
        "id": line["id"],
        "position": line["position"],
        "product_id": line["product_id"],
        "sku": line["sku"],
        "product_name": line["product_name"],
        "product_kind": line["product_kind"],
        "category": line["category"],
        "model": line["model"],
        "manufacturer": line["manufacturer"],
        "serial_number": line["serial_number"],
        "manufacturing_number": line["manufacturing_number"],
        "description": line["description"],
        "quantity": fmt_amount(line["quantity"], None)
        if line["quantity"] % 1
        else str(int(line["quantity"])),
        "unit_price": money(line["unit_price"], currency),
        "discount_percent": fmt_amount(line["discount_percent"], None),
        "amount": money(line["amount"], currency),
        "price_source": line["price_source"],
        "start_date": iso(line["start_date"]),
        "end_date": iso(line["end_date"]),
        "warehouse_id": line["warehouse_id"],
    }


def contract_view(s: Session | None, row: Mapping[str, Any], lines: list[dict] | None = None) -> dict:
    """The public JSON of a contract with its lines (``s`` loads them when not given)."""
    if lines is None:
        assert s is not None
        lines = lines_of(s, [row["id"]])[row["id"]]
    cur = row["currency"]
    return {
        "id": row["id"],
        "number": row["number"],
        "status": row["status"],
        "version": row["version"],
        "customer_id": row["customer_id"],
        "customer": {
            "id": row["customer_id"],
            "name": row["customer_name"],
            "code": row["customer_code"],
            "language": row["customer_language"],
        },
        "kind": row["kind"],
        "title": row["title"],
        "currency": cur,
        "start_date": iso(row["start_date"]),
        "end_date": iso(row["end_date"]),
        "signer": row["signer"],
        "signer_title": row["signer_title"],
        "signed_on": iso(row["signed_on"]),
        "billing": billing_of(row),
        "payment_terms_days": row["payment_terms_days"],
        "auto_renew": row["auto_renew"],
        "notice_days": row["notice_days"],
        "notice_deadline": iso(domain.notice_deadline(row["end_date"], row["notice_days"])),
        "renewal_uplift_percent": fmt_amount(row["renewal_uplift_percent"], None),
        "owner_id": row["owner_id"],
        "department": row["department"],
        "company": row["company"],
        "template_id": row["template_id"],
        "field_values": row["field_values"] or {},
        "notes": row["notes"],
        "total": money(row["total"], cur),
        "term_value": money(
            domain.term_value(row["total"], row["billing_frequency"], row["start_date"], row["end_date"]), cur
        ),
        "amounts_locked": row["amounts_locked"],
        "renewal_of_id": row["renewal_of_id"],
        "renewed_by_id": row["renewed_by_id"],
        "approval_id": row["approval_id"],
        "rejection_comment": row["rejection_comment"],
        "status_reason": row["status_reason"],
        "termination_date": iso(row["termination_date"]),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "created_by": row["created_by"],
        "submitted_at": iso(row["submitted_at"]),
        "approved_at": iso(row["approved_at"]),
        "activated_at": iso(row["activated_at"]),
        "lines": [line_view(line, cur) for line in lines],
    }


def summary_view(row: Mapping[str, Any]) -> dict:
    """A contract in a list: the header without lines."""
    cur = row["currency"]
    return {
        "id": row["id"],
        "number": row["number"],
        "status": row["status"],
        "version": row["version"],
        "customer_id": row["customer_id"],
        "customer_name": row["customer_name"],
        "kind": row["kind"],
        "title": row["title"],
        "currency": cur,
        "start_date": iso(row["start_date"]),
        "end_date": iso(row["end_date"]),
        "total": money(row["total"], cur),
        "auto_renew": row["auto_renew"],
        "owner_id": row["owner_id"],
        "amounts_locked": row["amounts_locked"],
        "renewal_of_id": row["renewal_of_id"],
        "renewed_by_id": row["renewed_by_id"],
        "updated_at": iso(row["updated_at"]),
    }


def contract_payload(
    row: Mapping[str, Any], lines: list[dict], view: Mapping[str, Any] | None = None
) -> dict:
    """The standard payload of every ``contract_*`` event (declared as
    :class:`contracts.events.ContractPayload`), made from the contract's public view (given, or
    built here): the same strings, formatted once."""
    v = view if view is not None else contract_view(None, row, lines)
    return {
        "id": row["id"],
        "contract_id": row["id"],
        "number": row["number"],
        "contract_number": row["number"],
        "status": row["status"],
        "version": row["version"],
        "customer_id": row["customer_id"],
        "customer_name": row["customer_name"],
        "customer_code": row["customer_code"],
        "customer_language": row["customer_language"],
        "language": row["customer_language"],
        "owner_id": row["owner_id"],
        "customer_owner_id": row["customer_owner_id"],
        "kind": row["kind"],
        "title": row["title"],
        "currency": row["currency"],
        "start_date": v["start_date"],
        "end_date": v["end_date"],
        "total": v["total"],
        "term_value": v["term_value"],
        "billing": v["billing"],
        "payment_terms_days": row["payment_terms_days"],
        "auto_renew": row["auto_renew"],
        "notice_days": row["notice_days"],
        "renewal_uplift_percent": v["renewal_uplift_percent"],
        "department": row["department"],
        "company": row["company"],
        "renewal_of_id": row["renewal_of_id"],
        "lines": [
            {
                "id": li["id"],
                "line_id": li["id"],
                "product_id": li["product_id"],
                "sku": li["sku"],
                "product_name": li["product_name"],
                "product_kind": li["product_kind"],
                "category": li["category"],
                "model": li["model"],
                "serial_number": li["serial_number"],
                "manufacturing_number": li["manufacturing_number"],
                "quantity": li["quantity"],
                "unit_price": li["unit_price"],
                "discount_percent": li["discount_percent"],
                "amount": li["amount"],
                "start_date": li["start_date"] or v["start_date"],
                "end_date": li["end_date"] or v["end_date"],
                "warehouse_id": li["warehouse_id"],
            }
            for li in v["lines"]
        ],
    }


def publish_contract_events(
    uow,
    event_type: str,
    contract_ids: Sequence[int],
    extra: Mapping[str, Any] | None = None,
    per_contract: Mapping[int, Mapping[str, Any]] | None = None,
) -> None:
    """The standard payload of each contract (+ ``extra`` + its ``per_contract`` entry), as
    they are now in this transaction, published together."""
    s = uow.session
    for chunk in chunks(list(contract_ids)):
        rows = rows_of(s, chunk)
        lines = lines_of(s, chunk)
        payloads = []
        for cid in chunk:
            payload = contract_payload(rows[cid], lines[cid])
            payload.update(extra or {})
            payload.update((per_contract or {}).get(cid, {}))
            payloads.append(payload)
        uow.publish_many(event_type, payloads)


def publish_contract_event(uow, event_type: str, contract_id: int, **extra: Any) -> None:
    publish_contract_events(uow, event_type, [contract_id], extra)


# --------------------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------------------


def record_versions(
    uow,
    contract_ids: Sequence[int],
    kind: str,
    reason: str | None,
    effective_date: dt.date | None,
    amendment_ids: Mapping[int, int] | None = None,
    publish: str | None = None,
    extra: Mapping[str, Any] | None = None,
    per_contract: Mapping[int, Mapping[str, Any]] | None = None,
) -> dict[int, int]:
    """Keep the current state of each contract whole as its next version; returns {id: version}.
    With ``publish`` (an event type), the same pass also publishes that event with the standard
    payload (+ ``extra`` + the contract's ``per_contract`` entry), from the same loaded state —
    what bulk operations do for thousands of contracts at once."""
    s = uow.session
    now = utcnow()
    actor = uow.caller.actor if uow.caller else None
    out: dict[int, int] = {}
    for chunk in chunks(sorted(set(contract_ids))):
        s.execute(update(m.contracts).where(C.id.in_(chunk)).values(version=C.version + 1, updated_at=now))
        rows = rows_of(s, chunk)
        lines = lines_of(s, chunk)
        values, payloads = [], []
        for cid in chunk:
            row = rows[cid]
            out[cid] = row["version"]
            view = contract_view(None, row, lines[cid])
            values.append(
                {
                    "contract_id": cid,
                    "version": row["version"],
                    "kind": kind,
                    "reason": reason,
                    "effective_date": effective_date,
                    "amendment_id": (amendment_ids or {}).get(cid),
                    "snapshot": view,
                    "created_at": now,
                    "created_by": actor,
                }
            )
            if publish:
                payload = contract_payload(row, lines[cid], view)
                payload.update(extra or {})
                payload.update((per_contract or {}).get(cid, {}))
                payloads.append(payload)
        s.execute(insert(m.contract_versions), values)
        if publish:
            uow.publish_many(publish, payloads)
    return out


def record_version(
    uow,
    contract_id: int,
    kind: str,
    reason: str | None,
    effective_date: dt.date | None,
    amendment_id: int | None = None,
) -> int:
    amendments = {contract_id: amendment_id} if amendment_id is not None else None
    return record_versions(uow, [contract_id], kind, reason, effective_date, amendments)[contract_id]


def recompute_totals(s: Session, contract_ids: Sequence[int]) -> dict[int, Decimal]:
    """contracts.total = the exact sum of their lines' amounts (one SELECT per chunk, one
    multi-row UPDATE)."""
    from . import bulk

    return bulk.recompute_totals(s, contract_ids, utcnow())


def recompute_total(s: Session, contract_id: int) -> Decimal:
    return recompute_totals(s, [contract_id])[contract_id]


# --------------------------------------------------------------------------------------
# Preparing a contract (validation and what other services say) — before any transaction
# --------------------------------------------------------------------------------------


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def prepare_lines(
    peers: Peers,
    header: Mapping[str, Any],
    lines_in: Sequence[Mapping[str, Any]],
    prefix: str = "lines",
) -> tuple[list[dict], dict[str, list[str]]]:
    """Line rows (without contract id / position) from validated line input: the product from
    inventory, the price from the customer's price list when none is given, the unit covered for
    serialized devices, the line dates inside the contract term, the amount. Errors are keyed
    ``<prefix>.<index>.<field>``."""
    errors: dict[str, list[str]] = {}
    rows: list[dict] = []
    currency = header["currency"]
    start, end = header["start_date"], header["end_date"]
    for i, li in enumerate(lines_in):
        where = f"{prefix}.{i}"

        def bad(name: str, reason: str, where: str = where) -> None:
            errors.setdefault(f"{where}.{name}", []).append(reason)

        product = peers.product(li["product_id"])
        if product is None:
            bad("product_id", "unknown product")
            continue
        if product.get("active") is False:
            bad("product_id", "the product is inactive")
        quantity = _dec(li["quantity"]) if li.get("quantity") is not None else Decimal(1)
        problem = domain.amount_problem(quantity, allow_zero=False, limit=domain.MAX_QUANTITY)
        if problem:
            bad("quantity", problem)
        discount = _dec(li["discount_percent"]) if li.get("discount_percent") is not None else Decimal(0)
        price_source = "manual"
        if li.get("unit_price") is not None:
            unit_price = _dec(li["unit_price"])
            problem = domain.amount_problem(unit_price)
            if problem:
                bad("unit_price", problem)
        else:
            on = li.get("start_date") or start
            quote = peers.price(product["id"], currency, header.get("customer_level"), on)
            if quote is None or quote.get("unit_price") is None:
                bad("unit_price", f"no price for this product in {currency}: give unit_price")
                continue
            unit_price = _dec(quote["unit_price"])
            price_source = quote.get("source") or "price_list"
        for name, reason in domain.line_term_problems(
            li.get("start_date"), li.get("end_date"), start, end
        ).items():
            for r in reason:
                bad(name, r)
        serial = li.get("serial_number")
        manufacturing = li.get("manufacturing_number")
        if serial and product.get("serialized"):
            if quantity != 1:
                bad("quantity", "must be 1 for a line naming a serial number")
            unit = peers.unit(serial, product["id"])
            if unit is None and header.get("kind") in ("sales", "lease"):
                bad("serial_number", "no unit with this serial number for this product")
            elif unit is not None:
                manufacturing = manufacturing or unit.get("manufacturing_number")
        category = product.get("category")
        rows.append(
            {
                "product_id": product["id"],
                "sku": product.get("sku"),
                "product_name": product.get("name") or str(product["id"]),
                "product_kind": product.get("kind"),
                "category": category,
                "category_key": fold(category) if category else None,
                "model": product.get("model"),
                "manufacturer": product.get("manufacturer"),
                "serial_number": serial,
                "manufacturing_number": manufacturing,
                "description": li.get("description"),
                "quantity": quantity,
                "unit_price": unit_price,
                "discount_percent": discount,
                "amount": domain.line_amount(quantity, unit_price, discount),
                "price_source": price_source,
                "start_date": li.get("start_date"),
                "end_date": li.get("end_date"),
                "warehouse_id": li.get("warehouse_id"),
            }
        )
    return rows, errors


def customer_columns(customer: Mapping[str, Any]) -> dict:
    return {
        "customer_id": customer["id"],
        "customer_name": customer.get("name") or str(customer["id"]),
        "customer_code": customer.get("code"),
        "customer_language": customer.get("language"),
        "customer_level": customer.get("level"),
        "customer_owner_id": customer.get("owner_id"),
    }


def header_columns(v: Mapping[str, Any]) -> dict:
    """Contract columns from validated input (create, or the merge of a row and a patch)."""
    billing = v["billing"]
    return {
        "kind": v["kind"],
        "title": v["title"],
        "currency": v["currency"],
        "start_date": v["start_date"],
        "end_date": v["end_date"],
        "signer": v.get("signer"),
        "signer_title": v.get("signer_title"),
        "signed_on": v.get("signed_on"),
        "payment_terms_days": billing.get("payment_terms_days", 30),
        "billing_frequency": billing["frequency"],
        "billing_in_advance": billing.get("in_advance", True),
        "billing_anchor_day": billing.get("anchor_day"),
        "auto_renew": bool(v.get("auto_renew") or False),
        "notice_days": v.get("notice_days") or 0,
        "renewal_uplift_percent": v.get("renewal_uplift_percent") or Decimal(0),
        "owner_id": v.get("owner_id"),
        "department": v.get("department"),
        "company": v.get("company"),
        "template_id": v.get("template_id"),
        "field_values": v.get("field_values") or {},
        "notes": v.get("notes"),
    }


def check_template(
    db, header: dict, errors: dict[str, list[str]], kept_template_id: int | None = None
) -> None:
    """The template exists and is usable; the field values fit its typed fields (normalised in
    place)."""
    from . import templates, templating

    if header.get("template_id") is None:
        if header.get("field_values"):
            errors.setdefault("field_values", []).append("a contract without a template has no fields")
        return
    try:
        with db.read() as s:
            # a draft keeps the template it has even after that template was deactivated
            keep = kept_template_id is not None and header["template_id"] == kept_template_id
            template = templates.template_for_contract(s, header["template_id"], allow_inactive=keep)
    except ValidationFailed as exc:
        for k, v in exc.details.items():
            errors.setdefault(k, []).extend(v if isinstance(v, list) else [str(v)])
        return
    values, problems = templating.check_values(
        template["fields"], header.get("field_values"), header["currency"]
    )
    for k, v in problems.items():
        errors.setdefault(k, []).extend(v)
    header["field_values"] = values


def prepare_contract(
    db,
    peers: Peers,
    caller: CallerContext,
    data: Any,
    access: domain.Access | None = None,
    kept_template_id: int | None = None,
) -> tuple[dict, list[dict]]:
    """A create body validated whole: (contract columns, line rows). Every problem is reported
    at once, keyed by field (``title``, ``billing.frequency``, ``lines.0.unit_price``)."""
    access = access or domain.write_access(caller)
    v = load_or_raise(create_in, data)
    errors: dict[str, list[str]] = {}
    header = header_columns(v)
    try:
        header.update(customer_columns(peers.customer(v["customer_id"])))
    except ValidationFailed as exc:
        errors.update(exc.details)
        header["customer_id"] = v["customer_id"]
    if header["owner_id"] is None:
        header["owner_id"] = access.user_id
    try:
        domain.check_owner_assignment(access, header["owner_id"])
    except PermissionDenied as exc:
        raise PermissionDenied(exc.message, {"owner_id": ["must be your own user id"]}) from None
    if header["department"] is None:
        header["department"] = caller.department
    errors.update(domain.term_problems(header["start_date"], header["end_date"]))
    check_template(db, header, errors, kept_template_id)
    rows: list[dict] = []
    if "end_date" not in errors:
        rows, line_errors = prepare_lines(peers, header, v.get("lines") or [])
        errors.update(line_errors)
    if errors:
        raise ValidationFailed("The contract is not valid", errors)
    return header, rows


# --------------------------------------------------------------------------------------
# Create, read, list, edit
# --------------------------------------------------------------------------------------


def insert_lines(
    s: Session, contract_id: int, line_rows: Sequence[Mapping[str, Any]], first_position: int = 1
) -> None:
    if not line_rows:
        return
    now = utcnow()
    s.execute(
        insert(m.contract_lines),
        [
            {
                **row,
                "contract_id": contract_id,
                "position": first_position + i,
                "created_at": now,
                "updated_at": now,
            }
            for i, row in enumerate(line_rows)
        ],
    )


def insert_contracts(
    uow,
    items: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]],
    actor: str,
    number_year: int | None = None,
    **overrides: Any,
) -> list[dict]:
    """Insert drafts (or ``status`` given in ``overrides``) with their numbers, lines and totals,
    audited and announced (``contract_created``); returns the rows. Numbers are of the year of
    signing-up in the system, or ``number_year`` (a daily job: the year of its date)."""
    s = uow.session
    now = utcnow()
    numbers = contract_numbers(s, number_year or now.year, len(items))
    created: list[dict] = []
    for i, (header, line_rows) in enumerate(items):
        created.append(
            {
                **header,
                "number": numbers[i],
                "status": domain.DRAFT,
                "version": 0,
                "total": domain.contract_total(r["amount"] for r in line_rows),
                "amounts_locked": False,
                "created_at": now,
                "updated_at": now,
                "created_by": actor,
                **overrides,
            }
        )
    # multi-row inserts (ids back in the order given), one per set of columns and chunk
    shapes: dict[tuple, list[int]] = {}
    for i, values in enumerate(created):
        shapes.setdefault(tuple(sorted(values)), []).append(i)
    for indexes in shapes.values():
        for chunk in chunks(indexes):
            rows = [created[i] for i in chunk]
            stmt = insert(m.contracts).returning(C.id, sort_by_parameter_order=True)
            for i, cid in zip(chunk, s.execute(stmt, rows).scalars(), strict=True):
                created[i]["id"] = cid
    line_values = [
        {**row, "contract_id": created[i]["id"], "position": n + 1, "created_at": now, "updated_at": now}
        for i, (_, line_rows) in enumerate(items)
        for n, row in enumerate(line_rows)
    ]
    for chunk in chunks(line_values, 2000):
        s.execute(insert(m.contract_lines), list(chunk))
    ids = [r["id"] for r in created]
    uow.audit_many("contract", "create", [(r["id"], {"number": [None, r["number"]]}) for r in created])
    publish_contract_events(uow, ev.CONTRACT_CREATED, ids)
    return created


def create_contract(db, peers: Peers, caller: CallerContext, data: Any) -> dict:
    access = domain.write_access(caller)
    header, line_rows = prepare_contract(db, peers, caller, data, access)
    with db.transaction() as uow:
        row = insert_contracts(uow, [(header, line_rows)], caller.actor)[0]
        return contract_view(uow.session, visible_contract(uow.session, row["id"], access))


def versions_of(s: Session, contract_id: int) -> list[dict]:
    query = (
        select(V.version, V.kind, V.reason, V.effective_date, V.amendment_id, V.created_at, V.created_by)
        .where(V.contract_id == contract_id)
        .order_by(V.version)
    )
    return [
        {
            "version": r.version,
            "kind": r.kind,
            "reason": r.reason,
            "effective_date": iso(r.effective_date),
            "amendment_id": r.amendment_id,
            "created_at": iso(r.created_at),
            "created_by": r.created_by,
        }
        for r in s.execute(query)
    ]


def get_contract(db, caller: CallerContext, contract_id: Any) -> dict:
    """The contract with its lines, versions, amendments and attachments."""
    from .attachments import attachments_of

    access = domain.read_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    with db.read() as s:
        row = visible_contract(s, contract_id, access)
        view = contract_view(s, row)
        view["versions"] = versions_of(s, contract_id)
        view["attachments"] = attachments_of(s, contract_id)
        if access.customer_id is not None:
            return domain.for_customer(view)
        view["amendments"] = [amendment_view(a) for a in amendments_of(s, contract_id)]
        return view


# the fields contract lists may be sorted by (``sort=["end_date", "-total"]``)
CONTRACT_SORT = {
    "number": C.number, "title": C.title, "customer_name": C.customer_name, "status": C.status,
    "kind": C.kind, "start_date": C.start_date, "end_date": C.end_date, "total": C.total,
    "created_at": C.created_at, "updated_at": C.updated_at, "id": C.id,
}  # fmt: skip


def list_contracts(
    db, caller: CallerContext, filters: Any, page: Any = 1, page_size: Any = 50, sort: Any = None
) -> dict:
    access = domain.read_access(caller)
    page, page_size = page_args(page, page_size)
    f = load_filters(filters_in, filters)
    query = scoped(select(m.contracts), access)
    if f.get("customer_id"):
        query = query.where(C.customer_id == f["customer_id"])
    if f.get("owner_id"):
        query = query.where(C.owner_id == f["owner_id"])
    if f.get("status"):
        query = query.where(C.status.in_(f["status"]))
    elif not f.get("include_archived"):  # archived contracts only when asked for
        query = query.where(C.status != domain.ARCHIVED)
    if f.get("kind"):
        query = query.where(C.kind == f["kind"])
    if f.get("renewal_of_id"):
        query = query.where(C.renewal_of_id == f["renewal_of_id"])
    if f.get("expiring_within_days") is not None:
        as_of = f.get("as_of") or today()
        query = query.where(
            C.status.in_((domain.ACTIVE, domain.APPROVED)),
            C.end_date >= as_of,
            C.end_date <= as_of + dt.timedelta(days=f["expiring_within_days"]),
        )
    if f.get("q"):
        pattern = f"%{f['q'].strip().lower()}%"
        query = query.where(
            or_(
                func.lower(C.number).like(pattern),
                func.lower(C.title).like(pattern),
                func.lower(C.customer_name).like(pattern),
            )
        )
    if f.get("serial_number") or f.get("product_id"):
        line_q = select(L.contract_id)
        if f.get("serial_number"):
            line_q = line_q.where(func.lower(L.serial_number) == f["serial_number"].strip().lower())
        if f.get("product_id"):
            line_q = line_q.where(L.product_id == f["product_id"])
        query = query.where(C.id.in_(line_q))
    order = C.end_date if f.get("expiring_within_days") is not None else C.id.desc()
    with db.read() as s:
        rows, total = run_page(s, sorted_query(query, sort, CONTRACT_SORT, order, C.id), page, page_size)
        items = [summary_view(r) for r in rows]
        if f.get("include_lines"):  # the portal's "my contracts with their lines" in one call
            lines = lines_of(s, [r["id"] for r in rows])
            for item, r in zip(items, rows, strict=True):
                item["lines"] = [line_view(li, r["currency"]) for li in lines[r["id"]]]
        if access.customer_id is not None:
            items = [domain.for_customer(item) for item in items]
        return page_of(items, total, page, page_size)


def row_as_input(row: Mapping[str, Any], lines: list[dict]) -> dict:
    """A contract as a create body (for a PATCH: the current values, then the patch)."""
    return {
        "customer_id": row["customer_id"],
        "title": row["title"],
        "kind": row["kind"],
        "currency": row["currency"],
        "start_date": iso(row["start_date"]),
        "end_date": iso(row["end_date"]),
        "template_id": row["template_id"],
        "field_values": row["field_values"],
        "signer": row["signer"],
        "signer_title": row["signer_title"],
        "signed_on": iso(row["signed_on"]),
        "billing": billing_of(row),
        "auto_renew": row["auto_renew"],
        "renewal_uplift_percent": fmt_amount(row["renewal_uplift_percent"], None),
        "notice_days": row["notice_days"],
        "owner_id": row["owner_id"],
        "department": row["department"],
        "company": row["company"],
        "notes": row["notes"],
        "lines": [
            {
                "product_id": li["product_id"],
                "quantity": fmt_amount(li["quantity"], None),
                "unit_price": fmt_amount(li["unit_price"], None),
                "discount_percent": fmt_amount(li["discount_percent"], None),
                "serial_number": li["serial_number"],
                "manufacturing_number": li["manufacturing_number"],
                "description": li["description"],
                "start_date": iso(li["start_date"]),
                "end_date": iso(li["end_date"]),
                "warehouse_id": li["warehouse_id"],
            }
            for li in lines
        ],
    }


AMOUNT_FIELDS = ("lines", "currency")


def update_contract(db, peers: Peers, caller: CallerContext, contract_id: Any, data: Any) -> dict:
    """PATCH a draft: the given fields change, ``lines`` (when given) replace all lines. Not a
    draft → 409. The merged contract is validated whole, like a new one."""
    access = domain.write_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    if not isinstance(data, dict):
        raise ValidationFailed.field("_schema", "must be an object")
    patch = load_or_raise(fields_in, data, partial=True)
    with db.read() as s:
        row = writable_contract(s, contract_id, access, for_update=False)
        lines = lines_of(s, [contract_id])[contract_id]
    domain.transition(row["status"], "edit", row["number"])
    if row["amounts_locked"] and any(k in patch for k in AMOUNT_FIELDS):
        raise Conflict(
            f"The amounts of contract {row['number']} are locked by finance", {"amounts_locked": True}
        )
    merged = row_as_input(row, lines)
    for key in patch:
        if key == "billing":
            merged["billing"] = {**merged["billing"], **data["billing"]}
        else:
            merged[key] = data[key]
    header, line_rows = prepare_contract(db, peers, caller, merged, access, row["template_id"])
    with db.transaction() as uow:
        s = uow.session
        current = writable_contract(s, contract_id, access)
        domain.transition(current["status"], "edit", current["number"])
        if current["updated_at"] != row["updated_at"]:
            raise Conflict(
                "The contract changed meanwhile: reload and try again", {"contract_id": contract_id}
            )
        values = {**header, "updated_at": utcnow()}
        if "lines" in patch:
            s.execute(delete(m.contract_lines).where(L.contract_id == contract_id))
            insert_lines(s, contract_id, line_rows)
            values["total"] = domain.contract_total(r["amount"] for r in line_rows)
        s.execute(update(m.contracts).where(C.id == contract_id).values(**values))
        changed = changes_between(current, {**current, **values})
        changed.pop("updated_at", None)
        if "lines" in patch:
            changed["lines"] = [len(lines), len(line_rows)]
        uow.audit("contract", contract_id, "update", changed)
        return contract_view(s, visible_contract(s, contract_id, access))


# --------------------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------------------


def submit_contract(
    db, caller: CallerContext, contract_id: Any, red_list_override: dict | None = None
) -> dict:
    """draft → pending_approval; the approvals service opens a request from
    ``contract_submitted`` (document type ``contract``). ``red_list_override``: a sales
    manager's override of the customer's red list (:func:`contracts.redlist.check_submit`),
    kept in the audit trail and told to the approver."""
    access = domain.write_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    with db.transaction() as uow:
        s = uow.session
        row = writable_contract(s, contract_id, access)
        status = domain.transition(row["status"], "submit", row["number"])
        lines = lines_of(s, [contract_id])[contract_id]
        if not lines:
            raise ValidationFailed.field("lines", "a contract needs at least one line to be submitted")
        errors = domain.term_problems(row["start_date"], row["end_date"])
        if errors:
            raise ValidationFailed("The contract is not valid", errors)
        now = utcnow()
        s.execute(
            update(m.contracts)
            .where(C.id == contract_id)
            .values(status=status, submitted_at=now, updated_at=now)
        )
        submitted = {"status": [row["status"], status]}
        if red_list_override:
            submitted["red_list_override"] = [None, red_list_override]
        uow.audit("contract", contract_id, "submit", submitted)
        row = visible_contract(s, contract_id, access)
        term = domain.term_value(row["total"], row["billing_frequency"], row["start_date"], row["end_date"])
        payload = contract_payload(row, lines)
        payload.update(
            {
                "document_type": ev.DOC_CONTRACT,
                "document_id": contract_id,
                "submitter_id": caller.user_id,
                "amount": money(term, row["currency"]),
                "contract_kind": row["kind"],
                "summary": f"{row['number']} {row['title']} — {row['customer_name']}: "
                f"{money(term, row['currency'])} {row['currency']}",
            }
        )
        if red_list_override:
            payload["red_list_override"] = red_list_override
            payload["summary"] += f" — red list overridden: {red_list_override['reason']}"
        uow.publish(ev.CONTRACT_SUBMITTED, payload)
        return contract_view(s, row, lines)


def set_status(uow, row: Mapping[str, Any], status: str, action: str, **values: Any) -> dict:
    s = uow.session
    now = utcnow()
    s.execute(update(m.contracts).where(C.id == row["id"]).values(status=status, updated_at=now, **values))
    uow.audit("contract", row["id"], action, {"status": [row["status"], status]})
    return {**row, "status": status, **values}


def activate(
    uow, row: Mapping[str, Any], at: dt.datetime | None = None, as_of: dt.date | None = None
) -> None:
    """Active now, or (a daily job for ``as_of``) at ``at``; the job's event carries its date."""
    set_status(uow, row, domain.ACTIVE, "activate", activated_at=at or utcnow())
    extra = {"as_of": as_of.isoformat()} if as_of is not None else {}
    publish_contract_event(uow, ev.CONTRACT_ACTIVATED, row["id"], **extra)


def approve(uow, row: Mapping[str, Any], approval: Mapping[str, Any], as_of: dt.date) -> None:
    """pending → approved (version 1 of the terms), and active at once when the term has started."""
    status = domain.transition(row["status"], "approve", row["number"])
    row = set_status(uow, row, status, "approve", approved_at=utcnow(), approval_id=approval.get("approval_id"),
                     rejection_comment=None)  # fmt: skip
    record_version(uow, row["id"], "approval", approval.get("comment"), row["start_date"])
    publish_contract_event(uow, ev.CONTRACT_APPROVED, row["id"], approval_id=approval.get("approval_id"),
                           approved_by=approval.get("user"))  # fmt: skip
    if row["start_date"] <= as_of:
        activate(uow, row)


def handle_approval_decided(db, envelope: Mapping[str, Any], outcome: str) -> str:
    """``approvals.approval_approved`` / ``approval_rejected`` / ``approval_withdrawn`` for our
    document types: contracts, amendments, price-update batches. Events about other document
    types, or about documents no longer waiting, are acknowledged and skipped."""
    payload = envelope.get("payload") or {}
    doc_type = payload.get("document_type")
    if doc_type not in (ev.DOC_CONTRACT, ev.DOC_AMENDMENT, ev.DOC_PRICE_UPDATE, ev.DOC_TERMINATION,
                        ev.DOC_CHANGE_BATCH):  # fmt: skip
        return "ignored"
    try:
        doc_id = parse_id(payload.get("document_id"), "document_id")
    except ValidationFailed:  # another system's document of that type: not ours
        log.warning("%s for %s %r ignored: not an id of this service", envelope.get("type"), doc_type,
                    payload.get("document_id"))  # fmt: skip
        return "not ours"
    decision = {
        "approval_id": str(payload.get("id")) if payload.get("id") is not None else None,
        "comment": payload.get("comment"),
        "user": payload.get("user"),
    }
    if doc_type == ev.DOC_PRICE_UPDATE:
        from . import bulk

        result = bulk.apply_price_batch(
            db, doc_id, outcome == "approved", decision["comment"], approval_id=decision["approval_id"]
        )
        return f"price update batch {doc_id}: {result.get('status')}"
    if doc_type == ev.DOC_AMENDMENT:
        return decide_amendment(db, doc_id, outcome, decision)
    if doc_type == ev.DOC_TERMINATION:
        from . import terminations

        return terminations.decide_termination(db, doc_id, outcome, decision)
    if doc_type == ev.DOC_CHANGE_BATCH:
        from . import change_batches

        return change_batches.decide_change_batch(db, doc_id, outcome, decision)
    with db.transaction() as uow:
        s = uow.session
        row = s.execute(select(m.contracts).where(C.id == doc_id).with_for_update()).mappings().first()
        if row is None:
            log.warning("approval for unknown contract %s ignored", doc_id)
            return "unknown contract"
        row = dict(row)
        if row["status"] != domain.PENDING:
            return f"contract is {row['status']}: nothing to do"
        if outcome == "approved":
            approve(uow, row, decision, today())
            return "approved"
        status = domain.transition(
            row["status"], "reject" if outcome == "rejected" else "withdraw", row["number"]
        )
        comment = decision["comment"] if outcome == "rejected" else row["rejection_comment"]
        set_status(uow, row, status, outcome, rejection_comment=comment)
        if outcome == "rejected":
            publish_contract_event(
                uow, ev.CONTRACT_REJECTED, doc_id, comment=comment, rejected_by=decision["user"]
            )
        return f"back to draft ({outcome})"


def cancel_contract(db, caller: CallerContext, contract_id: Any, data: Any = None) -> dict:
    access = domain.write_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    v = load_or_raise(cancel_in, data or {})
    with db.transaction() as uow:
        s = uow.session
        row = writable_contract(s, contract_id, access)
        status = domain.transition(row["status"], "cancel", row["number"])
        set_status(uow, row, status, "cancel", status_reason=v["reason"], ended_at=utcnow())
        if row["renewal_of_id"] is not None:
            s.execute(
                update(m.contracts)
                .where(C.id == row["renewal_of_id"], C.renewed_by_id == contract_id)
                .values(renewed_by_id=None)
            )
        publish_contract_event(uow, ev.CONTRACT_CANCELLED, contract_id, reason=v["reason"])
        return contract_view(s, visible_contract(s, contract_id, access))


def terminate_contract(db, caller: CallerContext, contract_id: Any, data: Any) -> dict:
    """approved / active → terminated from ``effective_date`` (inside the term); back-dated by a
    non-admin: a termination request for approval (see :mod:`contracts.terminations`)."""
    from . import terminations

    return terminations.terminate_contract(db, caller, contract_id, data)


def set_amounts_lock(db, caller: CallerContext, contract_id: Any, locked: bool) -> dict:
    """Finance locks (or unlocks) the amounts of a contract: while locked, no edit, amendment,
    co-termination or bulk update changes its lines or prices (409 / reported as skipped)."""
    domain.require(caller, domain.LOCK_ROLES, "lock contract amounts")
    access = domain.read_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    with db.transaction() as uow:
        s = uow.session
        row = visible_contract(s, contract_id, access, for_update=True)
        if row["amounts_locked"] == locked:
            raise Conflict(
                f"The amounts of contract {row['number']} are already {'locked' if locked else 'unlocked'}",
                {"amounts_locked": locked},
            )
        now = utcnow()
        s.execute(
            update(m.contracts)
            .where(C.id == contract_id)
            .values(
                amounts_locked=locked,
                amounts_locked_by=caller.actor if locked else None,
                amounts_locked_at=now if locked else None,
                updated_at=now,
            )  # fmt: skip
        )
        uow.audit("contract", contract_id, "lock_amounts" if locked else "unlock_amounts",
                  {"amounts_locked": [not locked, locked]})  # fmt: skip
        uow.publish(
            ev.CONTRACT_AMOUNTS_LOCKED if locked else ev.CONTRACT_AMOUNTS_UNLOCKED,
            {"id": contract_id, "contract_id": contract_id, "number": row["number"], "by": caller.actor},
        )
        return contract_view(s, visible_contract(s, contract_id, access))


# --------------------------------------------------------------------------------------
# Renewals
# --------------------------------------------------------------------------------------


def renewal_items(
    row: Mapping[str, Any], lines: list[dict], start: dt.date, end: dt.date, uplift: Decimal
) -> tuple[dict, list[dict]]:
    """The renewal of a contract: the same header for the next term, lines still running at the
    end of the old term, prices raised by the uplift (rounded to the currency's minor unit)."""
    header = {k: row[k] for k in (
        "customer_id", "customer_name", "customer_code", "customer_language", "customer_level",
        "customer_owner_id", "kind", "title", "currency", "signer", "signer_title",
        "payment_terms_days", "billing_frequency", "billing_in_advance", "billing_anchor_day",
        "auto_renew", "notice_days", "renewal_uplift_percent", "owner_id", "department", "company",
        "template_id", "field_values", "notes",
    )}  # fmt: skip
    header.update(start_date=start, end_date=end, renewal_of_id=row["id"], signed_on=None)
    new_lines = []
    for line in lines:
        if line["end_date"] is not None and line["end_date"] < row["end_date"]:
            continue  # ended before the term did: not renewed
        price = (
            domain.apply_percent(line["unit_price"], uplift, row["currency"])
            if uplift
            else line["unit_price"]
        )
        new_lines.append(
            {
                **{
                    k: line[k]
                    for k in (
                        "product_id",
                        "sku",
                        "product_name",
                        "product_kind",
                        "category",
                        "category_key",
                        "model",
                        "manufacturer",
                        "serial_number",
                        "manufacturing_number",
                        "description",
                        "quantity",
                        "discount_percent",
                        "warehouse_id",
                    )
                },  # fmt: skip
                "unit_price": price,
                "amount": domain.line_amount(line["quantity"], price, line["discount_percent"]),
                "price_source": "renewal",
                "start_date": None,
                "end_date": None,
            }
        )
    return header, new_lines


def live_renewal(s: Session, row: Mapping[str, Any]) -> dict | None:
    if row["renewed_by_id"] is None:
        return None
    renewal = s.execute(select(m.contracts).where(C.id == row["renewed_by_id"])).mappings().first()
    if renewal is None or renewal["status"] == domain.CANCELLED:
        return None
    return dict(renewal)


def renew_contract(db, caller: CallerContext, contract_id: Any, data: Any = None) -> dict:
    """A renewal draft (a renewal quote) by hand: next term, same lines, prices raised by the
    contract's uplift (or ``uplift_percent``); it is submitted and approved like any contract.
    A contract has one live renewal at a time (409)."""
    access = domain.write_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    v = load_or_raise(renew_in, data or {})
    with db.transaction() as uow:
        s = uow.session
        row = writable_contract(s, contract_id, access)
        domain.transition(row["status"], "renew", row["number"])
        existing = live_renewal(s, row)
        if existing is not None:
            raise Conflict(
                f"Contract {row['number']} already has the renewal {existing['number']} ({existing['status']})",
                {"renewal_id": existing["id"], "renewal_number": existing["number"]},
            )
        start, end = domain.next_term(row["start_date"], row["end_date"])
        start, end = v["start_date"] or start, v["end_date"] or end
        errors = domain.term_problems(start, end)
        if errors:
            raise ValidationFailed("The renewal term is not valid", errors)
        uplift = v["uplift_percent"] if v["uplift_percent"] is not None else row["renewal_uplift_percent"]
        header, line_rows = renewal_items(row, lines_of(s, [contract_id])[contract_id], start, end, uplift)
        if v["title"]:
            header["title"] = v["title"]
        renewal = insert_contracts(uow, [(header, line_rows)], caller.actor)[0]
        s.execute(
            update(m.contracts)
            .where(C.id == contract_id)
            .values(renewed_by_id=renewal["id"], updated_at=utcnow())
        )
        uow.audit("contract", contract_id, "renewal_quote", {"renewed_by_id": [None, renewal["id"]]})
        return contract_view(s, visible_contract(s, renewal["id"], access))


# --------------------------------------------------------------------------------------
# Daily work: activation, expiry notices, end of term (renew or expire)
# --------------------------------------------------------------------------------------


def activate_due(db, as_of: dt.date) -> int:
    """Approved contracts whose term has started become active (``contract_activated``)."""
    done = 0
    while True:
        with db.transaction() as uow:
            s = uow.session
            due = s.execute(
                select(C.id, C.start_date)
                .where(C.status == domain.APPROVED, C.start_date <= as_of)
                .order_by(C.id)
                .limit(CHUNK)
            ).all()
            if not due:
                return done
            ids = [r.id for r in due]
            now = utcnow()
            by_start: dict[dt.date, list[int]] = {}
            for r in due:
                by_start.setdefault(r.start_date, []).append(r.id)
            for start, some in by_start.items():  # active from its start, whenever the job ran
                at = domain.job_dates(start, start, as_of)["activated_at"]
                s.execute(
                    update(m.contracts)
                    .where(C.id.in_(some))
                    .values(status=domain.ACTIVE, activated_at=at, updated_at=now)
                )
            uow.audit_many(
                "contract", "activate", [(i, {"status": [domain.APPROVED, domain.ACTIVE]}) for i in ids]
            )
            publish_contract_events(uow, ev.CONTRACT_ACTIVATED, ids, {"as_of": as_of.isoformat()})
            done += len(ids)


def expiry_scan(db, as_of: dt.date) -> int:
    """``contract_expiring`` once per (contract, term end, window) for contracts in force that
    end within 90 / 60 / 30 days, with the notice deadline."""
    horizon = as_of + dt.timedelta(days=max(domain.EXPIRY_WINDOWS))
    sent = 0
    last_id = 0
    while True:
        with db.transaction() as uow:
            s = uow.session
            rows = (
                s.execute(
                    select(m.contracts)
                    .where(
                        C.status.in_(domain.IN_FORCE),
                        C.end_date >= as_of,
                        C.end_date <= horizon,
                        C.id > last_id,
                    )
                    .order_by(C.id)
                    .limit(CHUNK)
                )
                .mappings()
                .all()
            )
            if not rows:
                return sent
            last_id = rows[-1]["id"]
            ids = [r["id"] for r in rows]
            done: dict[tuple[int, dt.date], list[int]] = {}
            for n in s.execute(select(N.contract_id, N.end_date, N.window).where(N.contract_id.in_(ids))):
                done.setdefault((n.contract_id, n.end_date), []).append(n.window)
            notices, per_contract = [], {}
            for r in rows:
                window, skipped = domain.expiry_window(
                    r["end_date"], as_of, done.get((r["id"], r["end_date"]), [])
                )
                if window is None:
                    continue
                notices.append({"contract_id": r["id"], "end_date": r["end_date"], "window": window, "sent": True,
                                "as_of": as_of})  # fmt: skip
                notices += [{"contract_id": r["id"], "end_date": r["end_date"], "window": w, "sent": False,
                             "as_of": as_of} for w in skipped]  # fmt: skip
                per_contract[r["id"]] = {
                    "days": window,
                    "days_left": (r["end_date"] - as_of).days,
                    "notice_deadline": domain.notice_deadline(r["end_date"], r["notice_days"]).isoformat(),
                    "as_of": as_of.isoformat(),
                }
            if notices:
                s.execute(insert(m.expiry_notices), notices)
                publish_contract_events(
                    uow, ev.CONTRACT_EXPIRING, list(per_contract), per_contract=per_contract
                )
                sent += len(per_contract)


def end_of_term(db, as_of: dt.date) -> dict[str, int]:
    """Active contracts whose last day is before ``as_of``: renewed (a live renewal exists, or
    auto-renew makes one that starts the next day and goes active), else expired. Repeats until
    nothing is left, so a run for a date years ahead renews a chain of terms."""
    counts = {"renewed": 0, "expired": 0}
    while True:
        with db.transaction() as uow:
            s = uow.session
            rows = (
                s.execute(
                    select(m.contracts)
                    .where(C.status == domain.ACTIVE, C.end_date < as_of)
                    .order_by(C.end_date, C.id)
                    .limit(100)
                    .with_for_update(skip_locked=True)
                )
                .mappings()
                .all()
            )
            if not rows:
                return counts
            for r in rows:
                end_one(uow, dict(r), as_of, counts)


def end_one(uow, row: dict, as_of: dt.date, counts: dict[str, int]) -> None:
    """End one term for the job of ``as_of``; everything it writes is dated by the term's dates
    (capped at ``as_of``), never by the clock (:func:`domain.job_dates`)."""
    s = uow.session
    dates = domain.job_dates(row["start_date"], row["end_date"], as_of)
    renewal = live_renewal(s, row)
    if renewal is None and row["auto_renew"]:
        start, end = domain.next_term(row["start_date"], row["end_date"])
        header, line_rows = renewal_items(row, lines_of(s, [row["id"]])[row["id"]], start, end,
                                          row["renewal_uplift_percent"])  # fmt: skip
        if line_rows:
            renewal = insert_contracts(uow, [(header, line_rows)], "system:renewal", dates["renewal_year"],
                                       status=domain.APPROVED, approved_at=dates["ended_at"])[0]  # fmt: skip
            s.execute(update(m.contracts).where(C.id == row["id"]).values(renewed_by_id=renewal["id"]))
            # no contract_approved: nothing new was approved or sold (inventory reserves nothing)
            record_version(uow, renewal["id"], "renewal", f"automatic renewal of {row['number']}", start)
            if start <= as_of:
                activate(uow, visible_contract(s, renewal["id"], domain.Access()),
                         domain.job_dates(start, end, as_of)["activated_at"], as_of)  # fmt: skip
    if renewal is not None and renewal["status"] in (domain.APPROVED, domain.ACTIVE):
        set_status(uow, row, domain.RENEWED, "renewed", ended_at=dates["ended_at"])
        renewal_row = visible_contract(s, renewal["id"], domain.Access())
        renewal_payload = contract_payload(renewal_row, lines_of(s, [renewal["id"]])[renewal["id"]])
        publish_contract_event(
            uow,
            ev.CONTRACT_RENEWED,
            row["id"],
            renewal_id=renewal["id"],
            renewal_number=renewal["number"],
            renewal=renewal_payload,
            as_of=as_of.isoformat(),
        )
        counts["renewed"] += 1
        return
    set_status(uow, row, domain.EXPIRED, "expire", ended_at=dates["ended_at"])
    publish_contract_event(uow, ev.CONTRACT_EXPIRED, row["id"], as_of=as_of.isoformat())
    counts["expired"] += 1


# --------------------------------------------------------------------------------------
# Amendments
# --------------------------------------------------------------------------------------


def amendments_of(s: Session, contract_id: int) -> list[dict]:
    query = select(m.amendments).where(A.contract_id == contract_id).order_by(A.id)
    return [dict(r) for r in s.execute(query).mappings()]


def amendment_view(a: Mapping[str, Any]) -> dict:
    return {
        "id": a["id"],
        "contract_id": a["contract_id"],
        "number": a["number"],
        "status": a["status"],
        "reason": a["reason"],
        "impact": a["impact"],
        "effective_date": iso(a["effective_date"]),
        "changes": a["changes"],
        "amount_before": fmt_amount(a["amount_before"], None),
        "amount_after": fmt_amount(a["amount_after"], None),
        "batch_id": a["batch_id"],
        "approval_id": a["approval_id"],
        "from_version": a["from_version"],
        "to_version": a["to_version"],
        "comment": a["comment"],
        "created_at": iso(a["created_at"]),
        "created_by": a["created_by"],
        "decided_at": iso(a["decided_at"]),
    }


def pending_amendment(s: Session, contract_id: int) -> dict | None:
    row = (
        s.execute(
            select(m.amendments).where(A.contract_id == contract_id, A.status == "pending_approval").limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def _json_line(li: Mapping[str, Any]) -> dict:
    return {k: (fmt_amount(v, None) if isinstance(v, Decimal) else iso(v)) for k, v in li.items()}


def plan_amendment(
    row: Mapping[str, Any],
    lines: list[dict],
    v: Mapping[str, Any],
    changes: Mapping[str, Any],
    add_rows: list[dict],
) -> tuple[dict, dict[str, list[str]]]:
    """Check an amendment against the contract as it is; returns the stored form of the change
    and the problems (keyed by field)."""
    errors: dict[str, list[str]] = {}
    by_id = {li["id"]: li for li in lines}
    for i, lid in enumerate(v["remove_line_ids"]):
        if lid not in by_id:
            errors.setdefault(f"remove_line_ids.{i}", []).append("not a line of this contract")
    for i, ch in enumerate(v["change_lines"]):
        if ch["id"] not in by_id:
            errors.setdefault(f"change_lines.{i}.id", []).append("not a line of this contract")
        elif ch["id"] in v["remove_line_ids"]:
            errors.setdefault(f"change_lines.{i}.id", []).append("is also removed")
    end = changes.get("end_date", row["end_date"])
    errors.update({f"changes.{k}": r for k, r in domain.term_problems(row["start_date"], end).items()})
    kept = [li for li in lines if li["id"] not in v["remove_line_ids"]]
    if not kept and not add_rows:
        errors.setdefault("remove_line_ids", []).append("a contract keeps at least one line")
    for li in kept:
        change = next((c for c in v["change_lines"] if c["id"] == li["id"]), {})
        ls = change.get("start_date") or li["start_date"]
        le = change.get("end_date") or li["end_date"]
        for name, reason in domain.line_term_problems(ls, le, row["start_date"], end).items():
            errors.setdefault(f"lines.{li['id']}.{name}", []).extend(reason)
    for i, ch in enumerate(v["change_lines"]):
        for name in ("quantity", "unit_price"):
            problem = domain.amount_problem(ch.get(name), allow_zero=name != "quantity")
            if problem:
                errors.setdefault(f"change_lines.{i}.{name}", []).append(problem)
    if not changes and not add_rows and not v["remove_line_ids"] and not v["change_lines"]:
        errors.setdefault("changes", []).append("the amendment changes nothing")
    stored = {
        "changes": {
            k: (fmt_amount(x, None) if isinstance(x, Decimal) else iso(x)) for k, x in changes.items()
        },
        "add_lines": [_json_line(r) for r in add_rows],
        "remove_line_ids": list(v["remove_line_ids"]),
        "change_lines": [
            _json_line({k: x for k, x in c.items() if x is not None}) for c in v["change_lines"]
        ],
    }
    return stored, errors


def amended_total(lines: list[dict], stored: Mapping[str, Any]) -> Decimal:
    total = Decimal(0)
    changes = {c["id"]: c for c in stored["change_lines"]}
    for li in lines:
        if li["id"] in stored["remove_line_ids"]:
            continue
        c = changes.get(li["id"], {})
        q = _dec(c.get("quantity", li["quantity"]))
        p = _dec(c.get("unit_price", li["unit_price"]))
        d = _dec(c.get("discount_percent", li["discount_percent"]))
        total += domain.line_amount(q, p, d)
    return total + sum((_dec(r["amount"]) for r in stored["add_lines"]), Decimal(0))


def create_amendment(db, peers: Peers, caller: CallerContext, contract_id: Any, data: Any) -> dict:
    """A change order on an approved or active contract: header changes, lines added, removed or
    changed, from an effective date. It waits for approval (``amendment_submitted``); approved,
    it is applied as a new version."""
    access = domain.write_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    v = load_or_raise(amendment_in, data)
    try:
        changes = amendment_changes_in.load(v["changes"])
    except ValidationError as exc:
        from crm_common.errors import marshmallow_details

        raise ValidationFailed(
            "The amendment is not valid",
            {f"changes.{k}": r for k, r in marshmallow_details(exc.messages).items()},
        ) from None
    with db.read() as s:
        row = writable_contract(s, contract_id, access, for_update=False)
        lines = lines_of(s, [contract_id])[contract_id]
    domain.transition(row["status"], "amend", row["number"])
    if "owner_id" in changes:
        domain.check_owner_assignment(access, changes["owner_id"])
    header = {**row, **{k: changes[k] for k in changes if k != "billing"}}
    add_rows, errors = prepare_lines(peers, header, v["add_lines"], "add_lines")
    stored, plan_errors = plan_amendment(row, lines, v, changes, add_rows)
    errors.update(plan_errors)
    effective = v["effective_date"] or max(today(), row["start_date"])
    if not row["start_date"] <= effective <= header["end_date"]:
        errors.setdefault("effective_date", []).append(
            f"must lie inside the contract term {row['start_date']} – {header['end_date']}"
        )
    if "billing" in changes:
        stored["changes"]["billing"] = {**billing_of(row), **v["changes"]["billing"]}
    if errors:
        raise ValidationFailed("The amendment is not valid", errors)
    # what the customer owes: lines, prices, the term's end, the billing terms
    touches_amounts = bool(
        add_rows or v["remove_line_ids"] or v["change_lines"] or {"end_date", "billing"} & set(changes)
    )
    with db.transaction() as uow:
        s = uow.session
        row = writable_contract(s, contract_id, access)
        domain.transition(row["status"], "amend", row["number"])
        if row["amounts_locked"] and touches_amounts:
            raise Conflict(
                f"The amounts of contract {row['number']} are locked by finance", {"amounts_locked": True}
            )
        pending = pending_amendment(s, contract_id)
        if pending is not None:
            raise Conflict(
                f"Contract {row['number']} already has amendment {pending['number']} waiting for approval",
                {"amendment_id": pending["id"]},
            )
        n = next_values(s, f"amendment:{contract_id}")[0]
        now = utcnow()
        values = {
            "contract_id": contract_id,
            "number": domain.amendment_number(row["number"], n),
            "status": "pending_approval",
            "reason": v["reason"],
            "impact": v["impact"],
            "effective_date": effective,
            "changes": stored,
            "amount_before": row["total"],
            "amount_after": amended_total(lines, stored),
            "from_version": row["version"],
            "created_at": now,
            "created_by": caller.actor,
            "created_by_id": caller.user_id,
        }
        aid = s.execute(insert(m.amendments).values(**values).returning(A.id)).scalar_one()
        uow.audit("amendment", aid, "create", {"contract_id": [None, contract_id]})
        amendment = {**values, "id": aid, "batch_id": None, "approval_id": None, "to_version": None,
                     "comment": None, "decided_at": None}  # fmt: skip
        uow.publish(
            ev.AMENDMENT_SUBMITTED,
            {
                "document_type": ev.DOC_AMENDMENT,
                "document_id": aid,
                "submitter_id": caller.user_id,
                "amount": money(values["amount_after"], row["currency"]),
                "currency": row["currency"],
                "department": row["department"],
                "company": row["company"],
                "contract_kind": row["kind"],
                "summary": f"{values['number']}: {v['reason']}",
                "contract_id": contract_id,
                "contract_number": row["number"],
                "owner_id": row["owner_id"],
                "customer_id": row["customer_id"],
                "customer_name": row["customer_name"],
                "amendment": amendment_view(amendment),
            },
        )
        return amendment_view(amendment)


def apply_amendment(uow, amendment: Mapping[str, Any], row: Mapping[str, Any]) -> int:
    """Apply an approved amendment to the contract as a new version; returns the version."""
    s = uow.session
    cid = row["id"]
    stored = amendment["changes"]
    now = utcnow()
    header: dict[str, Any] = {}
    for key, value in stored["changes"].items():
        if key == "billing":
            header.update(
                billing_frequency=value["frequency"], billing_in_advance=value["in_advance"],
                payment_terms_days=value["payment_terms_days"], billing_anchor_day=value.get("anchor_day"),
            )  # fmt: skip
        elif key in ("end_date", "signed_on"):
            header[key] = parse_date(value, key) if value else None
        elif key == "renewal_uplift_percent":
            header[key] = _dec(value) if value is not None else Decimal(0)
        else:
            header[key] = value
    if stored["remove_line_ids"]:
        s.execute(delete(m.contract_lines).where(L.contract_id == cid, L.id.in_(stored["remove_line_ids"])))
    for change in stored["change_lines"]:
        current = (
            s.execute(select(m.contract_lines).where(L.id == change["id"], L.contract_id == cid))
            .mappings()
            .first()
        )
        if current is None:
            continue
        vals: dict[str, Any] = {"updated_at": now}
        for k in ("quantity", "unit_price", "discount_percent"):
            if k in change:
                vals[k] = _dec(change[k])
        for k in ("start_date", "end_date"):
            if k in change:
                vals[k] = parse_date(change[k], k)
        for k in ("description", "serial_number", "manufacturing_number"):
            if k in change:
                vals[k] = change[k]
        if "unit_price" in change:
            vals["price_source"] = "amendment"
        merged = {**current, **vals}
        vals["amount"] = domain.line_amount(
            merged["quantity"], merged["unit_price"], merged["discount_percent"]
        )
        s.execute(update(m.contract_lines).where(L.id == change["id"]).values(**vals))
    if stored["add_lines"]:
        last = s.execute(select(func.max(L.position)).where(L.contract_id == cid)).scalar() or 0
        rows = []
        for li in stored["add_lines"]:
            r = dict(li)
            for k in ("quantity", "unit_price", "discount_percent", "amount"):
                r[k] = _dec(r[k])
            for k in ("start_date", "end_date"):
                r[k] = parse_date(r[k], k) if r.get(k) else None
            rows.append(r)
        insert_lines(s, cid, rows, last + 1)
    if header:
        s.execute(update(m.contracts).where(C.id == cid).values(**header, updated_at=now))
    recompute_total(s, cid)
    version = record_version(
        uow, cid, "amendment", amendment["reason"], amendment["effective_date"], amendment["id"]
    )
    s.execute(
        update(m.amendments)
        .where(A.id == amendment["id"])
        .values(status="applied", to_version=version, decided_at=now)
    )
    uow.audit(
        "contract",
        cid,
        "amend",
        {"version": [version - 1, version], "amendment": [None, amendment["number"]]},
    )
    publish_contract_event(
        uow,
        ev.CONTRACT_AMENDED,
        cid,
        change="amendment",
        effective_date=iso(amendment["effective_date"]),
        amendment={"id": amendment["id"], "number": amendment["number"], "reason": amendment["reason"]},
        previous_version=version - 1,
    )
    return version


def open_decision(
    uow, amendment_id: int, outcome: str, decision: Mapping[str, Any], what: str = "amendment", accept=None
) -> tuple[str | None, tuple[dict, dict, dict | None] | None]:
    """The first half of every decision on an amendment-like request (amendments, terminations):
    the request is row-locked; unknown or already decided → an outcome to report and nothing done
    (at-least-once delivery); rejected / withdrawn → recorded and published; approved →
    ``(None, (amendment, decision columns, locked contract row or None))`` for the caller to apply."""
    s = uow.session
    a = s.execute(select(m.amendments).where(A.id == amendment_id).with_for_update()).mappings().first()
    if a is None or (accept is not None and not accept(a)):
        return f"unknown {what}", None
    if a["status"] != domain.PENDING:
        return f"{what} is {a['status']}: nothing to do", None
    base = {
        "approval_id": decision.get("approval_id"),
        "comment": decision.get("comment"),
        "decided_at": utcnow(),
    }
    if outcome != "approved":
        status = "rejected" if outcome == "rejected" else "withdrawn"
        s.execute(update(m.amendments).where(A.id == amendment_id).values(status=status, **base))
        uow.audit("amendment", amendment_id, status, {"status": [domain.PENDING, status]})
        uow.publish(
            ev.AMENDMENT_REJECTED, {**amendment_view({**a, "status": status, **base}), "outcome": outcome}
        )
        return status, None
    row = s.execute(select(m.contracts).where(C.id == a["contract_id"]).with_for_update()).mappings().first()
    return None, (dict(a), base, dict(row) if row is not None else None)


def close_decision(
    uow, amendment_id: int, base: Mapping[str, Any], status: str, comment: str | None = None
) -> None:
    """Record how an approved request ended (``applied``, or ``failed`` with the reason)."""
    values = {**base, "status": status} if comment is None else {**base, "status": status, "comment": comment}
    uow.session.execute(update(m.amendments).where(A.id == amendment_id).values(**values))
    uow.audit("amendment", amendment_id, status, {"status": [domain.PENDING, status]})


def decide_amendment(db, amendment_id: int, outcome: str, decision: Mapping[str, Any]) -> str:
    with db.transaction() as uow:
        done, opened = open_decision(uow, amendment_id, outcome, decision)
        if opened is None:
            return done or "nothing to do"
        a, base, row = opened
        stored = a["changes"] or {}
        locked_out = row is not None and row["amounts_locked"] and bool(
            stored.get("add_lines") or stored.get("remove_line_ids") or stored.get("change_lines")
            or {"end_date", "billing"} & set(stored.get("changes") or {})
        )  # fmt: skip
        if row is None or row["status"] not in domain.IN_FORCE or locked_out:
            reason = (
                "the contract's amounts are locked by finance: not applied"
                if locked_out
                else f"contract is {row['status'] if row else 'gone'}: not applied"
            )
            close_decision(uow, amendment_id, base, "failed", reason)
            return reason
        uow.session.execute(update(m.amendments).where(A.id == amendment_id).values(**base))
        apply_amendment(uow, a, row)
        return "applied"


def list_amendments(db, caller: CallerContext, contract_id: Any) -> list[dict]:
    access = domain.read_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    with db.read() as s:
        visible_contract(s, contract_id, access)
        return [amendment_view(a) for a in amendments_of(s, contract_id)]


def get_amendment(db, caller: CallerContext, contract_id: Any, amendment_id: Any) -> dict:
    access = domain.read_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    amendment_id = parse_id(amendment_id, "amendment_id")
    with db.read() as s:
        visible_contract(s, contract_id, access)
        row = (
            s.execute(select(m.amendments).where(A.id == amendment_id, A.contract_id == contract_id))
            .mappings()
            .first()
        )
        if row is None:
            raise not_found("amendment", amendment_id)
        return amendment_view(row)


# --------------------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------------------


def list_versions(db, caller: CallerContext, contract_id: Any) -> list[dict]:
    access = domain.read_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    with db.read() as s:
        visible_contract(s, contract_id, access)
        return versions_of(s, contract_id)


def snapshot_of(s: Session, contract_id: int, version: Any, field: str = "version") -> dict:
    number = parse_id(version, field)
    row = s.execute(select(V.snapshot).where(V.contract_id == contract_id, V.version == number)).first()
    if row is None:
        raise NotFound(
            f"Version {number} of contract {contract_id} not found", {"entity": "version", "version": number}
        )
    return row.snapshot


def get_version(db, caller: CallerContext, contract_id: Any, version: Any) -> dict:
    access = domain.read_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    with db.read() as s:
        visible_contract(s, contract_id, access)
        meta = {v["version"]: v for v in versions_of(s, contract_id)}
        snapshot = snapshot_of(s, contract_id, version)
        return {**meta[snapshot["version"]], "contract": snapshot}


def diff_versions(db, caller: CallerContext, contract_id: Any, a: Any, b: Any) -> dict:
    access = domain.read_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    with db.read() as s:
        visible_contract(s, contract_id, access)
        first = snapshot_of(s, contract_id, a, "a")
        second = snapshot_of(s, contract_id, b, "b")
    return {"contract_id": contract_id, "from_version": first["version"], "to_version": second["version"],
            **domain.diff_snapshots(first, second)}  # fmt: skip


# --------------------------------------------------------------------------------------
# Other services' events
# --------------------------------------------------------------------------------------


def activate_imported(uow, contract_ids: Sequence[int]) -> None:
    """Contracts imported as already in force (an old system's running contracts): version 1
    (kind ``import``), active, announced with ``contract_activated`` so billing schedules them.
    No approval and no stock reservation: they were signed and delivered before."""
    s = uow.session
    now = utcnow()
    for chunk in chunks(list(contract_ids)):
        s.execute(
            update(m.contracts)
            .where(C.id.in_(chunk))
            .values(status=domain.ACTIVE, approved_at=now, activated_at=now, updated_at=now)
        )
    record_versions(uow, contract_ids, "import", "imported as active", None)
    publish_contract_events(uow, ev.CONTRACT_ACTIVATED, contract_ids, {"imported": True})
