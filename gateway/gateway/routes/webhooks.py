"""Webhook subscriptions of partner systems and their delivery log (notify service; admin only,
checked here and again in the service)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from ..deps import AdminUser, Pagination, Rpc, path_id
from ..idempotency import IDEMPOTENCY_HEADER
from ..schemas import ErrorBody
from ..schemas_notify import WebhookCreate, WebhookUpdate
from ..views_notify import DeliveryPage, WebhookPage, WebhookPublic

router = APIRouter(
    prefix="/webhooks",
    tags=["webhooks"],
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}


@router.post(
    "", dependencies=[IDEMPOTENCY_HEADER], status_code=201, responses={201: {"model": WebhookPublic}}
)
async def create_webhook(body: WebhookCreate, admin: AdminUser, rpc: Rpc) -> Any:
    """Deliveries are POSTed with ``X-CRM-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret,
    "<t>." + body)>``, ``X-CRM-Event`` and ``X-CRM-Delivery``; non-2xx answers are retried with
    exponential backoff; repeated failures disable the webhook."""
    return await rpc.notify.create_webhook(body.data())


@router.get("", responses={200: {"model": WebhookPage}})
async def list_webhooks(admin: AdminUser, rpc: Rpc, page: Pagination) -> Any:
    return await rpc.notify.list_webhooks(page.page, page.page_size)


@router.get("/{webhook_id}", responses={200: {"model": WebhookPublic}, **NOT_FOUND})
async def get_webhook(webhook_id: str, admin: AdminUser, rpc: Rpc) -> Any:
    return await rpc.notify.get_webhook(path_id(webhook_id, "Webhook"))


@router.patch("/{webhook_id}", responses={200: {"model": WebhookPublic}, **NOT_FOUND})
async def update_webhook(webhook_id: str, body: WebhookUpdate, admin: AdminUser, rpc: Rpc) -> Any:
    return await rpc.notify.update_webhook(path_id(webhook_id, "Webhook"), body.data())


@router.delete("/{webhook_id}", status_code=204, responses=NOT_FOUND)
async def delete_webhook(webhook_id: str, admin: AdminUser, rpc: Rpc) -> Response:
    await rpc.notify.delete_webhook(path_id(webhook_id, "Webhook"))
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", responses={200: {"model": DeliveryPage}, **NOT_FOUND})
async def list_webhook_deliveries(webhook_id: str, admin: AdminUser, rpc: Rpc, page: Pagination) -> Any:
    """Newest first: status (pending | sent | failed), attempts, last status code and the log
    of every attempt."""
    return await rpc.notify.list_webhook_deliveries(path_id(webhook_id, "Webhook"), page.page, page.page_size)
