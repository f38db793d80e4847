"""Money: ``Decimal`` amounts with an ISO 4217 currency, carried as strings in JSON."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from marshmallow import ValidationError, fields

from .limits import AMOUNT, PERCENT, QUANTITY, DecimalLimit, parse_decimal

# Minor units of the currencies a customer of this CRM is likely to use; others default to 2.
MINOR_UNITS = {
    "BHD": 3,
    "CLP": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "OMR": 3,
    "TND": 3,
    "UGX": 0,
    "VND": 0,
    "XAF": 0,
    "XOF": 0,
}
# ISO 4217 codes accepted as currencies.
CURRENCIES = frozenset(
    "AED ARS AUD BGN BHD BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS INR IQD ISK "
    "JOD JPY KRW KWD KZT MAD MXN MYR NGN NOK NZD OMR PHP PLN QAR RON RSD RUB SAR SEK SGD THB TND "
    "TRY TWD UAH UGX USD VND XAF XOF ZAR".split()
)
MAX_AMOUNT = AMOUNT.bound  # |amount| < 10^13: see crm_common.limits
LIMITS = {"amount": AMOUNT, "quantity": QUANTITY, "percent": PERCENT}


def minor_units(currency: str) -> int:
    return MINOR_UNITS.get(currency.upper(), 2)


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit; only where a document is issued."""
    exp = Decimal(1).scaleb(-minor_units(currency))
    return amount.quantize(exp, rounding=ROUND_HALF_UP)


def to_decimal(value, limit: DecimalLimit = AMOUNT) -> Decimal:
    """An input decimal within ``limit`` (default: an amount, below 10^13 with at most 6 places),
    bounded on its text before it is parsed (``crm_common.limits``); ``ValueError`` otherwise."""
    return parse_decimal(value, limit)


def fmt(amount: Decimal) -> str:
    """A decimal as JSON carries it: plain notation, never exponent form."""
    return format(amount, "f")


def fmt_amount(amount, currency: str | None = None) -> str | None:
    """An amount as the API shows it, the same whatever the database: at least the currency's
    minor unit (two places without a currency), more only where the value has them
    (``420.500000`` → ``"420.50"``, ``1.2345`` → ``"1.2345"``). Nothing is rounded."""
    if amount is None:
        return None
    value = Decimal(amount).normalize()
    places = minor_units(currency) if currency else 2
    if value.as_tuple().exponent > -places:  # type: ignore[operator]
        value = value.quantize(Decimal(1).scaleb(-places))
    return fmt(value)


class Money(fields.Field):
    """A marshmallow field: a decimal as a string (or integer) within its ``kind``'s limits
    (``amount``, ``quantity`` or ``percent``: ``crm_common.limits``); refuses floats, NaN,
    infinities, exponents out of range and more places than the kind allows (never rounded)."""

    default_error_messages = {
        "invalid": "Not a valid amount.",
        "negative": "Must not be negative.",
    }

    def __init__(
        self,
        *args,
        allow_negative: bool = False,
        currency_field: str = "currency",
        kind: str = "amount",
        **kwargs,
    ):
        self.allow_negative = allow_negative
        self.currency_field = currency_field
        self.limit = LIMITS[kind]
        super().__init__(*args, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        currency = (
            obj.get(self.currency_field) if isinstance(obj, dict) else getattr(obj, self.currency_field, None)
        )
        return fmt_amount(value, currency if isinstance(currency, str) else None)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        try:
            d = to_decimal(value, self.limit)
        except ValueError as exc:
            raise ValidationError(f"Not a valid {self.limit.what}: {exc}.") from exc
        if d < 0 and not self.allow_negative:
            raise self.make_error("negative")
        return d


class Currency(fields.String):
    default_error_messages = {"invalid_currency": "Not an ISO 4217 currency code."}

    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if code not in CURRENCIES:
            raise self.make_error("invalid_currency")
        return code


def per_currency(amounts: Mapping[str, Decimal]) -> dict[str, str | None]:
    """``{currency: Decimal}`` as JSON money, each in its currency's format (amounts of different
    currencies stay apart)."""
    return {cur: fmt_amount(amount, cur) for cur, amount in amounts.items()}


def line_too_large(quantity: Decimal | None, unit_price: Decimal | None) -> bool:
    """Whether ``quantity × unit_price`` reaches the amount bound (10^13): each may be within its
    own limit while their product would overflow a stored total."""
    if quantity is None or unit_price is None:
        return False
    return abs(quantity) * abs(unit_price) >= MAX_AMOUNT
