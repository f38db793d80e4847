"""The caller's in-app inbox (notify service): each user sees only their own notifications."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import Pagination, Rpc, path_id
from ..schemas import ErrorBody

router = APIRouter(
    prefix="/notifications",
    tags=["notifications"],
    responses={401: {"model": ErrorBody}, 422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)


@router.get("")
async def list_notifications(rpc: Rpc, page: Pagination, unread: bool | None = None) -> Any:
    """``{"items", "total", "page", "page_size", "unread"}`` — newest first; ``unread`` is the
    caller's unread count whatever the filter."""
    return await rpc.notify.list_notifications(unread, page.page, page.page_size)


@router.post("/read-all")
async def mark_all_notifications_read(rpc: Rpc) -> Any:
    return await rpc.notify.mark_all_notifications_read()


@router.post("/{notification_id}/read", responses={404: {"model": ErrorBody}})
async def mark_notification_read(notification_id: str, rpc: Rpc) -> Any:
    return await rpc.notify.mark_notification_read(path_id(notification_id, "Notification"))
