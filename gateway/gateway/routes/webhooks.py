"""Webhook subscriptions of partner systems and their delivery log (notify service; admin only,
checked here and again in the service): redelivery by hand, a test ping and secret rotation
with a grace period (services/notify/README.md, "Webhooks")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from ..deps import AdminUser, Pagination, Rpc, path_id
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import ErrorBody
from ..schemas_notify import RotateSecret, WebhookCreate, WebhookUpdate
from ..views_notify import (
    DeliveryPage,
    DeliveryPublic,
    PingResult,
    WebhookPage,
    WebhookPublic,
    WebhookRotated,
)

router = APIRouter(
    prefix="/webhooks",
    tags=["webhooks"],
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}
WebhookSort = sortable("id", "url", "active", "created_at")
DeliverySort = sortable("id", "status", "event_type", "attempts", "created_at", "next_attempt_at")


@router.post(
    "", dependencies=[IDEMPOTENCY_HEADER], status_code=201, responses={201: {"model": WebhookPublic}}
)
async def create_webhook(body: WebhookCreate, admin: AdminUser, rpc: Rpc) -> Any:
    """Deliveries are POSTed with ``X-CRM-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret,
    "<t>." + body)>`` (a second ``v1=`` during a secret rotation's grace period), ``X-CRM-Event``
    and ``X-CRM-Delivery``. ``events``: public types of ``GET /api/v1/event-types`` or ``*``
    (others: 422 naming them). Non-2xx answers are retried with exponential backoff, at most an
    hour apart, for 72 hours; a webhook whose deliveries failed for 72 hours with no success in
    between is disabled."""
    return await rpc.notify.create_webhook(body.data())


@router.get("", responses={200: {"model": WebhookPage}})
async def list_webhooks(admin: AdminUser, rpc: Rpc, page: Pagination, sort: WebhookSort) -> Any:
    return await rpc.notify.list_webhooks(page.page, page.page_size, **sort.kwargs())


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
async def list_webhook_deliveries(
    webhook_id: str, admin: AdminUser, rpc: Rpc, page: Pagination, sort: DeliverySort
) -> Any:
    """Newest first: status (pending | sent | failed), attempts, last status code and the log
    of every attempt."""
    return await rpc.notify.list_webhook_deliveries(
        path_id(webhook_id, "Webhook"), page.page, page.page_size, **sort.kwargs()
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    responses={200: {"model": DeliveryPublic}, 409: {"model": ErrorBody}, **NOT_FOUND},
)
async def redeliver_webhook_delivery(webhook_id: str, delivery_id: str, admin: AdminUser, rpc: Rpc) -> Any:
    """Requeue the delivery (any status): the same body and delivery id, due now, with a fresh
    72-hour retry window; its attempt log continues. 409 when the webhook is disabled or the
    delivery is a ping."""
    return await rpc.notify.redeliver_webhook_delivery(
        path_id(webhook_id, "Webhook"), path_id(delivery_id, "Delivery")
    )


@router.post("/{webhook_id}/ping", responses={200: {"model": PingResult}, **NOT_FOUND})
async def ping_webhook(webhook_id: str, admin: AdminUser, rpc: Rpc) -> Any:
    """POST a signed ``ping`` event (``{"webhook_id", "message"}``) to the endpoint now and
    answer with the outcome; kept in the delivery log, never counted towards disabling."""
    return await rpc.notify.ping_webhook(path_id(webhook_id, "Webhook"))


@router.post("/{webhook_id}/rotate-secret", responses={200: {"model": WebhookRotated}, **NOT_FOUND})
async def rotate_webhook_secret(
    webhook_id: str, admin: AdminUser, rpc: Rpc, body: RotateSecret | None = None
) -> Any:
    """A new random secret, in this answer only. The previous one stays valid for
    ``grace_seconds`` (default 24 h): until then each delivery carries both signatures,
    ``X-CRM-Signature: t=<unix>,v1=<new>,v1=<previous>``."""
    data = {k: v for k, v in (body.data() if body else {}).items() if v is not None}
    return await rpc.notify.rotate_webhook_secret(path_id(webhook_id, "Webhook"), data)
