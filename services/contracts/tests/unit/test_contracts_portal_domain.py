"""Pure rules of the dashboard and the portal (contracts.domain): who sees which dashboard, the
renewal window, exact sums per currency, what an installed item is and how a search matches it,
what a service request must name and which line it lands on."""

from __future__ import annotations

import datetime as dt

import pytest
from contracts import domain
from crm_common.context import CallerContext
from crm_common.errors import PermissionDenied
from crm_common.testing import new_caller

D = dt.date


def test_dashboard_scope_per_role():
    assert domain.dashboard_scope(new_caller("admin", user_id=1)) == domain.DashboardScope()
    assert domain.dashboard_scope(new_caller("finance", user_id=5)) == domain.DashboardScope()
    assert domain.dashboard_scope(new_caller("readonly", user_id=6)) == domain.DashboardScope()
    assert domain.dashboard_scope(CallerContext.system("contracts")) == domain.DashboardScope()
    # a sales manager with a department: that department; without one: everything
    north = new_caller("sales_manager", user_id=2, department="North")
    assert domain.dashboard_scope(north) == domain.DashboardScope(department="North")
    assert domain.dashboard_scope(new_caller("sales_manager", user_id=2)) == domain.DashboardScope()
    assert (
        domain.dashboard_scope(new_caller("sales_manager", user_id=2, department="  "))
        == domain.DashboardScope()
    )
    # admin wins over a department
    both = new_caller("admin", "sales_manager", user_id=2, department="North")
    assert domain.dashboard_scope(both) == domain.DashboardScope()
    assert domain.dashboard_scope(new_caller("sales_rep", user_id=3)) == domain.DashboardScope(owner_id=3)
    portal = CallerContext(user_id=50, username="p", roles=("portal",), customer_id=1)
    with pytest.raises(PermissionDenied):
        domain.dashboard_scope(portal)
    with pytest.raises(PermissionDenied):
        domain.dashboard_scope(CallerContext())


def test_renewal_window_is_90_days_inclusive_and_skips_renewed_contracts():
    as_of = D(2026, 11, 1)
    assert domain.renewal_window(as_of) == (D(2026, 11, 1), D(2027, 1, 30))
    assert domain.renewal_due("active", D(2026, 11, 1), None, as_of)
    assert domain.renewal_due("approved", D(2027, 1, 30), None, as_of)
    assert not domain.renewal_due("active", D(2027, 1, 31), None, as_of)
    assert not domain.renewal_due("active", D(2026, 10, 31), None, as_of)  # ended already
    assert not domain.renewal_due("active", D(2026, 12, 1), 42, as_of)  # renewal made
    for status in ("draft", "pending_approval", "expired", "terminated", "renewed", "cancelled"):
        assert not domain.renewal_due(status, D(2026, 12, 1), None, as_of)


def test_active_on_needs_the_term_to_cover_the_day():
    assert domain.active_on("active", D(2026, 1, 1), D(2026, 12, 31), D(2026, 12, 31))
    assert not domain.active_on("active", D(2026, 1, 1), D(2026, 12, 31), D(2027, 1, 1))
    assert not domain.active_on("approved", D(2026, 1, 1), D(2026, 12, 31), D(2026, 6, 1))


def test_year_span():
    start, end = domain.year_span(2027)
    assert start == dt.datetime(2027, 1, 1, tzinfo=dt.UTC) and end == dt.datetime(2028, 1, 1, tzinfo=dt.UTC)


def test_installed_items_are_devices_or_lines_naming_a_unit():
    assert domain.is_item("device", None)
    assert domain.is_item("service", "SN-9")
    assert not domain.is_item("service", None) and not domain.is_item("consumable", "  ")


def test_item_search_is_unicode_case_insensitive_on_any_field():
    fields = ("SN-0042", "MFG-7", "LJ-200", "Лазерен ПРИНТЕР", "PRN-1")
    assert domain.item_matches("sn-00", fields)
    assert domain.item_matches("lj-2", fields)
    assert domain.item_matches("принтер", fields)
    assert domain.item_matches("prn", fields)
    assert domain.item_matches("", fields) and domain.item_matches(None, fields)
    assert not domain.item_matches("SN-0043", fields)
    assert domain.item_matches("istanbul", ("İSTANBUL yazıcısı",))
    assert domain.item_matches("ｌｊ", fields)  # full-width typed
    assert not domain.item_matches("x", (None, None))


def test_service_request_targets():
    assert domain.service_request_problems("renewal_quote", 5, None, None) == {}
    assert "contract_id" in domain.service_request_problems("renewal_quote", None, "SN-1", None)
    assert domain.service_request_problems("service_call", None, "SN-1", None) == {}
    assert domain.service_request_problems("service_call", 5, None, 7) == {}
    assert "serial_number" in domain.service_request_problems("service_call", 5, None, None)
    assert "serial_number" in domain.service_request_problems("service_call", None, None, None)
    assert "contract_id" in domain.service_request_problems("service_call", None, "SN-1", 7)


def test_service_call_lands_on_the_line_in_force_then_the_newest_contract():
    old = {"contract_id": 9, "line_id": 90, "contract_status": "expired"}
    running = {"contract_id": 4, "line_id": 40, "contract_status": "active"}
    newer = {"contract_id": 6, "line_id": 60, "contract_status": "approved"}
    assert domain.best_item([old, running]) is running
    assert domain.best_item([old, running, newer]) is newer
    assert domain.best_item([old]) is old and domain.best_item([]) is None
    assert domain.request_owner(3, 4) == 3 and domain.request_owner(None, 4) == 4


def test_a_customer_reads_its_contract_without_the_company_internals():
    view = {
        "id": 1, "number": "C-1", "notes": "price floor 80", "owner_id": 7, "department": "east",
        "approval_id": "a1", "rejection_comment": "too cheap", "created_by": "rep", "template_id": 3,
        "amounts_locked": True, "amendments": [{"id": 1}], "field_values": {"site": "Ankara"},
        "lines": [{"id": 9, "serial_number": "SN-1", "price_source": "manual", "warehouse_id": 2}],
    }  # fmt: skip
    out = domain.for_customer(view)
    assert out == {
        "id": 1, "number": "C-1", "field_values": {"site": "Ankara"}, "lines": [{"id": 9, "serial_number": "SN-1"}]
    }  # fmt: skip
    assert view["notes"] == "price floor 80"  # the staff view is untouched
    assert domain.for_customer({"id": 2, "owner_id": 1}) == {"id": 2}  # a summary without lines
