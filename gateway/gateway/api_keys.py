"""API keys: what an integration sends (``Authorization: Bearer crm_...`` or ``X-API-Key``)
instead of a person's password. Named, with the roles it acts with (never ``portal``), hashed
(SHA-256; the key is shown once, when created), revocable, optionally expiring, with the time it
was last used (written at most once a minute per key and process).

A request made with a key acts as ``apikey:<id>:<name>`` with the key's roles and no user id:
services give a caller without a user id nothing of the "own records" scopes (a sales rep key
sees no customers), and the audit trail names the key. Synchronous: routes run these in a
worker thread."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, utcnow
from crm_common.errors import Conflict, NotFound, ValidationFailed
from crm_common.paging import sorted_query
from sqlalchemy import func, select, update

from .models import ApiKey
from .users import UserInfo, check_roles

PREFIX = "crm_"
SHOWN = 12  # characters of the key kept to recognise it: "crm_" and 8 more


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(value: str) -> bool:
    return value.startswith(PREFIX)


def public(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "roles": list(key.roles or []),
        "created_by": key.created_by,
        "created_at": key.created_at.isoformat() if key.created_at else None,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "active": key.revoked_at is None and (key.expires_at is None or key.expires_at > utcnow()),
    }


def create(db: DatabaseHandle, caller: CallerContext, data: dict[str, Any]) -> dict[str, Any]:
    """A new key: ``{"name", "roles", "expires_at"?}`` → its record and, once, ``key``."""
    roles = list(dict.fromkeys(data["roles"]))
    if "portal" in roles:
        raise ValidationFailed.field("roles", "an API key acts for the staff, never as a portal user")
    check_roles(roles, None)
    expires_at = data.get("expires_at")
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationFailed.field("expires_at", "must be in the future")
    key = PREFIX + secrets.token_urlsafe(32)
    with db.transaction(caller) as uow:
        s = uow.session
        taken = s.execute(
            select(func.count())
            .select_from(ApiKey)
            .where(ApiKey.name == data["name"], ApiKey.revoked_at.is_(None))
        ).scalar_one()
        if taken:
            raise Conflict(f"An API key named {data['name']!r} exists", {"name": ["already taken"]})
        row = ApiKey(
            name=data["name"],
            prefix=key[:SHOWN],
            key_hash=key_hash(key),
            roles=roles,
            created_by=caller.user_id,
            created_at=utcnow(),
            expires_at=expires_at,
        )
        s.add(row)
        s.flush()
        uow.audit("api_key", row.id, "create", {"name": [None, row.name], "roles": [None, roles]})
        return {**public(row), "key": key}


# the fields the API key list may be sorted by and their columns
KEY_SORT = {
    "name": ApiKey.name, "created_at": ApiKey.created_at, "expires_at": ApiKey.expires_at,
    "last_used_at": ApiKey.last_used_at, "id": ApiKey.id,
}  # fmt: skip


def list_keys(
    db: DatabaseHandle, page: int, page_size: int, include_revoked: bool, sort: list[str] | None = None
) -> dict[str, Any]:
    query = select(ApiKey)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    with db.read() as s:
        total = s.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = s.execute(
            sorted_query(query, sort, KEY_SORT, ApiKey.id).offset((page - 1) * page_size).limit(page_size)
        ).scalars()
        items = [public(k) for k in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def revoke(db: DatabaseHandle, caller: CallerContext, key_id: int) -> None:
    """Revoke a key (again: nothing changes)."""
    with db.transaction(caller) as uow:
        row = uow.session.get(ApiKey, key_id)
        if row is None:
            raise NotFound(f"API key {key_id} not found", {"id": key_id})
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            row.revoked_by = caller.user_id
            uow.audit("api_key", row.id, "revoke", {"revoked_at": [None, row.revoked_at.isoformat()]})


def authenticate(db: DatabaseHandle, key: str) -> tuple[int, UserInfo] | None:
    """The key's id and the identity it acts as, or None (unknown, revoked, expired)."""
    with db.read() as s:
        row = s.execute(select(ApiKey).where(ApiKey.key_hash == key_hash(key))).scalar()
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and row.expires_at <= utcnow():
            return None
        identity = UserInfo(
            id=0,
            username=f"apikey:{row.id}:{row.name}",
            roles=tuple(row.roles or ()),
            department=None,
            customer_id=None,
            active=True,
            api_key_id=row.id,
        )
        return row.id, identity


def touch(db: DatabaseHandle, key_id: int, at: dt.datetime) -> None:
    with db.transaction() as uow:
        uow.session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=at))
