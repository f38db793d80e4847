"""What a notification rule causes for one event, in the handler's transaction: the rule's
recipients (users by id, role and department head; the customer's contacts) each get an inbox entry
(published as ``inbox_notification_created``) and/or a queued e-mail or SMS rendered in their
language, and every active webhook subscribed to a public event's type gets a queued delivery.
Nothing is sent here: :mod:`notify.delivery` sends what is queued."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crm_common.config import public_url
from crm_common.db import utcnow
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import domain, event_log, public_events
from . import events as ev
from . import models as m
from .store import CT, C, N, U, W, insert_ignore, load_rule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Message:
    """One event's notification under one rule: what every recipient's copy is rendered from."""

    event_type: str
    event_id: str
    payload: Mapping[str, Any]
    rule: domain.Rule
    overrides: dict | None
    customer_name: Any
    now: dt.datetime

    def render(self, language: str, ctx: Mapping[str, Any]) -> domain.Rendered:
        rendered = domain.render(self.rule.template, language, ctx, self.overrides)
        report_template_error(rendered, self.event_type, self.event_id)
        return rendered


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
    users = _users_named(s, spec)
    customer_language = payload.get("language") or (customer["language"] if customer else None)
    customer_name = payload.get("customer_name") or (customer["name"] if customer else None)
    msg = _Message(event_type, event_id, payload, rule, overrides, customer_name, utcnow())
    notified = queued = 0
    base_url = public_url()
    staff_links = domain.document_links(payload, base_url, domain.STAFF)
    for user in users.values():
        if user.get("active") is False:
            continue
        n, q = _notify_user(uow, msg, user, staff_links)
        notified += n
        queued += q
    if spec.contacts and ({"email", "sms"} & set(rule.channels)):
        people = contact_people(s, customer, payload)
        queued += _notify_contacts(s, msg, people, domain.choose_language(customer_language), base_url)
    return notified, queued


def _users_named(session: Session, spec: domain.RecipientSpec) -> dict[int, Mapping]:
    """The users a recipient spec names: by id, by role, the department's head."""
    users: dict[int, Mapping] = {}
    if spec.user_ids:
        for row in session.execute(select(m.users).where(U.id.in_(spec.user_ids))).mappings():
            users[row["id"]] = row
        for uid in spec.user_ids:  # a user we have not heard of yet still gets an inbox entry
            users.setdefault(
                uid, {"id": uid, "active": True, "language": None, "email": None, "full_name": None}
            )
    if spec.roles:
        for row in session.execute(select(m.users).where(U.active.is_(True))).mappings():
            if set(row["roles"] or ()) & set(spec.roles):
                users[row["id"]] = row
    if spec.department_head_of:
        heads = select(m.users).where(
            U.active.is_(True), U.is_department_head.is_(True), U.department == spec.department_head_of
        )
        for row in session.execute(heads).mappings():
            users[row["id"]] = row
    return users


def _notify_user(uow, msg: _Message, user: Mapping, links: Mapping[str, str]) -> tuple[int, int]:
    """One user's inbox entry (published) and queued e-mail/SMS: (notified, queued)."""
    s, channels, event_id, event_type, now = (
        uow.session,
        msg.rule.channels,
        msg.event_id,
        msg.event_type,
        msg.now,
    )
    lang = domain.choose_language(user.get("language"))
    ctx = domain.template_context(
        event_type,
        msg.payload,
        customer_name=msg.customer_name,
        recipient_name=user.get("full_name"),
        **links,
    )
    rendered = msg.render(lang, ctx)
    doc_type, doc_id = document_of(event_type, msg.payload)
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
    notified = queued = 0
    if "inbox" in channels and insert_ignore(s, m.notifications, entry):
        entry["id"] = s.execute(
            select(N.id).where(N.event_id == event_id, N.user_id == user["id"])
        ).scalar_one()
        published = ev.inbox_notification_created_payload.dump({**entry, "read_at": None})
        uow.publish(ev.INBOX_NOTIFICATION_CREATED, published)
        notified += 1
    if "email" in channels and user.get("email"):
        queued += queue_delivery(s, "email", event_id, event_type, user["email"], rendered, now, user["id"])
    if "sms" in channels and user.get("phone"):
        queued += queue_delivery(s, "sms", event_id, event_type, user["phone"], rendered, now, user["id"])
    return notified, queued


def _notify_contacts(session: Session, msg: _Message, people: list[dict], lang: str, base_url: str) -> int:
    """Queued e-mail/SMS to the customer's contacts: links into the customer portal, the invoice
    PDF attached. The number queued."""
    channels, event_id, event_type, now = msg.rule.channels, msg.event_id, msg.event_type, msg.now
    links = domain.document_links(msg.payload, base_url, domain.CUSTOMER)
    attachments = domain.email_attachments(event_type, msg.payload, domain.CUSTOMER)
    queued = 0
    for person in people:
        ctx = domain.template_context(
            event_type,
            msg.payload,
            customer_name=msg.customer_name,
            recipient_name=person.get("name"),
            pdf_attached=bool(attachments),
            **links,
        )
        rendered = msg.render(lang, ctx)
        if "email" in channels and person.get("email"):
            queued += queue_delivery(
                session,
                "email",
                event_id,
                event_type,
                person["email"],
                rendered,
                now,
                attachments=attachments,
            )
        if "sms" in channels and person.get("phone"):
            if attachments:  # a text message carries no PDF: do not say it does
                rendered = domain.render(
                    msg.rule.template, lang, {**ctx, "pdf_attached": False}, msg.overrides
                )
            queued += queue_delivery(session, "sms", event_id, event_type, person["phone"], rendered, now)
    return queued


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
    """A queued delivery per active webhook subscribed to the event's type (or ``*``); public
    events of the catalogue and notify's reminders only, never ``webhook_delivered`` (a loop)."""
    event_type = envelope["type"]
    if event_type in public_events.NOT_FOR_WEBHOOKS:
        return 0
    subs = (
        session.execute(select(m.webhooks).where(W.active.is_(True), W.deleted_at.is_(None))).mappings().all()
    )
    body = event_log.envelope_body(envelope)
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
