"""Sessions: a login starts one (a *family* of refresh tokens); each refresh rotates its token
for a new one of the same family; presenting a token already rotated (stolen, replayed) revokes
the whole family. Logout revokes it; so does any change that bumps the user's token version.

Refresh tokens are random strings (``secrets.token_urlsafe``); only their SHA-256 is stored.
Every token of a family ends with the session (``CRM_REFRESH_TTL_HOURS`` after the login):
rotation never extends it. Synchronous: routes run these in a worker thread."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, utcnow
from sqlalchemy import select, update

from . import users
from .models import RefreshToken, User

log = logging.getLogger(__name__)

TOKEN_BYTES = 32


class SessionEnded(Exception):
    """The refresh token cannot be used (unknown, expired, revoked, reused): sign in again.
    ``family_id``: the session revoked just now, if any (caches forget it)."""

    def __init__(self, message: str, family_id: str | None = None):
        super().__init__(message)
        self.family_id = family_id


@dataclass(frozen=True)
class Issued:
    user: users.UserInfo
    refresh_token: str
    family_id: str
    expires_at: dt.datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _add_token(session, user: User, family_id: str, expires_at: dt.datetime) -> str:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        RefreshToken(
            token_hash=token_hash(token),
            family_id=family_id,
            user_id=user.id,
            token_version=user.token_version,
            created_at=utcnow(),
            expires_at=expires_at,
        )
    )
    return token


def start(db: DatabaseHandle, user_id: int, ttl_seconds: int) -> Issued:
    """A new session of an (authenticated) user: its first refresh token."""
    with db.transaction() as uow:
        user = uow.session.get(User, user_id)
        if user is None or not user.active:
            raise SessionEnded("The user does not exist or is disabled")
        family_id = secrets.token_hex(16)
        expires_at = utcnow() + dt.timedelta(seconds=ttl_seconds)
        token = _add_token(uow.session, user, family_id, expires_at)
        return Issued(users.info(user), token, family_id, expires_at)


def _revoke(session, reason: str, now: dt.datetime, *conditions) -> int:
    return session.execute(
        update(RefreshToken)
        .where(RefreshToken.revoked_at.is_(None), *conditions)
        .values(revoked_at=now, revoked_reason=reason)
    ).rowcount


def rotate(db: DatabaseHandle, token: str) -> Issued:
    """Use a refresh token: it is spent, and a new one of its family is issued. A token spent
    before (a replay, or two requests racing with one token) revokes its whole family."""
    digest = token_hash(token)
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        row = s.execute(select(RefreshToken).where(RefreshToken.token_hash == digest)).scalar()
        if row is None or row.revoked_at is not None:
            raise SessionEnded("The session has ended: sign in again")
        if row.expires_at <= now:
            raise SessionEnded("The session has expired: sign in again")
        family, user_id = row.family_id, row.user_id
        user = s.get(User, user_id)
        if user is None or not user.active or user.token_version != row.token_version:
            reason = "user_changed"
        else:
            # spend it only if nobody else just did: of two requests with one token, one wins
            spent = s.execute(
                update(RefreshToken)
                .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
            if spent == 1:
                new_token = _add_token(s, user, family, row.expires_at)
                return Issued(users.info(user), new_token, family, row.expires_at)
            reason = "reuse"
        _revoke(s, reason, now, RefreshToken.family_id == family)
        uow.audit("session", family, "revoke", {"reason": [None, reason], "user_id": [None, user_id]})
    if reason == "reuse":
        log.warning(
            "a spent refresh token of session %s (user %s) came back: session revoked", family, user_id
        )
    raise SessionEnded("The session has ended: sign in again", family)


def end(db: DatabaseHandle, caller: CallerContext, user_id: int, family_ids: set[str]) -> int:
    """Logout: revoke the named sessions of ``user_id`` (another user's are left alone)."""
    if not family_ids:
        return 0
    with db.transaction(caller) as uow:
        count = _revoke(
            uow.session,
            "logout",
            utcnow(),
            RefreshToken.family_id.in_(family_ids),
            RefreshToken.user_id == user_id,
        )
        if count:
            for family in sorted(family_ids):
                uow.audit("session", family, "logout")
        return count


def family_of(db: DatabaseHandle, token: str) -> str | None:
    with db.read() as s:
        return s.execute(
            select(RefreshToken.family_id).where(RefreshToken.token_hash == token_hash(token))
        ).scalar()


def is_active(db: DatabaseHandle, family_id: str) -> bool:
    """The session is neither revoked nor over (an access token of it may be used)."""
    with db.read() as s:
        row = s.execute(
            select(RefreshToken.id)
            .where(
                RefreshToken.family_id == family_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > utcnow(),
            )
            .limit(1)
        ).first()
        return row is not None
