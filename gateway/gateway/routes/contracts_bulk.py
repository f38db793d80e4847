"""Data management of contracts at scale — co-termination, bulk price updates (direct or as one
approval), restructuring (move lines, split, merge) and the CSV import of contracts with their
lines — owned by the ``contracts`` service; each route is named after the RPC it calls and
passes the service's JSON through. Bulk calls get the import timeout (they may touch tens of
thousands of contracts)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Query, Request

from .. import imports
from ..deps import Rpc, Settings, path_id, require_roles
from ..schemas import ErrorBody, ImportAccepted
from ..schemas_contracts_bulk import (
    ContractLinesMove,
    ContractMerge,
    ContractPriceUpdate,
    ContractsCoTerminate,
    ContractSplit,
)
from ..views_contracts import (
    ContractImportJob,
    CoTerminateResult,
    PriceBatchPublic,
    PriceUpdateResult,
    RestructureResult,
)
from ..views_core import ok
from .customers import IMPORT_BODY

SERVICE = "contracts"
WRITERS = Depends(require_roles("admin", "sales_manager", "sales_rep"))
MANAGERS = Depends(require_roles("admin", "sales_manager"))

router = APIRouter(
    tags=["contracts"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": ErrorBody}}


@router.post("/contracts/co-terminate", dependencies=[WRITERS], responses=ok(CoTerminateResult))
async def co_terminate(body: ContractsCoTerminate, rpc: Rpc, settings: Settings) -> Any:
    """Lines and contracts end together on ``end_date`` (shortened or extended; billing prorates
    the partial period by days). Contracts not in force, with locked amounts, starting after
    ``end_date`` or not yours are reported in ``skipped`` with the reason. 200 with
    ``{"status", "changed", "skipped": [{"contract_id", "reason"}], "contracts": [{"contract_id",
    "number", "from", "to"}]}``. An admin's applies at once (``status: applied``); anyone
    else's is one batch awaiting ONE approval (``status: pending_approval``, ``batch_id``;
    ``contracts`` lists what it will change)."""
    return await rpc.call(SERVICE, "co_terminate", body.data(), timeout=settings.crm_import_timeout)


@router.post(
    "/contracts/bulk-price-update", dependencies=[MANAGERS], responses={**ok(PriceUpdateResult), **CONFLICT}
)
async def bulk_price_update(body: ContractPriceUpdate, rpc: Rpc, settings: Settings) -> Any:
    """Raise (or lower) by ``percent`` the unit price of every line of the contracts in force
    for ``product_ids`` and/or ``category``, from ``effective_date``. Default: one approval
    for the whole batch (``status: pending_approval``, ``batch_id``); ``direct: true`` (admins
    only) applies it at once (``status: applied``). Reports ``contracts_changed``,
    ``lines_changed``, ``skipped`` and the ``changes`` (first 1000 contracts)."""
    return await rpc.call(SERVICE, "bulk_price_update", body.data(), timeout=settings.crm_import_timeout)


@router.get(
    "/contracts/price-update-batches/{batch_id}",
    dependencies=[MANAGERS],
    responses={**ok(PriceBatchPublic), **NOT_FOUND},
)
async def get_price_batch(batch_id: str, rpc: Rpc) -> Any:
    """A bulk price update awaiting (or after) its approval: parameters, status, summary."""
    return await rpc.contracts.get_price_batch(path_id(batch_id, "Price update batch"))


@router.post(
    "/contracts/restructure",
    dependencies=[WRITERS],
    responses={**ok(RestructureResult), **NOT_FOUND, **CONFLICT},
)
async def restructure(
    body: Annotated[ContractLinesMove | ContractSplit | ContractMerge, Body(discriminator="action")],
    rpc: Rpc,
    settings: Settings,
) -> Any:
    """``move_lines`` (``line_ids`` → ``to_contract_id``), ``split`` (``line_ids`` of
    ``contract_id`` into a new contract) or ``merge`` (``contract_ids`` into
    ``into_contract_id``; the others end). Same customer and currency; no contract is left
    without lines. Contracts in force restructured by anyone but an admin: one batch awaiting
    ONE approval (``status: pending_approval``, ``batch_id``), nothing changed yet."""
    return await rpc.call(SERVICE, "restructure", body.data(), timeout=settings.crm_import_timeout)


@router.post(
    "/contracts/import",
    openapi_extra=IMPORT_BODY,
    dependencies=[MANAGERS],
    responses={**ok(ContractImportJob), 202: {"model": ImportAccepted}, 413: {"model": ErrorBody}},
)
async def import_contracts(
    request: Request,
    rpc: Rpc,
    settings: Settings,
    background: BackgroundTasks,
    mode: Literal["all_or_nothing", "skip_bad"] = "all_or_nothing",
    run_async: Annotated[bool, Query(alias="async", description="202 at once; poll the job")] = False,
) -> Any:
    """CSV columns: contract_ref (rows with the same ref form one contract), customer_id,
    title, kind, currency, start_date, end_date, billing_frequency, in_advance,
    payment_terms_days, auto_renew, renewal_uplift_percent, notice_days, signer, owner_id,
    status (draft; active for admins), product_id or sku, quantity, unit_price,
    discount_percent, serial_number, manufacturing_number, line_start_date, line_end_date.
    200 with ``{"created", "errors": [{"line", "field", "message"}], "job_id", "status"}``."""
    return await imports.import_upload(
        request, rpc, SERVICE, mode, run_async, background, settings.crm_import_timeout, settings.max_upload_bytes,
        "/api/v1/contracts/import",
    )  # fmt: skip


@router.get(
    "/contracts/import/{job_id}", dependencies=[MANAGERS], responses={**ok(ContractImportJob), **NOT_FOUND}
)
async def get_contract_import(job_id: str, rpc: Rpc) -> Any:
    """Progress of a contracts import: status, rows_received, rows_processed, created,
    error_count (and the errors once finished)."""
    return await rpc.contracts.get_import(path_id(job_id, "Import job"))
