"""The work of each notify entrypoint: read copies from events, the fan-out of an event into
inbox notifications, queued deliveries (e-mail, SMS, webhooks), tasks and reminders — all in
the handler's one transaction — and the RPC reads and edits with their record-level scopes.
Sending happens later, in :mod:`notify.delivery`, never inside an event handler."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from crm_common.config import public_url
from crm_common.context import CallerContext
from crm_common.db import dumps, is_sqlite, utcnow
from crm_common.errors import load_or_raise
from crm_common.readcopy import USER_DEFAULTS, apply_newer, event_time, user_values
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from . import domain, webhook_guard
from . import events as ev
from . import models as m
from . import schemas as sc
from .exceptions import Conflict, PermissionDenied, invalid, not_found

log = logging.getLogger(__name__)

U, C, CT, N, T, W, D, A, R = (
    m.users.c,
    m.customers.c,
    m.contacts.c,
    m.notifications.c,
    m.tasks.c,
    m.webhooks.c,
    m.deliveries.c,
    m.delivery_attempts.c,
    m.reminders.c,
)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def insert_ignore(session: Session, table, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was new (idempotent effects)."""
    dialect = session.get_bind().dialect.name
    ins = sqlite_insert if dialect == "sqlite" else pg_insert
    result = session.execute(ins(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


def page_args(page: Any, page_size: Any) -> tuple[int, int]:
    p, s, errors = domain.page_args(page, page_size)
    if errors:
        raise invalid(errors)
    return p, s


def run_page(session: Session, query, page: int, page_size: int) -> tuple[list, int]:
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = session.execute(query.limit(page_size).offset((page - 1) * page_size)).mappings().all()
    return list(rows), total


def page_of(items: list, total: int, page: int, page_size: int, **extra: Any) -> dict:
    return {"items": items, "total": total, "page": page, "page_size": page_size, **extra}


def _date(value: Any) -> dt.date | None:
    return domain._date(value)


def _require_user(caller: CallerContext) -> int:
    if caller.user_id is None:
        raise PermissionDenied("This needs a signed-in user", {"user_id": ["missing"]})
    return int(caller.user_id)


def _require_admin(caller: CallerContext, action: str) -> None:
    caller.require_any(("admin",), action)


def check_webhook_url(url: Any, config: Mapping[str, Any]) -> str | None:
    """Why a webhook URL is refused at registration (rules: :mod:`notify.webhook_guard`)."""
    return webhook_guard.check_webhook_url(url, config)


# --------------------------------------------------------------------------------------
# read copies
# --------------------------------------------------------------------------------------

USER_FIELDS = (
    "username",
    "full_name",
    "email",
    "phone",
    "roles",
    "department",
    "is_department_head",
    "customer_id",
    "language",
    "active",
)


def apply_user(session: Session, envelope: Mapping[str, Any]) -> str:
    payload = dict(envelope["payload"])
    if "id" not in payload and "user_id" in payload:
        payload["id"] = payload["user_id"]
    if "active" not in payload and "is_active" in payload:
        payload["active"] = payload["is_active"]
    try:
        user_id = int(payload["id"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("user event without an id") from None
    return apply_newer(
        session, m.users, user_id, user_values(payload, USER_FIELDS), event_time(envelope), USER_DEFAULTS
    )


CUSTOMER_FIELDS = ("code", "name", "owner_id", "language", "email", "phone", "level")


def apply_customer(session: Session, envelope: Mapping[str, Any]) -> str:
    payload = envelope["payload"]
    try:
        customer_id = int(payload["id"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("customer event without an id") from None
    values: dict[str, Any] = {k: payload[k] for k in CUSTOMER_FIELDS if k in payload}
    if "birthday" in payload:
        values["birthday"] = _date(payload.get("birthday"))
    values["deleted"] = envelope["type"] == "customer_deleted"
    result = apply_newer(session, m.customers, customer_id, values, event_time(envelope))
    if result == "stale":
        return result
    contacts = payload.get("contacts")
    if isinstance(contacts, list):
        for contact in contacts:
            if not isinstance(contact, Mapping) or contact.get("id") is None:
                continue
            row = {
                "customer_id": customer_id,
                "name": contact.get("name"),
                "email": contact.get("email"),
                "phone": contact.get("phone"),
                "title": contact.get("title"),
            }
            if session.execute(select(CT.id).where(CT.id == int(contact["id"]))).first():
                session.execute(update(m.contacts).where(CT.id == int(contact["id"])).values(**row))
            else:
                session.execute(m.contacts.insert().values(id=int(contact["id"]), **row))
    contact = payload.get("contact")  # follow_up_due carries one contact
    if isinstance(contact, Mapping) and contact.get("id") is not None:
        cid = int(contact["id"])
        if not session.execute(select(CT.id).where(CT.id == cid)).first():
            session.execute(
                m.contacts.insert().values(
                    id=cid,
                    customer_id=customer_id,
                    name=contact.get("name"),
                    email=contact.get("email"),
                    phone=contact.get("phone"),
                    title=contact.get("title"),
                )
            )
    return result


# --------------------------------------------------------------------------------------
# event → notifications, deliveries, tasks, reminders
# --------------------------------------------------------------------------------------


def handle_event(db, envelope: Mapping[str, Any]) -> dict[str, int]:
    """The one transaction of an event handler: read copies, then the fan-out."""
    event_type = envelope["type"]
    source = envelope.get("source")
    with db.transaction() as uow:
        s = uow.session
        if (source, event_type) in ev.USER_EVENTS:
            apply_user(s, envelope)
            return {}
        if (source, event_type) in ev.CUSTOMER_EVENTS:
            apply_customer(s, envelope)
        return fan_out(uow, envelope)


def fan_out(
    uow, envelope: Mapping[str, Any], fired_reminder: bool = False, as_of: dt.date | None = None
) -> dict[str, int]:
    """Everything an event causes here. ``as_of``: the date of the daily job that fires it (a
    reminder); else the event's own ``as_of`` (a job's event) or the day it is handled — tasks
    and claimed reminders are dated by it, never by the clock of a back-dated run."""
    s = uow.session
    event_type = envelope["type"]
    event_id = str(envelope["event_id"])
    payload: dict[str, Any] = dict(envelope.get("payload") or {})
    now = utcnow()
    day = as_of or domain.business_date(payload, now.date())
    out = {"notifications": 0, "deliveries": 0, "webhooks": 0, "tasks_opened": 0, "tasks_closed": 0}

    # reminders this event schedules or makes pointless
    if not fired_reminder:
        scheduled = domain.reminders_for(event_type, payload, now)
        for reminder in scheduled:
            insert_ignore(
                s,
                m.reminders,
                {
                    "key": reminder.key,
                    "kind": reminder.kind,
                    "fire_on": reminder.fire_on,
                    "payload": json.loads(dumps(reminder.payload)),
                    "status": "scheduled",
                    "created_at": now,
                },
            )
        for key in domain.reminder_cancellations(event_type, payload):
            match = R.key.startswith(key, autoescape=True) if key.endswith(":") else R.key == key
            s.execute(update(m.reminders).where(match, R.status == "scheduled").values(status="cancelled"))
        # an event a daily job published for a date (an invoice a billing run issued): what our
        # own job for that date fires of it fires now, whether our job ran before or runs later
        job_day = domain.job_date(payload)
        due = [r.key for r in scheduled if job_day is not None and r.fire_on <= job_day]
        if due:
            rows = s.execute(select(m.reminders).where(R.key.in_(due), R.status == "scheduled")).mappings()
            for row in list(rows):
                fire_reminder(uow, row, job_day, now)

    notify_types = [event_type]
    if event_type == "approval_approved" and str(payload.get("document_type") or "") in (
        "dispatch_request",
        "dispatch",
    ):
        notify_types.append("dispatch_approved")

    send = True
    key = None if fired_reminder else domain.reminder_key_of(event_type, payload)
    if key is not None:
        # the producer's own scan (contracts' expiry windows, approvals' SLA escalation) and
        # our schedule share one key: whichever comes first notifies, the other is a no-op
        send = claim_reminder(s, key, event_type, payload, now, day)

    for kind in notify_types:
        # tasks
        opens, closes = domain.task_actions(kind, payload, day)
        for task in opens:
            out["tasks_opened"] += open_tasks(uow, task, event_id, kind)
        for task in closes:
            out["tasks_closed"] += close_tasks(uow, task, event_id, kind)
        if send:
            n, d = notify(uow, kind, event_id if kind == event_type else f"{event_id}:{kind}", payload)
            out["notifications"] += n
            out["deliveries"] += d

    if envelope.get("source") not in (None, "gateway", ev.SOURCE) or fired_reminder:
        out["webhooks"] = enqueue_webhooks(s, envelope, now)
    return out


def claim_reminder(
    session: Session, key: str, kind: str, payload: Mapping[str, Any], now, on: dt.date | None = None
) -> bool:
    """Mark a reminder fired (on ``on``, default the day of ``now``); False when it already had
    (whoever scheduled it)."""
    if insert_ignore(
        session,
        m.reminders,
        {
            "key": key,
            "kind": kind,
            "fire_on": on or now.date(),
            "payload": json.loads(dumps(dict(payload))),
            "status": "fired",
            "fired_at": now,
            "created_at": now,
        },
    ):
        return True
    result = session.execute(
        update(m.reminders)
        .where(R.key == key, R.status.in_(("scheduled", "cancelled")))
        .values(status="fired", fired_at=now)
    )
    return bool(result.rowcount)


def load_rule(session: Session, event_type: str) -> tuple[domain.Rule | None, dict | None]:
    row = session.execute(select(m.rules).where(m.rules.c.event_type == event_type)).mappings().first()
    rule = domain.rule_from_row(dict(row) if row else None, event_type)
    return rule, (row["templates"] if row else None)


def notify(uow, event_type: str, event_id: str, payload: Mapping[str, Any]) -> tuple[int, int]:
    """Inbox notifications and queued e-mail/SMS for the recipients the rule names."""
    s = uow.session
    rule, overrides = load_rule(s, event_type)
    if rule is None or not rule.enabled or not rule.channels:
        return 0, 0
    spec = domain.recipient_spec(rule, payload)
    customer = None
    if spec.customer_id is not None:
        customer = s.execute(select(m.customers).where(C.id == spec.customer_id)).mappings().first()
    users: dict[int, Mapping] = {}
    if spec.user_ids:
        for row in s.execute(select(m.users).where(U.id.in_(spec.user_ids))).mappings():
            users[row["id"]] = row
        for uid in spec.user_ids:  # a user we have not heard of yet still gets an inbox entry
            users.setdefault(
                uid, {"id": uid, "active": True, "language": None, "email": None, "full_name": None}
            )
    if spec.roles:
        for row in s.execute(select(m.users).where(U.active.is_(True))).mappings():
            if set(row["roles"] or ()) & set(spec.roles):
                users[row["id"]] = row
    if spec.department_head_of:
        heads = select(m.users).where(
            U.active.is_(True), U.is_department_head.is_(True), U.department == spec.department_head_of
        )
        for row in s.execute(heads).mappings():
            users[row["id"]] = row
    customer_language = payload.get("language") or (customer["language"] if customer else None)
    customer_name = payload.get("customer_name") or (customer["name"] if customer else None)
    doc_type, doc_id = document_of(event_type, payload)
    now = utcnow()
    notified = queued = 0
    base_url = public_url()
    staff_links = domain.document_links(payload, base_url, domain.STAFF)
    for user in users.values():
        if user.get("active") is False:
            continue
        lang = domain.choose_language(user.get("language"))
        ctx = domain.template_context(
            event_type,
            payload,
            customer_name=customer_name,
            recipient_name=user.get("full_name"),
            **staff_links,
        )
        rendered = domain.render(rule.template, lang, ctx, overrides)
        report_template_error(rendered, event_type, event_id)
        entry = {
            "user_id": user["id"],
            "event_id": event_id,
            "event_type": event_type,
            "title": rendered.subject[:1000],
            "body": rendered.body,
            "language": rendered.language,
            "document_type": doc_type,
            "document_id": doc_id,
            "template_error": rendered.error,
            "created_at": now,
        }
        if "inbox" in rule.channels and insert_ignore(s, m.notifications, entry):
            entry["id"] = s.execute(
                select(N.id).where(N.event_id == event_id, N.user_id == user["id"])
            ).scalar_one()
            published = ev.inbox_notification_created_payload.dump({**entry, "read_at": None})
            uow.publish(ev.INBOX_NOTIFICATION_CREATED, published)
            notified += 1
        if "email" in rule.channels and user.get("email"):
            queued += queue_delivery(
                s, "email", event_id, event_type, user["email"], rendered, now, user["id"]
            )
        if "sms" in rule.channels and user.get("phone"):
            queued += queue_delivery(s, "sms", event_id, event_type, user["phone"], rendered, now, user["id"])
    if spec.contacts and ({"email", "sms"} & set(rule.channels)):
        people = contact_people(s, customer, payload)
        lang = domain.choose_language(customer_language)
        # a customer's contact: links into the customer portal, the invoice PDF attached
        links = domain.document_links(payload, base_url, domain.CUSTOMER)
        attachments = domain.email_attachments(event_type, payload, domain.CUSTOMER)
        for person in people:
            ctx = domain.template_context(
                event_type,
                payload,
                customer_name=customer_name,
                recipient_name=person.get("name"),
                pdf_attached=bool(attachments),
                **links,
            )
            rendered = domain.render(rule.template, lang, ctx, overrides)
            report_template_error(rendered, event_type, event_id)
            if "email" in rule.channels and person.get("email"):
                queued += queue_delivery(
                    s, "email", event_id, event_type, person["email"], rendered, now, attachments=attachments
                )
            if "sms" in rule.channels and person.get("phone"):
                if attachments:  # a text message carries no PDF: do not say it does
                    rendered = domain.render(rule.template, lang, {**ctx, "pdf_attached": False}, overrides)
                queued += queue_delivery(s, "sms", event_id, event_type, person["phone"], rendered, now)
    return notified, queued


def contact_people(session: Session, customer: Mapping | None, payload: Mapping[str, Any]) -> list[dict]:
    """The customer's contacts from the read copy; else what the event carries (``contacts``,
    ``customer_email``); the customer's own e-mail when no contact has one."""
    people: list[dict] = []
    if customer is not None:
        rows = session.execute(select(m.contacts).where(CT.customer_id == customer["id"]).order_by(CT.id))
        people = [dict(c) for c in rows.mappings()]
    if not people and isinstance(payload.get("contacts"), list):
        people = [dict(c) for c in payload["contacts"] if isinstance(c, Mapping)]
    if not any(p.get("email") for p in people):
        email = (customer["email"] if customer else None) or payload.get("customer_email")
        if email:
            name = (customer["name"] if customer else None) or payload.get("customer_name")
            people.append({"name": name, "email": email, "phone": customer["phone"] if customer else None})
    return people


def report_template_error(rendered: domain.Rendered, event_type: str, event_id: str) -> None:
    if rendered.error:
        log.warning(
            "template %s failed for %s (event %s); fell back to %s/%s: %s",
            rendered.template,
            event_type,
            event_id,
            rendered.template,
            rendered.language,
            rendered.error,
        )


def document_of(event_type: str, payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    for doc_type, keys in (
        ("approval", ("request_id", "approval_id")),
        ("invoice", ("invoice_id",)),
        ("contract", ("contract_id",)),
        ("follow_up", ("follow_up_id",)),
        ("product", ("product_id",)),
        ("customer", ("customer_id",)),
    ):
        for key in keys:
            if payload.get(key) is not None:
                return doc_type, str(payload[key])
    if payload.get("document_type") and payload.get("document_id") is not None:
        return str(payload["document_type"]), str(payload["document_id"])
    prefix = event_type.split("_", 1)[0]
    if payload.get("id") is not None:
        return prefix, str(payload["id"])
    return None, None


def queue_delivery(
    session: Session,
    channel: str,
    event_id: str,
    event_type: str,
    recipient: str,
    rendered: domain.Rendered,
    now: dt.datetime,
    user_id: int | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> int:
    return int(
        insert_ignore(
            session,
            m.deliveries,
            {
                "channel": channel,
                "event_id": event_id,
                "event_type": event_type,
                "recipient": recipient[:2000],
                "user_id": user_id,
                "language": rendered.language,
                "subject": rendered.subject,
                "body": rendered.body,
                "template_error": rendered.error,
                "attachments": attachments or None,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            },
        )
    )


def enqueue_webhooks(session: Session, envelope: Mapping[str, Any], now: dt.datetime) -> int:
    event_type = envelope["type"]
    subs = (
        session.execute(select(m.webhooks).where(W.active.is_(True), W.deleted_at.is_(None))).mappings().all()
    )
    body = json.dumps(
        {
            "event_id": envelope["event_id"],
            "type": event_type,
            "version": envelope.get("version", 1),
            "occurred_at": envelope.get("occurred_at"),
            "source": envelope.get("source"),
            "payload": envelope.get("payload") or {},
        },
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )
    count = 0
    for sub in subs:
        wanted = set(sub["events"] or ())
        if event_type not in wanted and "*" not in wanted:
            continue
        count += int(
            insert_ignore(
                session,
                m.deliveries,
                {
                    "channel": "webhook",
                    "event_id": str(envelope["event_id"]),
                    "event_type": event_type,
                    "recipient": f"webhook:{sub['id']}",
                    "webhook_id": sub["id"],
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                },
            )
        )
    return count


def open_tasks(uow, task: domain.TaskOpen, event_id: str, event_type: str) -> int:
    s = uow.session
    now = utcnow()
    opened = 0
    targets: list[tuple[int | None, str | None]] = [(uid, None) for uid in task.assignee_ids]
    targets += [(None, role) for role in task.assignee_roles]
    for assignee_id, role in targets:
        exists = s.execute(
            select(T.id).where(
                T.kind == task.kind,
                T.document_type == task.document_type,
                T.document_id == task.document_id,
                T.status == "open",
                T.assignee_id.is_(None) if assignee_id is None else T.assignee_id == assignee_id,
                T.assignee_role.is_(None) if role is None else T.assignee_role == role,
                T.step.is_(None) if task.step is None else T.step == task.step,
                T.reference.is_(None) if task.reference is None else T.reference == task.reference,
            )
        ).first()
        if exists:
            continue
        values = {
            "kind": task.kind,
            "title": task.title[:500],
            "notes": task.notes,
            "reference": task.reference,
            "assignee_id": assignee_id,
            "assignee_role": role,
            "due_date": task.due_date,
            "document_type": task.document_type,
            "document_id": task.document_id,
            "step": task.step,
            "status": "open",
            "opened_by_event": event_type,
            "created_at": now,
            "updated_at": now,
        }
        task_id = s.execute(m.tasks.insert().values(**values)).inserted_primary_key[0]
        uow.publish(ev.TASK_OPENED, ev.task_payload.dump({"id": task_id, **values}))
        opened += 1
    return opened


def close_tasks(uow, task: domain.TaskClose, event_id: str, event_type: str) -> int:
    s = uow.session
    query = select(m.tasks).where(
        T.kind == task.kind,
        T.document_type == task.document_type,
        T.document_id == task.document_id,
        T.status == "open",
    )
    if task.step is not None:
        query = query.where(T.step == task.step)
    rows = s.execute(query).mappings().all()
    now = utcnow()
    for row in rows:
        s.execute(
            update(m.tasks)
            .where(T.id == row["id"])
            .values(
                status="done",
                closed_by_event=event_type,
                close_reason=task.reason,
                closed_at=now,
                updated_at=now,
            )
        )
        uow.publish(
            ev.TASK_CLOSED,
            ev.task_payload.dump(
                {**row, "status": "done", "closed_by_event": event_type, "close_reason": task.reason}
            ),
        )
    return len(rows)


# --------------------------------------------------------------------------------------
# daily: reminders
# --------------------------------------------------------------------------------------

BIRTHDAY_CATCH_UP_DAYS = 3


def fire_due_reminders(db, as_of: dt.date, limit: int = 500) -> int:
    """Fire every scheduled reminder due on or before ``as_of`` (missed days are caught up),
    each once: the row is claimed (``SKIP LOCKED`` on PostgreSQL) and marked fired in the
    transaction that writes its notifications."""
    fired = 0
    handle = db.handle if hasattr(db, "handle") else db
    while True:
        with db.transaction() as uow:
            query = (
                select(m.reminders)
                .where(R.status == "scheduled", R.fire_on <= as_of)
                .order_by(R.fire_on, R.key)
                .limit(limit)
            )
            if not is_sqlite(handle.url):
                query = query.with_for_update(skip_locked=True)
            rows = uow.session.execute(query).mappings().all()
            now = utcnow()
            for row in rows:
                fired += fire_reminder(uow, row, as_of, now)
        if len(rows) < limit:
            return fired


def fire_reminder(uow, row: Mapping[str, Any], as_of: dt.date, now: dt.datetime) -> bool:
    """Fire one scheduled reminder (its row claimed) for the job of ``as_of``: marked fired and
    fanned out, or cancelled when it came too late (an expiry window past the term's end)."""
    payload = dict(row["payload"] or {})
    stale = row["kind"] == "contract_expiring" and (_date(payload.get("end_date")) or as_of) < as_of
    uow.session.execute(
        update(m.reminders)
        .where(R.key == row["key"])
        .values(status="cancelled" if stale else "fired", fired_at=now)
    )
    if stale:
        return False
    envelope = {
        "event_id": f"reminder:{row['key']}",
        "type": row["kind"],
        "source": ev.SOURCE,
        "occurred_at": now.isoformat(),
        "payload": payload,
    }
    fan_out(uow, envelope, fired_reminder=True, as_of=as_of)
    return True


def fire_birthdays(db, as_of: dt.date) -> int:
    """A-level customers' birthdays to their owners (the customer-care list), once a year each;
    the last few days are caught up when the job did not run."""
    fired = 0
    with db.read() as s:
        rows = (
            s.execute(
                select(m.customers).where(C.level == "A", C.deleted.is_(False), C.birthday.is_not(None))
            )
            .mappings()
            .all()
        )
    for row in rows:
        for back in range(BIRTHDAY_CATCH_UP_DAYS):
            day = as_of - dt.timedelta(days=back)
            if not domain.is_birthday(row["birthday"], day):
                continue
            key = f"customer_birthday:{row['id']}:{day.year}"
            payload = {
                "customer_id": row["id"],
                "customer_name": row["name"],
                "customer_code": row["code"],
                "owner_id": row["owner_id"],
                "birthday": row["birthday"].isoformat(),
                "date": day.isoformat(),
            }
            with db.transaction() as uow:
                if not claim_reminder(uow.session, key, "customer_birthday", payload, utcnow(), day):
                    continue
                envelope = {"event_id": f"reminder:{key}", "type": "customer_birthday", "payload": payload}
                fan_out(uow, envelope, fired_reminder=True, as_of=as_of)
                fired += 1
    return fired


# --------------------------------------------------------------------------------------
# RPC: inbox
# --------------------------------------------------------------------------------------


def list_notifications(db, caller: CallerContext, unread: Any = None, page=1, page_size=50) -> dict:
    user_id = _require_user(caller)
    page, page_size = page_args(page, page_size)
    if unread not in (None, True, False):
        raise invalid({"unread": ["must be true or false"]})
    with db.read() as s:
        query = select(m.notifications).where(N.user_id == user_id)
        if unread:
            query = query.where(N.read_at.is_(None))
        rows, total = run_page(s, query.order_by(N.created_at.desc(), N.id.desc()), page, page_size)
        unread_count = s.execute(
            select(func.count()).where(N.user_id == user_id, N.read_at.is_(None))
        ).scalar_one()
    return page_of(sc.notification_out.dump(rows, many=True), total, page, page_size, unread=unread_count)


def mark_notification_read(db, caller: CallerContext, notification_id: Any) -> dict:
    user_id = _require_user(caller)
    with db.transaction() as uow:
        row = (
            uow.session.execute(
                select(m.notifications).where(N.id == _int_id(notification_id), N.user_id == user_id)
            )
            .mappings()
            .first()
        )
        if row is None:  # another user's notification does not exist for this caller
            raise not_found("notification", notification_id)
        row = dict(row)
        if row["read_at"] is None:
            row["read_at"] = utcnow()
            uow.session.execute(
                update(m.notifications).where(N.id == row["id"]).values(read_at=row["read_at"])
            )
    return sc.notification_out.dump(row)


def mark_all_notifications_read(db, caller: CallerContext) -> dict:
    user_id = _require_user(caller)
    with db.transaction() as uow:
        result = uow.session.execute(
            update(m.notifications).where(N.user_id == user_id, N.read_at.is_(None)).values(read_at=utcnow())
        )
    return {"marked": result.rowcount}


def _int_id(value: Any) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        return -1


# --------------------------------------------------------------------------------------
# RPC: portal invitation e-mail (system callers only)
# --------------------------------------------------------------------------------------

PORTAL_INVITATION = "portal_invitation"


def send_portal_invitation(db, caller: CallerContext, data: Any) -> dict:
    """Queue the invitation e-mail (the ordinary e-mail delivery: worker, retries, attempt
    log). Only a system caller (the gateway) may: the link sets a password. The link is in
    the delivery's body only — never in an event, a webhook, the audit trail or a log line — and
    only until it is sent or finally fails (``delivery.redact_tokens``)."""
    if caller is None or not caller.is_system:
        raise PermissionDenied("Only the system sends portal invitations")
    values = load_or_raise(sc.portal_invitation, data)
    language = domain.choose_language(values.get("language"))
    ctx = {
        "email": values["email"],
        "full_name": values.get("full_name"),
        "customer_name": values.get("customer_name"),
        "accept_url": values["accept_url"],
        "expires_on": domain.expiry_text(values["expires_at"]),
    }
    with db.transaction() as uow:
        s = uow.session
        _, overrides = load_rule(s, PORTAL_INVITATION)
        rendered = domain.render(PORTAL_INVITATION, language, ctx, overrides)
        event_id = f"{PORTAL_INVITATION}:{uuid.uuid4().hex}"
        report_template_error(rendered, PORTAL_INVITATION, event_id)
        queue_delivery(s, "email", event_id, PORTAL_INVITATION, values["email"], rendered, utcnow())
        delivery_id, status = s.execute(
            select(D.id, D.status).where(D.event_id == event_id, D.channel == "email")
        ).one()
        uow.audit(
            "delivery",
            delivery_id,
            "queue_portal_invitation",
            {"email": [None, values["email"]], "language": [None, rendered.language]},
        )
    return {"delivery_id": delivery_id, "status": status}


# --------------------------------------------------------------------------------------
# RPC: tasks
# --------------------------------------------------------------------------------------


def _task_scope(caller: CallerContext):
    if caller.has_any(("admin",)):
        return None
    user_id = _require_user(caller)
    clauses = [T.assignee_id == user_id]
    if caller.roles:
        clauses.append(and_(T.assignee_id.is_(None), T.assignee_role.in_(list(caller.roles))))
    return or_(*clauses)


def list_tasks(db, caller: CallerContext, filters: Any = None, page=1, page_size=50) -> dict:
    page, page_size = page_args(page, page_size)
    data = load_or_raise(sc.task_filters, filters) if filters is not None else {}
    query = select(m.tasks)
    scope = _task_scope(caller)
    if scope is not None:
        query = query.where(scope)
    for key in ("status", "kind", "assignee_id", "document_type", "document_id"):
        if data.get(key) is not None:
            query = query.where(getattr(T, key) == data[key])
    with db.read() as s:
        rows, total = run_page(
            s, query.order_by(T.status, T.due_date.is_(None), T.due_date, T.id), page, page_size
        )
    return page_of(sc.task_out.dump(rows, many=True), total, page, page_size)


def _visible_task(session: Session, caller: CallerContext, task_id: Any) -> dict:
    query = select(m.tasks).where(T.id == _int_id(task_id))
    scope = _task_scope(caller)
    if scope is not None:
        query = query.where(scope)
    row = session.execute(query).mappings().first()
    if row is None:
        raise not_found("task", task_id)
    return dict(row)


def get_task(db, caller: CallerContext, task_id: Any) -> dict:
    with db.read() as s:
        return sc.task_out.dump(_visible_task(s, caller, task_id))


def update_task(db, caller: CallerContext, task_id: Any, data: Any) -> dict:
    """Edit a visible task. An unpaid invoice's collection task closes only by finance or an
    admin with a ``close_reason`` (and ``note``), and with it the invoice's other open collection
    tasks (the owner's); anyone else gets 409 and nothing changes."""
    changes = load_or_raise(sc.task_update, data)
    if "assignee_id" in changes and not caller.has_any(("admin", "sales_manager")):
        raise PermissionDenied("Only managers and admins reassign tasks", {"assignee_id": ["not allowed"]})
    close_reason, close_note = changes.pop("close_reason", None), changes.pop("note", None)
    with db.transaction() as uow:
        row = _visible_task(uow.session, caller, task_id)
        refusal = domain.manual_close_refusal(
            row, changes.get("status"), caller.roles, close_reason, close_note
        )
        if refusal is not None:
            kind, field, message = refusal
            if kind == "conflict":
                raise Conflict(f"Task {row['id']}: {message}", {field: [message]})
            raise invalid({field: [message]})
        now = utcnow()
        values: dict[str, Any] = {k: v for k, v in changes.items() if row.get(k) != v}
        if "status" in values:
            values["closed_at"] = now if values["status"] != "open" else None
            values["closed_by_event"] = None
            values["close_reason"] = close_reason
            values["close_note"] = close_note or None
            if close_reason is not None or close_note:
                changes.update(close_reason=close_reason, close_note=close_note)
        if not values:
            return sc.task_out.dump(row)
        values["updated_at"] = now
        uow.session.execute(update(m.tasks).where(T.id == row["id"]).values(**values))
        uow.audit("task", row["id"], "update", {k: [row.get(k), v] for k, v in changes.items()})
        row.update(values)
        if values.get("status") in ("done", "cancelled"):
            uow.publish(ev.TASK_CLOSED, ev.task_payload.dump(row))
            if row["kind"] == "collection" and close_reason is not None:
                _close_siblings(uow, row, now)
    return sc.task_out.dump(row)


def _close_siblings(uow, task: Mapping[str, Any], now: dt.datetime) -> None:
    """The same invoice's other open collection tasks close with the one finance closed."""
    s = uow.session
    siblings = s.execute(
        select(m.tasks).where(
            T.kind == task["kind"],
            T.document_type == task["document_type"],
            T.document_id == task["document_id"],
            T.status == "open",
            T.id != task["id"],
        )
    ).mappings()
    for sibling in list(siblings):
        values = {k: task[k] for k in ("status", "close_reason", "close_note")}
        values.update(closed_at=now, closed_by_event=None, updated_at=now)
        s.execute(update(m.tasks).where(T.id == sibling["id"]).values(**values))
        uow.audit("task", sibling["id"], "update", {"status": [sibling["status"], task["status"]],
                                                    "close_reason": [None, task["close_reason"]]})  # fmt: skip
        uow.publish(ev.TASK_CLOSED, ev.task_payload.dump({**sibling, **values}))


# --------------------------------------------------------------------------------------
# RPC: webhooks (admin)
# --------------------------------------------------------------------------------------


def create_webhook(db, caller: CallerContext, data: Any, config: Mapping[str, Any]) -> dict:
    _require_admin(caller, "manage webhooks")
    values = load_or_raise(sc.webhook_create, data)
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


def _webhook(session: Session, webhook_id: Any) -> dict:
    row = (
        session.execute(select(m.webhooks).where(W.id == _int_id(webhook_id), W.deleted_at.is_(None)))
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("webhook", webhook_id)
    return dict(row)


def list_webhooks(db, caller: CallerContext, page=1, page_size=50) -> dict:
    _require_admin(caller, "manage webhooks")
    page, page_size = page_args(page, page_size)
    with db.read() as s:
        rows, total = run_page(
            s, select(m.webhooks).where(W.deleted_at.is_(None)).order_by(W.id), page, page_size
        )
    return page_of(sc.webhook_out.dump(rows, many=True), total, page, page_size)


def get_webhook(db, caller: CallerContext, webhook_id: Any) -> dict:
    _require_admin(caller, "manage webhooks")
    with db.read() as s:
        return sc.webhook_out.dump(_webhook(s, webhook_id))


def update_webhook(db, caller: CallerContext, webhook_id: Any, data: Any, config: Mapping[str, Any]) -> dict:
    _require_admin(caller, "manage webhooks")
    values = load_or_raise(sc.webhook_update, data)
    if "url" in values:
        problem = check_webhook_url(values["url"], config)
        if problem:
            raise invalid({"url": [problem]})
    if "events" in values:
        values["events"] = sorted(set(values["events"]))
    with db.transaction() as uow:
        row = _webhook(uow.session, webhook_id)
        if values.get("active") is True and not row["active"]:
            values.update(consecutive_failures=0, disabled_at=None, disabled_reason=None)
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
    _require_admin(caller, "manage webhooks")
    with db.transaction() as uow:
        row = _webhook(uow.session, webhook_id)
        now = utcnow()
        uow.session.execute(update(m.webhooks).where(W.id == row["id"]).values(deleted_at=now, active=False))
        uow.session.execute(
            update(m.deliveries)
            .where(D.webhook_id == row["id"], D.status == "pending")
            .values(status="failed", last_error="webhook deleted", next_attempt_at=None)
        )
        uow.audit("webhook", row["id"], "delete")
    return {"id": row["id"], "deleted": True}


def list_webhook_deliveries(db, caller: CallerContext, webhook_id: Any, page=1, page_size=50) -> dict:
    _require_admin(caller, "manage webhooks")
    page, page_size = page_args(page, page_size)
    with db.read() as s:
        row = s.execute(select(W.id).where(W.id == _int_id(webhook_id))).first()
        if row is None:
            raise not_found("webhook", webhook_id)
        rows, total = run_page(
            s, select(m.deliveries).where(D.webhook_id == row.id).order_by(D.id.desc()), page, page_size
        )
        ids = [r["id"] for r in rows]
        attempts: dict[int, list] = {i: [] for i in ids}
        if ids:
            for a in s.execute(
                select(m.delivery_attempts).where(A.delivery_id.in_(ids)).order_by(A.id)
            ).mappings():
                attempts[a["delivery_id"]].append(a)
        items = [{**r, "log": attempts[r["id"]]} for r in rows]
    return page_of(sc.delivery_out.dump(items, many=True), total, page, page_size)


# --------------------------------------------------------------------------------------
# RPC: rules (admin)
# --------------------------------------------------------------------------------------


def _rule_out(event_type: str, row: Mapping | None) -> dict:
    rule = domain.rule_from_row(dict(row) if row else None, event_type)
    assert rule is not None
    return sc.rule_out.dump(
        {
            "event_type": event_type,
            "recipients": list(rule.recipients),
            "channels": list(rule.channels),
            "template": rule.template,
            "templates": row["templates"] if row else None,
            "enabled": rule.enabled,
            "description": rule.description or (row or {}).get("description"),
            "customised": row is not None,
        }
    )


def list_rules(db, caller: CallerContext) -> dict:
    _require_admin(caller, "manage notification rules")
    with db.read() as s:
        stored = {r["event_type"]: r for r in s.execute(select(m.rules)).mappings()}
    names = sorted(set(domain.DEFAULT_RULES) | set(stored))
    items = [_rule_out(name, stored.get(name)) for name in names]
    return {"items": items, "total": len(items), "page": 1, "page_size": max(len(items), 1)}


def update_rule(db, caller: CallerContext, event_type: Any, data: Any) -> dict:
    _require_admin(caller, "manage notification rules")
    if not isinstance(event_type, str) or not event_type or len(event_type) > 100:
        raise invalid({"event_type": ["must be an event type"]})
    known = {t for _, t in ev.CONSUMED} | set(domain.DEFAULT_RULES)
    if event_type not in known:
        raise not_found("notification rule", event_type)
    values = load_or_raise(sc.rule_update, data)
    with db.transaction() as uow:
        s = uow.session
        row = s.execute(select(m.rules).where(m.rules.c.event_type == event_type)).mappings().first()
        current = domain.rule_from_row(dict(row) if row else None, event_type) or domain.Rule(
            event_type, (), (), event_type, False
        )
        new = {
            "recipients": values.get("recipients", list(current.recipients)),
            "channels": values.get("channels", list(current.channels)),
            "template": values.get("template", current.template),
            "templates": values.get("templates", row["templates"] if row else None),
            "enabled": values.get("enabled", current.enabled),
            "description": values.get("description", row["description"] if row else current.description),
            "updated_at": utcnow(),
            "updated_by": caller.actor,
        }
        if row is None:
            s.execute(m.rules.insert().values(event_type=event_type, **new))
        else:
            s.execute(update(m.rules).where(m.rules.c.event_type == event_type).values(**new))
        uow.audit("notification_rule", event_type, "update", json.loads(dumps(values)))
        row = s.execute(select(m.rules).where(m.rules.c.event_type == event_type)).mappings().first()
    return _rule_out(event_type, row)


def reset_rule(db, caller: CallerContext, event_type: Any) -> dict:
    _require_admin(caller, "manage notification rules")
    if event_type not in domain.DEFAULT_RULES:
        raise not_found("notification rule", event_type)
    with db.transaction() as uow:
        uow.session.execute(delete(m.rules).where(m.rules.c.event_type == event_type))
        uow.audit("notification_rule", event_type, "reset")
    return _rule_out(event_type, None)
