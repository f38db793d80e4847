"""The failures the fuzzer found, replayed as plain requests so each stays fixed whatever
examples a run happens to draw (``make test-fuzz`` runs them with the fuzzing suite).

    FUZZ_PROFILE=quick .venv/bin/python -m pytest tests/fuzz/test_findings.py -q -p no:nameko
"""

from __future__ import annotations

import httpx
import pytest

from .test_openapi import OPENAPI

TOO_BIG = str(2**64)  # past every database's integer column


@pytest.fixture(scope="module")
def admin(fuzz_system, admin_headers):
    with httpx.Client(base_url=fuzz_system.base_url, headers=admin_headers, timeout=60) as client:
        yield client


def error_code(r: httpx.Response) -> str:
    return r.json()["error"]["code"]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/invoices", "/api/v1/stock", "/api/v1/customers", "/api/v1/contracts", "/api/v1/payments"],
)
def test_a_page_past_any_offset_is_refused(admin, path):
    r = admin.get(path, params={"page": TOO_BIG})
    assert r.status_code == 422 and error_code(r) == "VALIDATION_FAILED", r.text
    assert "page" in r.text


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/payments", "customer_id"),
        ("/api/v1/invoices", "customer_id"),
        ("/api/v1/stock", "product_id"),
        ("/api/v1/customers", "owner_id"),
        ("/api/v1/tasks", "assignee_id"),
        ("/api/v1/contract-progress", "customer_id"),
    ],
)
def test_an_id_filter_past_64_bits_is_refused(admin, path, param):
    r = admin.get(path, params={param: TOO_BIG})
    assert r.status_code == 422 and param in r.text, r.text


@pytest.mark.parametrize("path", ["/api/v1/invoices/", "/api/v1/customers/", "/api/v1/contracts/"])
def test_a_path_id_past_64_bits_is_not_found(admin, path):
    r = admin.get(path + TOO_BIG)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND", r.text


def test_an_id_in_a_body_past_64_bits_is_refused(admin):
    r = admin.post(
        "/api/v1/payments",
        json={"customer_id": 2**64, "amount": "1.00", "currency": "EUR", "method": "card",
              "received_at": "2031-01-01T00:00:00Z"},
    )  # fmt: skip
    assert r.status_code == 422 and "customer_id" in r.text, r.text


def test_a_blank_webhook_description_is_no_description(admin):
    r = admin.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hooks", "events": ["invoice_issued"], "secret": "s3cret-key",
              "description": "  "},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["description"] is None
    r = admin.patch(f"/api/v1/webhooks/{r.json()['id']}", json={"description": ""})
    assert r.status_code == 200 and r.json()["description"] is None, r.text


def test_a_blank_approver_role_is_no_role(admin):
    r = admin.post(
        "/api/v1/approval-flows",
        json={"name": "Fuzz finding", "document_type": "fuzz_finding", "sla_hours": 1,
              "steps": [{"name": "one", "approver_role": "", "approver_user_id": 1, "mode": "any"}]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert "approver_role" not in r.json()["steps"][0]  # no role: the step names its user only


def test_a_flow_priority_past_32_bits_is_refused(admin):
    r = admin.post(
        "/api/v1/approval-flows",
        json={"name": "Fuzz priority", "document_type": "fuzz_finding", "priority": 2**40,
              "steps": [{"name": "one", "approver_role": "admin"}]},
    )  # fmt: skip
    assert r.status_code == 422 and "priority" in r.text, r.text


def test_an_unreadable_body_is_a_documented_400(admin):
    r = admin.post(
        "/api/v1/customers", content=b'{"name": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and error_code(r) == "BAD_REQUEST", r.text
    for operations in OPENAPI["paths"].values():
        for operation in operations.values():
            if "requestBody" in operation:
                assert "400" in operation["responses"], operation["operationId"]
