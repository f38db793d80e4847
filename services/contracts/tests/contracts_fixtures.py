"""Test data of the contracts service's tests (customers, products, prices and units the stand-in
customers and inventory answer with; callers; a valid create body), importable by test modules
under a name no other service's tests use."""

from __future__ import annotations

from typing import Any

from crm_common.testing import new_caller

CUSTOMERS: dict[int, dict] = {
    1: {"name": "Ankara Makine A.Ş.", "code": "C000001", "language": "tr", "level": "A", "owner_id": 3},
    2: {"name": "北京科技有限公司", "code": "C000002", "language": "zh", "level": None, "owner_id": 4},
    3: {"name": "София Принт ООД", "code": "C000003", "language": "bg", "level": "B", "owner_id": 3},
}
PRODUCTS: dict[int, dict] = {
    10: {"sku": "PRN-1", "name": "Laser printer", "kind": "device", "model": "LJ-200", "manufacturer": "Acme",
         "serialized": True, "unit_price": "1000.00", "currency": "EUR", "category": "Devices/Printers",
         "active": True},
    11: {"sku": "SVC-1", "name": "Maintenance visit", "kind": "service", "model": None, "serialized": False,
         "unit_price": "50.00", "currency": "EUR", "category": "Services", "active": True},
    12: {"sku": "TON-1", "name": "Toner", "kind": "consumable", "model": None, "serialized": False,
         "unit_price": "20.00", "currency": "USD", "category": "Supplies", "active": True},
    13: {"sku": "OLD-1", "name": "Retired copier", "kind": "device", "serialized": True, "unit_price": "1.00",
         "currency": "EUR", "category": "Devices/Copiers", "active": False},
}  # fmt: skip
PRICES: dict[tuple, str] = {(11, "EUR"): "45.00", (11, "EUR", "A"): "40.00"}
UNITS: dict[str, dict] = {
    "SN-1": {"serial_number": "SN-1", "manufacturing_number": "MFG-0001", "product": {"id": 10}},
    "SN-2": {"serial_number": "SN-2", "manufacturing_number": "MFG-0002", "product": {"id": 10}},
}

ADMIN = new_caller("admin", user_id=1)
MANAGER = new_caller("sales_manager", user_id=2)
REP = new_caller("sales_rep", user_id=3, department="North")
OTHER_REP = new_caller("sales_rep", user_id=4)
FINANCE = new_caller("finance", user_id=5)


def contract_body(**overrides: Any) -> dict:
    body: dict[str, Any] = {
        "customer_id": 1,
        "title": "Bakım sözleşmesi — İstanbul",
        "kind": "maintenance",
        "currency": "EUR",
        "start_date": "2027-01-01",
        "end_date": "2027-12-31",
        "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
        "lines": [
            {"product_id": 10, "quantity": 1, "unit_price": "100.00", "serial_number": "SN-1"},
            {"product_id": 11, "quantity": "2", "discount_percent": "10"},
        ],
    }
    body.update(overrides)
    return body
