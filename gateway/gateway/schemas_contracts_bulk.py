"""Request shapes of the contracts' data-management routes: co-termination, bulk price updates,
restructuring (move lines, split, merge). Unknown fields → 422; a percent is a string (or an
integer), never a float; business rules (statuses, scopes, same customer) are the contracts
service's job."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .schemas import IsoDate, PercentValue, ResourceId, Strict, Text

MAX_CONTRACTS = 50_000
MAX_LINES = 10_000

CategoryPath = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Percent = Annotated[
    PercentValue, Field(examples=["7.5", "-5"], description="a decimal string; -5 lowers prices by 5 %")
]


class ContractsCoTerminate(Strict):
    """Every line of every listed contract (and the contracts themselves) end on ``end_date``."""

    contract_ids: list[ResourceId] = Field(min_length=1, max_length=MAX_CONTRACTS)
    end_date: IsoDate
    reason: Text | None = None
    effective_date: IsoDate | None = Field(None, description="when the change takes effect; default today")


class ContractPriceUpdate(Strict):
    """Lines of the contracts in force whose product is one of ``product_ids`` and/or lies in
    ``category`` (with its sub-categories) get their unit price raised by ``percent``."""

    percent: Percent
    product_ids: list[ResourceId] | None = Field(None, min_length=1, max_length=MAX_LINES)
    category: CategoryPath | None = Field(None, description="a category path such as 'Devices/Printers'")
    effective_date: IsoDate
    direct: bool = Field(False, description="admins only: apply at once instead of one approval")
    reason: Text | None = None


class ContractLinesMove(Strict):
    action: Literal["move_lines"]
    line_ids: list[ResourceId] = Field(min_length=1, max_length=MAX_LINES)
    to_contract_id: ResourceId
    reason: Text | None = None
    effective_date: IsoDate | None = None


class ContractSplit(Strict):
    action: Literal["split"]
    contract_id: ResourceId
    line_ids: list[ResourceId] = Field(min_length=1, max_length=MAX_LINES)
    title: Title | None = None
    reason: Text | None = None
    effective_date: IsoDate | None = None


class ContractMerge(Strict):
    action: Literal["merge"]
    contract_ids: list[ResourceId] = Field(min_length=1, max_length=1000)
    into_contract_id: ResourceId
    reason: Text | None = None
    effective_date: IsoDate | None = None


Restructure = Annotated[ContractLinesMove | ContractSplit | ContractMerge, Field(discriminator="action")]
