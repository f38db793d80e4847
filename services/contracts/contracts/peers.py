"""The other services a contract depends on, reached by RPC: customers (the customer of a contract,
in the caller's scope) and inventory (products, prices from the customer's price list, serialized
units). One :class:`Peers` lives for one worker call and caches what it fetched, so a contract
with 200 lines of 3 products costs 3 product calls, and an import prefetches in batches.

The calls carry the original caller's context (crm_common's RpcProxy), so the customers service
applies that caller's scope: a sales rep cannot put another rep's customer on a contract.

Unit tests use :class:`FakePeers` (the same interface over dictionaries); integration and end to
end tests run the real services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from crm_common.errors import Conflict, NotFound, ValidationFailed

CHANNEL = "customer"  # contracts are priced from the customer channel's price lists
BATCH = 500


class Peers:
    def __init__(self, customers_rpc: Any, inventory_rpc: Any) -> None:
        self.customers_rpc = customers_rpc
        self.inventory_rpc = inventory_rpc
        self._customers: dict[int, dict | None] = {}
        self._products: dict[int, dict | None] = {}
        self._prices: dict[tuple, dict | None] = {}
        self._units: dict[tuple, dict | None] = {}
        self._by_sku: dict[str, dict | None] = {}

    # -- customers -------------------------------------------------------------------------
    def customer(self, customer_id: int, field: str = "customer_id") -> dict:
        """The customer, or a 422 naming ``field`` when it is unknown or outside the caller's
        scope, or a 409 when it is archived (an archived customer gets no new contracts)."""
        if customer_id not in self._customers:
            try:
                self._customers[customer_id] = self._fetch_customer(customer_id)
            except NotFound:
                self._customers[customer_id] = None
        found = self._customers[customer_id]
        if found is None:
            raise ValidationFailed.field(field, "unknown customer")
        if found.get("archived"):
            raise Conflict(
                f"Customer {found.get('code') or customer_id} is archived: no new contracts (restore it first)",
                {field: ["customer is archived"], "customer_id": customer_id, "archived": True},
            )
        return found

    def prefetch_customers(self, ids: Iterable[int]) -> None:
        wanted = sorted({i for i in ids if i not in self._customers})
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start : start + BATCH]
            found = {c["id"]: c for c in self._fetch_customers(chunk)}
            for i in chunk:
                self._customers[i] = found.get(i)

    # -- products --------------------------------------------------------------------------
    def product(self, product_id: int) -> dict | None:
        if product_id not in self._products:
            try:
                self._products[product_id] = self._fetch_product(product_id)
            except NotFound:
                self._products[product_id] = None
        return self._products[product_id]

    def prefetch_products(self, ids: Iterable[int]) -> None:
        wanted = sorted({i for i in ids if i not in self._products})
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start : start + BATCH]
            found = {p["id"]: p for p in self._fetch_products(chunk)}
            for i in chunk:
                self._products[i] = found.get(i)

    def products_by_sku(self, skus: Iterable[str]) -> dict[str, dict | None]:
        """Products by SKU (case as inventory folds it), one ``list_products`` call per SKU not
        yet known; the products found are cached by id too."""
        out: dict[str, dict | None] = {}
        for sku in dict.fromkeys(skus):
            if sku not in self._by_sku:
                page = self.inventory_rpc.list_products({"sku": sku}, 1, 1)
                found = (page.get("items") or [None])[0]
                self._by_sku[sku] = found
                if found is not None:
                    self._products[found["id"]] = found
            out[sku] = self._by_sku[sku]
        return out

    def price(self, product_id: int, currency: str, tier: str | None, on: dt.date) -> dict | None:
        """The customer price of a product in ``currency`` on a day: the customer's tier list
        first, then any customer list, then the product's base price; ``None`` when none is in
        that currency."""
        key = (product_id, currency, tier, on)
        if key not in self._prices:
            found = None
            for t in ([tier] if tier else []) + [None]:
                quote = self._fetch_price(product_id, on, currency, t)
                if quote is not None and quote.get("currency") == currency:
                    found = quote
                    if quote.get("source") != "base_price":
                        break
            self._prices[key] = found
        return self._prices[key]

    def unit(self, serial_number: str, product_id: int) -> dict | None:
        key = (serial_number, product_id)
        if key not in self._units:
            try:
                self._units[key] = self._fetch_unit(serial_number, product_id)
            except NotFound:
                self._units[key] = None
        return self._units[key]

    # -- the calls -------------------------------------------------------------------------
    def _fetch_customer(self, customer_id: int) -> dict:
        return self.customers_rpc.get_customer(customer_id)

    def _fetch_customers(self, ids: list[int]) -> list[dict]:
        return self.customers_rpc.get_customers(ids)

    def _fetch_product(self, product_id: int) -> dict:
        return self.inventory_rpc.get_product(product_id)

    def _fetch_products(self, ids: list[int]) -> list[dict]:
        return self.inventory_rpc.get_products(ids)

    def _fetch_price(self, product_id: int, on: dt.date, currency: str, tier: str | None) -> dict | None:
        try:
            return self.inventory_rpc.price_for(product_id, CHANNEL, on.isoformat(), currency, tier)
        except NotFound:
            return None

    def _fetch_unit(self, serial_number: str, product_id: int) -> dict:
        return self.inventory_rpc.get_unit(serial_number, product_id)


class FakeCustomersRpc:
    """The customers service's RPC methods contracts uses, over a dictionary (unit tests)."""

    def __init__(self, customers: Mapping[int, dict], calls: list[tuple]) -> None:
        self.data = customers
        self.calls = calls

    def get_customer(self, customer_id: int) -> dict:
        self.calls.append(("get_customer", customer_id))
        if customer_id not in self.data:
            raise NotFound(f"Customer {customer_id} not found")
        return {"id": customer_id, **self.data[customer_id]}

    def get_customers(self, ids: list[int]) -> list[dict]:
        self.calls.append(("get_customers", tuple(ids)))
        return [{"id": i, **self.data[i]} for i in ids if i in self.data]

    def customer_flags(self, ids: list[int]) -> list[dict]:
        """The archive and red-list flags (not recorded in ``calls``: they are asked at submit
        and read time, not while pricing)."""
        return [
            {"id": i, "code": self.data[i].get("code"), "archived": bool(self.data[i].get("archived")),
             "red_listed": bool(self.data[i].get("red_listed")),
             "red_list_reason": self.data[i].get("red_list_reason")}
            for i in ids if i in self.data
        ]  # fmt: skip


class FakeInventoryRpc:
    """The inventory service's RPC methods contracts uses, over dictionaries (unit tests):
    ``prices`` {(product_id, currency): price} or {(product_id, currency, tier): price}."""

    def __init__(self, products: Mapping[int, dict], prices: Mapping[tuple, str], units: Mapping[str, dict],
                 calls: list[tuple]) -> None:  # fmt: skip
        self.products, self.prices, self.units, self.calls = products, prices, units, calls

    def get_product(self, product_id: int) -> dict:
        self.calls.append(("get_product", product_id))
        if product_id not in self.products:
            raise NotFound(f"Product {product_id} not found")
        return {"id": product_id, **self.products[product_id]}

    def get_products(self, ids: list[int]) -> list[dict]:
        self.calls.append(("get_products", tuple(ids)))
        return [{"id": i, **self.products[i]} for i in ids if i in self.products]

    def list_products(self, filters: dict, page: int = 1, page_size: int = 50) -> dict:
        self.calls.append(("list_products", tuple(sorted(filters.items()))))
        sku = (filters.get("sku") or "").casefold()
        items = [
            {"id": i, **p} for i, p in self.products.items() if not sku or p.get("sku", "").casefold() == sku
        ]
        return {"items": items[(page - 1) * page_size : page * page_size], "total": len(items), "page": page,
                "page_size": page_size}  # fmt: skip

    def price_for(self, product_id, channel, on=None, currency=None, tier=None) -> dict:
        self.calls.append(("price_for", product_id, currency, tier))
        if product_id not in self.products:
            raise NotFound(f"Product {product_id} not found")
        listed = self.prices.get((product_id, currency, tier)) if tier else None
        listed = listed or self.prices.get((product_id, currency))
        if listed is not None:
            return {"unit_price": listed, "currency": currency, "source": "price_list"}
        product = self.products[product_id]
        return {
            "unit_price": product.get("unit_price"),
            "currency": product.get("currency"),
            "source": "base_price",
        }

    def get_unit(self, serial_number: str, product_id=None) -> dict:
        self.calls.append(("get_unit", serial_number, product_id))
        unit = self.units.get(serial_number)
        if unit is None or unit.get("product", {}).get("id", product_id) != product_id:
            raise NotFound(f"Unit {serial_number} not found")
        return unit


class FakePeers(Peers):
    """Peers over dictionaries, for unit tests: ``customers`` {id: customer}, ``products`` {id:
    product}, ``prices`` {(product_id, currency[, tier]): price}, ``units`` {serial: unit}. The
    calls answered are in ``calls``."""

    def __init__(
        self,
        customers: Mapping[int, dict] | None = None,
        products: Mapping[int, dict] | None = None,
        prices: Mapping[tuple, str] | None = None,
        units: Mapping[str, dict] | None = None,
    ) -> None:
        self.calls: list[tuple] = []
        super().__init__(
            FakeCustomersRpc(dict(customers or {}), self.calls),
            FakeInventoryRpc(dict(products or {}), dict(prices or {}), dict(units or {}), self.calls),
        )
