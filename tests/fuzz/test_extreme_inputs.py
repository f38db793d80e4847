"""The inputs that answered 500 (or were stored absurdly) before the input limits (issue 18 §6),
replayed as plain requests against the running system: each is a 4xx with nothing written,
except the long decision comment, which is accepted and whose approval sheet still renders.

    FUZZ_PROFILE=quick .venv/bin/python -m pytest tests/fuzz/test_extreme_inputs.py -q -p no:nameko
"""

from __future__ import annotations

import httpx
import pytest

from ..conftest import poll

LONG_COMMENT = "The site survey found the cabinets older than declared; approve with a note. " * 25  # ~1,900
LINE = {"description": "Repair", "quantity": "1", "unit_price": "80.00", "tax_percent": "20"}


@pytest.fixture(scope="module")
def admin(fuzz_system, admin_headers):
    with httpx.Client(base_url=fuzz_system.base_url, headers=admin_headers, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def seeds(fuzz_seeds):
    return fuzz_seeds.path_values


def total(admin, path: str, **params) -> int:
    r = admin.get(path, params={"page_size": 1, **params})
    assert r.status_code == 200, r.text
    return r.json()["total"]


def refused(r: httpx.Response, field: str | None = None) -> None:
    assert 400 <= r.status_code < 500, (r.request.method, str(r.request.url), r.status_code, r.text)
    assert r.json()["error"]["code"] in ("VALIDATION_FAILED", "PAYLOAD_TOO_LARGE", "BAD_REQUEST"), r.text
    if field is not None:
        assert field in r.text, r.text


def contract_body(seeds, **changes) -> dict:
    body = {"customer_id": seeds["customer_id"][0], "title": "Extreme", "kind": "maintenance", "currency": "EUR",
            "start_date": "2031-01-01", "end_date": "2031-12-31",
            "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
            "lines": [{"product_id": seeds["product_id"][0], "quantity": 1}]}  # fmt: skip
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": "1E-999999"}, "quantity"),  # was stored as a 1 MB value, 25 s of PDF
        ({"quantity": "1E-3000000"}, "quantity"),  # was 0 and passed "> 0"
        ({"quantity": "0.00001"}, "quantity"),  # rounds to 0
        ({"unit_price": "10000000000000"}, "unit_price"),  # past 10^13
        ({"quantity": "9999999", "unit_price": "9999999999999"}, "unit_price"),  # the product overflows
        ({"tax_percent": "1E+99"}, "tax_percent"),
    ],
)
def test_extreme_invoice_decimals_are_refused(admin, seeds, changes, field):
    before = total(admin, "/api/v1/invoices")
    r = admin.post(
        "/api/v1/invoices",
        json={"customer_id": seeds["customer_id"][0], "currency": "EUR", "lines": [{**LINE, **changes}]},
    )
    refused(r, field)
    assert total(admin, "/api/v1/invoices") == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start_date": "9999-01-01", "end_date": "9999-12-31"}, "start_date"),  # a contract in year 9999
        ({"start_date": "0001-01-01"}, "start_date"),
        ({"lines": [{"quantity": "1E-999999"}]}, "quantity"),
    ],
)
def test_extreme_contracts_are_refused(admin, seeds, changes, field):
    if "lines" in changes:
        changes = {"lines": [{"product_id": seeds["product_id"][0], **changes["lines"][0]}]}
    before = total(admin, "/api/v1/contracts")
    refused(admin.post("/api/v1/contracts", json=contract_body(seeds, **changes)), field)
    assert total(admin, "/api/v1/contracts") == before


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/contracts", {"as_of": "9999-12-31"}),
        ("/api/v1/dashboard", {"as_of": "9999-12-31"}),
        ("/api/v1/reports/receivables-aging", {"as_of": "9999-12-31"}),
        ("/api/v1/invoices", {"issued_from": "0001-01-01"}),
        ("/api/v1/contract-progress", {"as_of": "9999-12-31"}),
    ],
)
def test_extreme_dates_in_queries_are_refused(admin, path, params):
    refused(admin.get(path, params=params), next(iter(params)))


@pytest.mark.parametrize(
    "received_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2200-01-01T00:00:00Z"]
)
def test_extreme_timestamps_and_zones_are_refused(admin, seeds, received_at):
    before = total(admin, "/api/v1/payments")
    r = admin.post(
        "/api/v1/payments",
        json={"customer_id": seeds["customer_id"][0], "amount": "1.00", "currency": "EUR", "method": "card",
              "received_at": received_at},
    )  # fmt: skip
    refused(r, "received_at")
    assert total(admin, "/api/v1/payments") == before


def test_extreme_birthdays_and_follow_ups_are_refused(admin, seeds):
    before = total(admin, "/api/v1/customers")
    refused(
        admin.post("/api/v1/customers", json={"name": "Extreme Ltd", "birthday": "0001-01-01"}), "birthday"
    )
    assert total(admin, "/api/v1/customers") == before
    r = admin.post(
        f"/api/v1/customers/{seeds['customer_id'][0]}/follow-ups",
        json={"method": "call", "occurred_at": "9999-12-31T23:59:59-14:00", "result": "x"},
    )
    refused(r, "occurred_at")


def test_identifiers_refuse_invisible_characters_and_bodies_are_bounded(admin):
    before = total(admin, "/api/v1/users")
    for username in ("ev\u202eil", "a\x00b", "zero\u200bwidth"):
        r = admin.post(
            "/api/v1/users", json={"username": username, "password": "Pa55word!x", "roles": ["readonly"]}
        )
        refused(r, "username")
    deep = '{"username": "deep", "password": "Pa55word!x", "roles": ["readonly"], "x": ' + "[" * 5000
    r = admin.post(
        "/api/v1/users", content=deep + "]" * 5000 + "}", headers={"content-type": "application/json"}
    )
    refused(r)
    r = admin.post("/api/v1/users", content=b'{"username": "' + b"a" * (5 * 2**20) + b'"}',
                   headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 413, r.text
    assert total(admin, "/api/v1/users") == before
    r = httpx.post(f"{admin.base_url}/api/v1/customers", json={"name": "x" * 100_000})
    assert r.status_code == 401  # no token: refused before the body is read


def test_a_long_decision_comment_is_kept_and_its_sheet_still_renders(admin, seeds, fuzz_system):
    """A ~1,900-character comment (and an unbroken 3,000-character word) used to break the
    approval's sheet PDF for good: the row was taller than a page."""
    approver = fuzz_system.create_user(["approver"], full_name="Approver Extreme")
    contract = admin.post("/api/v1/contracts", json=contract_body(seeds, title="Extreme comment"))
    assert contract.status_code == 201, contract.text
    submitted = admin.post(f"/api/v1/contracts/{contract.json()['id']}/submit")
    assert submitted.status_code in (200, 201), submitted.text

    def pending():
        r = admin.get("/api/v1/approvals", params={"status": "pending", "page_size": 100})
        items = r.json()["items"]
        return next((a for a in items if str(a["document_id"]) == str(contract.json()["id"])), None)

    approval = poll(pending, message="approval request of the submitted contract")
    url = f"/api/v1/approvals/{approval['id']}"
    with fuzz_system.as_user(approver) as decider:
        r = decider.post(
            f"{url}/decision", json={"decision": "approve", "comment": LONG_COMMENT + "W" * 3000}
        )
        assert r.status_code == 200, r.text
    detail = admin.get(url).json()
    assert detail["decisions"][-1]["comment"] == (LONG_COMMENT + "W" * 3000).strip()
    sheet = admin.get(f"{url}/sheet.pdf")
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "application/pdf", sheet.text[:500]
    assert sheet.content.startswith(b"%PDF-")
