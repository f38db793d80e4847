"""Users of the gateway (its own database): admins manage them; everyone sees themselves and
changes their own password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from .. import password_policy, users
from ..deps import AdminUser, Caller, Db, Pagination, PersonUser, State, path_id
from ..errors import ApiError
from ..listing import sortable
from ..schemas import ErrorBody, Page, PasswordChange, ProfileUpdate, Role, UserCreate, UserPublic, UserUpdate

router = APIRouter(
    prefix="/users", tags=["users"], responses={401: {"model": ErrorBody}, 422: {"model": ErrorBody}}
)


def _user_id(value: str) -> int:
    """User ids are positive integers; anything else cannot exist (404)."""
    uid = path_id(value, "User")
    if not isinstance(uid, int):
        raise ApiError(404, f"User {value!r} not found", {"id": value})
    return uid


@router.post(
    "",
    status_code=201,
    response_model=UserPublic,
    responses={403: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)
async def create_user(body: UserCreate, state: State, admin: AdminUser, caller: Caller) -> dict:
    data = body.data()
    data.pop("password")
    password_policy.require(body.password, body.username)
    password_hash = await state.passwords.hash(body.password)
    return await run_in_threadpool(users.create_user, state.db, caller, data, password_hash)


UserSort = sortable("username", "full_name", "email", "department", "created_at", "id")


@router.get("", response_model=Page[UserPublic], responses={403: {"model": ErrorBody}})
async def list_users(
    db: Db,
    admin: AdminUser,
    page: Pagination,
    sort: UserSort,
    q: Annotated[str | None, Query(max_length=100, description="part of username, name, e-mail")] = None,
    role: Role | None = None,
    active: bool | None = None,
) -> dict:
    return await run_in_threadpool(
        users.list_users, db, page.page, page.page_size, q, role, active, list(sort.fields)
    )


@router.get("/me", response_model=UserPublic)
async def get_me(db: Db, user: PersonUser) -> dict:
    return await run_in_threadpool(users.get_user, db, user.id)


@router.patch("/me", response_model=UserPublic)
async def update_me(body: ProfileUpdate, state: State, user: PersonUser, caller: Caller) -> dict:
    """The caller's own profile: ``full_name``, ``email`` and ``language`` (the console remembers
    the chosen language here). Sessions stay valid: nothing that grants rights changes."""
    changes = body.data()
    if "language" in changes and changes["language"] is None:
        raise ApiError(422, "language cannot be null", {"language": ["cannot be null"]})
    try:
        return await run_in_threadpool(users.update_user, state.db, caller, user.id, changes)
    finally:
        state.forget_user(user.id)


@router.post("/me/password", status_code=204)
async def change_my_password(
    body: PasswordChange, state: State, user: PersonUser, caller: Caller
) -> Response:
    current = await run_in_threadpool(users.password_hash_of, state.db, user.id)
    if current is None or not await state.passwords.verify(current, body.old_password):
        raise ApiError(422, "The old password is wrong", {"old_password": ["does not match"]})
    if body.new_password == body.old_password:
        raise ApiError(
            422,
            "The new password equals the old one",
            {"new_password": ["must differ from the old password"]},
        )
    password_policy.require(body.new_password, user.username, "new_password")
    new_hash = await state.passwords.hash(body.new_password)
    try:
        await run_in_threadpool(users.update_user, state.db, caller, user.id, {}, new_hash)
    finally:
        state.forget_user(user.id)  # every session of the user ends, this one too
    return Response(status_code=204)


@router.get(
    "/{user_id}", response_model=UserPublic, responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody}}
)
async def get_user(user_id: str, db: Db, admin: AdminUser) -> dict:
    return await run_in_threadpool(users.get_user, db, _user_id(user_id))


@router.patch(
    "/{user_id}",
    response_model=UserPublic,
    responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)
async def update_user(user_id: str, body: UserUpdate, state: State, admin: AdminUser, caller: Caller) -> dict:
    uid = _user_id(user_id)
    changes = body.data()
    password = changes.pop("password", None)
    for name in ("roles", "active", "is_department_head", "language"):
        if name in changes and changes[name] is None:
            raise ApiError(422, f"{name} cannot be null", {name: ["cannot be null"]})
    password_hash = None
    if password:
        target = await run_in_threadpool(users.get_user, state.db, uid)  # 404 before hashing
        password_policy.require(password, target["username"])
        password_hash = await state.passwords.hash(password)
    try:
        return await run_in_threadpool(users.update_user, state.db, caller, uid, changes, password_hash)
    finally:
        state.forget_user(uid)
