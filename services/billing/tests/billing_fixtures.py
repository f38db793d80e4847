"""Builders shared by the billing tests: contract event payloads as the contracts service
publishes them (services/contracts/README.md) and the callers of each role."""

from __future__ import annotations

import copy
from typing import Any

from crm_common.testing import new_caller

ADMIN = new_caller("admin", user_id=1)
FINANCE = new_caller("finance", user_id=2)
REP = new_caller("sales_rep", user_id=3)
OTHER_REP = new_caller("sales_rep", user_id=4)
MANAGER = new_caller("sales_manager", user_id=5)
WAREHOUSE = new_caller("warehouse", user_id=6)

CUSTOMERS: dict[int, dict[str, Any]] = {
    10: {"id": 10, "code": "C000010", "name": "上海精密仪器有限公司", "kind": "company", "owner_id": 3,
         "language": "zh", "tax_id": "91310000MA1FL0000X", "address": "上海市浦东新区世纪大道100号", "email": "ap@sh.example"},
    11: {"id": 11, "code": "C000011", "name": "İstanbul Makine Sanayi A.Ş.", "kind": "company", "owner_id": 4,
         "language": "tr", "tax_id": "1234567890", "address": "Büyükdere Cd. 1, İstanbul", "email": "muhasebe@ist.example"},
}  # fmt: skip


def line(line_id: int = 501, **overrides: Any) -> dict[str, Any]:
    li = {
        "id": line_id, "line_id": line_id, "product_id": 7, "sku": "SVC-MAINT", "product_name": "Maintenance visit",
        "product_kind": "service", "category": "services", "model": None, "serial_number": None,
        "manufacturing_number": None, "quantity": "1", "unit_price": "100.00", "discount_percent": "0",
        "amount": "100.00", "start_date": None, "end_date": None, "warehouse_id": None,
    }  # fmt: skip
    li.update(overrides)
    return li


def contract(contract_id: int = 1, **overrides: Any) -> dict[str, Any]:
    """A ``contract_*`` payload: monthly, in advance, 15 Jan 2027 – 14 Jan 2028, one line of
    100.00 per month, customer 10."""
    c = {
        "id": contract_id, "contract_id": contract_id, "number": f"C-2027-{contract_id:06d}",
        "contract_number": f"C-2027-{contract_id:06d}", "status": "active", "version": 1, "customer_id": 10,
        "customer_name": "上海精密仪器有限公司", "customer_code": "C000010", "customer_language": "zh", "language": "zh",
        "owner_id": 3, "customer_owner_id": 3, "kind": "maintenance", "title": "Maintenance 2027", "currency": "EUR",
        "start_date": "2027-01-15", "end_date": "2028-01-14", "total": "100.00", "term_value": "1200.00",
        "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30, "anchor_day": None},
        "payment_terms_days": 30, "auto_renew": False, "notice_days": 30, "renewal_uplift_percent": "0",
        "renewal_of_id": None, "lines": [line()],
    }  # fmt: skip
    billing = overrides.pop("billing", None)
    c.update(copy.deepcopy(overrides))
    if billing:
        c["billing"] = {**c["billing"], **billing}
    for li in c["lines"]:
        li.setdefault("start_date", None)
    return c
