"""The pure rules of inventory.domain, without mocks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from crm_common.context import CallerContext
from crm_common.errors import Conflict, PermissionDenied, ValidationFailed
from inventory import domain
from inventory.domain import Level


def test_available_is_on_hand_minus_reserved_and_nothing_goes_below_zero():
    level = Level(on_hand=5, reserved=2)
    assert level.available == 3
    assert domain.take_out(level, 3, 1, 1) == Level(2, 2)
    with pytest.raises(Conflict) as err:
        domain.take_out(level, 4, 1, 1)
    assert err.value.details == {"product_id": 1, "warehouse_id": 1, "requested": 4, "available": 3}
    assert domain.reserve(level, 3, 1, 1) == Level(5, 5)
    with pytest.raises(Conflict):
        domain.reserve(level, 4, 1, 1)
    assert domain.release(level, 5) == Level(5, 0)
    assert domain.receive(level, 10) == Level(15, 2)


def test_reservations_spread_over_warehouses_in_order_and_report_what_they_could_not_take():
    assert domain.plan_reservation([(1, 2), (2, 0), (3, 5)], 4) == [(1, 2), (3, 2)]
    assert domain.plan_reservation([(1, 2)], 5) == [(1, 2)]
    assert domain.plan_reservation([], 1) == []


def test_serial_numbers_must_match_the_quantity_of_a_serialized_product():
    assert domain.check_serials(True, 2, [" A ", "B"]) == ["A", "B"]
    for serials in (["A"], ["A", "B", "C"], ["A", "a"], ["A", " "]):
        with pytest.raises(ValidationFailed) as err:
            domain.check_serials(True, 2, serials)
        assert list(err.value.details) == ["serial_numbers"]
    with pytest.raises(ValidationFailed):
        domain.check_serials(False, 1, ["A"])
    assert domain.check_serials(False, 3, []) == []


def test_which_units_may_come_back_into_stock():
    assert domain.unit_can_come_in("leased", "lease_return")
    assert domain.unit_can_come_in("dispatched", "sales_return")
    assert not domain.unit_can_come_in("in_stock", "purchase")
    assert not domain.unit_can_come_in("reserved", "sales_return")
    assert domain.status_after_out("dispatch", lease=True) == "leased"
    assert domain.status_after_out("adjustment") == "scrapped"


def test_percent_changes_round_half_up_to_the_currency_minor_unit():
    assert domain.apply_percent(Decimal("19.99"), Decimal("7.5"), "EUR") == Decimal("21.49")
    assert domain.apply_percent(Decimal("10.00"), Decimal("-12.345"), "EUR") == Decimal("8.77")
    assert domain.apply_percent(Decimal("1999"), Decimal("7.5"), "JPY") == Decimal("2149")
    assert domain.apply_percent(Decimal("1.000"), Decimal("0.05"), "KWD") == Decimal("1.001")
    with pytest.raises(ValidationFailed):
        domain.apply_percent(Decimal("1"), Decimal("-100"), "EUR")
    with pytest.raises(ValidationFailed):
        domain.apply_percent(Decimal("1"), Decimal("1000.01"), "EUR")


def test_dated_prices_are_inclusive_and_open_ended():
    day = dt.date(2027, 1, 1)
    assert domain.price_valid(day, None, day)
    assert domain.price_valid(dt.date(2026, 1, 1), day, day)
    assert not domain.price_valid(dt.date(2026, 1, 1), dt.date(2026, 12, 31), day)
    assert not domain.price_valid(dt.date(2027, 1, 2), None, day)


def test_reorder_below_the_point_for_the_configured_or_a_derived_quantity():
    assert domain.below_reorder_point(4, 5) and not domain.below_reorder_point(5, 5)
    assert not domain.below_reorder_point(0, None)
    assert domain.reorder_quantity(4, 5, 20) == 20
    assert domain.reorder_quantity(4, 5, None) == 6
    assert domain.reorder_quantity(-2, 5, None) == 10


def test_category_paths_and_keys_are_unicode_folded():
    assert domain.category_parts(" Cihazlar / Yazıcılar ") == ["Cihazlar", "Yazıcılar"]
    assert domain.path_key(["CİHAZLAR", "Yazıcılar"]) == domain.path_key(["cihazlar", "yazicilar"])
    for bad in ("", "a//b", "/"):
        with pytest.raises(ValidationFailed):
            domain.category_parts(bad)


def test_roles_and_trade_in_decisions():
    with pytest.raises(PermissionDenied):
        domain.require(CallerContext(), domain.READ_ROLES, "read")
    with pytest.raises(PermissionDenied):
        domain.require(CallerContext(user_id=1, roles=("portal",)), domain.READ_ROLES, "read")
    domain.require(CallerContext(user_id=1, roles=("warehouse",)), domain.STOCK_ROLES, "move stock")
    assert domain.trade_in_decision("submitted", True) == "approved"
    with pytest.raises(Conflict):
        domain.trade_in_decision("approved", False)
