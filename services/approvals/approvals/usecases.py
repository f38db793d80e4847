"""Use cases: one function per RPC method (the service class only forwards to them). Each checks
the caller, validates the input, and does its work in ONE transaction: state, audit trail and
outbox events commit together or not at all. Rules come from :mod:`approvals.domain`."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import load_or_raise
from crm_common.money import fmt
from crm_common.paging import sorted_query
from crm_common.pdf import render_off_hub
from crm_common.readcopy import USER_DEFAULTS, apply_newer, event_time, user_values
from sqlalchemy import func, insert, select, update

from . import domain, schemas
from . import events as ev
from . import models as m
from .exceptions import Conflict, PermissionDenied, from_refusal, invalid, not_found

log = logging.getLogger(__name__)

R = m.requests.c
D = m.decisions.c
F = m.flows.c
U = m.users.c

request_in = schemas.RequestApprovalSchema()
submitted_in = schemas.SubmittedPayloadSchema()
flow_create_in = schemas.FlowCreateSchema()
flow_update_in = schemas.FlowUpdateSchema()
decision_in = schemas.DecisionSchema()
list_filters_in = schemas.ListFiltersSchema()
flow_filters_in = schemas.FlowFiltersSchema()

FLOW_FIELDS = (
    "name",
    "document_type",
    "conditions",
    "priority",
    "sla_hours",
    "allow_self_approval",
    "active",
    "steps",
)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def page_args(page: Any, page_size: Any) -> tuple[int, int]:
    p, s, errors = domain.page_args(page, page_size)
    if errors:
        raise invalid(errors)
    return p, s


def page_of(items: list[dict], total: int, page: int, page_size: int) -> dict:
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def as_id(value: Any, entity: str) -> int:
    if isinstance(value, bool):
        raise not_found(entity, value)
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise not_found(entity, value) from None
    if number < 1:
        raise not_found(entity, value)
    return number


def doc_id_out(value: str) -> int | str:
    return int(value) if value.isdigit() and len(value) < 19 else value


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def json_ready(value: Any) -> Any:
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def load_users(session) -> list[dict[str, Any]]:
    rows = session.execute(select(m.users)).mappings()
    return [dict(r) for r in rows]


def usernames(session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(U.id, U.username, U.full_name).where(U.id.in_(ids)))
    return {r.id: r.full_name or r.username or f"user {r.id}" for r in rows}


def doc_of(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "document_type": row["document_type"],
        "amount": row["amount"],
        "currency": row["currency"],
        "department": row["department"],
        "company": row["company"],
        "contract_kind": row["contract_kind"],
        "submitter": row["submitter"],
    }


def request_dict(row: Mapping[str, Any], decisions: list[Mapping[str, Any]]) -> dict[str, Any]:
    snapshot = row["flow_snapshot"] or {}
    sla = snapshot.get("sla_hours") or domain.DEFAULT_SLA_HOURS
    steps = []
    for step in row["steps"]:
        out = dict(step)
        due = domain.due_at(step, sla) if step.get("status") == domain.STEP_PENDING else None
        out["due_at"] = iso(due)
        steps.append(out)
    current = domain.current_step(row) if row["status"] == domain.PENDING else None
    return {
        "id": row["id"],
        "document_type": row["document_type"],
        "document_id": doc_id_out(row["document_id"]),
        "source": row["source"],
        "amount": fmt(row["amount"]) if row["amount"] is not None else None,
        "currency": row["currency"],
        "department": row["department"],
        "company": row["company"],
        "contract_kind": row["contract_kind"],
        "submitter": row["submitter"],
        "summary": row["summary"],
        "details": row["details"] or {},
        "status": row["status"],
        "current_step": current["index"] if current else None,
        "current_step_name": current["name"] if current else None,
        "steps": steps,
        "decisions": [
            {
                "id": d["id"],
                "step": d["step"],
                "step_name": d["step_name"],
                "user": d["user_id"],
                "username": d["username"],
                "decision": d["decision"],
                "comment": d["comment"],
                "approved_value": fmt(d["approved_value"]) if d.get("approved_value") is not None else None,
                "decided_at": iso(d["decided_at"]),
            }
            for d in decisions
        ],
        "flow": {
            "id": row["flow_id"],
            "version": row["flow_version"],
            "name": snapshot.get("name"),
            "sla_hours": sla,
        },
        "allow_self_approval": bool(snapshot.get("allow_self_approval")),
        "previous_request_id": row["previous_request_id"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "closed_at": iso(row["closed_at"]),
    }


def decisions_of(session, request_ids: list[int]) -> dict[int, list[Mapping[str, Any]]]:
    out: dict[int, list[Mapping[str, Any]]] = {i: [] for i in request_ids}
    if request_ids:
        rows = session.execute(
            select(m.decisions).where(D.request_id.in_(request_ids)).order_by(D.id)
        ).mappings()
        for d in rows:
            out[d["request_id"]].append(d)
    return out


def rule_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the domain rules look at."""
    return {
        "id": row["id"],
        "status": row["status"],
        "steps": row["steps"],
        "submitter": row["submitter"],
        "allow_self_approval": bool((row["flow_snapshot"] or {}).get("allow_self_approval")),
    }


def event_base(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "approval_id": row["id"],
        "document_type": row["document_type"],
        "document_id": doc_id_out(row["document_id"]),
        "document_number": domain.document_number(row["document_type"], row.get("details")),
        "source": row["source"],
        "submitter": row["submitter"],
        "summary": row["summary"],
        "amount": fmt(row["amount"]) if row["amount"] is not None else None,
        "currency": row["currency"],
        "department": row["department"],
    }


def requested_payload(row: Mapping[str, Any], step: Mapping[str, Any]) -> dict[str, Any]:
    snapshot = row["flow_snapshot"] or {}
    due = domain.due_at(step, snapshot.get("sla_hours"))
    return {
        **event_base(row),
        "step": {"index": step["index"], "name": step["name"], "mode": step["mode"]},
        "users": list(step.get("required") or step.get("users") or []),
        "roles": []
        if step.get("mode") == domain.ALL and step.get("required")
        else list(step.get("roles") or []),
        "department_head": bool(step.get("department_head")),
        "flow": {"id": row["flow_id"], "version": row["flow_version"], "name": snapshot.get("name")},
        "previous_request_id": row["previous_request_id"],
        "due_at": iso(due),
    }


# --------------------------------------------------------------------------------------
# Opening requests
# --------------------------------------------------------------------------------------


def request_approval(db, caller: CallerContext, data: Any) -> dict:
    """Open an approval request (RPC). 409 while one is pending for the same document."""
    if not caller.authenticated:
        raise PermissionDenied("No caller context: the call is not authenticated")
    if caller.has_any(("portal",)) and not caller.has_any(("admin", "sales_rep", "sales_manager", "finance")):
        raise PermissionDenied("Portal users cannot request approvals")
    doc = load_or_raise(request_in, data)
    with db.transaction() as uow:
        row = open_request(uow, doc)
    return get_request_out(db, row["id"], caller)


def open_from_event(db, envelope: Mapping[str, Any], document_type: str) -> int | None:
    """Open a request from a ``<document_type>_submitted`` event; a malformed payload raises
    ValueError (the event goes to the DLQ); a document that already has a pending request is
    logged and skipped (a duplicate submission must not block the queue)."""
    from marshmallow import ValidationError

    payload = dict(envelope["payload"])
    if "document_id" not in payload and "id" in payload:
        payload["document_id"] = payload.pop("id")
    for alias in ("submitter_id", "submitted_by", "user_id", "owner_id"):
        if alias in payload and (alias == "submitter_id" or "submitter" not in payload):
            payload["submitter_ref"] = payload.get("submitter")
            payload["submitter"] = payload.pop(alias)
            break
    if isinstance(payload.get("submitter"), str):  # an actor name such as "user:5"
        match = re.fullmatch(r"(?:user:)?(\d{1,18})", payload["submitter"].strip())
        payload["submitter_ref"] = payload["submitter"]
        payload["submitter"] = int(match.group(1)) if match else None
    if payload.get("submitter_ref") is None:
        payload.pop("submitter_ref", None)
    if "contract_kind" not in payload and isinstance(payload.get("kind"), str):
        payload["contract_kind"] = payload.pop("kind")
    known = set(submitted_in.fields)
    extra = {k: v for k, v in payload.items() if k not in known}
    try:
        doc = submitted_in.load({k: v for k, v in payload.items() if k in known})
    except ValidationError as exc:
        raise ValueError(f"malformed {envelope.get('type')} payload: {exc.messages}") from None
    doc["document_type"] = doc.get("document_type") or document_type
    doc["details"] = {**extra, **(doc.get("details") or {})}
    doc["source"] = doc.get("source") or envelope.get("source")
    try:
        with db.transaction() as uow:
            row = open_request(uow, doc)
    except Conflict as exc:
        # a duplicate submission while the document is pending: nothing to do (a redelivery of
        # this event is skipped the same way)
        log.warning("%s ignored: %s", envelope.get("type"), exc.message)
        return None
    return row["id"]


def open_request(uow, doc: dict[str, Any]) -> dict[str, Any]:
    s = uow.session
    now = utcnow()
    same_doc = (R.document_type == doc["document_type"]) & (R.document_id == doc["document_id"])
    pending = s.execute(select(R.id).where(same_doc, R.status == domain.PENDING)).first()
    if pending is not None:
        raise Conflict(
            f"{doc['document_type']} {doc['document_id']} already has a pending approval request",
            {"approval_id": pending.id},
        )
    previous = s.execute(select(func.max(R.id)).where(same_doc)).scalar()
    flows = [
        dict(r) for r in s.execute(select(m.flows).where(F.document_type == doc["document_type"])).mappings()
    ]
    flow = domain.select_flow(flows, doc) or domain.default_flow(doc["document_type"])
    snapshot = {
        k: json_ready(flow.get(k))
        for k in ("name", "conditions", "sla_hours", "allow_self_approval", "steps")
    }
    users = load_users(s)
    first = domain.resolve_step(flow["steps"][0], 1, doc, users, bool(flow.get("allow_self_approval")), now)
    steps = [first] + [
        {
            "index": i,
            "name": spec.get("name") or f"Step {i}",
            "mode": spec.get("mode") or domain.ANY,
            "status": domain.WAITING,
            "users": [],
            "roles": [],
            "department_head": bool(spec.get("department_head")),
            "required": [],
            "approved_by": [],
            "started_at": None,
            "decided_at": None,
            "overdue_notified_at": None,
        }
        for i, spec in enumerate(flow["steps"][1:], start=2)
    ]
    values = {
        "document_type": doc["document_type"],
        "document_id": doc["document_id"],
        "source": doc.get("source"),
        "amount": doc.get("amount"),
        "currency": doc.get("currency"),
        "department": doc.get("department"),
        "company": doc.get("company"),
        "contract_kind": doc.get("contract_kind"),
        "submitter": doc.get("submitter"),
        "summary": doc.get("summary"),
        "details": json_ready(doc.get("details") or {}),
        "status": domain.PENDING,
        "flow_id": flow.get("id"),
        "flow_version": flow.get("version"),
        "flow_snapshot": snapshot,
        "steps": steps,
        "previous_request_id": previous,
        "created_at": now,
        "updated_at": now,
    }
    request_id = s.execute(insert(m.requests).values(**values).returning(R.id)).scalar_one()
    row = {"id": request_id, **values, "closed_at": None}
    uow.publish(ev.APPROVAL_REQUESTED, requested_payload(row, first))
    uow.audit("approval_request", request_id, "create", {"status": [None, domain.PENDING]})
    return row


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def _visible_row(s, caller: CallerContext, approval_id: Any) -> Mapping[str, Any]:
    request_id = as_id(approval_id, "Approval request")
    row = s.execute(select(m.requests).where(R.id == request_id)).mappings().first()
    if row is None or not domain.can_read(rule_view(row), caller.user_id, caller.roles):
        raise not_found("Approval request", approval_id)
    return row


def _locked_row(s, caller: CallerContext, approval_id: Any) -> dict[str, Any]:
    """The request to change, locked (PostgreSQL; SQLite writers are serialised anyway). One the
    caller cannot read is 404 exactly as a missing one (deciding or withdrawing must not reveal
    that it exists); one they can read but may not act on gets 403/409 from the rules."""
    request_id = as_id(approval_id, "Approval request")
    row = s.execute(select(m.requests).where(R.id == request_id).with_for_update()).mappings().first()
    if row is None or not _can_read(row, caller):
        raise not_found("Approval request", approval_id)
    return dict(row)


def get_request_out(db, request_id: int, caller: CallerContext) -> dict:
    with db.read() as s:
        row = s.execute(select(m.requests).where(R.id == request_id)).mappings().one()
        return _full(s, row, caller)


def _full(s, row: Mapping[str, Any], caller: CallerContext) -> dict:
    out = request_dict(row, decisions_of(s, [row["id"]])[row["id"]])
    out["may_decide"] = _may_decide_now(row, caller)
    earlier = (
        s.execute(
            select(m.requests)
            .where(
                R.document_type == row["document_type"],
                R.document_id == row["document_id"],
                R.id != row["id"],
            )
            .order_by(R.id)
        )
        .mappings()
        .all()
    )
    decided = decisions_of(s, [r["id"] for r in earlier])
    out["history"] = [
        {
            k: v
            for k, v in request_dict(r, decided[r["id"]]).items()
            if k in ("id", "status", "created_at", "closed_at", "summary", "amount", "currency", "decisions")
        }
        for r in earlier
    ]
    return out


def _may_decide_now(row: Mapping[str, Any], caller: CallerContext) -> bool:
    if row["status"] != domain.PENDING:
        return False
    view = rule_view(row)
    step = domain.current_step(view)
    return bool(
        step
        and domain.may_decide(
            step, caller.user_id, caller.roles, view["submitter"], view["allow_self_approval"]
        )
    )


def get_approval(db, caller: CallerContext, approval_id: Any) -> dict:
    _require_user(caller)
    with db.read() as s:
        return _full(s, _visible_row(s, caller, approval_id), caller)


# the fields approval requests may be sorted by and their columns
APPROVAL_SORT = {
    "created_at": R.created_at, "updated_at": R.updated_at, "closed_at": R.closed_at, "status": R.status,
    "document_type": R.document_type, "amount": R.amount, "id": R.id,
}  # fmt: skip
FLOW_SORT = {"name": F.name, "document_type": F.document_type, "priority": F.priority, "id": F.id}


def list_approvals(
    db, caller: CallerContext, filters: Any = None, page: Any = 1, page_size: Any = 50, sort: Any = None
) -> dict:
    """Requests the caller may see, newest first; ``mine``: only those the caller may decide now."""
    _require_user(caller)
    f = load_or_raise(list_filters_in, filters or {})
    p, size = page_args(page, page_size)
    where = []
    if f.get("mine"):
        where.append(R.status == domain.PENDING)
    if f.get("status"):
        where.append(R.status == f["status"])
    for key in ("document_type", "document_id", "submitter"):
        if f.get(key) is not None:
            where.append(getattr(R, key) == f[key])
    read_all = caller.has_any(domain.READ_ALL_ROLES) and not f.get("mine")
    with db.read() as s:
        query = sorted_query(select(m.requests).where(*where), sort, APPROVAL_SORT, R.id.desc())
        if read_all:
            total = s.execute(select(func.count()).select_from(m.requests).where(*where)).scalar_one()
            rows = s.execute(query.limit(size).offset((p - 1) * size)).mappings().all()
        else:
            keep = _may_decide_now if f.get("mine") else _can_read
            matching = [r for r in s.execute(query).mappings() if keep(r, caller)]
            total = len(matching)
            rows = matching[(p - 1) * size : p * size]
        decided = decisions_of(s, [r["id"] for r in rows])
        items = []
        for r in rows:
            item = request_dict(r, decided[r["id"]])
            item["may_decide"] = _may_decide_now(r, caller)
            items.append(item)
    return page_of(items, total, p, size)


def _can_read(row: Mapping[str, Any], caller: CallerContext) -> bool:
    return domain.can_read(rule_view(row), caller.user_id, caller.roles)


def _require_user(caller: CallerContext) -> None:
    if not caller.authenticated:
        raise PermissionDenied("No caller context: the call is not authenticated")
    if caller.has_any(("portal",)) and not caller.has_any(domain.READ_ALL_ROLES + ("sales_rep", "warehouse")):
        raise PermissionDenied("Portal users have no access to approvals")


# --------------------------------------------------------------------------------------
# Deciding and withdrawing
# --------------------------------------------------------------------------------------


def decide(db, caller: CallerContext, approval_id: Any, data: Any) -> dict:
    _require_user(caller)
    body = load_or_raise(decision_in, data)
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        row = _locked_row(s, caller, approval_id)
        view = rule_view(row)
        try:
            step = domain.check_decision(view, caller.user_id, caller.roles, body["decision"])
        except domain.Refused as refused:
            raise from_refusal(refused) from None
        value = body.get("approved_value")
        problems = domain.valuation_problems(
            row["document_type"], body["decision"], value, body.get("currency"), row["currency"]
        )
        if problems:
            raise invalid(problems)
        steps = [dict(x) for x in row["steps"]]
        step_status, outcome = domain.apply_decision(
            steps, step["index"], int(caller.user_id), body["decision"], now
        )  # type: ignore[arg-type]
        comment = body.get("comment")
        name = usernames(s, {int(caller.user_id)}).get(int(caller.user_id)) or caller.username  # type: ignore[arg-type]
        s.execute(
            insert(m.decisions).values(
                request_id=row["id"],
                step=step["index"],
                step_name=step["name"],
                user_id=caller.user_id,
                username=name,
                decision=body["decision"],
                comment=comment,
                decided_at=now,
                approved_value=value,
            )
        )
        status = row["status"]
        if outcome == "next":
            nxt = next(x for x in steps if x["index"] == step["index"] + 1)
            spec = row["flow_snapshot"]["steps"][nxt["index"] - 1]
            resolved = domain.resolve_step(
                spec, nxt["index"], doc_of(row), load_users(s), view["allow_self_approval"], now
            )
            steps[nxt["index"] - 1] = resolved
        elif outcome == domain.APPROVED:
            status = domain.APPROVED
        elif outcome == domain.REJECTED:
            status = domain.REJECTED
        closed_at = now if status != domain.PENDING else None
        s.execute(
            update(m.requests)
            .where(R.id == row["id"])
            .values(steps=steps, status=status, updated_at=now, closed_at=closed_at)
        )
        row.update(steps=steps, status=status, closed_at=closed_at)
        base = event_base(row)
        who = {"user": caller.user_id, "username": name, "comment": comment, "decided_at": now.isoformat()}
        if row["document_type"] in domain.VALUED_DOCUMENT_TYPES and body["decision"] == domain.APPROVE:
            who.update(valuation(s, row, value))
        uow.publish(
            ev.APPROVAL_STEP_DECIDED,
            {
                **base,
                "step": {
                    "index": step["index"],
                    "name": step["name"],
                    "mode": step["mode"],
                    "status": step_status,
                },
                "decision": body["decision"],
                **who,
            },
        )
        if outcome == "next":
            uow.publish(ev.APPROVAL_REQUESTED, requested_payload(row, steps[step["index"]]))
        elif status == domain.APPROVED:
            uow.publish(ev.APPROVAL_APPROVED, {**base, **who})
        elif status == domain.REJECTED:
            uow.publish(
                ev.APPROVAL_REJECTED, {**base, "step": {"index": step["index"], "name": step["name"]}, **who}
            )
        uow.audit(
            "approval_request",
            row["id"],
            f"decision:{body['decision']}",
            {"status": [view["status"], status]},
        )
        request_id = row["id"]
    return get_request_out(db, request_id, caller)


def valuation(s, row: Mapping[str, Any], value: Decimal | None) -> dict[str, Any]:
    """A trade-in's valuation as the decision events carry it: the one decided now, else the
    latest an earlier step decided, else the requested amount; in the request's currency."""
    if value is None:
        value = s.execute(
            select(D.approved_value)
            .where(D.request_id == row["id"], D.approved_value.is_not(None))
            .order_by(D.id.desc())
            .limit(1)
        ).scalar()
    if value is None:
        value = row["amount"]
    return {"approved_value": fmt(value) if value is not None else None, "currency": row["currency"]}


def withdraw(db, caller: CallerContext, approval_id: Any, comment: Any = None) -> dict:
    _require_user(caller)
    if comment is not None and not isinstance(comment, str):
        raise invalid({"comment": ["not a string"]})
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        row = _locked_row(s, caller, approval_id)
        try:
            domain.check_withdraw(row, caller.user_id, caller.roles)
        except domain.Refused as refused:
            raise from_refusal(refused) from None
        close_withdrawn(uow, row, now, {"user": caller.user_id, "comment": comment})
    return get_request_out(db, row["id"], caller)


def close_withdrawn(
    uow, row: dict, now, event: Mapping[str, Any], audit: Mapping[str, Any] | None = None
) -> None:
    """Withdraw the (row-locked, pending) request ``row``: its waiting steps are cancelled, and
    ``approval_withdrawn`` carries ``event`` (who, comment, and why) beside the request."""
    steps = [dict(x) for x in row["steps"]]
    for x in steps:
        if x["status"] in (domain.STEP_PENDING, domain.WAITING):
            x["status"] = domain.STEP_CANCELLED
    uow.session.execute(
        update(m.requests)
        .where(R.id == row["id"])
        .values(status=domain.WITHDRAWN, steps=steps, updated_at=now, closed_at=now)
    )
    row.update(status=domain.WITHDRAWN, steps=steps)
    uow.publish(ev.APPROVAL_WITHDRAWN, {**event_base(row), **event})
    uow.audit(
        "approval_request",
        row["id"],
        "withdraw",
        {"status": [domain.PENDING, domain.WITHDRAWN], **(audit or {})},
    )


# --------------------------------------------------------------------------------------
# Approval sheet
# --------------------------------------------------------------------------------------


def approval_sheet(db, caller: CallerContext, approval_id: Any, language: Any = None) -> dict:
    """The approval sheet PDF as base64 text (Nameko's JSON cannot carry bytes), in ``language``
    (en, zh, tr, bg; 422 for another), else the caller's (users read copy), else English."""
    from .sheet import LANGUAGES, render_sheet

    if language is not None and language not in LANGUAGES:
        raise invalid({"language": [f"must be one of {', '.join(LANGUAGES)}"]})
    request = get_approval(db, caller, approval_id)
    with db.read() as s:
        ids = {int(u) for st in request["steps"] for u in st.get("users") or ()} | (
            {int(request["submitter"])} if request["submitter"] is not None else set()
        )
        names = usernames(s, ids)
        if language is None and caller.user_id is not None:
            language = s.execute(select(U.language).where(U.id == caller.user_id)).scalar()
    data = render_off_hub(render_sheet, request, names, language)
    return {
        "filename": f"approval-{request['id']}.pdf",
        "content_type": "application/pdf",
        "content_base64": base64.b64encode(data).decode("ascii"),
    }


# --------------------------------------------------------------------------------------
# Flows
# --------------------------------------------------------------------------------------


def flow_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "document_type": row["document_type"],
        "conditions": row["conditions"],
        "priority": row["priority"],
        "sla_hours": row["sla_hours"],
        "allow_self_approval": row["allow_self_approval"],
        "active": row["active"],
        "steps": row["steps"],
        "version": row["version"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def _clean_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in step.items() if v not in (None, [], False) or k == "mode"} for step in steps]


def _clean_conditions(conditions: dict[str, Any]) -> dict[str, Any]:
    return json_ready({k: v for k, v in conditions.items() if v is not None})


def create_flow(db, caller: CallerContext, data: Any) -> dict:
    caller.require_any(("admin",), "administer approval flows")
    flow = load_or_raise(flow_create_in, data)
    flow["steps"] = _clean_steps(flow["steps"])
    flow["conditions"] = _clean_conditions(flow.get("conditions") or {})
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        values = {**flow, "version": 1, "created_at": now, "updated_at": now, "created_by": caller.user_id}
        flow_id = s.execute(insert(m.flows).values(**values).returning(F.id)).scalar_one()
        s.execute(
            insert(m.flow_versions).values(
                flow_id=flow_id, version=1, snapshot=flow, created_at=now, created_by=caller.user_id
            )
        )
        uow.audit("approval_flow", flow_id, "create", {k: [None, v] for k, v in flow.items()})
    return get_flow(db, caller, flow_id)


def update_flow(db, caller: CallerContext, flow_id: Any, data: Any) -> dict:
    """A change makes a new version; running requests keep the version they started with."""
    caller.require_any(("admin",), "administer approval flows")
    fid = as_id(flow_id, "Approval flow")
    changes = load_or_raise(flow_update_in, data)
    if "steps" in changes:
        changes["steps"] = _clean_steps(changes["steps"])
    if "conditions" in changes:
        changes["conditions"] = _clean_conditions(changes["conditions"] or {})
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        row = s.execute(select(m.flows).where(F.id == fid).with_for_update()).mappings().first()
        if row is None:
            raise not_found("Approval flow", flow_id)
        merged = {k: row[k] for k in FLOW_FIELDS} | changes
        problems = domain.condition_problems(merged["conditions"] or {})
        if problems:
            raise invalid(problems)
        diff = {k: [row[k], v] for k, v in changes.items() if row[k] != v}
        if diff:
            version = row["version"] + 1
            s.execute(update(m.flows).where(F.id == fid).values(**changes, version=version, updated_at=now))
            s.execute(
                insert(m.flow_versions).values(
                    flow_id=fid, version=version, snapshot=merged, created_at=now, created_by=caller.user_id
                )
            )
            uow.audit("approval_flow", fid, "update", diff)
    return get_flow(db, caller, fid)


def get_flow(db, caller: CallerContext, flow_id: Any) -> dict:
    caller.require_any(("admin",), "administer approval flows")
    fid = as_id(flow_id, "Approval flow")
    with db.read() as s:
        row = s.execute(select(m.flows).where(F.id == fid)).mappings().first()
        if row is None:
            raise not_found("Approval flow", flow_id)
        out = flow_dict(row)
        V = m.flow_versions.c
        out["versions"] = [
            {"version": v.version, "created_at": iso(v.created_at), "created_by": v.created_by, **v.snapshot}
            for v in s.execute(select(m.flow_versions).where(V.flow_id == fid).order_by(V.version))
        ]
    return out


def list_flows(
    db, caller: CallerContext, filters: Any = None, page: Any = 1, page_size: Any = 50, sort: Any = None
) -> dict:
    caller.require_any(("admin",), "administer approval flows")
    f = load_or_raise(flow_filters_in, filters or {})
    p, size = page_args(page, page_size)
    where = []
    if f.get("document_type"):
        where.append(F.document_type == f["document_type"])
    if f.get("active") is not None:
        where.append(F.active == f["active"])
    with db.read() as s:
        total = s.execute(select(func.count()).select_from(m.flows).where(*where)).scalar_one()
        query = sorted_query(
            select(m.flows).where(*where), sort, FLOW_SORT, F.document_type, F.priority, F.id
        )
        rows = s.execute(query.limit(size).offset((p - 1) * size)).mappings()
        return page_of([flow_dict(r) for r in rows], total, p, size)


# --------------------------------------------------------------------------------------
# Escalation
# --------------------------------------------------------------------------------------


def escalate_overdue(db, now: dt.datetime) -> int:
    """Publish ``approval_overdue`` once for every step pending past its SLA at ``now``. Rows are
    locked (``SKIP LOCKED`` on PostgreSQL) and the step is marked in the same transaction as the
    event, so several replicas never announce a step twice."""
    count = 0
    with db.transaction() as uow:
        s = uow.session
        rows = (
            s.execute(
                select(m.requests)
                .where(R.status == domain.PENDING)
                .order_by(R.id)
                .with_for_update(skip_locked=True)
            )
            .mappings()
            .all()
        )
        for row in rows:
            sla = (row["flow_snapshot"] or {}).get("sla_hours") or domain.DEFAULT_SLA_HOURS
            steps = [dict(x) for x in row["steps"]]
            step = domain.current_step({"steps": steps})
            if step is None or not domain.is_overdue(step, sla, now):
                continue
            step = next(x for x in steps if x["index"] == step["index"])
            step["overdue_notified_at"] = now.isoformat()
            s.execute(update(m.requests).where(R.id == row["id"]).values(steps=steps))
            uow.publish(
                ev.APPROVAL_OVERDUE,
                {
                    **event_base(row),
                    "step": {"index": step["index"], "name": step["name"], "mode": step["mode"]},
                    "users": list(step.get("required") or step.get("users") or []),
                    "roles": list(step.get("roles") or []),
                    "pending_since": step["started_at"],
                    "due_at": iso(domain.due_at(step, sla)),
                    "sla_hours": sla,
                },
            )
            count += 1
    return count


# --------------------------------------------------------------------------------------
# Users read copy
# --------------------------------------------------------------------------------------


def apply_user_event(db, envelope: Mapping[str, Any]) -> str:
    """Upsert the user of a gateway user event; an older event than the one applied changes
    nothing (the two event types travel on different queues)."""
    from marshmallow import ValidationError

    try:
        user = ev.user_event_payload.load(envelope["payload"])
    except ValidationError as exc:
        raise ValueError(f"malformed user event payload: {exc.messages}") from None
    user_id = user.pop("id")
    values = {**user_values(user, user.keys()), "updated_at": utcnow()}
    with db.transaction() as uow:
        return apply_newer(uow.session, m.users, user_id, values, event_time(envelope), USER_DEFAULTS)
