"""``POST /api/v1/auth/token``: OAuth2 password flow → a bearer JWT. Without a token too: an
invitation link's details and accepting it (the one-time token sets the password)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from starlette.concurrency import run_in_threadpool

from .. import invitations, users
from ..auth import create_access_token
from ..deps import State
from ..errors import ApiError, unauthorized
from ..schemas import ErrorBody, Token
from ..schemas_portal import InvitationAccept

log = logging.getLogger(__name__)

router = APIRouter(prefix="/auth", tags=["auth"])

BAD_LOGIN = "Incorrect username or password"


@router.post("/token", response_model=Token, responses={401: {"model": ErrorBody}})
async def login(state: State, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    found = await run_in_threadpool(users.find_for_login, state.db, form.username)
    if found is None:
        await state.passwords.verify(None, form.password)  # as slow as a wrong password
        log.info("login refused: unknown user")
        raise unauthorized(BAD_LOGIN)
    user, password_hash = found
    if not await state.passwords.verify(password_hash, form.password):
        log.info("login refused: wrong password for user %s", user.id)
        raise unauthorized(BAD_LOGIN)
    if not user.active:
        log.info("login refused: user %s is disabled", user.id)
        raise unauthorized("This account is disabled")
    if state.passwords.needs_rehash(password_hash):
        new_hash = await state.passwords.hash(form.password)
        await run_in_threadpool(users.rehash_password, state.db, user.id, new_hash)
    return issue_token(state, user)


def issue_token(state, user: users.UserInfo) -> Token:
    token, expires_in = create_access_token(
        state.settings.jwt_secret,
        user.id,
        user.username,
        list(user.roles),
        state.settings.crm_jwt_ttl_minutes,
    )
    return Token(access_token=token, token_type="bearer", expires_in=expires_in)


GONE = {404: {"model": ErrorBody}, 410: {"model": ErrorBody, "description": "the link has expired"}}


def _expired() -> ApiError:
    return ApiError(
        410, "This invitation link has expired: ask for a new one", {"token": ["expired"]}, "GONE"
    )


@router.get("/invitations/{token}", responses=GONE)
async def get_invitation(token: str, state: State) -> dict:
    """Whom an invitation link is for: ``{"username", "full_name", "email", "language",
    "expires_at"}``; 404 when unknown or used, 410 when expired."""
    try:
        return await run_in_threadpool(invitations.peek, state.db, invitations.token_hash(token))
    except invitations.Expired:
        raise _expired() from None


@router.post("/invitations/accept", response_model=Token, responses=GONE)
async def accept_invitation(body: InvitationAccept, state: State) -> Token:
    """Set the password of an invited portal user with the link's one-time token; the user is
    active from now on and the answer is a token, as after a login. A used or unknown token →
    404, an expired one → 410."""
    digest = invitations.token_hash(body.token)
    try:
        await run_in_threadpool(invitations.peek, state.db, digest)  # 404 / 410 before hashing
        password_hash = await state.passwords.hash(body.password)
        user = await run_in_threadpool(invitations.accept, state.db, digest, password_hash)
    except invitations.Expired:
        raise _expired() from None
    state.forget_user(user.id)
    log.info("invitation accepted by user %s", user.id)
    return issue_token(state, user)
