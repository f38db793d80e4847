"""Approval flow administration (admin only), owned by the ``approvals`` service. A PATCH makes a
new flow version; requests already running keep the version they started with."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ..deps import Pagination, Rpc, path_id, require_roles
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import ErrorBody
from ..schemas_approvals import ApprovalFlowCreate, ApprovalFlowUpdate, DocumentType
from ..views_approvals import ApprovalFlowDetail, ApprovalFlowPage
from ..views_core import ok

router = APIRouter(
    prefix="/approval-flows",
    tags=["approvals"],
    dependencies=[Depends(require_roles("admin"))],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)
NOT_FOUND = {404: {"model": ErrorBody}}


@router.post("", dependencies=[IDEMPOTENCY_HEADER], status_code=201, responses=ok(ApprovalFlowDetail, 201))
async def create_flow(body: ApprovalFlowCreate, rpc: Rpc) -> Any:
    return await rpc.approvals.create_flow(body.data())


FlowSort = sortable("name", "document_type", "priority", "id")


@router.get("", responses=ok(ApprovalFlowPage))
async def list_flows(
    rpc: Rpc,
    page: Pagination,
    sort: FlowSort,
    document_type: DocumentType | None = None,
    active: bool | None = None,
) -> Any:
    filters: dict[str, Any] = {}
    if document_type:
        filters["document_type"] = document_type
    if active is not None:
        filters["active"] = active
    return await rpc.approvals.list_flows(filters, page.page, page.page_size, **sort.kwargs())


@router.get("/{flow_id}", responses={**ok(ApprovalFlowDetail), **NOT_FOUND})
async def get_flow(flow_id: str, rpc: Rpc) -> Any:
    """The flow with every version it had."""
    return await rpc.approvals.get_flow(path_id(flow_id, "Approval flow"))


@router.patch("/{flow_id}", responses={**ok(ApprovalFlowDetail), **NOT_FOUND})
async def update_flow(flow_id: str, body: ApprovalFlowUpdate, rpc: Rpc) -> Any:
    return await rpc.approvals.update_flow(path_id(flow_id, "Approval flow"), body.data())
