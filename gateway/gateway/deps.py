"""Dependencies of the routes: ``CurrentUser``, ``AdminUser``, ``Caller``, ``Rpc``, ``Db``,
``Pagination``, ``Settings``, plus :func:`path_id`.

Every authenticated route resolves ``CurrentUser``: the token's signature and expiry, then its
user (active, same token version) and its session (not logged out), both from short caches; that
is also where a portal user (bound to one customer) is kept to ``/api/v1/portal/*``: 403 on
every other route, whatever its roles say.

Every dependency here is ``async def``: none does blocking I/O, and FastAPI would run a plain
``def`` dependency in the thread pool, a thread hop per dependency per request (measured: 1.3x
the throughput at 16 and 64 clients with them async; bench/gateway_http.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, utcnow
from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from . import api_keys, idempotency, sessions, users
from .auth import InvalidToken, Passwords, decode_access_token
from .errors import ApiError, forbidden, unauthorized
from .middleware import current_request_id
from .rpc import BoundRpc, RpcClient
from .schemas import MAX_ID
from .settings import Settings as GatewaySettings
from .throttle import LoginThrottle

TOKEN_URL = "/api/v1/auth/token"

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


@dataclass
class GatewayState:
    """Everything a gateway process holds (on ``app.state.gateway``)."""

    settings: GatewaySettings
    db: DatabaseHandle
    rpc: RpcClient
    passwords: Passwords
    relay: Any = None
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    _users: dict[int, tuple[float, users.UserInfo]] = field(default_factory=dict)
    _sessions: dict[str, tuple[float, bool]] = field(default_factory=dict)
    _api_keys: dict[str, tuple[float, tuple[int, users.UserInfo] | None]] = field(default_factory=dict)
    _keys_used: dict[int, float] = field(default_factory=dict)

    async def load_user(self, user_id: int) -> users.UserInfo | None:
        """The user, from a short cache (``CRM_USER_CACHE_SECONDS``); a change made through
        this process is seen at once, one made through another replica within the TTL."""
        ttl = self.settings.crm_user_cache_seconds
        now = time.monotonic()
        hit = self._users.get(user_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        user = await run_in_threadpool(users.get_user_info, self.db, user_id)
        if user is not None and ttl > 0:
            if len(self._users) > 10_000:
                self._users.clear()
            self._users[user_id] = (now + ttl, user)
        return user

    def forget_user(self, user_id: int) -> None:
        self._users.pop(user_id, None)

    async def session_active(self, session_id: str) -> bool:
        """Whether a session was not logged out or revoked, from the same short cache."""
        ttl = self.settings.crm_user_cache_seconds
        now = time.monotonic()
        hit = self._sessions.get(session_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        active = await run_in_threadpool(sessions.is_active, self.db, session_id)
        if ttl > 0:
            if len(self._sessions) > 10_000:
                self._sessions.clear()
            self._sessions[session_id] = (now + ttl, active)
        return active

    def forget_session(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    async def load_api_key(self, key: str) -> users.UserInfo | None:
        """The identity of an API key (same short cache); its last-used time is written at most
        once a minute per key and process."""
        ttl = self.settings.crm_user_cache_seconds
        now = time.monotonic()
        digest = api_keys.key_hash(key)
        hit = self._api_keys.get(digest)
        if hit is not None and hit[0] > now:
            found = hit[1]
        else:
            found = await run_in_threadpool(api_keys.authenticate, self.db, key)
            if ttl > 0:
                if len(self._api_keys) > 10_000:
                    self._api_keys.clear()
                self._api_keys[digest] = (now + ttl, found)
        if found is None:
            return None
        key_id, identity = found
        if now - self._keys_used.get(key_id, -LAST_USED_EVERY) >= LAST_USED_EVERY:
            self._keys_used[key_id] = now
            await run_in_threadpool(api_keys.touch, self.db, key_id, utcnow())
        return identity

    def forget_api_key(self, key_id: int) -> None:
        for digest, (_, found) in list(self._api_keys.items()):
            if found is not None and found[0] == key_id:
                del self._api_keys[digest]


async def get_state(request: Request) -> GatewayState:
    return request.app.state.gateway


State = Annotated[GatewayState, Depends(get_state)]


async def get_settings(state: State) -> GatewaySettings:
    return state.settings


Settings = Annotated[GatewaySettings, Depends(get_settings)]


async def get_db(state: State) -> DatabaseHandle:
    return state.db


Db = Annotated[DatabaseHandle, Depends(get_db)]


LAST_USED_EVERY = 60.0  # seconds between two writes of an API key's last-used time


async def get_current_user(
    request: Request, state: State, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> users.UserInfo:
    api_key = request.headers.get("x-api-key") or (
        token if token and api_keys.looks_like_key(token) else None
    )
    if api_key:
        identity = await state.load_api_key(api_key)
        if identity is None:
            raise unauthorized("Unknown, revoked or expired API key")
        request.state.user = identity
        request.state.session_id = None
        return identity
    if not token:
        raise unauthorized("Not authenticated: send Authorization: Bearer <token>")
    try:
        claims = decode_access_token(state.settings.jwt_secret, token)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None
    user = await state.load_user(int(claims["sub"]))
    if user is None or not user.active:
        raise unauthorized("The token's user does not exist or is disabled")
    if claims["ver"] != user.token_version or not await state.session_active(claims["sid"]):
        raise unauthorized("The session has ended: sign in again")
    if user.is_portal and not api_path(request).startswith(PORTAL_PREFIX):
        raise forbidden(
            f"Portal users use {PORTAL_PREFIX}* only",
            {"roles": list(user.roles), "allowed": PORTAL_PREFIX + "*"},
        )
    request.state.user = user
    request.state.session_id = claims["sid"]
    return user


PORTAL_PREFIX = "/api/v1/portal/"


def api_path(request: Request) -> str:
    """The request's path as the app routes it (without a ``root_path`` a proxy mounted it at)."""
    path: str = request.scope.get("path", "")
    root: str = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


CurrentUser = Annotated[users.UserInfo, Depends(get_current_user)]


async def get_person(user: CurrentUser) -> users.UserInfo:
    if user.api_key_id is not None:
        raise forbidden("An API key has no user account or session: sign in as a user for this")
    return user


# a signed-in person (not an API key): their own profile, password and session
PersonUser = Annotated[users.UserInfo, Depends(get_person)]


def require_roles(*roles: str) -> Callable[..., Any]:
    async def dependency(user: CurrentUser) -> users.UserInfo:
        if not user.has_any(roles):
            raise forbidden(
                f"Requires one of the roles: {', '.join(roles)}",
                {"required_roles": list(roles), "roles": list(user.roles)},
            )
        return user

    dependency.__name__ = f"require_{'_or_'.join(roles)}"
    return dependency


AdminUser = Annotated[users.UserInfo, Depends(require_roles("admin"))]


async def get_caller(request: Request, user: CurrentUser) -> CallerContext:
    """The caller sent with every RPC call; its request id is the one derived from the
    client's ``Idempotency-Key`` when the request has one (see :mod:`gateway.idempotency`)."""
    return user.caller(idempotency.request_id_for(request, api_path(request), user) or current_request_id())


Caller = Annotated[CallerContext, Depends(get_caller)]


async def get_rpc(state: State, caller: Caller) -> BoundRpc:
    return BoundRpc(state.rpc, caller)


Rpc = Annotated[BoundRpc, Depends(get_rpc)]


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int


# pages beyond this would need an OFFSET past what the databases take (a 500 before this bound)
MAX_PAGE = 1_000_000


async def get_page(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
    page_size: Annotated[int, Query(ge=1, le=500, description="items per page (max 500)")] = 50,
) -> PageParams:
    return PageParams(page, page_size)


Pagination = Annotated[PageParams, Depends(get_page)]


def path_id(value: str, what: str = "Resource") -> int | str:
    """A path id: a positive integer or a UUID; anything else cannot exist (404)."""
    text = value.strip()
    if text.isdigit() and text.isascii() and 1 <= int(text) <= MAX_ID:
        return int(text)
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ApiError(404, f"{what} {value!r} not found", {"id": value}) from None
