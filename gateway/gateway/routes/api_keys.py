"""API keys of integrations (admin): create one (the key is in that answer only), list them,
revoke one. A request sends the key as ``Authorization: Bearer crm_...`` or ``X-API-Key``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from .. import api_keys
from ..deps import AdminUser, Caller, Db, Pagination, State, path_id
from ..errors import ApiError
from ..listing import sortable
from ..schemas import ErrorBody, Identifier, Page, Role, Strict, Timestamp

router = APIRouter(
    prefix="/api-keys",
    tags=["api-keys"],
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)

KeyName = Annotated[Identifier, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class ApiKeyCreate(Strict):
    name: KeyName
    roles: list[Role] = Field(min_length=1, max_length=8)
    expires_at: Timestamp | None = Field(None, description="none: until revoked")


class ApiKeyPublic(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="the key's first characters, to recognise it")
    roles: list[str]
    created_by: int | None
    created_at: str
    expires_at: str | None
    last_used_at: str | None = Field(description="to the minute")
    revoked_at: str | None
    active: bool


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="the key itself: shown in this answer only, keep it now")


def _key_id(value: str) -> int:
    kid = path_id(value, "API key")
    if not isinstance(kid, int):
        raise ApiError(404, f"API key {value!r} not found", {"id": value})
    return kid


@router.post("", status_code=201, response_model=ApiKeyCreated, responses={409: {"model": ErrorBody}})
async def create_api_key(body: ApiKeyCreate, db: Db, admin: AdminUser, caller: Caller) -> Any:
    data = body.model_dump()
    if body.expires_at is not None and body.expires_at.tzinfo is None:
        raise ApiError(422, "expires_at needs a time zone", {"expires_at": ["add a time zone, e.g. Z"]})
    return await run_in_threadpool(api_keys.create, db, caller, data)


ApiKeySort = sortable("name", "created_at", "expires_at", "last_used_at", "id")


@router.get("", response_model=Page[ApiKeyPublic])
async def list_api_keys(
    db: Db,
    admin: AdminUser,
    page: Pagination,
    sort: ApiKeySort,
    include_revoked: Annotated[bool, Query(description="also revoked keys")] = False,
) -> Any:
    return await run_in_threadpool(
        api_keys.list_keys, db, page.page, page.page_size, include_revoked, list(sort.fields)
    )


@router.delete("/{key_id}", status_code=204, response_class=Response, responses={404: {"model": ErrorBody}})
async def revoke_api_key(key_id: str, state: State, admin: AdminUser, caller: Caller) -> Response:
    """Revoke a key: requests made with it get 401 at once on this gateway process, within
    ``CRM_USER_CACHE_SECONDS`` on the others."""
    kid = _key_id(key_id)
    try:
        await run_in_threadpool(api_keys.revoke, state.db, caller, kid)
    finally:
        state.forget_api_key(kid)
    return Response(status_code=204)
