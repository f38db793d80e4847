"""Notify's read copies of other services' data, kept from their events: users (the gateway's
``user_created`` / ``user_updated``) and customers with their contacts (the customers service's
customer events and the contact a ``follow_up_due`` carries). A stale event (older than the copy)
changes nothing (:func:`crm_common.readcopy.apply_newer`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_common.readcopy import USER_DEFAULTS, apply_newer, event_time, user_values
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import models as m
from .payload_fields import as_date
from .store import CT

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
        values["birthday"] = as_date(payload.get("birthday"))
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
