"""``POST /api/v1/auth/token``: OAuth2 password flow → a bearer JWT."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from starlette.concurrency import run_in_threadpool

from .. import users
from ..auth import create_access_token
from ..deps import State
from ..errors import unauthorized
from ..schemas import ErrorBody, Token

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
    token, expires_in = create_access_token(
        state.settings.jwt_secret,
        user.id,
        user.username,
        list(user.roles),
        state.settings.crm_jwt_ttl_minutes,
    )
    return Token(access_token=token, token_type="bearer", expires_in=expires_in)
