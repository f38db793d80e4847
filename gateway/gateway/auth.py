"""Passwords (argon2id, hashed and verified in a worker thread: it is CPU and memory heavy) and
access tokens (JWT HS256: ``sub`` = user id, ``username``, ``roles``, ``ver`` = the user's token
version, ``sid`` = the session, ``iat``, ``exp``). A token whose ``ver`` is not the user's
current one, or whose session was revoked, is refused (deps.get_current_user)."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
import secrets
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.concurrency import run_in_threadpool

JWT_ALGORITHM = "HS256"


CGROUP = Path("/sys/fs/cgroup")
# the share of the process's memory limit password hashes may take at once
HASH_MEMORY_SHARE = 0.5


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_limits(root: Path = CGROUP) -> tuple[float | None, int | None]:
    """The CPUs and bytes of memory this process's cgroup (v2, else v1) allows; None: no limit."""
    cpus: float | None = None
    memory: int | None = None
    cpu_max = _read(root / "cpu.max")  # v2: "<quota> <period>" or "max <period>"
    if cpu_max:
        quota, _, period = cpu_max.partition(" ")
        if quota.isdigit() and period.isdigit() and int(period):
            cpus = int(quota) / int(period)
    else:
        v1_quota = _read(root / "cpu" / "cpu.cfs_quota_us") or ""
        v1_period = _read(root / "cpu" / "cpu.cfs_period_us") or ""
        if v1_quota.isdigit() and v1_period.isdigit() and int(v1_period):  # "-1": no limit
            cpus = int(v1_quota) / int(v1_period)
    mem = _read(root / "memory.max") or _read(root / "memory" / "memory.limit_in_bytes")
    if mem and mem.isdigit() and int(mem) < 1 << 60:  # v1 says "no limit" with a huge number
        memory = int(mem)
    return cpus, memory


def hash_concurrency(memory_cost_kib: int, root: Path = CGROUP) -> int:
    """How many argon2 hashes may run at once: no more than the CPUs the process may use (its
    affinity and cgroup quota), and no more than fit in half its memory limit."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    quota, memory = cgroup_limits(root)
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    if memory is not None:
        cpus = min(cpus, int(memory * HASH_MEMORY_SHARE) // (memory_cost_kib * 1024))
    return max(1, cpus)


class Passwords:
    """argon2id hashing with bounded concurrency (each hash takes ~64 MiB and tens of ms): at
    most :func:`hash_concurrency` at once, the others wait their turn."""

    def __init__(self, hasher: PasswordHasher | None = None, concurrency: int | None = None):
        self.hasher = hasher or PasswordHasher()
        self._concurrency = concurrency or hash_concurrency(self.hasher.memory_cost)
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
    secret: str,
    user_id: int,
    username: str,
    roles: list[str],
    ttl_minutes: int,
    token_version: int,
    session_id: str,
    not_after: dt.datetime | None = None,
) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds: ``ttl_minutes``, cut to the session's
    end (``not_after``) when that comes first."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    expires = now + dt.timedelta(minutes=ttl_minutes)
    if not_after is not None and not_after < expires:
        expires = max(now + dt.timedelta(seconds=1), not_after.replace(microsecond=0))
    claims = {
        "sub": str(user_id),
        "username": username,
        "roles": list(roles),
        "ver": token_version,
        "sid": session_id,
        "jti": secrets.token_hex(8),
        "iat": now,
        "exp": expires,
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM), int((expires - now).total_seconds())


class InvalidToken(Exception):
    pass


def decode_access_token(secret: str, token: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "exp", "iat", "ver", "sid"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("Token expired") from None
    except jwt.PyJWTError:
        raise InvalidToken("Invalid token") from None
    sub, ver, sid = claims.get("sub"), claims.get("ver"), claims.get("sid")
    if not isinstance(sub, str) or not sub.isdigit() or not sub.isascii():
        raise InvalidToken("Invalid token")
    if not isinstance(ver, int) or isinstance(ver, bool) or not isinstance(sid, str) or not sid:
        raise InvalidToken("Invalid token")
    return claims
