"""Request and response shapes. The gateway checks shape and types (unknown fields, wrong types,
floats for money → 422 naming the field); the services check business rules.

Conventions: ``*Create`` / ``*Update`` (every field optional; only the fields sent reach the
service) / ``*Public``. Money is a string with a decimal point (or an integer), never a float;
dates are ISO 8601; a timestamp without a zone is taken as UTC.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from crm_common.context import ROLES
from crm_common.limits import (
    AMOUNT,
    PERCENT,
    QUANTITY,
    DecimalLimit,
    check_date,
    clean_identifier,
    clean_text,
    parse_decimal,
)
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from .users import LANGUAGES

T = TypeVar("T")

# --------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------


def _decimal(limit: DecimalLimit):
    """A decimal input within ``limit`` (crm_common.limits: bounded on its text before it is
    parsed), as the plain-notation string the services receive."""

    def check(value: Any) -> str:
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError(
                f'{limit.what}: a string with a decimal point (e.g. "1250.00") or an integer, never a float'
            )
        if not isinstance(value, (str, int, Decimal)):
            raise ValueError(f'{limit.what}: a string such as "1250.00"')
        try:
            return format(parse_decimal(value, limit), "f")
        except ValueError as exc:
            raise ValueError(f"not a valid {limit.what}: {exc}") from None

    return check


_money = _decimal(AMOUNT)


# ids are 64-bit in every database: a larger number cannot name a record
MAX_ID = 2**63 - 1


def _id(value: Any) -> int | str:
    """Ids are positive integers or UUID strings (the service's choice); "42" is 42."""
    if isinstance(value, bool):
        raise ValueError("must be an integer or a UUID")
    if isinstance(value, int):
        if not 1 <= value <= MAX_ID:
            raise ValueError(f"must be a positive integer (at most {MAX_ID}) or a UUID")
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit() and text.isascii():
            n = int(text)
            if 1 <= n <= MAX_ID:
                return n
        try:
            return str(uuid.UUID(text))
        except ValueError:
            pass
    raise ValueError("must be a positive integer or a UUID")


def _aware(value: dt.datetime) -> dt.datetime:
    value = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return check_date(value)


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError("must be an ISO 8601 date (YYYY-MM-DD)")
    return value.strip()


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError("not an e-mail address")
    return value


Money = Annotated[str, BeforeValidator(_money), Field(examples=["1250.00"])]
# below 10^7, at most 4 places / below 10^4, at most 6 places (each field narrows it further)
DecimalQuantity = Annotated[str, BeforeValidator(_decimal(QUANTITY)), Field(examples=["1", "2.5"])]
PercentValue = Annotated[str, BeforeValidator(_decimal(PERCENT)), Field(examples=["20", "7.5"])]
ResourceId = Annotated[int | str, BeforeValidator(_id), Field(examples=[42])]
# 1900-01-01..2199-12-31 (crm_common.limits): every date in a body or a query
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date), AfterValidator(check_date)]
Timestamp = Annotated[dt.datetime, AfterValidator(_aware)]
# free text: every script, but no control characters (tab and line breaks aside) and no
# bidirectional overrides (crm_common.limits.clean_text)
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), AfterValidator(clean_text)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(clean_text)
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(clean_text)
]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), AfterValidator(clean_text)
]
Language = Literal["en", "zh", "tr", "bg"]
Role = Literal[
    "admin", "sales_manager", "sales_rep", "finance", "approver", "warehouse", "readonly", "portal"
]
assert set(Role.__args__) == set(ROLES) and set(Language.__args__) == set(LANGUAGES)  # type: ignore[attr-defined]
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024)]


def _nfkc(value: Any) -> Any:
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


# identifiers (user names, key names, codes): NFKC (full-width Ａ is A), no control or format
# characters (NUL, right-to-left override, zero-width space: Unicode Cc, Cf, Zl, Zp)
Identifier = Annotated[str, BeforeValidator(_nfkc), AfterValidator(clean_identifier)]
Username = Annotated[
    Identifier,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\s/\\:]+$"),
]


class Strict(BaseModel):
    """Unknown fields are refused (422), so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")

    def data(self) -> dict[str, Any]:
        """The fields the client sent, JSON-ready (what the service receives)."""
        return self.model_dump(mode="json", exclude_unset=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorBody(BaseModel):
    error: ErrorInfo


# --------------------------------------------------------------------------------------
# Auth and users
# --------------------------------------------------------------------------------------


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class UserCreate(Strict):
    username: Username
    password: Password
    roles: list[Role] = Field(min_length=1)
    full_name: ShortText | None = None
    email: Email | None = None
    department: ShortText | None = None
    is_department_head: bool = False
    customer_id: int | None = Field(None, ge=1, le=MAX_ID)
    active: bool = True
    language: Language = "en"


class UserUpdate(Strict):
    roles: list[Role] | None = Field(None, min_length=1)
    full_name: ShortText | None = None
    email: Email | None = None
    department: ShortText | None = None
    is_department_head: bool | None = None
    customer_id: int | None = Field(None, ge=1, le=MAX_ID)
    active: bool | None = None
    language: Language | None = None
    password: Password | None = None


class ProfileUpdate(Strict):
    """What a person may change of their own account: how they are named and reached, and the
    language of their screens and messages (roles, department and status stay the admin's)."""

    full_name: ShortText | None = None
    email: Email | None = None
    language: Language | None = None


class UserPublic(BaseModel):
    id: int
    username: str
    roles: list[str]
    full_name: str | None
    email: str | None
    department: str | None
    is_department_head: bool
    customer_id: int | None
    active: bool
    language: str
    created_at: str | None
    updated_at: str | None


class PasswordChange(Strict):
    old_password: str = Field(max_length=1024)
    new_password: Password


# --------------------------------------------------------------------------------------
# Customers, contacts, follow-ups, opportunities
# --------------------------------------------------------------------------------------


class ContactCreate(Strict):
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    title: Annotated[ShortText, StringConstraints(max_length=100)] | None = None
    notes: Text | None = None
    is_primary: bool | None = None


class CustomerCreate(Strict):
    name: Name
    kind: Literal["company", "person"]
    tax_id: Annotated[ShortText, StringConstraints(max_length=64)] | None = None
    email: Email | None = None
    phone: Phone | None = None
    industry: Annotated[ShortText, StringConstraints(max_length=100)] | None = None
    region: Annotated[ShortText, StringConstraints(max_length=100)] | None = None
    size: Annotated[ShortText, StringConstraints(max_length=50)] | None = None
    level: Literal["A", "B", "C"] | None = None
    tags: list[Tag] | None = Field(None, max_length=50)
    owner_id: ResourceId | None = None
    language: Language | None = None
    red_listed: bool | None = None
    red_list: bool | None = Field(None, description="another name of red_listed")
    address: Annotated[Text, StringConstraints(max_length=1000)] | None = None
    birthday: IsoDate | None = None
    notes: Text | None = None
    contacts: list[ContactCreate] | None = Field(None, max_length=100)
    allow_duplicate: bool = False


class RedListBody(Strict):
    """``POST /customers/{id}/red-list``: why the customer is on the red list."""

    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
        AfterValidator(clean_text),
    ]


class CustomerUpdate(Strict):
    name: Name | None = None
    kind: Literal["company", "person"] | None = None
    tax_id: Annotated[ShortText, StringConstraints(max_length=64)] | None = None
    email: Email | None = None
    phone: Phone | None = None
    industry: Annotated[ShortText, StringConstraints(max_length=100)] | None = None
    region: Annotated[ShortText, StringConstraints(max_length=100)] | None = None
    size: Annotated[ShortText, StringConstraints(max_length=50)] | None = None
    level: Literal["A", "B", "C"] | None = None
    tags: list[Tag] | None = Field(None, max_length=50)
    owner_id: ResourceId | None = None
    language: Language | None = None
    red_listed: bool | None = None
    red_list: bool | None = Field(None, description="another name of red_listed")
    address: Annotated[Text, StringConstraints(max_length=1000)] | None = None
    birthday: IsoDate | None = None
    notes: Text | None = None
    allow_duplicate: bool | None = None


class FollowUpCreate(Strict):
    method: Literal["call", "visit", "email", "meeting", "other"]
    occurred_at: Timestamp
    result: Text
    contact_id: ResourceId | None = None
    notes: Text | None = None
    next_action: Text | None = None
    next_action_at: Timestamp | None = None


Stage = Literal["lead", "qualified", "proposal", "negotiation", "won", "lost"]


class OpportunityCreate(Strict):
    customer_id: ResourceId
    title: Name
    amount: Money
    currency: Currency
    stage: Stage | None = Field(None, description="default: lead")
    expected_close: IsoDate | None = None
    probability: int | None = Field(None, ge=0, le=100)
    needs: Text | None = None
    competitors: Text | list[ShortText] | None = None
    owner_id: ResourceId | None = None
    notes: Text | None = None
    lost_reason: Text | None = None


class OpportunityUpdate(Strict):
    title: Name | None = None
    amount: Money | None = None
    currency: Currency | None = None
    stage: Stage | None = None
    expected_close: IsoDate | None = None
    probability: int | None = Field(None, ge=0, le=100)
    needs: Text | None = None
    competitors: Text | list[ShortText] | None = None
    owner_id: ResourceId | None = None
    notes: Text | None = None
    lost_reason: Text | None = None


class ImportAccepted(BaseModel):
    job_id: Any
    status: str = "accepted"


# --------------------------------------------------------------------------------------
# Admin and health
# --------------------------------------------------------------------------------------


class DailyJobRequest(Strict):
    as_of: IsoDate


class DailyJobResult(BaseModel):
    as_of: dt.date
    results: dict[str, Any]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    broker: str
    services: dict[str, str]
