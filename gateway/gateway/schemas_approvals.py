"""Request bodies of the approval routes (``routes/approvals.py``, ``routes/approval_flows.py``).
The approvals service validates again and owns the rules (one kind of approver per step, flow
matching, who may decide); these models refuse malformed bodies at the door with a 422."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .schemas import MAX_ID, Currency, Money, Name, ShortText, Strict

DocumentType = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{0,49}$")]
Comment = Annotated[str, StringConstraints(max_length=10000)]
# a flow's rank among the flows of a document type (a 32-bit column in PostgreSQL)
Priority = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class FlowConditions(Strict):
    """Every condition set must hold: ``min_amount <= amount <= max_amount``; texts compare
    case-insensitively."""

    min_amount: Money | None = None
    max_amount: Money | None = None
    currency: Currency | None = None
    department: Annotated[ShortText, StringConstraints(max_length=100)] | None = None
    company: ShortText | None = None
    contract_kind: Annotated[ShortText, StringConstraints(max_length=50)] | None = None


class FlowStep(Strict):
    """One kind of approver per step: ``approver_role``, ``approver_user_id`` (or several
    ``approver_user_ids``) or ``department_head: true`` (the submitter's department head)."""

    name: Name
    approver_role: Annotated[ShortText, StringConstraints(max_length=50)] | None = None
    approver_user_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    approver_user_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = None
    department_head: bool | None = None
    mode: Literal["any", "all"] = "any"


class ApprovalFlowCreate(Strict):
    name: Name
    document_type: DocumentType
    conditions: FlowConditions | None = None
    priority: Priority | None = Field(
        default=None, description="lower first; the first matching flow applies"
    )
    sla_hours: Annotated[int, Field(ge=1, le=8760)] | None = Field(default=None, description="default 48")
    allow_self_approval: bool | None = None
    active: bool | None = None
    steps: Annotated[list[FlowStep], Field(min_length=1, max_length=20)]


class ApprovalFlowUpdate(Strict):
    """Only the fields sent change; a change makes a new flow version (running requests keep
    theirs)."""

    name: Name | None = None
    document_type: DocumentType | None = None
    conditions: FlowConditions | None = None
    priority: Priority | None = None
    sla_hours: Annotated[int, Field(ge=1, le=8760)] | None = None
    allow_self_approval: bool | None = None
    active: bool | None = None
    steps: Annotated[list[FlowStep], Field(min_length=1, max_length=20)] | None = None


class ApprovalDecision(Strict):
    decision: Literal["approve", "reject"]
    comment: Comment | None = None
    approved_value: Money | None = Field(
        None,
        description="trade_in documents, approving only: the valuation decided (not negative; "
        "default: the requested value); 422 for other document types",
    )
    currency: Currency | None = Field(None, description="with approved_value: the request's currency")


class ApprovalWithdraw(Strict):
    comment: Comment | None = None
