"""User rules and storage (the gateway's own database). Synchronous: routes run these in a
worker thread. Every change commits with its ``user_created``/``user_updated`` event (outbox) and
its audit record in one transaction (crm_common's unit of work)."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from typing import Any

from crm_common.context import ROLES, CallerContext
from crm_common.db import DatabaseHandle, changes_between, utcnow
from crm_common.errors import Conflict, NotFound, ValidationFailed
from crm_common.paging import sorted_query
from sqlalchemy import String, cast, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from .models import RefreshToken, User

log = logging.getLogger(__name__)

LANGUAGES = ("en", "zh", "tr", "bg")
PUBLIC_FIELDS = (
    "id",
    "username",
    "roles",
    "full_name",
    "email",
    "department",
    "is_department_head",
    "customer_id",
    "active",
    "language",
)
UPDATABLE_FIELDS = (
    "roles",
    "full_name",
    "email",
    "department",
    "is_department_head",
    "customer_id",
    "active",
    "language",
)
# a change of one of these (or of the password) ends every session of the user at once
SESSION_FIELDS = ("roles", "active", "customer_id")


def username_key(username: str) -> str:
    """The unique key of a username: NFKC-normalised and casefolded (``Ａlice`` = ``alice``)."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


@dataclass(frozen=True)
class UserInfo:
    """What a request needs to know about its authenticated user."""

    id: int
    username: str
    roles: tuple[str, ...]
    department: str | None
    customer_id: int | None
    active: bool
    token_version: int = 0
    # set when the request was made with an API key (see api_keys.py): no user account then
    api_key_id: int | None = None
    # the profile language (en | zh | tr | bg): error messages are answered in it (errors.py)
    language: str | None = None

    def caller(self, request_id: str | None) -> CallerContext:
        return CallerContext(
            user_id=self.id if self.api_key_id is None else None,
            username=self.username,
            roles=self.roles,
            department=self.department,
            customer_id=self.customer_id,
            request_id=request_id,
        )

    def has_any(self, roles) -> bool:
        return bool(set(self.roles) & set(roles))

    @property
    def is_portal(self) -> bool:
        return "portal" in self.roles or self.customer_id is not None


def info(user: User) -> UserInfo:
    return UserInfo(
        user.id,
        user.username,
        tuple(user.roles or ()),
        user.department,
        user.customer_id,
        bool(user.active),
        user.token_version or 0,
        language=user.language,
    )


def public(user: User) -> dict[str, Any]:
    out = {name: getattr(user, name) for name in PUBLIC_FIELDS}
    out["roles"] = list(user.roles or [])
    out["created_at"] = user.created_at.isoformat() if user.created_at else None
    out["updated_at"] = user.updated_at.isoformat() if user.updated_at else None
    return out


def event_payload(user: User) -> dict[str, Any]:
    """The payload of ``user_created``/``user_updated`` (never the password hash)."""
    out = {name: getattr(user, name) for name in PUBLIC_FIELDS}
    out["roles"] = list(user.roles or [])
    return out


# --------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------


def check_roles(roles: list[str], customer_id: int | None) -> None:
    """Roles exist; ``portal`` users belong to one customer and have no internal role; only
    portal users carry a customer."""
    problems: dict[str, list[str]] = {}
    unknown = [r for r in roles if r not in ROLES]
    if not roles:
        problems.setdefault("roles", []).append("at least one role is required")
    if unknown:
        problems.setdefault("roles", []).append(
            f"unknown role(s) {', '.join(unknown)}; known: {', '.join(ROLES)}"
        )
    if "portal" in roles:
        if len(set(roles)) > 1:
            problems.setdefault("roles", []).append("a portal user has no other role")
        if customer_id is None:
            problems.setdefault("customer_id", []).append("required for a portal user")
    elif customer_id is not None:
        problems.setdefault("customer_id", []).append("only portal users belong to a customer")
    if problems:
        raise ValidationFailed("Invalid input: " + ", ".join(sorted(problems)), problems)


def _active_admin_ids(session) -> list[int]:
    rows = session.execute(
        select(User.id, User.roles)
        .where(User.active.is_(True))
        .where(cast(User.roles, String).like('%"admin"%'))
    ).all()
    return [r.id for r in rows if "admin" in (r.roles or [])]


# --------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------


def get_user(db: DatabaseHandle, user_id: int) -> dict[str, Any]:
    with db.read() as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound(f"User {user_id} not found", {"id": user_id})
        return public(user)


def get_user_info(db: DatabaseHandle, user_id: int) -> UserInfo | None:
    with db.read() as s:
        user = s.get(User, user_id)
        return info(user) if user is not None else None


def find_for_login(db: DatabaseHandle, username: str) -> tuple[UserInfo, str] | None:
    """The user and password hash for a login name (case-insensitive), or None."""
    with db.read() as s:
        user = find_by_username(s, username)
        if user is None:
            return None
        return info(user), user.password_hash


def password_hash_of(db: DatabaseHandle, user_id: int) -> str | None:
    with db.read() as s:
        return s.execute(select(User.password_hash).where(User.id == user_id)).scalar()


# the fields the user list may be sorted by (``sort=["username"]``) and their columns
USER_SORT = {
    "username": User.username_key, "full_name": User.full_name, "email": User.email,
    "department": User.department, "created_at": User.created_at, "id": User.id,
}  # fmt: skip


def list_users(
    db: DatabaseHandle,
    page: int,
    page_size: int,
    q: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    sort: list[str] | None = None,
) -> dict[str, Any]:
    query = select(User)
    if q:
        like = f"%{q.casefold()}%"
        query = query.where(
            or_(
                User.username_key.like(like),
                func.lower(User.full_name).like(like),
                func.lower(User.email).like(like),
            )
        )
    if role:
        # roles is a JSON list of known names: its text holds '"<role>"' exactly when it has it
        query = query.where(cast(User.roles, String).like(f'%"{role}"%'))
    if active is not None:
        query = query.where(User.active.is_(active))
    with db.read() as s:
        total = s.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        users = (
            s.execute(
                sorted_query(query, sort, USER_SORT, User.id).offset((page - 1) * page_size).limit(page_size)
            )
            .scalars()
            .all()
        )
        items = [public(u) for u in users]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def admin_exists(db: DatabaseHandle) -> bool:
    with db.read() as s:
        return bool(_active_admin_ids(s))


# --------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------


def create_user(
    db: DatabaseHandle, caller: CallerContext, data: dict[str, Any], password_hash: str
) -> dict[str, Any]:
    """``data``: username, roles and the optional profile fields (already shape-checked)."""
    try:
        with db.transaction(caller) as uow:
            result = public(insert_user(uow, data, password_hash))
    except IntegrityError:
        raise Conflict(f"Username {data['username']!r} is taken", {"username": ["already taken"]}) from None
    log.info("user %s (%s) created with roles %s", result["id"], result["username"], result["roles"])
    return result


def find_by_username(session, username: str) -> User | None:
    return session.execute(select(User).where(User.username_key == username_key(username))).scalar()


def insert_user(uow, data: dict[str, Any], password_hash: str) -> User:
    """Add a user inside the caller's unit of work, with its ``user_created`` event and audit
    record (a taken username → 409)."""
    roles = list(dict.fromkeys(data["roles"]))
    check_roles(roles, data.get("customer_id"))
    s = uow.session
    if find_by_username(s, data["username"]) is not None:
        raise Conflict(f"Username {data['username']!r} is taken", {"username": ["already taken"]})
    now = utcnow()
    user = User(
        username=data["username"].strip(),
        username_key=username_key(data["username"]),
        password_hash=password_hash,
        roles=roles,
        full_name=data.get("full_name"),
        email=data.get("email"),
        department=data.get("department"),
        is_department_head=bool(data.get("is_department_head", False)),
        customer_id=data.get("customer_id"),
        active=bool(data.get("active", True)),
        language=data.get("language") or "en",
        token_version=0,
        created_at=now,
        updated_at=now,
    )
    s.add(user)
    s.flush()
    uow.publish("user_created", event_payload(user))
    uow.audit("user", user.id, "create", changes_between({}, event_payload(user)))
    return user


def update_user(
    db: DatabaseHandle,
    caller: CallerContext,
    user_id: int,
    changes: dict[str, Any],
    password_hash: str | None = None,
) -> dict[str, Any]:
    """Apply ``changes`` (a subset of :data:`UPDATABLE_FIELDS`) and/or a new password hash."""
    with db.transaction(caller) as uow:
        return public(change_user(uow, user_id, changes, password_hash))


def change_user(uow, user_id: int, changes: dict[str, Any], password_hash: str | None = None) -> User:
    """:func:`update_user` inside the caller's unit of work (event and audit record included)."""
    s = uow.session
    user = s.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found", {"id": user_id})
    before = event_payload(user)
    was_admin = user.active and "admin" in (user.roles or [])
    for name, value in changes.items():
        if name not in UPDATABLE_FIELDS:
            raise ValidationFailed.field(name, "cannot be changed")
        if name == "roles":
            value = list(dict.fromkeys(value))
        setattr(user, name, value)
    check_roles(list(user.roles or []), user.customer_id)
    if was_admin and not (user.active and "admin" in user.roles):
        others = [i for i in _active_admin_ids(s) if i != user.id]
        if not others:
            raise Conflict(
                "This change would leave no active administrator",
                {"roles": ["the last active administrator keeps the admin role"]},
            )
    after = event_payload(user)
    diff = changes_between(before, after)
    if password_hash is not None:
        user.password_hash = password_hash
        diff["password"] = ["***", "***"]
    if password_hash is not None or any(name in diff for name in SESSION_FIELDS):
        end_sessions(uow, user, "password" if password_hash is not None else "user_changed")
    if diff:
        user.updated_at = utcnow()
        if after != before:
            uow.publish("user_updated", after)
        uow.audit("user", user.id, "update", diff)
    return user


def end_sessions(uow, user: User, reason: str) -> None:
    """Every token and session of ``user`` ends: its token version goes up (access tokens carry
    it) and its refresh tokens are revoked, in the caller's unit of work."""
    user.token_version = (user.token_version or 0) + 1
    uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def record_login_failure(
    db: DatabaseHandle,
    user_id: int | None,
    username: str,
    address: str,
    reason: str,
    request_id: str | None,
) -> None:
    """Audit a refused sign-in (wrong password, unknown or disabled account: the record says
    which; the answer never does)."""
    caller = CallerContext.system("gateway", request_id)
    with db.transaction(caller) as uow:
        uow.audit(
            "login",
            user_id if user_id is not None else "unknown",
            "login_failed",
            {"username": [None, username[:100]], "address": [None, address[:64]], "reason": [None, reason]},
        )


def rehash_password(db: DatabaseHandle, user_id: int, password_hash: str) -> None:
    """Store a stronger hash of the same password (argon2 parameters raised): no event, no
    audit record — nothing changed for anyone."""
    with db.transaction() as uow:
        user = uow.session.get(User, user_id)
        if user is not None:
            user.password_hash = password_hash


def bootstrap_admin(db: DatabaseHandle, username: str, password_hash: str) -> dict[str, Any] | None:
    """Create the first administrator; None when one exists or another replica just made it
    (the unique username decides)."""
    if admin_exists(db):
        return None
    caller = CallerContext.system("gateway")
    try:
        user = create_user(
            db,
            caller,
            {"username": username, "roles": ["admin"], "full_name": "Administrator"},
            password_hash,
        )
    except Conflict:
        if not admin_exists(db):
            log.warning(
                "no active administrator exists, and the user %r exists without the admin "
                "role: grant it by hand",
                username,
            )
        return None
    log.info("administrator %r created", username)
    return user
