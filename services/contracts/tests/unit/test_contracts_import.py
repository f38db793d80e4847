"""CSV import of contracts with their lines: rows grouped by contract_ref, every bad cell reported
with its line and column, all_or_nothing vs skip_bad, contracts already in force for admins, and
the customers and products of the whole file fetched in batches."""

from __future__ import annotations

import pytest
from contracts import importer
from contracts.peers import FakeInventoryRpc, FakePeers
from contracts_fixtures import ADMIN, CUSTOMERS, MANAGER, PRICES, PRODUCTS, REP, UNITS
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm_common.testing import new_caller
from crm_common.text import fold


class Catalogue(FakeInventoryRpc):
    """The inventory fake plus the SKU filter of list_products."""

    def list_products(self, filters, page=1, page_size=50):
        self.calls.append(("list_products", filters.get("sku")))
        items = [
            {"id": i, **p} for i, p in self.products.items() if fold(p["sku"]) == fold(filters.get("sku"))
        ]
        return {"items": items[:page_size], "total": len(items), "page": page, "page_size": page_size}


@pytest.fixture
def peers():
    p = FakePeers(CUSTOMERS, PRODUCTS, PRICES, UNITS)
    p.inventory_rpc = Catalogue(PRODUCTS, PRICES, UNITS, p.calls)
    return p


HEAD = {"customer_id": "1", "title": "Bakım — İzmir", "kind": "maintenance", "currency": "eur",
        "start_date": "2027-01-01", "end_date": "2027-12-31", "billing_frequency": "monthly"}  # fmt: skip


def rows(*records):
    return [{"line": i + 2, "data": r} for i, r in enumerate(records)]


def run(db, peers, caller, mode, batch):
    job = importer.start_import(db, caller, mode, "contracts.csv")
    importer.import_batch(db, caller, job["job_id"], batch)
    return importer.finish_import(db, peers, caller, job["job_id"])


def test_contracts_import_all_or_nothing_reports_every_bad_cell_and_imports_nothing(db, peers, admin):
    report = run(db, peers, MANAGER, "all_or_nothing", rows(
        {**HEAD, "contract_ref": "K1", "product_id": "11", "quantity": "2"},
        {"contract_ref": "K1", "sku": "prn-1", "quantity": "1", "unit_price": "900", "serial_number": "SN-1"},
        {**HEAD, "contract_ref": "K2", "customer_id": "77", "product_id": "11", "quantity": "two"},
        {**HEAD, "contract_ref": "K3", "title": "Another title", "product_id": "10", "unit_price": "5",
         "in_advance": "maybe", "billing_frequency": "weekly"},
        {"contract_ref": "K3", "title": "Yet another", "sku": "NOPE-9"},
        {**HEAD, "product_id": "11"},
        {**HEAD, "contract_ref": "K4", "end_date": "2026-12-31", "product_id": "11",
         "line_start_date": "2028-01-01", "status": "expired"},
    ))  # fmt: skip

    assert report["status"] == "done" and report["created"] == 0
    assert report["message"] == "nothing imported: the file has errors"
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (4, "customer_id"),  # unknown customer
        (4, "quantity"),  # not a number
        (5, "billing_frequency"),
        (5, "in_advance"),
        (6, "sku"),  # unknown SKU
        (6, "title"),  # differs from line 5
        (7, "contract_ref"),
        (8, "end_date"),  # before start_date
        (8, "status"),
    ]
    by_cell = {(e["line"], e["field"]): e["message"] for e in report["errors"]}
    assert by_cell[(6, "title")] == "differs from line 5 of contract_ref 'K3'"
    assert by_cell[(4, "customer_id")] == "unknown customer"
    assert admin.list_contracts({})["total"] == 0


def test_contracts_import_skip_bad_imports_the_good_contracts_with_their_lines(db, peers, admin):
    report = run(db, peers, MANAGER, "skip_bad", rows(
        {**HEAD, "contract_ref": "K1", "product_id": "11", "quantity": "2", "payment_terms_days": "45",
         "auto_renew": "yes", "notice_days": "60", "signer": "Ayşe Yılmaz"},
        {"contract_ref": "K1", "sku": "prn-1", "quantity": "1", "unit_price": "900", "serial_number": "SN-1",
         "line_start_date": "2027-03-01"},
        {**HEAD, "contract_ref": "K2", "customer_id": "77", "product_id": "11"},
        {**HEAD, "contract_ref": "k1 ", "product_id": "11", "quantity": "1", "discount_percent": "12.5"},
    ))  # fmt: skip

    assert report["created"] == 1
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(4, "customer_id")]
    [made] = report["contracts"]
    assert made["contract_ref"] == "K1" and made["status"] == "draft"
    c = admin.get_contract(made["id"])
    assert (c["number"], c["status"], c["currency"], c["customer"]["name"]) == (
        made["number"], "draft", "EUR", "Ankara Makine A.Ş."
    )  # fmt: skip
    assert (c["billing"]["payment_terms_days"], c["auto_renew"], c["notice_days"], c["signer"]) == (
        45, True, 60, "Ayşe Yılmaz"
    )  # fmt: skip
    assert [
        (li["product_id"], li["quantity"], li["unit_price"], li["discount_percent"]) for li in c["lines"]
    ] == [
        (11, "2", "40.00", "0.00"),  # the customer's tier price
        (10, "1", "900.00", "0.00"),
        (11, "1", "40.00", "12.50"),
    ]
    assert c["lines"][1]["start_date"] == "2027-03-01" and c["lines"][1]["manufacturing_number"] == "MFG-0001"
    assert c["owner_id"] == MANAGER.user_id
    # the whole file cost one batched call per kind of thing, not one per row
    assert [x[0] for x in peers.calls].count("get_customers") == 1
    assert [x[0] for x in peers.calls].count("get_customer") == 0
    assert [x for x in peers.calls if x[0] == "list_products"] == [("list_products", "prn-1")]


def test_contracts_import_of_running_contracts_is_for_admins(db, peers, admin, events):
    row = {**HEAD, "contract_ref": "OLD-1", "start_date": "2025-01-01", "end_date": "2026-12-31",
           "product_id": "11", "status": "Active"}  # fmt: skip
    refused = run(db, peers, MANAGER, "all_or_nothing", rows(row))
    assert [(e["line"], e["field"]) for e in refused["errors"]] == [(2, "status")]

    report = run(db, peers, ADMIN, "all_or_nothing", rows(row))
    assert report["created"] == 1 and report["errors"] == []
    c = admin.get_contract(report["contracts"][0]["id"])
    assert c["status"] == "active" and c["version"] == 1 and c["versions"][0]["kind"] == "import"
    assert [e["id"] for e in events("contract_activated")] == [c["id"]]


def test_contracts_import_protocol(db, peers):
    with pytest.raises(ValidationFailed) as err:
        importer.start_import(db, MANAGER, "some", None)
    assert "mode" in err.value.details
    with pytest.raises(PermissionDenied):
        importer.start_import(db, REP, "skip_bad", None)

    job = importer.start_import(db, MANAGER, "skip_bad", "c.csv")
    with pytest.raises(ValidationFailed) as err:
        importer.import_batch(db, MANAGER, job["job_id"], rows({**HEAD, "colour": "red"}))
    assert "columns" in err.value.details
    batch = rows({**HEAD, "contract_ref": "A", "product_id": "11"})
    importer.import_batch(db, MANAGER, job["job_id"], batch)
    assert importer.import_batch(db, MANAGER, job["job_id"], batch)["rows_received"] == 1  # a retry
    progress = importer.get_import(db, MANAGER, job["job_id"])
    assert (progress["status"], progress["rows_received"]) == ("receiving", 1)
    other_manager = new_caller("sales_manager", user_id=22)
    with pytest.raises(NotFound):
        importer.get_import(db, other_manager, job["job_id"])

    first = importer.finish_import(db, peers, MANAGER, job["job_id"])
    assert first["created"] == 1
    assert (
        importer.finish_import(db, peers, MANAGER, job["job_id"]) == first
    )  # finishing twice answers the same
    with pytest.raises(Conflict):
        importer.import_batch(db, MANAGER, job["job_id"], rows({**HEAD, "contract_ref": "B"}))
    assert importer.get_import(db, ADMIN, job["job_id"])["created"] == 1

    gone = importer.start_import(db, MANAGER, "all_or_nothing", None)
    importer.import_batch(db, MANAGER, gone["job_id"], batch)
    aborted = importer.abort_import(db, MANAGER, gone["job_id"], "upload broken off")
    assert (aborted["status"], aborted["message"]) == ("failed", "upload broken off")
    assert importer.finish_import(db, peers, MANAGER, gone["job_id"])["created"] == 0


def test_contracts_import_extra_values_and_empty_refs_are_errors(db, peers):
    report = run(db, peers, MANAGER, "skip_bad", rows(
        {**HEAD, "contract_ref": "A", "product_id": "11", "_extra": ["surprise"]},
        {**HEAD, "contract_ref": "B", "product_id": "11", "sku": "SVC-1"},
        {**HEAD, "contract_ref": "C", "quantity": "3"},
        {**HEAD, "contract_ref": "D", "product_id": "11"},
    ))  # fmt: skip
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (2, "columns"),
        (3, "sku"),
        (4, "product_id"),
    ]
    assert [c["contract_ref"] for c in report["contracts"]] == ["D"]
