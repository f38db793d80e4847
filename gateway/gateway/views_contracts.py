"""What the contract routes answer, as the ``contracts`` service builds it: ``contract_view`` /
``summary_view`` / ``line_view`` / ``amendment_view`` / ``versions_of`` (usecases),
``template_view`` (templates), ``attachment_view`` (attachments), ``milestone_view`` /
``get_progress`` / ``list_progress`` (progress), the bulk reports (bulk), ``job_out``
(importer) — and the contract 360 the gateway composes.

Documentation only (see :mod:`gateway.views_core`): the routes pass the service's JSON through;
extra fields are allowed. A field without a default is always present; ``X | None`` without a
default may be ``null``; a field with a default may be missing.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .schemas import Page
from .views_approvals import ApprovalRequestPublic
from .views_core import Amount, CustomerPublic, Day, ImportErrorItem, Timestamp

Percent = str  # a decimal string such as "3.5"

# --------------------------------------------------------------------------------------
# Contracts
# --------------------------------------------------------------------------------------


class ContractCustomerRef(BaseModel):
    id: int
    name: str
    code: str | None
    language: str | None


class BillingPlan(BaseModel):
    frequency: str = Field(description="once | monthly | quarterly | yearly")
    in_advance: bool
    payment_terms_days: int
    anchor_day: int | None


class ContractLinePublic(BaseModel):
    id: int
    position: int
    product_id: int
    sku: str | None
    product_name: str
    product_kind: str | None
    category: str | None
    model: str | None
    manufacturer: str | None
    serial_number: str | None
    manufacturing_number: str | None
    description: str | None
    quantity: str = Field(examples=["1"])
    unit_price: Amount
    discount_percent: Percent = Field(examples=["0.00"])
    amount: Amount
    price_source: str | None = Field(description="price_list | base_price | manual | ...")
    start_date: Day | None = Field(description="null: the contract's start")
    end_date: Day | None = Field(description="null: the contract's end")
    warehouse_id: int | None


class ContractPublic(BaseModel):
    """A contract with its lines (the answer of create, update and every lifecycle action)."""

    id: int
    number: str = Field(examples=["C-2027-000042"])
    status: str = Field(
        description="draft | pending_approval | approved | active | expired | terminated | renewed"
        " | cancelled | archived"
    )
    version: int = Field(description="the last approved version; 0 = never approved")
    customer_id: int
    customer: ContractCustomerRef
    kind: str = Field(description="sales | maintenance | lease | service")
    title: str
    currency: str
    start_date: Day
    end_date: Day
    signer: str | None
    signer_title: str | None
    signed_on: Day | None
    billing: BillingPlan
    payment_terms_days: int
    auto_renew: bool
    notice_days: int
    notice_deadline: Day | None
    renewal_uplift_percent: Percent
    owner_id: int | None
    department: str | None
    company: str | None
    template_id: int | None
    field_values: dict[str, Any]
    notes: str | None
    total: Amount = Field(description="the sum of the line amounts (per billing period)")
    term_value: Amount
    amounts_locked: bool
    renewal_of_id: int | None
    renewed_by_id: int | None
    approval_id: str | None
    rejection_comment: str | None
    status_reason: str | None
    termination_date: Day | None
    created_at: Timestamp
    updated_at: Timestamp
    created_by: str | None
    submitted_at: Timestamp | None
    approved_at: Timestamp | None
    activated_at: Timestamp | None
    lines: list[ContractLinePublic]


class ContractVersionInfo(BaseModel):
    version: int
    kind: str = Field(description="approval | amendment | co_terminate | price_update | ...")
    reason: str | None
    effective_date: Day | None
    amendment_id: int | None
    created_at: Timestamp
    created_by: str | None


class AmendmentPublic(BaseModel):
    id: int
    contract_id: int
    number: str
    status: str
    reason: str
    impact: str | None
    effective_date: Day
    changes: dict[str, Any]
    amount_before: Amount | None
    amount_after: Amount | None
    batch_id: int | None
    approval_id: str | None
    from_version: int | None
    to_version: int | None
    comment: str | None
    created_at: Timestamp
    created_by: str | None
    decided_at: Timestamp | None


class TerminateResult(ContractPublic):
    """The contract after ``terminate``: terminated at once, or — before today or inside a period
    already invoiced, by anyone but an admin — unchanged, with the termination request awaiting
    approval."""

    termination_request: AmendmentPublic | None = Field(
        None, description="the pending termination (an amendment) when it went to approval"
    )


class AttachmentPublic(BaseModel):
    id: int
    contract_id: int
    amendment_id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    description: str | None
    uploaded_by: str | None
    uploaded_by_id: int | None
    created_at: Timestamp | None
    download_url: str


class ContractDetail(ContractPublic):
    """A contract with its lines, versions, attachments and amendments."""

    versions: list[ContractVersionInfo]
    attachments: list[AttachmentPublic]
    amendments: list[AmendmentPublic]
    customer_red_listed: bool | None = Field(
        None, description="the customer is on the red list (asked of the customers service; null: unknown)"
    )
    customer_archived: bool | None = None
    customer_red_list_reason: str | None = None


class ContractSummary(BaseModel):
    """A contract in a list: the header without lines."""

    id: int
    number: str
    status: str
    version: int
    customer_id: int
    customer_name: str
    kind: str
    title: str
    currency: str
    start_date: Day
    end_date: Day
    total: Amount
    auto_renew: bool
    owner_id: int | None
    amounts_locked: bool
    renewal_of_id: int | None
    renewed_by_id: int | None
    updated_at: Timestamp


class ContractVersion(ContractVersionInfo):
    contract: dict[str, Any] = Field(description="the contract exactly as it was in that version")


class FieldChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: Any = Field(alias="from")
    to: Any


class LineChange(BaseModel):
    id: int
    product_name: str | None
    changes: dict[str, FieldChange]


class LineDiff(BaseModel):
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[LineChange]


class ContractVersionDiff(BaseModel):
    contract_id: int
    from_version: int
    to_version: int
    fields: dict[str, FieldChange]
    lines: LineDiff


# --------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------


class TemplateFieldPublic(BaseModel):
    name: str
    type: str = Field(description="text | number | date | money")
    required: bool
    label: str | None = None


class TemplateSummary(BaseModel):
    """A template version in a list (without its body)."""

    id: int
    name: str
    language: str
    version: int
    fields: list[TemplateFieldPublic]
    description: str | None
    active: bool
    created_at: Timestamp | None
    created_by: str | None


class TemplatePublic(TemplateSummary):
    body: str
    placeholders: list[str]
    latest_version: int | None = Field(None, description="the newest version of this name and language")


# --------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------


class MilestonePublic(BaseModel):
    id: int
    contract_id: int
    name: str
    planned_date: Day
    weight: str = Field(examples=["1", "2.5"])
    percent_complete: int
    completed_on: Day | None
    notes: str | None
    overdue: bool
    created_at: Timestamp
    updated_at: Timestamp


class MilestoneList(BaseModel):
    contract_id: int
    items: list[MilestonePublic]
    total: int


class DeliveryProgress(BaseModel):
    milestones: int
    actual_percent: Percent | None
    planned_percent: Percent | None
    behind: bool
    overdue: list[int] = Field(description="ids of the milestones overdue")
    items: list[MilestonePublic]


class BillingProgress(BaseModel):
    currency: str
    invoiced: Amount
    paid: Amount
    outstanding: Amount
    invoices: int
    overdue_invoices: int
    percent_invoiced: Percent | None
    percent_paid: Percent | None


class ContractInvoiceProgress(BaseModel):
    id: int | str
    number: str | None
    currency: str
    total: Amount
    paid: Amount
    outstanding: Amount
    status: str
    issue_date: Day | None
    due_date: Day | None
    overdue: bool


class ContractProgress(BaseModel):
    contract_id: int
    number: str
    currency: str
    term_value: Amount
    as_of: Day
    delivery: DeliveryProgress
    billing: list[BillingProgress]
    invoices: list[ContractInvoiceProgress]


class NextMilestone(BaseModel):
    id: int
    name: str
    planned_date: Day


class ProgressSummary(BaseModel):
    contract_id: int
    number: str
    title: str
    status: str
    customer_id: int
    customer_name: str
    owner_id: int | None
    start_date: Day
    end_date: Day
    milestones: int
    actual_percent: Percent | None
    planned_percent: Percent | None
    behind: bool
    overdue_milestones: int
    next_milestone: NextMilestone | None


class ProgressPage(Page[ProgressSummary]):
    as_of: Day


# --------------------------------------------------------------------------------------
# Bulk operations and the import
# --------------------------------------------------------------------------------------


class SkippedContract(BaseModel):
    contract_id: int
    number: str | None = None
    reason: str


class EndDateChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    contract_id: int
    number: str
    from_: Day = Field(alias="from")
    to: Day


class CoTerminateResult(BaseModel):
    status: str = Field(description="applied | pending_approval (not an admin: one approval for the batch)")
    batch_id: int | None = Field(None, description="the batch awaiting approval")
    changed: int
    end_date: Day
    skipped: list[SkippedContract]
    contracts: list[EndDateChange]


class PriceChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    line_id: int
    from_: Amount = Field(alias="from")
    to: Amount


class ContractPriceChanges(BaseModel):
    contract_id: int
    number: str
    lines: list[PriceChange]


class PriceUpdateResult(BaseModel):
    status: str = Field(description="unchanged | applied | pending_approval")
    percent: str
    contracts_changed: int
    lines_changed: int
    skipped: list[SkippedContract]
    changes: list[ContractPriceChanges] = Field(description="the first 1000 contracts")
    changes_truncated: bool
    batch_id: int | None = Field(None, description="with status pending_approval")


class BatchAmendment(BaseModel):
    id: int
    number: str
    contract_id: int
    contract_number: str
    status: str
    amount_before: Amount | None
    amount_after: Amount | None
    to_version: int | None


class PriceBatchPublic(BaseModel):
    id: int
    batch_id: int
    kind: str
    status: str
    params: dict[str, Any]
    summary: dict[str, Any]
    comment: str | None
    approval_id: str | None
    created_at: Timestamp | None
    created_by: str | None
    decided_at: Timestamp | None
    amendments_by_status: dict[str, int]
    amendments: list[BatchAmendment]
    amendments_truncated: bool


class LinesMoved(BaseModel):
    action: Literal["move_lines"]
    moved_line_ids: list[int]
    contracts: list[ContractPublic]


class ContractSplitResult(BaseModel):
    action: Literal["split"]
    contract: ContractPublic = Field(description="the new contract")
    source: ContractPublic


class EndedContract(BaseModel):
    contract_id: int
    number: str
    status: str = Field(description="terminated | cancelled")
    lines_moved: list[int]


class ContractMergeResult(BaseModel):
    action: Literal["merge"]
    contract: ContractPublic
    ended: list[EndedContract]


class PendingContractRef(BaseModel):
    contract_id: int
    number: str


class RestructurePending(BaseModel):
    """A restructuring of contracts in force by anyone but an admin: one batch awaiting ONE
    approval; nothing changed yet."""

    action: str = Field(description="move_lines | split | merge")
    status: Literal["pending_approval"]
    batch_id: int
    contracts_pending: list[PendingContractRef]


RestructureResult = LinesMoved | ContractSplitResult | ContractMergeResult | RestructurePending


class ImportedContract(BaseModel):
    contract_ref: str | None
    id: int
    number: str
    status: str
    line: int


class ContractImportJob(BaseModel):
    """A contracts import: its progress; ``errors`` and ``contracts`` once done or failed (the
    answer of a synchronous import)."""

    id: int
    job_id: int
    mode: str
    filename: str | None
    status: str
    rows_received: int
    rows_processed: int
    created: int
    updated: int
    error_count: int
    message: str | None
    started_at: Timestamp
    finished_at: Timestamp | None
    errors: list[ImportErrorItem] | None = None
    contracts: list[ImportedContract] | None = None
    contracts_truncated: bool | None = None


# --------------------------------------------------------------------------------------
# Contract 360
# --------------------------------------------------------------------------------------


class OverviewPart(BaseModel):
    """Up to 100 items of another service's list and how many there are."""

    items: list[dict[str, Any]]
    total: int


class ContractOverview(BaseModel):
    """A part the caller may not read is ``null`` and named in ``forbidden``; a part whose
    service does not answer is ``null`` and named in ``unavailable``."""

    contract: ContractDetail
    customer: CustomerPublic | None
    approvals: Page[ApprovalRequestPublic] | None
    invoices: OverviewPart | None
    payments: OverviewPart | None
    units: OverviewPart | None
    tasks: OverviewPart | None
    forbidden: list[str]
    unavailable: list[str]


ContractPage = Page[ContractSummary]
AttachmentPage = Page[AttachmentPublic]
AmendmentPage = Page[AmendmentPublic]
VersionPage = Page[ContractVersionInfo]
TemplatePage = Page[TemplateSummary]
