"""Notification rules (admin): which event notifies whom, over which channels, with which
template (per-language overrides)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from ..deps import AdminUser, Rpc
from ..schemas import ErrorBody
from ..schemas_notify import RuleUpdate
from ..views_notify import RulePage, RulePublic

router = APIRouter(
    prefix="/notification-rules",
    tags=["notifications"],
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
EventTypePath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,99}$")]


@router.get("", responses={200: {"model": RulePage}})
async def list_rules(admin: AdminUser, rpc: Rpc) -> Any:
    return await rpc.notify.list_rules()


@router.put("/{event_type}", responses={200: {"model": RulePublic}, 404: {"model": ErrorBody}})
async def update_rule(event_type: EventTypePath, body: RuleUpdate, admin: AdminUser, rpc: Rpc) -> Any:
    return await rpc.notify.update_rule(event_type, body.data())


@router.patch("/{event_type}", responses={200: {"model": RulePublic}, 404: {"model": ErrorBody}})
async def patch_rule(event_type: EventTypePath, body: RuleUpdate, admin: AdminUser, rpc: Rpc) -> Any:
    return await rpc.notify.update_rule(event_type, body.data())


@router.delete("/{event_type}", responses={200: {"model": RulePublic}, 404: {"model": ErrorBody}})
async def reset_rule(event_type: EventTypePath, admin: AdminUser, rpc: Rpc) -> Any:
    """Back to the built-in default."""
    return await rpc.notify.reset_rule(event_type)
