"""Pure rules of the inventory service: roles, quantities, stock arithmetic, serial numbers,
unit status transitions, dated prices and bulk percent updates. No I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from crm_common.context import CallerContext
from crm_common.errors import Conflict, PermissionDenied, ValidationFailed
from crm_common.money import quantize
from crm_common.paging import page_args, parse_id  # noqa: F401  (re-exported: domain.parse_id)
from crm_common.text import fold

KINDS = ("device", "service", "consumable")
CHANNELS = ("distributor", "reseller", "customer")
IN_REASONS = ("purchase", "trade_in", "sales_return", "repossession", "lease_return", "adjustment")
OUT_REASONS = ("dispatch", "adjustment")
REASONS = tuple(dict.fromkeys(IN_REASONS + OUT_REASONS))
UNIT_STATUSES = ("in_stock", "reserved", "dispatched", "leased", "returned", "scrapped")
PO_STATUSES = ("open", "received", "cancelled")
TRADE_IN_STATUSES = ("submitted", "approved", "rejected", "received")
CONDITIONS = ("new", "good", "fair", "poor", "broken")
MAX_QUANTITY = 1_000_000
MAX_PERCENT = Decimal("1000")

# -- roles -------------------------------------------------------------------------------

READ_ROLES = ("admin", "sales_manager", "sales_rep", "finance", "approver", "warehouse", "readonly", "system")
STOCK_ROLES = ("admin", "warehouse", "system")
CATALOGUE_ROLES = ("admin", "warehouse", "sales_manager", "system")
PRICE_ROLES = ("admin", "sales_manager", "finance", "system")
TRADE_IN_ROLES = ("admin", "sales_manager", "sales_rep", "warehouse", "system")


def trade_in_submitter_scope(caller: CallerContext) -> str | None:
    """Whose trade-ins ``caller`` reads: a sales rep only those they submitted (offered by their
    customers; inventory keeps no customer owners, so the submitter is the rep's mark), any
    other reader every trade-in (``None``)."""
    if caller.has_any(tuple(r for r in READ_ROLES if r != "sales_rep")):
        return None
    return caller.actor


def require(caller: CallerContext, roles: Sequence[str], action: str) -> None:
    if not caller.authenticated:
        raise PermissionDenied("Not authenticated", {"required_roles": list(roles)})
    if not caller.has_any(roles):
        raise PermissionDenied(
            f"Requires one of the roles {', '.join(r for r in roles if r != 'system')} to {action}",
            {"required_roles": [r for r in roles if r != "system"], "roles": list(caller.roles)},
        )


# -- keys ---------------------------------------------------------------------------------


def key(text: str | None) -> str:
    return fold(text)


def category_parts(path: str) -> list[str]:
    """``"Devices / Printers"`` → ``["Devices", "Printers"]`` (empty segments refused)."""
    parts = [p.strip() for p in path.replace("\\", "/").split("/")]
    if not path.strip() or any(not p for p in parts):
        raise ValidationFailed.field("category", "a category path such as 'Devices/Printers'")
    if any(len(p) > 200 for p in parts) or len(parts) > 10:
        raise ValidationFailed.field("category", "too long")
    return parts


def path_key(parts: Iterable[str]) -> str:
    return "/".join(fold(p) for p in parts)


def product_search_key(sku: str, name: str, model: str | None, manufacturer: str | None) -> str:
    return " | ".join(fold(x) for x in (sku, name, model or "", manufacturer or ""))


def search_terms(q: str) -> list[str]:
    return [t for t in fold(q).split(" ") if t]


# -- stock arithmetic --------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def shortage(what: str, product_id: int, warehouse_id: int, wanted: int, have: int) -> Conflict:
    return Conflict(
        f"Not enough stock to {what}: {have} available, {wanted} requested",
        {
            "product_id": product_id,
            "warehouse_id": warehouse_id,
            "requested": wanted,
            "available": have,
        },
    )


def receive(level: Level, qty: int) -> Level:
    return Level(level.on_hand + qty, level.reserved)


def take_out(level: Level, qty: int, product_id: int, warehouse_id: int) -> Level:
    """An unreserved move out (dispatch, adjustment, transfer): only available stock."""
    if qty > level.available:
        raise shortage("move out", product_id, warehouse_id, qty, level.available)
    return Level(level.on_hand - qty, level.reserved)


def reserve(level: Level, qty: int, product_id: int, warehouse_id: int) -> Level:
    if qty > level.available:
        raise shortage("reserve", product_id, warehouse_id, qty, level.available)
    return Level(level.on_hand, level.reserved + qty)


def release(level: Level, qty: int) -> Level:
    return Level(level.on_hand, max(0, level.reserved - qty))


def dispatch_reserved(level: Level, qty: int) -> Level:
    """A reservation turned into a dispatch: the reserved units leave."""
    return Level(level.on_hand - qty, max(0, level.reserved - qty))


def plan_reservation(available: Sequence[tuple[int, int]], qty: int) -> list[tuple[int, int]]:
    """Spread ``qty`` over ``[(warehouse_id, available)]`` in the given order:
    ``[(warehouse_id, take)]``; takes less than ``qty`` in total when stock is short."""
    plan = []
    left = qty
    for warehouse_id, have in available:
        if left <= 0:
            break
        take = min(left, have)
        if take > 0:
            plan.append((warehouse_id, take))
            left -= take
    return plan


def below_reorder_point(available: int, reorder_point: int | None) -> bool:
    return reorder_point is not None and available < reorder_point


def reorder_quantity(available: int, reorder_point: int, configured: int | None) -> int:
    """The configured quantity, else enough to bring stock to twice the reorder point."""
    if configured:
        return configured
    return max(1, 2 * reorder_point - max(available, 0))


# -- serial numbers and units ------------------------------------------------------------


def check_serials(serialized: bool, quantity: int, serials: Sequence[str]) -> list[str]:
    """The serial numbers of a move, cleaned; 422 when they do not match the product."""
    cleaned = [s.strip() for s in serials]
    if not serialized:
        if cleaned:
            raise ValidationFailed.field("serial_numbers", "this product is not serialized")
        return []
    if any(not s for s in cleaned):
        raise ValidationFailed.field("serial_numbers", "serial numbers must not be empty")
    if len(cleaned) != quantity:
        raise ValidationFailed.field(
            "serial_numbers",
            f"a serialized product needs one serial number per unit: {quantity} expected, {len(cleaned)} given",
        )
    keys = [fold(s) for s in cleaned]
    if len(set(keys)) != len(keys):
        raise ValidationFailed.field("serial_numbers", "the same serial number is given twice")
    return cleaned


# statuses from which a unit may come (back) into stock, per reason
RETURNABLE = {
    "sales_return": ("dispatched", "returned"),
    "lease_return": ("leased", "dispatched", "returned"),
    "repossession": ("leased", "dispatched", "returned"),
    "trade_in": ("dispatched", "leased", "returned", "scrapped"),
    "adjustment": ("scrapped", "returned"),
    "purchase": (),
}


def unit_can_come_in(status: str, reason: str) -> bool:
    return status in RETURNABLE.get(reason, ())


def status_after_out(reason: str, lease: bool = False) -> str:
    if reason == "adjustment":
        return "scrapped"
    return "leased" if lease else "dispatched"


# -- prices ---------------------------------------------------------------------------------


def price_valid(valid_from: dt.date, valid_to: dt.date | None, on: dt.date) -> bool:
    return valid_from <= on and (valid_to is None or on <= valid_to)


def apply_percent(price: Decimal, percent: Decimal, currency: str) -> Decimal:
    """``price`` changed by ``percent`` (10 = +10 %, -5 = -5 %), rounded half-up to the
    currency's minor unit; never negative."""
    if percent <= -100:
        raise ValidationFailed.field("percent", "must be greater than -100")
    if percent > MAX_PERCENT:
        raise ValidationFailed.field("percent", f"must be at most {MAX_PERCENT}")
    new = price * (Decimal(100) + percent) / Decimal(100)
    return quantize(new.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP), currency)


def day_before(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=1)


def po_number(n: int) -> str:
    return f"PO-{n:06d}"


# -- trade-ins -----------------------------------------------------------------------------


def trade_in_decision(status: str, approved: bool) -> str:
    if status != "submitted":
        raise Conflict(f"Trade-in is {status}, not awaiting a decision", {"status": status})
    return "approved" if approved else "rejected"


def trade_in_summary(model: str | None, serial: str, condition: str, value: str | None, currency: str) -> str:
    """One line for an approver: what is offered and for how much."""
    return f"Trade-in {model or 'unit'} (serial {serial}, {condition}) for {value} {currency}"
