"""Contract templates: pure rules, no I/O.

A template's body holds fixed clauses and ``{{ name }}`` placeholders; each placeholder is a
declared, typed field (``text``, ``number``, ``date``, ``money``). A contract fills in field
values only: the clauses are never edited per contract.

* :func:`placeholders` — the field names a body uses, in order of first use;
* :func:`template_problems` — what is wrong with a body and its field declarations;
* :func:`check_values` — a contract's field values checked and normalised against the fields
  (numbers and amounts are exact decimals carried as strings; floats, NaN and infinities are
  refused; a money value is in the contract's currency);
* :func:`render` — the body with every placeholder replaced by its formatted value (a blank
  ``________`` where an optional value is missing).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from crm_common.money import minor_units, quantize

FIELD_TYPES = ("text", "number", "date", "money")
LANGUAGES = ("en", "zh", "tr", "bg")

NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]{0,63}"
_NAME = re.compile(rf"^{NAME_PATTERN}$")
# Anything between double braces (on one line); its content decides whether it is a valid
# placeholder. ``{{ name }}`` with optional spaces inside the braces.
_PLACEHOLDER = re.compile(r"\{\{([^{}\n]*)\}\}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

MAX_BODY_CHARS = 200_000
MAX_FIELDS = 200
MAX_LABEL_CHARS = 200
MAX_TEXT_CHARS = 5000
MAX_NUMBER = Decimal("1e15")  # as crm_common.money: no contract value comes near it
BLANK = "________"

FLOAT_REFUSED = 'floats are not accepted: send a string such as "12.50" (or a whole number)'


# --------------------------------------------------------------------------------------
# Placeholders and template checks
# --------------------------------------------------------------------------------------


def placeholders(body: str) -> list[str]:
    """The field names of the valid ``{{ name }}`` placeholders of ``body``, each once, in the
    order of first use. Invalid ones (``{{ 1st }}``, ``{{ a b }}``) are not names: see
    :func:`template_problems`."""
    names: list[str] = []
    for match in _PLACEHOLDER.finditer(body or ""):
        name = match.group(1).strip()
        if _NAME.match(name) and name not in names:
            names.append(name)
    return names


def _invalid_placeholders(body: str) -> list[str]:
    return [m.group(0) for m in _PLACEHOLDER.finditer(body) if not _NAME.match(m.group(1).strip())]


def _unclosed(body: str) -> bool:
    """A ``{{`` that opens no complete placeholder (it would be printed literally)."""
    rest = _PLACEHOLDER.sub("", body)
    return "{{" in rest or "}}" in rest


def template_problems(body: Any, fields: Any) -> dict[str, list[str]]:
    """What is wrong with a template, ``{"body" | "fields" | "fields.<i>.<key>": [reasons]}``
    (empty: nothing). Checks: the body is non-empty text within :data:`MAX_BODY_CHARS`; every
    placeholder is well formed and declared as a field; fields are a list of at most
    :data:`MAX_FIELDS` objects with a valid, unique (case-insensitively) name, a type among
    :data:`FIELD_TYPES`, a boolean ``required`` and an optional label."""
    errors: dict[str, list[str]] = {}

    def add(key: str, reason: str) -> None:
        errors.setdefault(key, []).append(reason)

    declared: set[str] = set()
    if not isinstance(fields, list):
        add("fields", "must be a list of fields")
    else:
        if len(fields) > MAX_FIELDS:
            add("fields", f"at most {MAX_FIELDS} fields")
        seen: dict[str, int] = {}
        for i, field in enumerate(fields):
            prefix = f"fields.{i}"
            if not isinstance(field, Mapping):
                add(prefix, "must be an object with name, type and required")
                continue
            unknown = sorted(str(k) for k in field if k not in ("name", "type", "required", "label"))
            for key in unknown:
                add(f"{prefix}.{key}", "unknown key (name, type, required, label)")
            name = field.get("name")
            if not isinstance(name, str) or not _NAME.match(name):
                add(
                    f"{prefix}.name",
                    "must be a name of letters, digits and _ (not starting with a digit), at most 64 characters",
                )
            else:
                declared.add(name)
                key = name.casefold()
                if key in seen:
                    add(f"{prefix}.name", f"duplicate field name (same as fields.{seen[key]}.name)")
                else:
                    seen[key] = i
            if field.get("type") not in FIELD_TYPES:
                add(f"{prefix}.type", f"must be one of {', '.join(FIELD_TYPES)}")
            if "required" in field and not isinstance(field["required"], bool):
                add(f"{prefix}.required", "must be true or false")
            label = field.get("label")
            if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL_CHARS):
                add(f"{prefix}.label", f"must be text of at most {MAX_LABEL_CHARS} characters")

    if not isinstance(body, str):
        add("body", "must be text")
        return errors
    if not body.strip():
        add("body", "must not be empty")
        return errors
    if len(body) > MAX_BODY_CHARS:
        add("body", f"must be at most {MAX_BODY_CHARS} characters")
        return errors
    for bad in _invalid_placeholders(body):
        add("body", f"{bad[:80]} is not a valid placeholder: use {{{{ name }}}} with a field name")
    if _unclosed(body):
        add("body", "has an unmatched {{ or }}: placeholders are written {{ name }}")
    if isinstance(fields, list):
        for name in placeholders(body):
            if name not in declared:
                add("body", f"placeholder {{{{ {name} }}}} is not declared in fields")
    return errors


# --------------------------------------------------------------------------------------
# Field values
# --------------------------------------------------------------------------------------


def _decimal(value: Any, what: str = "a number") -> tuple[Decimal | None, str | None]:
    """An exact decimal from an int, a Decimal or a string; ``(None, reason)`` otherwise."""
    if isinstance(value, bool):
        return None, f"must be {what}"
    if isinstance(value, float):
        return None, FLOAT_REFUSED
    if isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, Decimal):
        d = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None, f"must be {what}"
        try:
            d = Decimal(text)
        except InvalidOperation:
            return None, f"must be {what}"
    else:
        return None, f"must be {what}"
    if not d.is_finite():
        return None, "must be a finite number (not NaN or Infinity)"
    if abs(d) >= MAX_NUMBER:
        return None, f"must be less than {MAX_NUMBER:f} in size"
    return d, None


def _plain(d: Decimal) -> str:
    """A decimal as JSON carries it (never in exponent form)."""
    text = format(d, "f")
    return "0" if text in ("-0", "") else text


def amount_text(d: Decimal, currency: str) -> str:
    """An amount with at least the currency's minor unit of places (nothing rounded)."""
    value = d.normalize()
    places = minor_units(currency)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -places:
        value = value.quantize(Decimal(1).scaleb(-places))
    return _plain(value)


def _check_money(value: Any, currency: str) -> tuple[str | None, str | None]:
    amount = value
    if isinstance(value, Mapping):
        extra = sorted(str(k) for k in value if k not in ("amount", "currency"))
        if extra:
            return (
                None,
                f"unknown keys {', '.join(extra)}: a money value is an amount or {{amount, currency}}",
            )
        if "amount" not in value:
            return None, "amount missing: a money value is an amount or {amount, currency}"
        given = value.get("currency")
        if not isinstance(given, str) or given.strip().upper() != currency.upper():
            return None, f"must be in {currency.upper()}"
        amount = value["amount"]
    d, reason = _decimal(amount, "an amount")
    if d is None:
        return None, reason
    if d < 0:
        return None, "must not be negative"
    return amount_text(d, currency), None


def _check_one(kind: str, value: Any, currency: str) -> tuple[Any, str | None]:
    if kind == "text":
        if not isinstance(value, str):
            return None, "must be text"
        text = value.strip()
        if len(text) > MAX_TEXT_CHARS:
            return None, f"must be at most {MAX_TEXT_CHARS} characters"
        return text, None
    if kind == "number":
        d, reason = _decimal(value)
        return (None, reason) if d is None else (_plain(d), None)
    if kind == "date":
        if isinstance(value, dt.datetime):
            return None, "must be a date (YYYY-MM-DD), without a time"
        if isinstance(value, dt.date):
            return value.isoformat(), None
        if isinstance(value, str) and _ISO_DATE.match(value.strip()):
            try:
                return dt.date.fromisoformat(value.strip()).isoformat(), None
            except ValueError:
                return None, "not a calendar date"
        return None, "must be an ISO 8601 date (YYYY-MM-DD)"
    if kind == "money":
        return _check_money(value, currency)
    return None, f"the field's type {kind!r} is unknown"  # a template that passed its checks never has it


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_values(
    fields: Sequence[Mapping[str, Any]], values: Any, currency: str
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A contract's field values checked against its template's ``fields``.

    Returns ``(normalised, errors)``: normalised values (text stripped; numbers as the string of
    an exact decimal; dates ISO; money as the amount string in ``currency``, given either as an
    amount or as ``{"amount", "currency"}`` whose currency must be ``currency``); optional fields
    left empty are omitted. Errors are keyed ``field_values.<name>``: "required", "must be a
    number", ..., and "not a field of the template" for a name the template does not declare.
    JSON numbers are accepted for number and money fields only when whole: a float is refused
    (it is not exact)."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        return {}, {"field_values": ["must be an object of field name → value"]}
    declared = {str(f.get("name")): f for f in fields}
    for name in values:
        if str(name) not in declared:
            errors[f"field_values.{str(name)[:100]}"] = ["not a field of the template"]
    for name, field in declared.items():
        value = values.get(name)
        key = f"field_values.{name}"
        if _missing(value):
            if field.get("required"):
                errors[key] = ["required"]
            continue
        normalised, reason = _check_one(str(field.get("type")), value, currency)
        if reason is not None:
            errors[key] = [reason]
        else:
            out[name] = normalised
    return out, errors


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------

# (thousands separator, decimal mark) per language
NUMBER_STYLE: dict[str, tuple[str, str]] = {
    "en": (",", "."),
    "zh": (",", "."),
    "tr": (".", ","),
    "bg": ("\u00a0", ","),
}


def format_decimal(value: Decimal, language: str = "en") -> str:
    """``1234567.5`` → ``1,234,567.5`` (en, zh), ``1.234.567,5`` (tr), ``1 234 567,5`` (bg)."""
    group, mark = NUMBER_STYLE.get(language, NUMBER_STYLE["en"])
    text = format(value, ",f")
    if text.startswith("-0") and value == 0:
        text = text[1:]
    return text.replace(",", "\0").replace(".", mark).replace("\0", group)


def format_money(amount: Decimal, currency: str | None, language: str = "en") -> str:
    """An amount on a document: rounded half-up to the currency's minor unit, grouped, with the
    currency code (``1,250.00 EUR``)."""
    if currency:
        return f"{format_decimal(quantize(amount, currency), language)} {currency}"
    return format_decimal(amount, language)


def format_value(kind: str, value: Any, language: str = "en", currency: str | None = None) -> str:
    """One field value as the document prints it (a missing value is the blank ``________``)."""
    if _missing(value):
        return BLANK
    if kind in ("number", "money"):
        amount_currency = currency
        raw = value
        if isinstance(value, Mapping):
            raw = value.get("amount")
            amount_currency = str(value.get("currency") or currency or "") or None
        d, _reason = _decimal(raw)
        if d is None:
            return str(raw)
        return format_money(d, amount_currency, language) if kind == "money" else format_decimal(d, language)
    if kind == "date":
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value).strip()
    return str(value)


def render(
    body: str,
    fields: Sequence[Mapping[str, Any]],
    values: Mapping[str, Any] | None,
    language: str,
    currency: str | None = None,
) -> str:
    """The body with each ``{{ name }}`` replaced by its formatted value (numbers and amounts
    grouped in the language's style, money with ``currency``, dates ISO); a missing value — or a
    placeholder no field declares — is the blank ``________``. Malformed placeholders stay as
    written. Values are inserted once: text in a value is never read as a placeholder."""
    kinds = {str(f.get("name")): str(f.get("type")) for f in fields}
    values = values or {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if not _NAME.match(name):
            return match.group(0)
        if name not in kinds:
            return BLANK
        return format_value(kinds[name], values.get(name), language, currency)

    return _PLACEHOLDER.sub(replace, body or "")
