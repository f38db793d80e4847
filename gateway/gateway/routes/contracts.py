"""Contracts: create, read, list, edit drafts, the lifecycle (submit, cancel, terminate, renew),
amendments and versions, amount locks — owned by the ``contracts`` service; each route is named
after the RPC it calls and passes the service's JSON through. Templates, documents, attachments,
bulk operations and progress have their own route modules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ..deps import Pagination, Rpc, path_id, require_roles
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import page_list, sortable
from ..schemas import ErrorBody, IsoDate, ResourceId
from ..schemas_contracts import (
    AmendmentCreate,
    Cancel,
    ContractCreate,
    ContractUpdate,
    Kind,
    Renew,
    Status,
    Submit,
    Terminate,
)
from ..views_contracts import (
    AmendmentPage,
    AmendmentPublic,
    ContractDetail,
    ContractPage,
    ContractPublic,
    ContractVersion,
    ContractVersionDiff,
    TerminateResult,
    VersionPage,
)
from ..views_core import ok

WRITERS = Depends(require_roles("admin", "sales_manager", "sales_rep"))
LOCKERS = Depends(require_roles("admin", "finance"))

router = APIRouter(
    prefix="/contracts",
    tags=["contracts"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)
NOT_FOUND = {404: {"model": ErrorBody}}
STATE = {404: {"model": ErrorBody}, 409: {"model": ErrorBody}}
CONTRACT = {**ok(ContractPublic), **STATE}


def cid(contract_id: str) -> int | str:
    return path_id(contract_id, "Contract")


@router.post(
    "", status_code=201, dependencies=[IDEMPOTENCY_HEADER, WRITERS], responses=ok(ContractPublic, 201)
)
async def create_contract(body: ContractCreate, rpc: Rpc) -> Any:
    """A draft with a generated number. Line prices default to the customer's price list (the
    product's price otherwise); an unknown customer or product, a line outside the term, a
    missing template field → 422 naming the field."""
    return await rpc.contracts.create_contract(body.data())


ContractSort = sortable(
    "number",
    "title",
    "customer_name",
    "status",
    "kind",
    "start_date",
    "end_date",
    "total",
    "created_at",
    "updated_at",
    "id",
)


@router.get("", responses=ok(ContractPage))
async def list_contracts(
    rpc: Rpc,
    page: Pagination,
    sort: ContractSort,
    customer_id: ResourceId | None = None,
    owner_id: ResourceId | None = None,
    status: Annotated[list[Status] | None, Query(description="one or more statuses")] = None,
    kind: Kind | None = None,
    expiring_within_days: Annotated[int | None, Query(ge=0, le=3650)] = None,
    as_of: Annotated[IsoDate | None, Query(description="the day expiring_within_days counts from")] = None,
    q: Annotated[str | None, Query(max_length=200, description="number, title or customer name")] = None,
    serial_number: Annotated[str | None, Query(max_length=100)] = None,
    product_id: ResourceId | None = None,
    renewal_of_id: ResourceId | None = None,
    include_archived: Annotated[
        bool, Query(description="archived contracts too (left out unless asked, or named in status)")
    ] = False,
) -> Any:
    values = {
        "customer_id": customer_id, "owner_id": owner_id, "status": status, "kind": kind,
        "expiring_within_days": expiring_within_days, "as_of": as_of.isoformat() if as_of else None, "q": q,
        "serial_number": serial_number, "product_id": product_id, "renewal_of_id": renewal_of_id,
        "include_archived": include_archived or None,
    }  # fmt: skip
    filters = {k: v for k, v in values.items() if v is not None}
    return await rpc.contracts.list_contracts(filters, page.page, page.page_size, **sort.kwargs())


@router.get("/{contract_id}", responses={**ok(ContractDetail), **NOT_FOUND})
async def get_contract(contract_id: str, rpc: Rpc) -> Any:
    """The contract with its lines, versions, amendments and attachments."""
    return await rpc.contracts.get_contract(cid(contract_id))


@router.patch("/{contract_id}", dependencies=[WRITERS], responses=CONTRACT)
async def update_contract(contract_id: str, body: ContractUpdate, rpc: Rpc) -> Any:
    """Drafts only (409 otherwise); ``lines`` replaces every line."""
    return await rpc.contracts.update_contract(cid(contract_id), body.data())


@router.post("/{contract_id}/submit", dependencies=[WRITERS], responses=CONTRACT)
async def submit_contract(contract_id: str, rpc: Rpc, body: Submit | None = None) -> Any:
    """draft → pending_approval: the approvals service opens a request. A customer on the red
    list (or archived) → 409 unless a sales manager or admin sends ``override_red_list``."""
    data = body.data() if body is not None else None
    return await rpc.contracts.submit_contract(cid(contract_id), data)


@router.post("/{contract_id}/cancel", dependencies=[WRITERS], responses=CONTRACT)
async def cancel_contract(contract_id: str, rpc: Rpc, body: Cancel | None = None) -> Any:
    """From draft or approved."""
    return await rpc.contracts.cancel_contract(cid(contract_id), body.data() if body else {})


@router.post("/{contract_id}/terminate", dependencies=[WRITERS], responses={**ok(TerminateResult), **STATE})
async def terminate_contract(contract_id: str, body: Terminate, rpc: Rpc) -> Any:
    """Approved / active → terminated from ``effective_date``. Before today, or inside a period
    already invoiced, by anyone but an admin: a termination request goes to approval and the
    contract stays as it is (``termination_request``); locked amounts → 409."""
    return await rpc.contracts.terminate_contract(cid(contract_id), body.data())


@router.post("/{contract_id}/archive", dependencies=[WRITERS], responses=CONTRACT)
async def archive_contract(contract_id: str, rpc: Rpc) -> Any:
    """expired / terminated / cancelled / renewed → archived: read-only, left out of lists
    unless ``include_archived=true``."""
    return await rpc.contracts.archive_contract(cid(contract_id))


@router.post(
    "/{contract_id}/renew",
    status_code=201,
    dependencies=[WRITERS],
    responses={**ok(ContractPublic, 201), **STATE},
)
async def renew_contract(contract_id: str, rpc: Rpc, body: Renew | None = None) -> Any:
    """A renewal draft (renewal quote): the next term, the same lines, prices raised by the
    uplift; submitted and approved like any contract."""
    return await rpc.contracts.renew_contract(cid(contract_id), body.data() if body else {})


@router.post("/{contract_id}/lock-amounts", dependencies=[LOCKERS], responses=CONTRACT)
async def lock_amounts(contract_id: str, rpc: Rpc) -> Any:
    """Finance: nobody changes the lines or prices until unlocked."""
    return await rpc.contracts.lock_amounts(cid(contract_id))


@router.post("/{contract_id}/unlock-amounts", dependencies=[LOCKERS], responses=CONTRACT)
async def unlock_amounts(contract_id: str, rpc: Rpc) -> Any:
    return await rpc.contracts.unlock_amounts(cid(contract_id))


@router.post(
    "/{contract_id}/amendments",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, WRITERS],
    responses={**ok(AmendmentPublic, 201), **STATE},
)
async def create_amendment(contract_id: str, body: AmendmentCreate, rpc: Rpc) -> Any:
    """A change order on an approved or active contract; applied as a new version when the
    approvals service approves it."""
    return await rpc.contracts.create_amendment(cid(contract_id), body.data())


AmendmentSort = sortable("id", "number", "status", "effective_date", "created_at", "decided_at")


@router.get("/{contract_id}/amendments", responses={**ok(AmendmentPage), **NOT_FOUND})
async def list_amendments(contract_id: str, rpc: Rpc, page: Pagination, sort: AmendmentSort) -> Any:
    """The contract's amendments, oldest first unless ``sort`` says otherwise."""
    return page_list(await rpc.contracts.list_amendments(cid(contract_id)), sort, page)


@router.get("/{contract_id}/amendments/{amendment_id}", responses={**ok(AmendmentPublic), **NOT_FOUND})
async def get_amendment(contract_id: str, amendment_id: str, rpc: Rpc) -> Any:
    return await rpc.contracts.get_amendment(cid(contract_id), path_id(amendment_id, "Amendment"))


VersionSort = sortable("version", "created_at", "effective_date", "kind")


@router.get("/{contract_id}/versions", responses={**ok(VersionPage), **NOT_FOUND})
async def list_versions(contract_id: str, rpc: Rpc, page: Pagination, sort: VersionSort) -> Any:
    """The contract's versions, first to last unless ``sort`` says otherwise."""
    return page_list(await rpc.contracts.list_versions(cid(contract_id)), sort, page)


@router.get("/{contract_id}/versions/{version}", responses={**ok(ContractVersion), **NOT_FOUND})
async def get_version(contract_id: str, version: str, rpc: Rpc) -> Any:
    """The contract exactly as it was in that version."""
    return await rpc.contracts.get_version(cid(contract_id), path_id(version, "Version"))


@router.get("/{contract_id}/versions/{a}/diff/{b}", responses={**ok(ContractVersionDiff), **NOT_FOUND})
async def diff_versions(contract_id: str, a: str, b: str, rpc: Rpc) -> Any:
    """What changed from version ``a`` to ``b``: fields, lines added, removed and changed."""
    return await rpc.contracts.diff_versions(cid(contract_id), path_id(a, "Version"), path_id(b, "Version"))
