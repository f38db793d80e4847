"""Sign-in and sessions. ``POST /api/v1/auth/token``: OAuth2 password flow → a short access
token (JWT, ``CRM_JWT_TTL_MINUTES``) and a refresh token of a new session; ``POST /auth/refresh``
rotates the refresh token for new tokens; ``POST /auth/logout`` ends the session. Without a token
too: an invitation link's details and accepting it (the one-time token sets the password)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any, Literal

from crm_common.db import utcnow
from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from .. import invitations, password_policy, sessions, throttle, users
from ..auth import create_access_token
from ..deps import Caller, PersonUser, State
from ..errors import ApiError, unauthorized
from ..middleware import current_request_id
from ..schemas import ErrorBody, Strict
from ..schemas_portal import InvitationAccept
from ..views_core import InvitationPublic, ok

log = logging.getLogger(__name__)

router = APIRouter(prefix="/auth", tags=["auth"])

BAD_LOGIN = "Incorrect username or password"


class SessionTokens(BaseModel):
    """An access token for ``Authorization: Bearer`` (``expires_in`` seconds) and the refresh
    token of its session (single use: ``POST /auth/refresh`` answers the next pair; the session
    ends ``refresh_expires_in`` seconds from now, whatever the refreshes)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class RefreshRequest(Strict):
    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutRequest(Strict):
    refresh_token: str | None = Field(None, min_length=1, max_length=200)


THROTTLED = {
    429: {
        "model": ErrorBody,
        "description": "too many failed sign-ins for this account or address; see Retry-After",
    }
}


@router.post("/token", response_model=SessionTokens, responses={401: {"model": ErrorBody}, **THROTTLED})
async def login(
    request: Request, state: State, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> SessionTokens:
    """Sign in. A wrong password, an unknown user and a disabled account get the same 401; after
    a few failures for an account or a client address each attempt waits longer, after more
    they get 429 with ``Retry-After`` (the password is not checked then)."""
    account = users.username_key(form.username)[:100]
    address = request.client.host if request.client else "unknown"
    try:
        delay = state.throttle.begin(account, address)
    except throttle.Throttled as exc:
        log.warning("login throttled: %s more seconds for this account or address", exc.retry_after)
        raise ApiError(
            429, str(exc), {"retry_after": exc.retry_after}, headers={"Retry-After": str(exc.retry_after)}
        ) from None
    if delay:
        await asyncio.sleep(delay)
    found = await run_in_threadpool(users.find_for_login, state.db, form.username)
    user, password_hash = found if found is not None else (None, None)
    # unknown user: a dummy hash is checked, so every refusal takes as long
    verified = await state.passwords.verify(password_hash, form.password)
    if user is None or not verified or not user.active:
        state.throttle.failed(address)
        reason = "unknown user" if user is None else "disabled" if verified else "wrong password"
        log.info("login refused (%s) for user %s", reason, user.id if user else "-")
        await run_in_threadpool(
            users.record_login_failure,
            state.db,
            user.id if user else None,
            form.username,
            address,
            reason,
            current_request_id(),
        )
        raise unauthorized(BAD_LOGIN)
    state.throttle.succeeded(account)
    assert password_hash is not None
    if state.passwords.needs_rehash(password_hash):
        new_hash = await state.passwords.hash(form.password)
        await run_in_threadpool(users.rehash_password, state.db, user.id, new_hash)
    return await start_session(state, user)


async def start_session(state, user: users.UserInfo) -> SessionTokens:
    try:
        issued = await run_in_threadpool(
            sessions.start, state.db, user.id, state.settings.refresh_ttl_seconds
        )
    except sessions.SessionEnded:  # disabled between the password check and now
        raise unauthorized(BAD_LOGIN) from None
    return session_tokens(state, issued)


def session_tokens(state, issued: sessions.Issued) -> SessionTokens:
    user = issued.user
    token, expires_in = create_access_token(
        state.settings.jwt_secret,
        user.id,
        user.username,
        list(user.roles),
        state.settings.crm_jwt_ttl_minutes,
        user.token_version,
        issued.family_id,
        not_after=issued.expires_at,
    )
    remaining = issued.expires_at - utcnow()
    return SessionTokens(
        access_token=token,
        token_type="bearer",
        expires_in=expires_in,
        refresh_token=issued.refresh_token,
        refresh_expires_in=max(1, int(remaining.total_seconds())),
    )


@router.post("/refresh", response_model=SessionTokens, responses={401: {"model": ErrorBody}})
async def refresh(body: RefreshRequest, state: State) -> SessionTokens:
    """A new access token and a new refresh token for a refresh token, which is spent. Using a
    spent one again ends its session (someone else holds a copy): 401, sign in again. Send one
    refresh at a time per session (e.g. one browser tab does it for all)."""
    try:
        issued = await run_in_threadpool(sessions.rotate, state.db, body.refresh_token)
    except sessions.SessionEnded as exc:
        if exc.family_id:
            state.forget_session(exc.family_id)
        raise unauthorized(str(exc)) from None
    return session_tokens(state, issued)


@router.post("/logout", status_code=204, response_class=Response)
async def logout(
    request: Request,
    state: State,
    user: PersonUser,
    caller: Caller,
    body: Annotated[LogoutRequest | None, Body()] = None,
) -> Response:
    """End the session of the access token (and the one of ``refresh_token`` if given, when it
    is the caller's): its refresh tokens stop working, and its access tokens too."""
    families = {request.state.session_id}
    if body is not None and body.refresh_token:
        family = await run_in_threadpool(sessions.family_of, state.db, body.refresh_token)
        if family is not None:
            families.add(family)
    await run_in_threadpool(sessions.end, state.db, caller, user.id, families)
    for family in families:
        state.forget_session(family)
    log.info("user %s logged out", user.id)
    return Response(status_code=204)


GONE = {404: {"model": ErrorBody}, 410: {"model": ErrorBody, "description": "the link has expired"}}


def _expired() -> ApiError:
    return ApiError(
        410, "This invitation link has expired: ask for a new one", {"token": ["expired"]}, "GONE"
    )


@router.get("/invitations/{token}", responses={**ok(InvitationPublic), **GONE})
async def get_invitation(token: str, state: State) -> Any:
    """Whom an invitation link is for: ``{"username", "full_name", "email", "language",
    "expires_at"}``; 404 when unknown or used, 410 when expired."""
    try:
        return await run_in_threadpool(invitations.peek, state.db, invitations.token_hash(token))
    except invitations.Expired:
        raise _expired() from None


@router.post("/invitations/accept", response_model=SessionTokens, responses=GONE)
async def accept_invitation(body: InvitationAccept, state: State) -> SessionTokens:
    """Set the password of an invited portal user with the link's one-time token; the user is
    active from now on and the answer is a token, as after a login. A used or unknown token →
    404, an expired one → 410."""
    digest = invitations.token_hash(body.token)
    try:
        invited = await run_in_threadpool(invitations.peek, state.db, digest)  # 404 / 410 first
        password_policy.require(body.password, invited["username"])
        password_hash = await state.passwords.hash(body.password)
        user = await run_in_threadpool(invitations.accept, state.db, digest, password_hash)
    except invitations.Expired:
        raise _expired() from None
    state.forget_user(user.id)
    log.info("invitation accepted by user %s", user.id)
    return await start_session(state, user)
