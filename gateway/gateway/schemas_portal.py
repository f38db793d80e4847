"""Shapes of the portal, its invitations and the dashboard (see :mod:`gateway.schemas` for the
conventions)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .schemas import MAX_ID, Email, Language, Password, ShortText, Strict, Username

Token = Annotated[str, StringConstraints(strip_whitespace=True, min_length=20, max_length=200)]
Message = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
SerialNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
InvitationStatus = Literal["pending", "accepted", "revoked", "expired"]
ServiceRequestKind = Literal["renewal_quote", "service_call"]


class InvitationCreate(Strict):
    """Invite a person of a customer to the portal: a portal user bound to ``customer_id`` is
    created inactive and an e-mail with a one-time link to set the password goes to ``email``."""

    customer_id: int = Field(ge=1, le=MAX_ID)
    email: Email
    username: Username | None = Field(
        None, description="default: the e-mail address; another username: administrators only (403)"
    )
    full_name: ShortText | None = None
    language: Language | None = Field(None, description="of the e-mail and the portal; default en")


class InvitationAccept(Strict):
    token: Token
    password: Password


class ServiceRequestCreate(Strict):
    """``renewal_quote`` names a contract; ``service_call`` an installed item by serial number
    (or a contract)."""

    kind: ServiceRequestKind
    contract_id: int | None = Field(None, ge=1, le=MAX_ID)
    serial_number: SerialNumber | None = None
    message: Message
