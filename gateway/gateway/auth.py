"""Passwords (argon2id, hashed and verified in a worker thread: it is CPU and memory heavy) and
tokens (JWT HS256: ``sub`` = user id, ``roles``, ``iat``, ``exp``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.concurrency import run_in_threadpool

JWT_ALGORITHM = "HS256"


class Passwords:
    """argon2id hashing with bounded concurrency (each hash takes ~64 MiB and tens of ms)."""

    def __init__(self, hasher: PasswordHasher | None = None, concurrency: int | None = None):
        self.hasher = hasher or PasswordHasher()
        self._concurrency = concurrency or max(2, os.cpu_count() or 2)
        self._semaphore: asyncio.Semaphore | None = None
        self._dummy_hash: str | None = None

    @property
    def semaphore(self) -> asyncio.Semaphore:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._concurrency)
        return self._semaphore

    async def warm_up(self) -> None:
        """Compute the dummy hash unknown users are checked against (so the first unknown-user
        login is not slower than the others)."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(os.urandom(16).hex())

    async def hash(self, password: str) -> str:
        async with self.semaphore:
            return await run_in_threadpool(self.hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches. With ``password_hash=None`` (unknown user) a dummy hash
        is verified anyway, so both failures take about as long."""
        if password_hash is None:
            await self.warm_up()
            password_hash = self._dummy_hash
            async with self.semaphore:
                await run_in_threadpool(self._verify, password_hash, password)
            return False
        async with self.semaphore:
            return await run_in_threadpool(self._verify, password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except Exception:  # pragma: no cover
            return False


def create_access_token(
    secret: str, user_id: int, username: str, roles: list[str], ttl_minutes: int
) -> tuple[str, int]:
    now = dt.datetime.now(dt.UTC)
    expires_in = ttl_minutes * 60
    claims = {
        "sub": str(user_id),
        "username": username,
        "roles": list(roles),
        "iat": now,
        "exp": now + dt.timedelta(seconds=expires_in),
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM), expires_in


class InvalidToken(Exception):
    pass


def decode_access_token(secret: str, token: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[JWT_ALGORITHM], options={"require": ["sub", "exp", "iat"]}
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("Token expired") from None
    except jwt.PyJWTError:
        raise InvalidToken("Invalid token") from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.isdigit():
        raise InvalidToken("Invalid token")
    return claims
