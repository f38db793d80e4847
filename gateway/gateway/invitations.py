"""Portal invitations (the gateway's own database): staff invite a customer's person by e-mail;
the link carries a one-time token that sets the password and activates the portal user.

* Inviting creates the portal user **inactive**, with a password hash nothing matches, bound to
  the customer; inviting the same, not yet accepted user again replaces the link (the old one
  stops working). A username that belongs to anyone else → 409, the same answer whoever has it.
* Only the SHA-256 of a token is stored; the link exists in the e-mail only (an administrator's
  answer carries it when no e-mail could be queued, to pass on by other means).
* Accepting is one conditional update (``status = 'pending'``): of two concurrent accepts one
  wins, the other gets 404; an expired link → 410.

Synchronous: routes run these in a worker thread."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, utcnow
from crm_common.errors import Conflict, NotFound
from crm_common.paging import sorted_query
from sqlalchemy import func, select, update

from . import users
from .models import Invitation, User

PENDING, ACCEPTED, REVOKED = "pending", "accepted", "revoked"
# never matches a password: argon2 refuses to verify it (login answers 401 like a wrong password)
UNUSABLE_PASSWORD = "!invited"


class Expired(Exception):
    """The link is right but too old (→ 410)."""


def new_token() -> tuple[str, str]:
    """A fresh token (43 URL-safe characters, 256 bits) and the hash that is stored."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def public(inv: Invitation, user: User) -> dict[str, Any]:
    status = inv.status
    if status == PENDING and inv.expires_at <= utcnow():
        status = "expired"
    return {
        "id": inv.id,
        "user_id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "email": inv.email,
        "customer_id": user.customer_id,
        "language": user.language,
        "status": status,
        "expires_at": inv.expires_at.isoformat(),
        "created_at": inv.created_at.isoformat() if inv.created_at else None,
        "created_by": inv.created_by,
        "accepted_at": inv.used_at.isoformat() if inv.used_at and inv.status == ACCEPTED else None,
        "delivery_id": inv.delivery_id,
    }


def not_available() -> Conflict:
    """One answer for every username an invitation cannot take — a staff user's, another
    customer's portal user's, an accepted one's — so it tells nothing about whose it is."""
    return Conflict(
        "This username cannot be used for an invitation: choose another", {"username": ["not available"]}
    )


def _revoke_pending(session, user_id: int, now: dt.datetime) -> None:
    session.execute(
        update(Invitation)
        .where(Invitation.user_id == user_id, Invitation.status == PENDING)
        .values(status=REVOKED, used_at=now)
    )


def create_invitation(
    db: DatabaseHandle, caller: CallerContext, data: dict[str, Any], digest: str, valid_for: dt.timedelta
) -> dict[str, Any]:
    """Invite ``data`` = customer_id, email, username (default the e-mail), full_name?,
    language? — a new inactive portal user, or a new link for one who never accepted."""
    now = utcnow()
    username = data.get("username") or data["email"]
    with db.transaction(caller) as uow:
        s = uow.session
        user = users.find_by_username(s, username)
        if user is None:
            user = users.insert_user(
                uow,
                {
                    "username": username,
                    "roles": ["portal"],
                    "customer_id": data["customer_id"],
                    "email": data["email"],
                    "full_name": data.get("full_name"),
                    "language": data.get("language") or "en",
                    "active": False,
                },
                UNUSABLE_PASSWORD,
            )
        else:
            if not _never_accepted(s, user) or user.customer_id != data["customer_id"]:
                raise not_available()
            changes = {k: data[k] for k in ("email", "full_name", "language") if data.get(k)}
            users.change_user(uow, user.id, changes)
            _revoke_pending(s, user.id, now)
        inv = _add(uow, user, data["email"], digest, now + valid_for, caller, {"user_id": [None, user.id]})
        return public(inv, user)


def _add(
    uow, user: User, email: str, digest: str, expires_at: dt.datetime, caller, audit: dict
) -> Invitation:
    inv = Invitation(
        user_id=user.id,
        token_hash=digest,
        email=email,
        status=PENDING,
        expires_at=expires_at,
        created_at=utcnow(),
        created_by=caller.user_id,
    )
    uow.session.add(inv)
    uow.session.flush()
    uow.audit("invitation", inv.id, "create", {**audit, "email": [None, email]})
    return inv


def _never_accepted(session, user: User) -> bool:
    """An invited portal user who never set a password (a pending or revoked invitation, none
    accepted, still inactive)."""
    if user.active or user.roles != ["portal"] or user.password_hash != UNUSABLE_PASSWORD:
        return False
    accepted = session.execute(
        select(func.count()).where(Invitation.user_id == user.id, Invitation.status == ACCEPTED)
    ).scalar_one()
    return accepted == 0


def renew_invitation(
    db: DatabaseHandle, caller: CallerContext, invitation_id: int, digest: str, valid_for: dt.timedelta
) -> dict[str, Any]:
    """A new link for the invitation's user (the previous one stops working); 409 once accepted."""
    now = utcnow()
    with db.transaction(caller) as uow:
        s = uow.session
        old = s.get(Invitation, invitation_id)
        if old is None:
            raise NotFound(f"Invitation {invitation_id} not found", {"id": invitation_id})
        user = s.get(User, old.user_id)
        if user is None or not _never_accepted(s, user):
            raise Conflict("The invitation was accepted already", {"status": [old.status]})
        _revoke_pending(s, user.id, now)
        inv = _add(uow, user, old.email, digest, now + valid_for, caller, {"renews": [None, old.id]})
        return public(inv, user)


def set_delivery(db: DatabaseHandle, invitation_id: int, delivery_id: int | None) -> None:
    with db.transaction() as uow:
        uow.session.execute(
            update(Invitation).where(Invitation.id == invitation_id).values(delivery_id=delivery_id)
        )


def get_invitation(db: DatabaseHandle, invitation_id: int) -> tuple[dict[str, Any], int | None]:
    """The invitation and the id of the user who created it."""
    with db.read() as s:
        inv = s.get(Invitation, invitation_id)
        user = s.get(User, inv.user_id) if inv is not None else None
        if inv is None or user is None:
            raise NotFound(f"Invitation {invitation_id} not found", {"id": invitation_id})
        return public(inv, user), inv.created_by


# the fields the invitation list may be sorted by and their columns
INVITATION_SORT = {
    "created_at": Invitation.created_at, "expires_at": Invitation.expires_at, "status": Invitation.status,
    "email": Invitation.email, "id": Invitation.id,
}  # fmt: skip


def list_invitations(
    db: DatabaseHandle,
    page: int,
    page_size: int,
    customer_id: int | None = None,
    status: str | None = None,
    created_by: int | None = None,
    sort: list[str] | None = None,
) -> dict[str, Any]:
    query = select(Invitation, User).join(User, User.id == Invitation.user_id)
    if customer_id is not None:
        query = query.where(User.customer_id == customer_id)
    if created_by is not None:
        query = query.where(Invitation.created_by == created_by)
    now = utcnow()
    if status == "expired":
        query = query.where(Invitation.status == PENDING, Invitation.expires_at <= now)
    elif status == PENDING:
        query = query.where(Invitation.status == PENDING, Invitation.expires_at > now)
    elif status is not None:
        query = query.where(Invitation.status == status)
    with db.read() as s:
        total = s.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = s.execute(
            sorted_query(query, sort, INVITATION_SORT, Invitation.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        ).all()
        items = [public(inv, user) for inv, user in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def revoke_invitation(db: DatabaseHandle, caller: CallerContext, invitation_id: int) -> dict[str, Any]:
    with db.transaction(caller) as uow:
        s = uow.session
        inv = s.get(Invitation, invitation_id)
        if inv is None:
            raise NotFound(f"Invitation {invitation_id} not found", {"id": invitation_id})
        if inv.status != PENDING:
            raise Conflict(f"The invitation is {inv.status}", {"status": [inv.status]})
        inv.status, inv.used_at = REVOKED, utcnow()
        uow.audit("invitation", inv.id, "revoke", {"status": [PENDING, REVOKED]})
        return public(inv, s.get(User, inv.user_id))


def _pending(session, digest: str) -> tuple[Invitation, User]:
    inv = session.execute(select(Invitation).where(Invitation.token_hash == digest)).scalar()
    if inv is None or inv.status != PENDING:
        raise NotFound("This invitation link is unknown or was used already", {"token": ["unknown or used"]})
    if inv.expires_at <= utcnow():
        raise Expired("This invitation link has expired: ask for a new one")
    user = session.get(User, inv.user_id)
    if user is None:  # pragma: no cover - the foreign key keeps it
        raise NotFound("This invitation link is unknown or was used already", {"token": ["unknown or used"]})
    return inv, user


def peek(db: DatabaseHandle, digest: str) -> dict[str, Any]:
    """What the accept page shows: whom the link is for (404 unknown or used, :class:`Expired`)."""
    with db.read() as s:
        inv, user = _pending(s, digest)
        return {
            "username": user.username,
            "full_name": user.full_name,
            "email": inv.email,
            "language": user.language,
            "expires_at": inv.expires_at.isoformat(),
        }


def accept(db: DatabaseHandle, digest: str, password_hash: str) -> users.UserInfo:
    """Set the password and activate the user; the link is used up."""
    now = utcnow()
    with db.transaction(CallerContext.system("gateway")) as uow:
        s = uow.session
        inv, user = _pending(s, digest)
        won = s.execute(
            update(Invitation)
            .where(Invitation.id == inv.id, Invitation.status == PENDING)
            .values(status=ACCEPTED, used_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won != 1:  # another request accepted it a moment ago
            raise NotFound("This invitation link was used already", {"token": ["used"]})
        user = users.change_user(uow, user.id, {"active": True}, password_hash)
        uow.audit("invitation", inv.id, "accept", {"status": [PENDING, ACCEPTED]})
        return users.info(user)
