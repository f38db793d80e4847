"""The caller's in-app inbox (notify service): each user sees only their own notifications."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.sse import EventSourceResponse

from ..deps import Pagination, Rpc, path_id
from ..listing import sortable
from ..schemas import ErrorBody
from ..stream import STREAM_RESPONSE, Hub, StreamUser, event_stream
from ..views_notify import MarkedRead, NotificationPage, NotificationPublic

router = APIRouter(
    prefix="/notifications",
    tags=["notifications"],
    responses={401: {"model": ErrorBody}, 422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)


NotificationSort = sortable("created_at", "read_at", "event_type", "id")


@router.get("", responses={200: {"model": NotificationPage}})
async def list_notifications(
    rpc: Rpc, page: Pagination, sort: NotificationSort, unread: bool | None = None
) -> Any:
    """``{"items", "total", "page", "page_size", "unread"}`` — newest first; ``unread`` is the
    caller's unread count whatever the filter."""
    return await rpc.notify.list_notifications(unread, page.page, page.page_size, **sort.kwargs())


@router.post("/read-all", responses={200: {"model": MarkedRead}})
async def mark_all_notifications_read(rpc: Rpc) -> Any:
    return await rpc.notify.mark_all_notifications_read()


@router.post(
    "/{notification_id}/read", responses={200: {"model": NotificationPublic}, 404: {"model": ErrorBody}}
)
async def mark_notification_read(notification_id: str, rpc: Rpc) -> Any:
    return await rpc.notify.mark_notification_read(path_id(notification_id, "Notification"))


@router.get(
    "/stream",
    response_class=Response,
    responses={**STREAM_RESPONSE, 403: {"model": ErrorBody}},
)
async def stream_notifications(request: Request, user: StreamUser, hub: Hub) -> EventSourceResponse:
    """Server-sent events of the caller's new notifications (``event: notification``) and of the
    tasks opened or closed for them (``event: task``); ``event: ready`` first (reload the lists
    then), a ``: heartbeat`` comment every 15 s. ``EventSource`` sends no headers: the access
    token may come as ``?access_token=`` here."""
    return event_stream(request, hub, user)
