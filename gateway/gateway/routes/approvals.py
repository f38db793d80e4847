"""Approval requests, owned by the ``approvals`` service: list (``mine``: what the caller may
decide now), one request with its full history, decisions, withdrawal and the approval sheet PDF
(the service returns it base64-encoded; Nameko's JSON cannot carry bytes)."""

from __future__ import annotations

import base64
from typing import Any, Literal

from fastapi import APIRouter, Response

from ..deps import Pagination, Rpc, path_id
from ..listing import sortable
from ..schemas import ErrorBody
from ..schemas_approvals import ApprovalDecision, ApprovalWithdraw
from ..views_approvals import ApprovalRequestDetail, ApprovalRequestPage
from ..views_core import binary, ok

router = APIRouter(
    prefix="/approvals",
    tags=["approvals"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        404: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)
CONFLICT = {409: {"model": ErrorBody}}


ApprovalSort = sortable("created_at", "updated_at", "closed_at", "status", "document_type", "amount", "id")


@router.get("", responses=ok(ApprovalRequestPage))
async def list_approvals(
    rpc: Rpc,
    page: Pagination,
    sort: ApprovalSort,
    status: Literal["pending", "approved", "rejected", "withdrawn"] | None = None,
    mine: bool = False,
    document_type: str | None = None,
    document_id: str | None = None,
) -> Any:
    """Newest first. ``mine=true``: only the requests whose current step the caller may decide."""
    filters: dict[str, Any] = {"mine": mine}
    if status:
        filters["status"] = status
    if document_type:
        filters["document_type"] = document_type
    if document_id:
        filters["document_id"] = document_id
    return await rpc.approvals.list_approvals(filters, page.page, page.page_size, **sort.kwargs())


@router.get("/{approval_id}", responses=ok(ApprovalRequestDetail))
async def get_approval(approval_id: str, rpc: Rpc) -> Any:
    """The request with its steps, every decision (step, user, decision, comment, decided_at) and
    the earlier requests of the same document (``history``)."""
    return await rpc.approvals.get_approval(path_id(approval_id, "Approval request"))


@router.post("/{approval_id}/decision", responses={**ok(ApprovalRequestDetail), **CONFLICT})
async def decide_approval(approval_id: str, body: ApprovalDecision, rpc: Rpc) -> Any:
    """403 when the caller may not decide the current step (or it is their own submission);
    409 when the request is closed or the caller already approved this step; 404 (as for a
    missing one) when the caller cannot read the request. ``approved_value`` (trade-ins): the
    valuation decided, carried to the trade-in by ``approval_approved``."""
    return await rpc.approvals.decide_approval(path_id(approval_id, "Approval request"), body.data())


@router.post("/{approval_id}/withdraw", responses={**ok(ApprovalRequestDetail), **CONFLICT})
async def withdraw_approval(approval_id: str, rpc: Rpc, body: ApprovalWithdraw | None = None) -> Any:
    """The submitter (or an admin) withdraws a pending request; 409 once closed; 404 (as for a
    missing one) when the caller cannot read the request."""
    comment = body.comment if body else None
    return await rpc.approvals.withdraw_approval(path_id(approval_id, "Approval request"), comment)


@router.get(
    "/{approval_id}/sheet.pdf",
    response_class=Response,
    responses=binary("application/pdf", "the approval sheet"),
)
async def get_approval_sheet(approval_id: str, rpc: Rpc) -> Response:
    sheet = await rpc.approvals.get_approval_sheet(path_id(approval_id, "Approval request"))
    return Response(
        content=base64.b64decode(sheet["content_base64"]),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{sheet["filename"]}"'},
    )
