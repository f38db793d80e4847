"""The customers domain: pure rules, no I/O, no framework.

* field rules shared by the RPC schemas and the CSV import (one definition of "a valid phone");
* record-level scopes (who may read and write which customers);
* duplicate-detection keys (Unicode-aware, via :mod:`crm_common.text`) and matching;
* customer code format; opportunity stage transitions;
* CSV row parsing and validation; the follow-up due window.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crm_common.context import CallerContext
from crm_common.errors import Conflict, PermissionDenied, ValidationFailed
from crm_common.text import email_key, fold, name_key, phone_key

# --------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------

KINDS = ("company", "person")
LEVELS = ("A", "B", "C")
LANGUAGES = ("en", "zh", "tr", "bg")
DEFAULT_LANGUAGE = "en"
FOLLOW_UP_METHODS = ("call", "visit", "email", "meeting", "other")
STAGES = ("lead", "qualified", "proposal", "negotiation", "won", "lost")
OPEN_STAGES = ("lead", "qualified", "proposal", "negotiation")
CLOSED_STAGES = ("won", "lost")
IMPORT_MODES = ("all_or_nothing", "skip_bad")
IMPORT_STATUSES = ("receiving", "importing", "done", "failed")

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
MAX_TAGS = 50
MAX_AMOUNT_DECIMALS = 6
MIN_PHONE_DIGITS = 5

LIMITS = {
    "name": 300,
    "tax_id": 64,
    "email": 254,
    "phone": 50,
    "industry": 100,
    "region": 100,
    "size": 50,
    "address": 1000,
    "notes": 10000,
    "title": 300,
    "contact_name": 200,
    "contact_title": 100,
    "tag": 50,
    "result": 2000,
    "needs": 10000,
    "competitors": 10000,
}

# --------------------------------------------------------------------------------------
# Field rules: each returns None when the value is fine, else the reason
# --------------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.][^@\s]*\.[^@\s]+$")
_PHONE_CHARS = set(" +-().,/")


def too_long(value: str, limit: int) -> str | None:
    return f"must be at most {limit} characters" if len(value) > limit else None


def name_problem(value: str | None) -> str | None:
    if value is None or not value.strip():
        return "must not be blank"
    if not name_key(value):
        return "must contain letters or digits"
    return too_long(value, LIMITS["name"])


def tax_id_problem(value: str | None) -> str | None:
    if value is None:
        return None
    if not tax_key(value):
        return "must contain letters or digits"
    return too_long(value, LIMITS["tax_id"])


def email_problem(value: str | None) -> str | None:
    if value is None:
        return None
    if not _EMAIL.match(value):
        return "not a valid e-mail address"
    return too_long(value, LIMITS["email"])


def phone_problem(value: str | None) -> str | None:
    if value is None:
        return None
    for ch in value:
        if unicodedata.digit(ch, None) is None and ch not in _PHONE_CHARS:
            return f"not a valid phone number (unexpected character {ch!r})"
    if len(phone_key(value)) < MIN_PHONE_DIGITS:
        return f"not a valid phone number (fewer than {MIN_PHONE_DIGITS} digits)"
    return too_long(value, LIMITS["phone"])


def tags_problem(tags: list[str] | None) -> str | None:
    if tags is None:
        return None
    if len(tags) > MAX_TAGS:
        return f"at most {MAX_TAGS} tags"
    for tag in tags:
        if not tag.strip():
            return "tags must not be blank"
        if ";" in tag or "|" in tag:
            return "tags must not contain ';' or '|'"
        if len(tag) > LIMITS["tag"]:
            return f"tags must be at most {LIMITS['tag']} characters"
    return None


def birthday_problem(value: dt.date | None, today: dt.date) -> str | None:
    if value is not None and value > today:
        return "must not be in the future"
    return None


def amount_problem(value: Decimal | None) -> str | None:
    if value is None:
        return None
    if value < 0:
        return "must not be negative"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_AMOUNT_DECIMALS:
        return f"at most {MAX_AMOUNT_DECIMALS} decimal places"
    return None


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Stripped, blank ones dropped, duplicates (compared folded) removed, first spelling kept."""
    out: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        tag = tag.strip()
        key = fold(tag)
        if tag and key not in seen:
            seen.add(key)
            out.append(tag)
    return out


def split_tags(cell: str) -> list[str]:
    """A CSV cell's tags, separated by ``;`` or ``|``."""
    return normalise_tags(re.split(r"[;|]", cell))


# --------------------------------------------------------------------------------------
# Keys: duplicate detection and search
# --------------------------------------------------------------------------------------


def tax_key(tax_id: str | None) -> str:
    """Tax ids compare without case, spaces and punctuation (``TR-123.456`` = ``tr123456``)."""
    return name_key(tax_id)


@dataclass(frozen=True)
class CustomerKeys:
    tax: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""

    def items(self) -> list[tuple[str, str]]:
        """``(field, key)`` for every non-empty key, in the order reasons are reported."""
        return [
            (f, k)
            for f, k in (
                ("tax_id", self.tax),
                ("name", self.name),
                ("email", self.email),
                ("phone", self.phone),
            )
            if k
        ]


def customer_keys(
    name: str | None = None,
    tax_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> CustomerKeys:
    return CustomerKeys(tax_key(tax_id), name_key(name), email_key(email), phone_key(phone))


def changed_keys(old: CustomerKeys, new: CustomerKeys) -> CustomerKeys:
    """The keys of ``new`` that differ from ``old`` (the others blank)."""
    return CustomerKeys(
        tax=new.tax if new.tax != old.tax else "",
        name=new.name if new.name != old.name else "",
        email=new.email if new.email != old.email else "",
        phone=new.phone if new.phone != old.phone else "",
    )


def duplicate_reasons(new: CustomerKeys, existing: CustomerKeys) -> list[str]:
    """Why ``existing`` is a likely duplicate of ``new``: ``["tax_id", "name", ...]``."""
    theirs = dict(existing.items())
    return [f for f, k in new.items() if theirs.get(f) == k]


def search_key(name: str, code: str, tax_id: str | None, email: str | None, phone: str | None) -> str:
    """One folded text per customer that ``q`` is matched against as a substring."""
    parts = [
        fold(name),
        name_key(name),
        fold(code),
        fold(tax_id),
        tax_key(tax_id),
        email_key(email),
        fold(phone),
        phone_key(phone),
    ]
    return "\n".join(p for p in parts if p)


def search_patterns(q: str) -> list[str]:
    """The folded forms of a query, each to be found as a substring of a search key."""
    patterns = []
    for p in (fold(q), name_key(q)):
        if p and p not in patterns:
            patterns.append(p)
    digits = phone_key(q)
    # a query that is mostly a phone number ("+90 (212) 555") also matches by its digits
    if len(digits) >= 3 and len(digits) >= len(name_key(q)) - 1 and digits not in patterns:
        patterns.append(digits)
    return patterns


def tags_key(tags: Iterable[str]) -> str:
    return "|" + "".join(fold(t) + "|" for t in tags)


def tag_pattern(tag: str) -> str:
    return "|" + fold(tag) + "|"


class KeyIndex:
    """An in-memory index ``field -> key -> ref`` (first one wins) for bulk duplicate checks."""

    def __init__(self) -> None:
        self._maps: dict[str, dict[str, Any]] = {"tax_id": {}, "name": {}, "email": {}, "phone": {}}

    def add(self, keys: CustomerKeys, ref: Any) -> None:
        for f, k in keys.items():
            self._maps[f].setdefault(k, ref)

    def matches(self, keys: CustomerKeys) -> list[tuple[str, Any]]:
        """``(field, ref)`` for every key already in the index."""
        out = []
        for f, k in keys.items():
            ref = self._maps[f].get(k)
            if ref is not None:
                out.append((f, ref))
        return out

    def get(self, field_name: str, key: str) -> Any:
        return self._maps[field_name].get(key) if key else None


# --------------------------------------------------------------------------------------
# Customer codes
# --------------------------------------------------------------------------------------

CODE_PREFIX = "C-"


def customer_code(n: int) -> str:
    """``C-000123``: at least six digits, more when the counter outgrows them."""
    if n < 1:
        raise ValueError("customer code counter starts at 1")
    return f"{CODE_PREFIX}{n:06d}"


def normalise_code(code: str) -> str:
    """``c-123`` / ``C-000123`` / ``Ｃ－０００１２３`` → ``C-000123`` (lookup form)."""
    s = fold(code).replace(" ", "").upper()
    m = re.fullmatch(r"C-?(\d+)", s)
    if not m:
        return s
    return customer_code(int(m.group(1))) if int(m.group(1)) > 0 else s


# --------------------------------------------------------------------------------------
# Scopes
# --------------------------------------------------------------------------------------

READ_ALL_ROLES = ("admin", "sales_manager", "readonly", "finance", "approver", "warehouse")
WRITE_ALL_ROLES = ("admin", "sales_manager")
OWN_ROLES = ("sales_rep",)


@dataclass(frozen=True)
class Access:
    """What a caller may touch: every customer (``owner_id is None``) or one owner's."""

    owner_id: int | None = None
    user_id: int | None = None

    @property
    def restricted(self) -> bool:
        return self.owner_id is not None

    def allows(self, owner_id: int | None) -> bool:
        return self.owner_id is None or owner_id == self.owner_id


def _own_access(caller: CallerContext) -> Access:
    if caller.user_id is None:
        raise PermissionDenied("A sales rep caller without a user id has no customers")
    return Access(owner_id=caller.user_id, user_id=caller.user_id)


def _authenticated(caller: CallerContext | None) -> CallerContext:
    if caller is None or not caller.authenticated:
        raise PermissionDenied("No caller context: the call is not authenticated")
    return caller


def read_access(caller: CallerContext | None) -> Access:
    """Readers: admin, sales_manager, readonly, finance, approver, warehouse see all customers;
    a sales_rep their own; the portal and unknown roles nothing."""
    caller = _authenticated(caller)
    if caller.is_system or caller.has_any(READ_ALL_ROLES):
        return Access(user_id=caller.user_id)
    if caller.has_any(OWN_ROLES):
        return _own_access(caller)
    raise PermissionDenied("Not allowed to read customers", {"roles": list(caller.roles)})


def write_access(caller: CallerContext | None) -> Access:
    """Writers: admin and sales_manager every customer, a sales_rep their own; read-only
    roles are refused."""
    caller = _authenticated(caller)
    if caller.is_system or caller.has_any(WRITE_ALL_ROLES):
        return Access(user_id=caller.user_id)
    if caller.has_any(OWN_ROLES):
        return _own_access(caller)
    raise PermissionDenied(
        "Not allowed to change customers",
        {"required_roles": list(WRITE_ALL_ROLES + OWN_ROLES), "roles": list(caller.roles)},
    )


def check_can_write(access: Access, owner_id: int | None) -> None:
    """``access`` may change a record owned by ``owner_id`` (one it can already see)."""
    if not access.allows(owner_id):
        raise PermissionDenied("Only the owner or a sales manager may change this customer")


def default_owner(access: Access, requested: int | None, given: bool) -> int | None:
    """The owner of a new record: the requested one, else the caller."""
    return requested if given else access.user_id


def check_owner_assignment(access: Access, owner_id: int | None) -> None:
    """A sales rep can only own (create, assign) customers themselves."""
    if access.restricted and owner_id != access.owner_id:
        raise PermissionDenied(
            "A sales rep can only assign customers and opportunities to themselves",
            {"owner_id": ["must be your own user id"]},
        )


def owner_problem(
    owner_id: int | None, known: Mapping[int, bool] | None, directory_empty: bool
) -> str | None:
    """Validate an owner against the users read copy: ``known`` maps user id → active.
    While the read copy is still empty every owner is accepted."""
    if owner_id is None or directory_empty:
        return None
    if known is None or owner_id not in known:
        return "unknown user"
    if not known[owner_id]:
        return "user is inactive"
    return None


# --------------------------------------------------------------------------------------
# Opportunities
# --------------------------------------------------------------------------------------


def is_closed(stage: str) -> bool:
    return stage in CLOSED_STAGES


def check_stage_change(old: str, new: str) -> None:
    """Open stages move freely among themselves and to won/lost; won and lost are final."""
    if old == new:
        return
    if old in CLOSED_STAGES:
        raise Conflict(
            f"The opportunity is {old}; a closed opportunity cannot move to {new}",
            {"stage": [f"cannot move from {old} to {new}"], "from": old, "to": new},
        )


CLOSED_LOCKED_FIELDS = ("amount", "currency")


def check_closed_edit(stage: str, changes: Mapping[str, Any]) -> None:
    """The amount and currency of a won or lost opportunity are final."""
    if stage not in CLOSED_STAGES:
        return
    locked = sorted(f for f in CLOSED_LOCKED_FIELDS if f in changes)
    if locked:
        raise Conflict(
            f"The opportunity is {stage}; its {' and '.join(locked)} can no longer change",
            {f: ["the opportunity is closed"] for f in locked},
        )


def closing_probability(stage: str, probability: int | None) -> int | None:
    """Won is 100 %, lost 0 %; open stages keep what was given."""
    if stage == "won":
        return 100
    if stage == "lost":
        return 0
    return probability


# --------------------------------------------------------------------------------------
# Dashboard: the sales funnel (pipeline)
# --------------------------------------------------------------------------------------

# Roles that see every opportunity on the dashboard even with a department.
DASHBOARD_ALL_ROLES = ("admin", "finance", "readonly")


@dataclass(frozen=True)
class PipelineScope:
    """Whose opportunities a dashboard counts: one owner's, those owned by the users of one
    department, or (both None) every opportunity."""

    owner_id: int | None = None
    department: str | None = None


def pipeline_scope(caller: CallerContext | None) -> PipelineScope:
    """A sales rep counts the opportunities they own; a sales manager with a department (and no
    role that sees everything) those owned by that department's users; a manager without a
    department, admin, finance, read-only (and the other reading roles) everything; portal users
    and unknown roles get 403."""
    caller = _authenticated(caller)
    if not caller.is_system and ("portal" in caller.roles or caller.customer_id is not None):
        raise PermissionDenied("Portal users have no dashboard")
    access = read_access(caller)
    if access.restricted:
        return PipelineScope(owner_id=access.owner_id)
    department = (caller.department or "").strip()
    if (
        department
        and not caller.is_system
        and "sales_manager" in caller.roles
        and not caller.has_any(DASHBOARD_ALL_ROLES)
    ):
        return PipelineScope(department=department)
    return PipelineScope()


def year_dates(year: int) -> tuple[dt.date, dt.date]:
    """1 January and 31 December of ``year``."""
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def year_span(year: int) -> tuple[dt.datetime, dt.datetime]:
    """[1 January, next 1 January) of ``year`` as UTC timestamps."""
    return dt.datetime(year, 1, 1, tzinfo=dt.UTC), dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)


def in_pipeline_year(expected_close: dt.date | None, created_at: dt.datetime, year: int) -> bool:
    """An opportunity belongs to the funnel of the year its expected close falls in; one without
    an expected close to the year it was created in (UTC)."""
    if expected_close is not None:
        return expected_close.year == year
    return created_at.astimezone(dt.UTC).year == year


def won_in_year(stage: str, closed_at: dt.datetime | None, year: int) -> bool:
    """Won in ``year``: a won opportunity closed (moved to won) that year (UTC) — whatever its
    expected close said."""
    return stage == "won" and closed_at is not None and closed_at.astimezone(dt.UTC).year == year


def funnel(
    groups: Iterable[tuple[str, str, int, Decimal]], won: Iterable[tuple[str, int, Decimal]], year: int
) -> dict[str, Any]:
    """The pipeline answer from ``(stage, currency, count, amount)`` groups and the
    ``(currency, count, amount)`` groups of the opportunities won in the year: every stage in
    funnel order (zeros included), each with the amount of every currency seen (zeros included,
    currencies are never added together)."""
    counts = {stage: 0 for stage in STAGES}
    amounts: dict[str, dict[str, Decimal]] = {stage: {} for stage in STAGES}
    currencies: set[str] = set()
    for stage, currency, n, amount in groups:
        if stage not in counts:
            continue
        counts[stage] += n
        amounts[stage][currency] = amounts[stage].get(currency, Decimal(0)) + amount
        currencies.add(currency)
    won_count = 0
    won_amounts: dict[str, Decimal] = {}
    for currency, n, amount in won:
        won_count += n
        won_amounts[currency] = won_amounts.get(currency, Decimal(0)) + amount
        currencies.add(currency)
    ordered = sorted(currencies)

    def per_currency(values: Mapping[str, Decimal]) -> dict[str, Decimal]:
        return {cur: values.get(cur, Decimal(0)) for cur in ordered}

    return {
        "year": year,
        "stages": {s: {"count": counts[s], "amount": per_currency(amounts[s])} for s in STAGES},
        "currencies": ordered,
        "won_in_year": {"count": won_count, "amount": per_currency(won_amounts)},
    }


# --------------------------------------------------------------------------------------
# Follow-ups
# --------------------------------------------------------------------------------------


def follow_up_problems(occurred_at: dt.datetime, next_action_at: dt.datetime | None) -> dict:
    if next_action_at is not None and next_action_at < occurred_at:
        return {"next_action_at": ["must not be before occurred_at"]}
    return {}


def due_window(as_of: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Follow-ups whose next action falls on ``as_of`` (a UTC day) are due that day."""
    start = dt.datetime.combine(as_of, dt.time(0), tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


# --------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------


def page_args(page: Any, page_size: Any) -> tuple[int, int, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}

    def as_int(value: Any, name: str, default: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            errors[name] = ["not an integer"]
            return default
        try:
            return int(value)
        except ValueError:
            errors[name] = ["not an integer"]
            return default

    p = as_int(page, "page", 1)
    s = as_int(page_size, "page_size", DEFAULT_PAGE_SIZE)
    if "page" not in errors and p < 1:
        errors["page"] = ["must be at least 1"]
    if "page_size" not in errors and not 1 <= s <= MAX_PAGE_SIZE:
        errors["page_size"] = [f"must be between 1 and {MAX_PAGE_SIZE}"]
    return p, s, errors


# --------------------------------------------------------------------------------------
# CSV import rows
# --------------------------------------------------------------------------------------

CUSTOMER_FIELDS = (
    "name",
    "kind",
    "tax_id",
    "email",
    "phone",
    "industry",
    "region",
    "size",
    "level",
    "tags",
    "owner_id",
    "language",
    "address",
    "birthday",
    "notes",
    "red_listed",
)
IMPORT_COLUMNS = ("code", *CUSTOMER_FIELDS)
_TRUE = {"1", "true", "yes", "y", "t", "x"}
_FALSE = {"0", "false", "no", "n", "f"}
MAX_BATCH_ROWS = 5000


@functools.lru_cache(maxsize=1024)  # called for every cell of an import: headers repeat
def column_name(header: str) -> str:
    """``"Tax ID"`` / ``"\\ufefftax-id"`` → ``"tax_id"``."""
    return re.sub(r"[\s\-]+", "_", header.replace("\ufeff", "").strip().lower())


# keys of a row's data that are not columns: cells beyond the header's columns
EXTRA_CELLS_KEYS = ("_extra", "null")


def unknown_columns(headers: Iterable[Any]) -> list[str]:
    return sorted(
        str(h)
        for h in headers
        if h is not None
        and h not in EXTRA_CELLS_KEYS
        and (not isinstance(h, str) or column_name(h) not in IMPORT_COLUMNS)
    )


@dataclass
class ParsedRow:
    line: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str | None, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _parse_cell(col: str, raw: str, today: dt.date) -> tuple[Any, str | None]:
    if col == "kind":
        v = raw.lower()
        return v, None if v in KINDS else f"must be one of {', '.join(KINDS)}"
    if col == "level":
        v = raw.upper()
        return v, None if v in LEVELS else f"must be one of {', '.join(LEVELS)}"
    if col == "language":
        v = raw.lower()
        return v, None if v in LANGUAGES else f"must be one of {', '.join(LANGUAGES)}"
    if col == "tags":
        tags = split_tags(raw)
        return tags, tags_problem(tags)
    if col == "owner_id":
        digits = unicodedata.normalize("NFKC", raw)
        if not digits.isascii() or not digits.isdigit():
            return None, "not a user id (a positive integer)"
        return int(digits), None
    if col == "birthday":
        try:
            d = dt.date.fromisoformat(raw)
        except ValueError:
            return None, "not an ISO 8601 date (YYYY-MM-DD)"
        return d.isoformat(), birthday_problem(d, today)
    if col == "red_listed":
        v = raw.lower()
        if v in _TRUE:
            return True, None
        if v in _FALSE:
            return False, None
        return None, "not a yes/no value (true/false, yes/no, 1/0)"
    if col == "code":
        return normalise_code(raw), None
    rule: Callable[[str], str | None] | None = {
        "name": name_problem,
        "tax_id": tax_id_problem,
        "email": email_problem,
        "phone": phone_problem,
    }.get(col)
    if rule is not None:
        return raw, rule(raw)
    return raw, too_long(raw, LIMITS[col])


def parse_import_row(line: int, data: Mapping[Any, Any], today: dt.date) -> ParsedRow:
    """Parse one CSV row (``{column: cell}``): empty cells are "not given"; every bad cell
    becomes an error naming its column."""
    row = ParsedRow(line=line)
    if not isinstance(data, Mapping):
        row.errors.append((None, "row is not a mapping of column to value"))
        return row
    for header, raw in data.items():
        if header is None or header in EXTRA_CELLS_KEYS:
            if raw not in (None, "", []):
                row.errors.append((None, "more cells than header columns"))
            continue
        col = column_name(str(header))
        if col not in IMPORT_COLUMNS:
            row.errors.append((col, "unknown column"))
            continue
        if raw is None:
            continue
        if not isinstance(raw, str):
            row.errors.append((col, "not text"))
            continue
        raw = raw.strip()
        if not raw:
            continue
        value, problem = _parse_cell(col, raw, today)
        if problem:
            row.errors.append((col, problem))
        else:
            row.values[col] = value
    if row.ok and not any(k in row.values for k in ("name", "code", "tax_id")):
        row.errors.append(("name", "required (or a code or tax_id of an existing customer)"))
    return row


def import_row_keys(values: Mapping[str, Any]) -> CustomerKeys:
    return customer_keys(values.get("name"), values.get("tax_id"), values.get("email"), values.get("phone"))


FIELD_LABELS = {"tax_id": "tax id", "name": "name", "email": "e-mail", "phone": "phone"}


@dataclass(frozen=True)
class KnownCustomer:
    """What the import planner knows about an existing customer."""

    id: int
    code: str
    name: str
    owner_id: int | None
    keys: CustomerKeys


@dataclass
class RowPlan:
    line: int
    action: str | None  # "create" | "update" | None (an error row)
    target: KnownCustomer | None = None
    errors: list[tuple[str | None, str]] = field(default_factory=list)


class ImportPlanner:
    """Decides, row by row in file order, whether an import row creates a customer, updates
    an existing one (same tax id or code) or is an error (a likely duplicate of another existing
    customer or of an earlier row, a customer outside the caller's scope, an unknown owner).

    Everything is in memory (one pass, dictionary lookups): O(rows + customers)."""

    def __init__(
        self,
        existing: Iterable[KnownCustomer],
        access: Access,
        owners: Mapping[int, bool] | None = None,
    ):
        self.access = access
        self.owners = dict(owners or {})
        self.by_code: dict[str, KnownCustomer] = {}
        self.existing = KeyIndex()
        for c in existing:
            self.by_code[c.code] = c
            self.existing.add(c.keys, c)
        self.earlier = KeyIndex()  # key -> first line in this file
        self.targets: dict[int, int] = {}  # customer id -> line that updates it

    def plan(self, line: int, values: Mapping[str, Any]) -> RowPlan:
        keys = import_row_keys(values)
        plan = RowPlan(line=line, action=None)
        errors = plan.errors
        target: KnownCustomer | None = None
        target_field = None
        code = values.get("code")
        if code:
            target = self.by_code.get(code)
            target_field = "code"
            if target is None:
                errors.append(("code", "no customer has this code (leave it empty to create one)"))
        if keys.tax:
            by_tax = self.existing.get("tax_id", keys.tax)
            if by_tax is not None:
                if target is not None and by_tax.id != target.id:
                    errors.append(("tax_id", f"belongs to another customer ({by_tax.name}, #{by_tax.id})"))
                elif target is None and not code:
                    target, target_field = by_tax, "tax_id"
        if target is not None and not self.access.allows(target.owner_id):
            errors.append((target_field, "matches a customer you may not change"))

        earlier = dict(self.earlier.matches(keys))
        for f, first_line in earlier.items():
            errors.append((f, f"same {FIELD_LABELS[f]} as line {first_line}"))
        if target is not None and target.id in self.targets and "tax_id" not in earlier:
            errors.append((target_field, f"updates the same customer as line {self.targets[target.id]}"))

        unchanged = dict(target.keys.items()) if target is not None else {}
        for f, k in keys.items():
            if f == "tax_id" or f in earlier or unchanged.get(f) == k:
                continue
            other = self.existing.get(f, k)
            if other is not None and (target is None or other.id != target.id):
                # the candidate's name and id only (it may be outside the importer's scope)
                errors.append((f, f"likely duplicate of existing customer {other.name} (#{other.id})"))

        if target is None and not values.get("name") and not any(e[0] == "code" for e in errors):
            errors.append(("name", "required to create a customer"))
        if "owner_id" in values:
            owner = values["owner_id"]
            if self.access.restricted and owner != self.access.owner_id:
                errors.append(("owner_id", "must be your own user id"))
            else:
                problem = owner_problem(owner, self.owners, not self.owners)
                if problem:
                    errors.append(("owner_id", problem))

        self.earlier.add(keys, line)
        if target is not None:
            self.targets.setdefault(target.id, line)
        if not errors:
            plan.action = "update" if target is not None else "create"
            plan.target = target
        return plan


def parse_id(value: Any, name: str) -> int:
    """An id argument: a positive integer (a string of digits is accepted)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        n = int(value.strip())
        if n >= 1:
            return n
    raise ValidationFailed.field(name, "not a valid id (a positive integer)")


# --------------------------------------------------------------------------------------
# Archive, delete blockers, red list
# --------------------------------------------------------------------------------------

# who may put a customer on the red list or take it off (finance too: unpaid bills)
RED_LIST_ROLES = ("admin", "sales_manager", "finance")
# who may bring an archived customer back
RESTORE_ROLES = ("admin", "sales_manager")
RED_LIST_REASON_LIMIT = 1000
# what keeps a customer from being deleted, in the order the 409 names them
BLOCKER_KINDS = ("contracts", "invoices", "payments", "credit_notes", "open_opportunities")


def red_list_reason_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "a reason is required"
    return too_long(value, RED_LIST_REASON_LIMIT)


def delete_blockers(counts: Mapping[str, Any]) -> dict[str, int]:
    """The non-zero counts of ``BLOCKER_KINDS`` in ``counts`` (other keys are ignored)."""
    out: dict[str, int] = {}
    for kind in BLOCKER_KINDS:
        n = counts.get(kind)
        if isinstance(n, int) and not isinstance(n, bool) and n > 0:
            out[kind] = n
    return out


def blockers_message(code: str, blockers: Mapping[str, int]) -> str:
    """``Customer C-000001 cannot be deleted: it has 2 contracts, 1 invoices; archive it
    instead``."""
    listed = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in blockers.items())
    return f"Customer {code} cannot be deleted: it has {listed}; archive it instead"


def check_not_archived(row: Mapping[str, Any], action: str) -> None:
    """An archived customer gets nothing new (``action``: what was refused)."""
    if row.get("archived_at") is not None:
        raise Conflict(
            f"Customer {row.get('code')} is archived: {action} is not possible (restore it first)",
            {"customer_id": row.get("id"), "archived": True},
        )
