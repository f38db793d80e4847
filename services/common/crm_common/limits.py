"""Input limits shared by every service and the gateway: bounded decimals (checked on the text
before any arithmetic), the window of accepted dates, identifiers and text without control
characters. One place, so that "1E-999999" or year 9999 is refused the same way everywhere.

Decimals: every stored decimal is an ``ExactDecimal`` (NUMERIC(24, 6): 18 integer digits, 6
places). Inputs stay well inside it so that products and sums (quantity × unit price, an
invoice's 500 lines, a renewal uplift) still fit:

* amounts (money): below 10^13, at most 6 decimal places;
* quantities: below 10^7, at most 4 decimal places;
* percentages and rates: below 10^4 (each field narrows it further), at most 6 places.

A decimal is refused before it is parsed when its text is longer than 64 characters or its
exponent (``1E-999999``) is outside ±64; after parsing, trailing zeros past the allowed places
are dropped (``1.5000000`` is 1.5) and then the places and size are checked, so a value is never
rounded away to 0 behind the caller's back (``1E-30`` is refused, it does not pass "> 0").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# -- decimals ----------------------------------------------------------------------------------

MAX_DECIMAL_TEXT = 64
MAX_EXPONENT = 64
_DECIMAL_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class DecimalLimit:
    """At most ``integer_digits`` digits before the point (|value| < 10^integer_digits) and
    ``places`` after it."""

    integer_digits: int
    places: int
    what: str = "number"

    @property
    def bound(self) -> Decimal:
        return Decimal(10) ** self.integer_digits


AMOUNT = DecimalLimit(13, 6, "amount")
QUANTITY = DecimalLimit(7, 4, "quantity")
PERCENT = DecimalLimit(4, 6, "percentage")


def parse_decimal(value: object, limit: DecimalLimit = AMOUNT) -> Decimal:
    """``value`` (a string or an integer; never a float or a bool) as a ``Decimal`` within
    ``limit``; ``ValueError`` with a reason a client can act on otherwise."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"a {limit.what} is a string or an integer, never a float")
    if isinstance(value, Decimal):
        text = format(value, "f") if value.is_finite() and abs(value.adjusted()) <= MAX_EXPONENT else "x"
    elif isinstance(value, int):
        if abs(value) >= 10**limit.integer_digits:
            raise ValueError(f"must be below {limit.bound:,} in absolute value".replace(",", " "))
        return Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError("not a decimal number")
    if len(text) > MAX_DECIMAL_TEXT:
        raise ValueError(
            f"too many digits (at most {limit.integer_digits} before and {limit.places} after the point)"
        )
    m = _DECIMAL_TEXT.fullmatch(text)
    if not m:
        raise ValueError("not a decimal number")
    if m.group(2) and (len(m.group(2)) > 6 or abs(int(m.group(2)[1:])) > MAX_EXPONENT):
        raise ValueError("exponent out of range")
    try:
        d = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern excludes it
        raise ValueError("not a decimal number") from None
    return bound_decimal(d, limit)


def bound_decimal(d: Decimal, limit: DecimalLimit) -> Decimal:
    """A finite, already small ``Decimal`` (at most ~130 digits) checked against ``limit``,
    trailing zeros past the allowed places dropped; no context arithmetic (no rounding)."""
    if not d.is_finite():
        raise ValueError("not a finite number")
    sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    digits_l = list(digits)
    while exponent < -limit.places and len(digits_l) > 1 and digits_l[-1] == 0:
        digits_l.pop()
        exponent += 1
    if all(x == 0 for x in digits_l):  # zero, whatever its exponent: 0E-30 is 0
        return Decimal((0, (0,), max(exponent, -limit.places)))
    if exponent < -limit.places:
        raise ValueError(f"at most {limit.places} decimal places")
    if exponent > 0:  # 1E+5 → 100000 (plain notation everywhere)
        digits_l += [0] * exponent
        exponent = 0
    while len(digits_l) > 1 and digits_l[0] == 0:
        digits_l.pop(0)
    if len(digits_l) + exponent > limit.integer_digits:
        raise ValueError(f"must be below {limit.bound:,} in absolute value".replace(",", " "))
    return Decimal((sign, tuple(digits_l), exponent))


# -- dates -------------------------------------------------------------------------------------

DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2199, 12, 31)
DATE_WINDOW = f"between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}"


def check_date(day: dt.date) -> dt.date:
    """``day`` when inside the accepted window (1900-01-01..2199-12-31), ``ValueError`` otherwise.
    A datetime is checked on its UTC day and on its local day."""
    if isinstance(day, dt.datetime):
        days = [day.date()]
        if day.tzinfo is not None:
            try:
                days.append(day.astimezone(dt.UTC).date())
            except OverflowError:
                raise ValueError(f"must be {DATE_WINDOW}") from None
    else:
        days = [day]
    if any(not DATE_MIN <= d <= DATE_MAX for d in days):
        raise ValueError(f"must be {DATE_WINDOW}")
    return day


# -- text --------------------------------------------------------------------------------------

# Control, format (bidi overrides, zero-width), line and paragraph separators, unassigned,
# private use and surrogates: never part of an identifier.
_NOT_IN_IDENTIFIERS = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def clean_identifier(value: str) -> str:
    """An identifier (user name, key name, code) in NFKC, stripped; ``ValueError`` when it holds
    a control or format character (NUL, right-to-left override, zero-width space, ...)."""
    text = unicodedata.normalize("NFKC", value).strip()
    for ch in text:
        if unicodedata.category(ch) in _NOT_IN_IDENTIFIERS:
            raise ValueError(f"must not contain control or invisible characters (U+{ord(ch):04X})")
    return text


_TEXT_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: str) -> str:
    """Free text (names, notes, comments): NUL and other C0 controls (tab and line breaks
    kept) and bidirectional overrides refused; every script, emoji and joiner kept."""
    m = _TEXT_FORBIDDEN.search(value)
    if m:
        raise ValueError(f"must not contain control characters (U+{ord(m.group()):04X})")
    return value
