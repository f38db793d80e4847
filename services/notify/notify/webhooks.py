"""The RPC use cases of webhook subscriptions (admin only): create (the URL checked by
:mod:`notify.webhook_guard`, the event types by the public catalogue), list, read, edit (re-enabling
resets the failure count; a new secret replaces the old at once), delete (pending deliveries fail)
and a webhook's delivery log with each delivery's attempts. Rotating a secret, redelivering and
pinging are :mod:`notify.webhook_ops`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import load_or_raise
from crm_common.paging import sorted_query
from sqlalchemy import select, update

from . import models as m
from . import public_events, webhook_guard
from . import schemas as sc
from .exceptions import invalid, not_found
from .store import A, D, W, int_id, load_webhook, page_args, page_of, require_admin, run_page


def check_webhook_url(url: Any, config: Mapping[str, Any]) -> str | None:
    """Why a webhook URL is refused at registration (rules: :mod:`notify.webhook_guard`)."""
    return webhook_guard.check_webhook_url(url, config)


def create_webhook(db, caller: CallerContext, data: Any, config: Mapping[str, Any]) -> dict:
    require_admin(caller, "manage webhooks")
    values = load_or_raise(sc.webhook_create, data)
    check_webhook_events(values["events"])
    problem = check_webhook_url(values["url"], config)
    if problem:
        raise invalid({"url": [problem]})
    now = utcnow()
    row = {
        "url": values["url"].strip(),
        "events": sorted(set(values["events"])),
        "secret": values["secret"],
        "description": values.get("description"),
        "active": True,
        "consecutive_failures": 0,
        "failing_since": None,
        "previous_secret": None,
        "previous_secret_expires_at": None,
        "secret_rotated_at": None,
        "created_by": caller.user_id,
        "created_at": now,
        "disabled_at": None,
        "disabled_reason": None,
    }
    with db.transaction() as uow:
        row["id"] = uow.session.execute(m.webhooks.insert().values(**row)).inserted_primary_key[0]
        uow.audit(
            "webhook", row["id"], "create", {"url": [None, row["url"]], "events": [None, row["events"]]}
        )
    return sc.webhook_out.dump(row)


def check_webhook_events(names: list[str]) -> None:
    """422 naming the types a subscription may not use (not public in the catalogue)."""
    unknown = public_events.unknown_types(names)
    if unknown:
        raise invalid(
            {"events": [f"unknown event types: {', '.join(unknown)} (see GET /api/v1/event-types)"]}
        )


# the fields the webhook list and a webhook's delivery log may be sorted by
WEBHOOK_SORT = {"id": W.id, "url": W.url, "active": W.active, "created_at": W.created_at}
DELIVERY_SORT = {
    "id": D.id,
    "status": D.status,
    "event_type": D.event_type,
    "attempts": D.attempts,
    "created_at": D.created_at,
    "next_attempt_at": D.next_attempt_at,
}


def list_webhooks(db, caller: CallerContext, page=1, page_size=50, sort: Any = None) -> dict:
    require_admin(caller, "manage webhooks")
    page, page_size = page_args(page, page_size)
    with db.read() as s:
        query = sorted_query(select(m.webhooks).where(W.deleted_at.is_(None)), sort, WEBHOOK_SORT, W.id)
        rows, total = run_page(s, query, page, page_size)
    return page_of(sc.webhook_out.dump(rows, many=True), total, page, page_size)


def get_webhook(db, caller: CallerContext, webhook_id: Any) -> dict:
    require_admin(caller, "manage webhooks")
    with db.read() as s:
        return sc.webhook_out.dump(load_webhook(s, webhook_id))


def update_webhook(db, caller: CallerContext, webhook_id: Any, data: Any, config: Mapping[str, Any]) -> dict:
    require_admin(caller, "manage webhooks")
    values = load_or_raise(sc.webhook_update, data)
    if "events" in values:
        check_webhook_events(values["events"])
    if "url" in values:
        problem = check_webhook_url(values["url"], config)
        if problem:
            raise invalid({"url": [problem]})
    if "events" in values:
        values["events"] = sorted(set(values["events"]))
    with db.transaction() as uow:
        row = load_webhook(uow.session, webhook_id)
        if values.get("active") is True and not row["active"]:
            values.update(consecutive_failures=0, failing_since=None, disabled_at=None, disabled_reason=None)
        if "secret" in values:  # a plain replacement: the old secret stops at once (no grace)
            values.update(previous_secret=None, previous_secret_expires_at=None, secret_rotated_at=utcnow())
        if values:
            uow.session.execute(update(m.webhooks).where(W.id == row["id"]).values(**values))
            uow.audit(
                "webhook",
                row["id"],
                "update",
                {k: [row.get(k), v] for k, v in values.items() if k != "secret"},
            )
        row.update(values)
    return sc.webhook_out.dump(row)


def delete_webhook(db, caller: CallerContext, webhook_id: Any) -> dict:
    require_admin(caller, "manage webhooks")
    with db.transaction() as uow:
        row = load_webhook(uow.session, webhook_id)
        now = utcnow()
        uow.session.execute(update(m.webhooks).where(W.id == row["id"]).values(deleted_at=now, active=False))
        uow.session.execute(
            update(m.deliveries)
            .where(D.webhook_id == row["id"], D.status == "pending")
            .values(status="failed", last_error="webhook deleted", next_attempt_at=None)
        )
        uow.audit("webhook", row["id"], "delete")
    return {"id": row["id"], "deleted": True}


def list_webhook_deliveries(
    db, caller: CallerContext, webhook_id: Any, page=1, page_size=50, sort: Any = None
) -> dict:
    require_admin(caller, "manage webhooks")
    page, page_size = page_args(page, page_size)
    with db.read() as s:
        row = s.execute(select(W.id).where(W.id == int_id(webhook_id))).first()
        if row is None:
            raise not_found("webhook", webhook_id)
        query = sorted_query(
            select(m.deliveries).where(D.webhook_id == row.id), sort, DELIVERY_SORT, D.id.desc()
        )
        rows, total = run_page(s, query, page, page_size)
        ids = [r["id"] for r in rows]
        attempts: dict[int, list] = {i: [] for i in ids}
        if ids:
            for a in s.execute(
                select(m.delivery_attempts).where(A.delivery_id.in_(ids)).order_by(A.id)
            ).mappings():
                attempts[a["delivery_id"]].append(a)
        items = [{**r, "log": attempts[r["id"]]} for r in rows]
    return page_of(sc.delivery_out.dump(items, many=True), total, page, page_size)
