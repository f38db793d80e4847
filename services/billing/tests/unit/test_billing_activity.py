"""``customer_activity``: what billing holds for a customer, as counts — the customers service
asks before it deletes a customer (a customer with invoices or payments is archived instead)."""

from __future__ import annotations

import pytest
from billing_fixtures import OTHER_REP
from crm_common.context import CallerContext
from crm_common.errors import PermissionDenied, ValidationFailed
from crm_common.testing import new_caller


def test_counts_every_document_of_the_customer_whoever_owns_it(service, finance, customers_known):
    assert finance.customer_activity(10) == {
        "customer_id": 10,
        "invoices": 0,
        "payments": 0,
        "credit_notes": 0,
    }
    finance.create_invoice({"customer_id": 10, "currency": "EUR", "draft": True,
                            "lines": [{"description": "Setup", "quantity": "1", "unit_price": "100.00"}]})  # fmt: skip
    finance.record_payment({"customer_id": 10, "amount": "20.00", "currency": "EUR", "method": "cash",
                            "received_at": "2027-03-01T09:30:00+00:00"})  # fmt: skip
    # another rep's customer: the counts are still whole (no document data leaves)
    counts = service(OTHER_REP).customer_activity("10")
    assert counts == {"customer_id": 10, "invoices": 1, "payments": 1, "credit_notes": 0}
    assert finance.customer_activity(11)["invoices"] == 0


def test_portal_users_unknown_roles_and_bad_ids_are_refused(service, finance):
    portal = CallerContext(user_id=6, username="p", roles=("portal",), customer_id=10)
    for caller in (portal, new_caller("warehouse", user_id=9), CallerContext()):
        with pytest.raises(PermissionDenied):
            service(caller).customer_activity(10)
    with pytest.raises(ValidationFailed):
        finance.customer_activity("ten")
