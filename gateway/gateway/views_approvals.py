"""What the approval routes answer, as the ``approvals`` service builds it
(``approvals.usecases.request_dict`` / ``_full`` / ``flow_dict`` / ``get_flow``).

Documentation only (see :mod:`gateway.views_core`): the routes pass the service's JSON through;
extra fields are allowed. A field without a default is always present; ``X | None`` without a
default may be ``null``; a field with a default may be missing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .schemas import Page
from .views_core import Amount, Timestamp


class ApprovalStep(BaseModel):
    """A step as the request runs it: who may decide (``users``, ``roles``, the department
    head), who must (``required``, in ``all`` mode) and who already approved."""

    index: int
    name: str
    mode: str = Field(description="any | all")
    status: str = Field(description="waiting | pending | approved | rejected | cancelled")
    users: list[int] = []
    roles: list[str] = []
    department_head: bool = False
    required: list[int] = []
    approved_by: list[int] = []
    started_at: Timestamp | None = None
    decided_at: Timestamp | None = None
    due_at: Timestamp | None = Field(None, description="the SLA deadline of the pending step")


class ApprovalDecisionPublic(BaseModel):
    id: int
    step: int
    step_name: str
    user: int | None
    username: str | None
    decision: str = Field(description="approve | reject")
    comment: str | None
    approved_value: str | None = Field(None, description="a trade-in's valuation decided with this approval")
    decided_at: Timestamp


class ApprovalFlowRef(BaseModel):
    """The flow version the request runs (``id`` null: the default flow)."""

    id: int | None
    version: int | None
    name: str | None
    sla_hours: int


class ApprovalRequestPublic(BaseModel):
    id: int
    document_type: str = Field(examples=["contract"])
    document_id: int | str
    source: str | None
    amount: Amount | None
    currency: str | None
    department: str | None
    company: str | None
    contract_kind: str | None
    submitter: int | None
    summary: str | None
    details: dict[str, Any]
    status: str = Field(description="pending | approved | rejected | withdrawn")
    current_step: int | None
    current_step_name: str | None
    steps: list[ApprovalStep]
    decisions: list[ApprovalDecisionPublic]
    flow: ApprovalFlowRef
    allow_self_approval: bool
    previous_request_id: int | None
    created_at: Timestamp
    updated_at: Timestamp
    closed_at: Timestamp | None
    may_decide: bool = Field(description="the caller may decide the current step now")


class ApprovalHistoryItem(BaseModel):
    """An earlier request of the same document."""

    id: int
    status: str
    created_at: Timestamp
    closed_at: Timestamp | None
    summary: str | None
    amount: Amount | None
    currency: str | None
    decisions: list[ApprovalDecisionPublic]


class ApprovalRequestDetail(ApprovalRequestPublic):
    history: list[ApprovalHistoryItem]


ApprovalRequestPage = Page[ApprovalRequestPublic]


# --------------------------------------------------------------------------------------
# Flows
# --------------------------------------------------------------------------------------


class FlowConditions(BaseModel):
    min_amount: Amount | None = None
    max_amount: Amount | None = None
    currency: str | None = None
    department: str | None = None
    company: str | None = None
    contract_kind: str | None = None


class FlowStep(BaseModel):
    """A step as configured (only the approver kinds given are present)."""

    name: str
    mode: str = Field(description="any | all")
    approver_role: str | None = None
    approver_user_id: int | None = None
    approver_user_ids: list[int] | None = None
    department_head: bool | None = None


class ApprovalFlowPublic(BaseModel):
    id: int
    name: str
    document_type: str
    conditions: FlowConditions
    priority: int
    sla_hours: int
    allow_self_approval: bool
    active: bool
    steps: list[FlowStep]
    version: int
    created_at: Timestamp
    updated_at: Timestamp


class ApprovalFlowVersion(BaseModel):
    """The flow as it was in ``version`` (its fields at the time)."""

    version: int
    created_at: Timestamp
    created_by: int | None
    name: str | None = None
    document_type: str | None = None
    conditions: FlowConditions | None = None
    priority: int | None = None
    sla_hours: int | None = None
    allow_self_approval: bool | None = None
    active: bool | None = None
    steps: list[FlowStep] | None = None


class ApprovalFlowDetail(ApprovalFlowPublic):
    versions: list[ApprovalFlowVersion]


ApprovalFlowPage = Page[ApprovalFlowPublic]
