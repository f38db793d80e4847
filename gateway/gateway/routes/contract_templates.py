"""Contract templates (versioned per name and language) and the contract document PDF — owned
by the ``contracts`` service; each route is named after the RPC it calls and passes the
service's JSON through (the PDF is decoded from the service's base64)."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from ..deps import Pagination, Rpc, path_id, require_roles
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import ErrorBody, Language
from ..schemas_contract_templates import TemplateCreate
from ..views_contracts import TemplatePage, TemplatePublic
from ..views_core import binary, ok

TEMPLATE_WRITERS = Depends(require_roles("admin", "sales_manager"))
ADMINS = Depends(require_roles("admin"))
# every role but portal reads templates (the service checks it again)
TEMPLATE_READERS = Depends(
    require_roles("admin", "sales_manager", "sales_rep", "finance", "approver", "warehouse", "readonly")
)

router = APIRouter(
    tags=["contract templates"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)
NOT_FOUND = {404: {"model": ErrorBody}}


@router.post(
    "/contract-templates",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, TEMPLATE_WRITERS],
    responses=ok(TemplatePublic, 201),
)
async def create_template(body: TemplateCreate, rpc: Rpc) -> Any:
    """Version 1, or the next version of the template with that name and language. A
    placeholder without a field, a duplicate field name → 422 naming it."""
    return await rpc.contracts.create_template(body.data())


TemplateSort = sortable("name", "language", "version", "created_at", "id")


@router.get("/contract-templates", dependencies=[TEMPLATE_READERS], responses=ok(TemplatePage))
async def list_templates(
    rpc: Rpc,
    page: Pagination,
    sort: TemplateSort,
    language: Language | None = None,
    name: Annotated[str | None, Query(max_length=200, description="any part of the name")] = None,
    all_versions: Annotated[bool, Query(description="every version, not only the latest")] = False,
    active: bool | None = None,
) -> Any:
    """The latest version of each template (name, language) unless ``all_versions``; items
    without their body (``GET /contract-templates/{id}`` has it)."""
    values = {"language": language, "name": name, "active": active}
    filters: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
    if all_versions:
        filters["all_versions"] = True
    return await rpc.contracts.list_templates(filters, page.page, page.page_size, **sort.kwargs())


@router.get(
    "/contract-templates/{template_id}",
    dependencies=[TEMPLATE_READERS],
    responses={**ok(TemplatePublic), **NOT_FOUND},
)
async def get_template(template_id: str, rpc: Rpc) -> Any:
    return await rpc.contracts.get_template(path_id(template_id, "Template"))


@router.post(
    "/contract-templates/{template_id}/deactivate",
    dependencies=[ADMINS],
    responses={**ok(TemplatePublic), **NOT_FOUND},
)
async def deactivate_template(template_id: str, rpc: Rpc) -> Any:
    """No new contract can be filled from it; contracts made from it keep it and still render."""
    return await rpc.contracts.deactivate_template(path_id(template_id, "Template"))


@router.get(
    "/contracts/{contract_id}/document.pdf",
    response_class=Response,
    responses={
        **binary("application/pdf", "the contract document"),
        **NOT_FOUND,
    },
)
async def render_document(contract_id: str, rpc: Rpc) -> Response:
    """The contract rendered from its template (fixed clauses, filled-in fields), with parties,
    lines, totals, term, billing plan, renewal terms and signatures, in the template's language
    (else the customer's)."""
    doc = await rpc.contracts.render_document(path_id(contract_id, "Contract"))
    return Response(
        content=base64.b64decode(doc["data"]),
        media_type=doc.get("content_type") or "application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{doc["filename"]}"',
            "Content-Language": doc.get("language") or "en",
        },
    )
