"""Tax rates: finance sets a default rate and rates per product kind or category; a contract
invoice line takes the most specific one (category, then kind, then the default); without any,
``BILLING_DEFAULT_TAX_PERCENT`` (default 0). One-off invoice lines name their own rate."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crm_common.db import utcnow
from crm_common.errors import ValidationFailed, load_or_raise
from crm_common.money import to_decimal
from marshmallow import Schema, fields, validate
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from . import models as m
from . import scopes

MAX_TAX_PERCENT = Decimal(100)


def default_percent() -> Decimal:
    raw = os.environ.get("BILLING_DEFAULT_TAX_PERCENT", "0")
    try:
        return check_percent(to_decimal(raw))
    except (ValueError, ValidationFailed):
        raise ValueError(
            f"BILLING_DEFAULT_TAX_PERCENT={raw!r} is not a percentage between 0 and 100"
        ) from None


def check_percent(value: Decimal, field: str = "percent") -> Decimal:
    if not value.is_finite() or value < 0 or value > MAX_TAX_PERCENT:
        raise ValidationFailed.field(field, "must be a percentage between 0 and 100")
    return value


def load_rates(s: Session) -> dict[str, Decimal]:
    return {r.key: r.percent for r in s.execute(select(m.tax_rates.c.key, m.tax_rates.c.percent))}


def rate_for(rates: Mapping[str, Decimal], category: str | None, kind: str | None) -> Decimal:
    if category and f"category:{category}" in rates:
        return rates[f"category:{category}"]
    if kind and f"kind:{kind}" in rates:
        return rates[f"kind:{kind}"]
    if "default" in rates:
        return rates["default"]
    return default_percent()


class TaxRateIn(Schema):
    key = fields.String(
        required=True, validate=validate.Regexp(r"^(default|kind:.{1,200}|category:.{1,200})$")
    )
    percent = fields.Raw(required=True, allow_none=True)  # None removes the rate


tax_rate_in = TaxRateIn()


def list_tax_rates(db, caller) -> dict[str, Any]:
    scopes.read_access(caller)
    with db.read() as s:
        rows = s.execute(select(m.tax_rates).order_by(m.tax_rates.c.key)).mappings().all()
    items = [
        {"key": r["key"], "percent": format(r["percent"].normalize(), "f"), "updated_by": r["updated_by"],
         "updated_at": r["updated_at"].isoformat()}
        for r in rows
    ]  # fmt: skip
    return {"items": items, "fallback_percent": format(default_percent(), "f")}


def set_tax_rate(db, caller, data: Any) -> dict[str, Any]:
    """Set (``percent``) or remove (``percent: null``) the rate of a key; audited."""
    scopes.write_access(caller, "set tax rates")
    v = load_or_raise(tax_rate_in, data)
    percent = None
    if v["percent"] is not None:
        if isinstance(v["percent"], (bool, float)):
            raise ValidationFailed.field("percent", "must be a decimal string or an integer")
        try:
            percent = check_percent(to_decimal(v["percent"]))
        except ValueError:
            raise ValidationFailed.field("percent", "not a decimal number") from None
    with db.transaction() as uow:
        s = uow.session
        old = s.execute(select(m.tax_rates.c.percent).where(m.tax_rates.c.key == v["key"])).scalar()
        s.execute(delete(m.tax_rates).where(m.tax_rates.c.key == v["key"]))
        if percent is not None:
            s.execute(
                insert(m.tax_rates).values(
                    key=v["key"], percent=percent, updated_by=uow.caller.actor, updated_at=utcnow()
                )
            )
        uow.audit(
            "tax_rate", v["key"], "set" if percent is not None else "removed", {"percent": [old, percent]}
        )
    return {"key": v["key"], "percent": format(percent.normalize(), "f") if percent is not None else None}
