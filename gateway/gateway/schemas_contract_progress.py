"""Request shapes of the contract progress routes (milestones, delivery and billing progress).
The gateway checks shape and types (unknown fields, a float weight, a percent that is not a whole
number 0..100, a malformed date → 422 naming the field); the contracts service checks the rules
(the planned date inside the contract term, the weight's range and places, scopes)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .schemas import IsoDate, Money, Strict

MilestoneName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
MilestoneNotes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
PercentComplete = Annotated[int, Field(strict=True, ge=0, le=100)]
ContractStatus = Literal[
    "draft", "pending_approval", "approved", "active", "expired", "terminated", "renewed", "cancelled"
]


class MilestoneCreate(Strict):
    name: MilestoneName = Field(examples=["Installation at site B"])
    planned_date: IsoDate = Field(description="inside the contract term", examples=["2026-03-31"])
    weight: Money | None = Field(
        None,
        description='share of the contract\'s delivery (default "1"; > 0, at most 4 places)',
        examples=["2"],
    )
    percent_complete: PercentComplete | None = Field(None, description="0..100 (default 0)")
    completed_on: IsoDate | None = Field(None, description="only at 100 %; default today when it reaches 100")
    notes: MilestoneNotes | None = None


class MilestoneUpdate(Strict):
    """Only the fields sent change. ``percent_complete`` 100 sets ``completed_on`` (today unless
    given); below 100 clears it."""

    name: MilestoneName | None = None
    planned_date: IsoDate | None = None
    weight: Money | None = None
    percent_complete: PercentComplete | None = None
    completed_on: IsoDate | None = None
    notes: MilestoneNotes | None = None
