"""The billing routes through the gateway against the real billing service: ``BillingService``
itself (with ``gateway_test_service:FakeCustomersService`` answering its customer look-ups) in a
`nameko run` process on a throwaway vhost of its own, on a temporary SQLite file migrated like
a deployment. What a front end relies on: paths, roles (401 / 403 per role), shapes refused
before any RPC (422 naming the field), integer ids (404 otherwise), a one-off invoice from
creation to its PDF (ETag, 304), payments and allocations moving the invoice's status, finance
locks (409), and billing runs made from a contract event (201 / 202 with ``invoices_created``)."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import os
import uuid
from pathlib import Path

import pytest
import pytest_asyncio
from conftest import create_user, login, make_settings, nameko_process, own_vhost, running_app

pytestmark = pytest.mark.asyncio

BILLING_DIR = Path(__file__).resolve().parents[2] / "services" / "billing"
ACTIVATED_QUEUE = "evt-contracts-contract_activated--billing.handle_contract_activated"
PASSWORD = "rep-password-1"
CONTRACT_ID = 9001

LINE = {
    "description": "Vor-Ort-Service 现场服务",
    "quantity": "2",
    "unit_price": "100.00",
    "tax_percent": "20",
}


@pytest.fixture(scope="module")
def billing_service(tmp_path_factory):
    """The real BillingService (and the stand-in customers service) in a process on a vhost of
    its own; yields the vhost's AMQP URI."""
    from crm_common.migrations import upgrade

    workdir = tmp_path_factory.mktemp("billing-service")
    url = f"sqlite:///{workdir / 'billing.db'}"
    upgrade(str(BILLING_DIR), url)
    env = {k: "" for k in os.environ if k.startswith("BILLING_")}
    env.update(BILLING_DATABASE_URL=url, CRM_DATA_DIR=str(workdir))
    targets = ["gateway_test_service:FakeCustomersService", "billing.service:BillingService"]
    queues = ["rpc-billing", "rpc-customers", ACTIVATED_QUEUE]
    with own_vhost("crm-billing") as uri:
        with nameko_process(uri, workdir, targets, queues, env=env, max_workers=20):
            yield uri


@pytest_asyncio.fixture
async def client(billing_service, tmp_path):
    settings = make_settings(
        billing_service, tmp_path / "gateway.db", crm_services=["billing", "customers"], crm_rpc_timeout=20
    )
    async with running_app(settings) as c:
        yield c


async def headers_of(client, admin_headers, roles: list[str], **extra) -> dict[str, str]:
    username = f"{roles[0]}-{uuid.uuid4().hex[:6]}"
    await create_user(client, admin_headers, username=username, roles=roles, **extra)
    return await login(client, username, PASSWORD)


async def new_customer(client, admin_headers, **extra) -> dict:
    body = {"name": f"Kunde {uuid.uuid4().hex[:8]} GmbH", "kind": "company", "language": "en", **extra}
    r = await client.post("/api/v1/customers", json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    return r.json()


async def one_off(client, headers, customer_id: int, **extra) -> dict:
    body = {"customer_id": customer_id, "currency": "EUR", "lines": [LINE], **extra}
    r = await client.post("/api/v1/invoices", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def invoice_count(client, headers) -> int:
    r = await client.get("/api/v1/invoices?page_size=1", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["total"]


def publish_contract_event(uri: str, event_type: str, payload: dict) -> None:
    """A contracts event as the contracts service's outbox relay publishes it (signed)."""
    from crm_common.db import make_envelope
    from crm_common.testing import publish_event

    publish_event(uri, "contracts", make_envelope("contracts", event_type, payload))


def contract_payload(customer: dict) -> dict:
    """``contract_activated``: monthly in advance from 15 Jan 2027, one line of 100.00 a month."""
    number = f"C-2027-{CONTRACT_ID:06d}"
    return {
        "id": CONTRACT_ID, "contract_id": CONTRACT_ID, "number": number, "contract_number": number,
        "status": "active", "version": 1, "customer_id": customer["id"], "customer_name": customer["name"],
        "customer_code": customer["code"], "customer_language": "en", "language": "en", "owner_id": None,
        "customer_owner_id": None, "kind": "maintenance", "title": "Wartung 2027", "currency": "EUR",
        "start_date": "2027-01-15", "end_date": "2028-01-14", "total": "100.00", "term_value": "1200.00",
        "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30, "anchor_day": None},
        "payment_terms_days": 30, "auto_renew": False, "notice_days": 30, "renewal_uplift_percent": "0",
        "renewal_of_id": None,
        "lines": [{
            "id": 501, "line_id": 501, "product_id": 7, "sku": "SVC-MAINT", "product_name": "Maintenance visit",
            "product_kind": "service", "category": "services", "model": None, "serial_number": None,
            "manufacturing_number": None, "quantity": "1", "unit_price": "100.00", "discount_percent": "0",
            "amount": "100.00", "start_date": None, "end_date": None, "warehouse_id": None,
        }],
    }  # fmt: skip


async def wait_for(check, seconds: float = 20):
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = await check()
        if result is not None:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.2)


# --------------------------------------------------------------------------------------
# Paths and roles
# --------------------------------------------------------------------------------------


async def test_billing_paths_are_in_the_openapi_document(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    expected = {
        "/api/v1/invoices": {"get", "post"},
        "/api/v1/invoices/{invoice_id}": {"get", "patch"},
        "/api/v1/invoices/{invoice_id}/issue": {"post"},
        "/api/v1/invoices/{invoice_id}/void": {"post"},
        "/api/v1/invoices/{invoice_id}/pdf": {"get"},
        "/api/v1/invoices/{invoice_id}/lock": {"post"},
        "/api/v1/invoices/{invoice_id}/unlock": {"post"},
        "/api/v1/invoices/{invoice_id}/credit-notes": {"post"},
        "/api/v1/credit-notes": {"get"},
        "/api/v1/credit-notes/{credit_note_id}": {"get"},
        "/api/v1/credit-notes/{credit_note_id}/pdf": {"get"},
        "/api/v1/billing/runs": {"get", "post"},
        "/api/v1/billing/runs/{run_id}": {"get"},
        "/api/v1/billing/schedules/{contract_id}": {"get"},
        "/api/v1/billing/tax-rates": {"get"},
        "/api/v1/billing/tax-rates/{key}": {"put"},
        "/api/v1/billing/customers/{customer_id}/balance": {"get"},
        "/api/v1/payments": {"get", "post"},
        "/api/v1/payments/{payment_id}": {"get"},
        "/api/v1/payments/{payment_id}/confirm": {"post"},
        "/api/v1/payments/{payment_id}/allocations": {"post"},
        "/api/v1/payments/{payment_id}/refunds": {"post"},
        "/api/v1/payments/{payment_id}/lock": {"post"},
        "/api/v1/payments/{payment_id}/unlock": {"post"},
        "/api/v1/reports/receivables-aging": {"get"},
        "/api/v1/reports/cash-flow": {"get"},
        "/api/v1/reports/revenue": {"get"},
        "/api/v1/reports/recurring-revenue": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths.get(path, {})), path


async def test_billing_routes_need_a_token(client):
    for method, path in [
        ("GET", "/api/v1/invoices"),
        ("POST", "/api/v1/invoices"),
        ("GET", "/api/v1/invoices/1/pdf"),
        ("POST", "/api/v1/payments"),
        ("POST", "/api/v1/billing/runs"),
        ("GET", "/api/v1/reports/cash-flow"),
    ]:
        r = await client.request(method, path, json={})
        assert r.status_code == 401, (method, path, r.text)
        assert r.json()["error"]["code"] == "UNAUTHORIZED"


async def test_billing_roles_are_checked_per_route(client, admin_headers):
    customer = await new_customer(client, admin_headers)
    invoice = await one_off(client, admin_headers, customer["id"])
    reader = await headers_of(client, admin_headers, ["readonly"])
    store = await headers_of(client, admin_headers, ["warehouse"])
    portal = await headers_of(client, admin_headers, ["portal"], customer_id=customer["id"])
    finance = await headers_of(client, admin_headers, ["finance"])
    body = {"customer_id": customer["id"], "currency": "EUR", "lines": [LINE]}
    payment = {"customer_id": customer["id"], "amount": "1.00", "currency": "EUR", "method": "cash",
               "received_at": "2027-02-01T10:00:00Z"}  # fmt: skip

    # read-only staff read everything and write nothing
    assert (await client.get("/api/v1/invoices", headers=reader)).status_code == 200
    assert (await client.get(f"/api/v1/invoices/{invoice['id']}", headers=reader)).status_code == 200
    assert (await client.get("/api/v1/reports/cash-flow?year=2027", headers=reader)).status_code == 200
    for method, path, json_body in [
        ("POST", "/api/v1/invoices", body),
        ("POST", f"/api/v1/invoices/{invoice['id']}/lock", None),
        ("POST", f"/api/v1/invoices/{invoice['id']}/void", {"reason": "x"}),
        ("POST", "/api/v1/payments", payment),
        ("POST", "/api/v1/billing/runs", {"as_of": "2027-01-31"}),
        ("PUT", "/api/v1/billing/tax-rates/default", {"percent": "20"}),
    ]:
        r = await client.request(method, path, json=json_body, headers=reader)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["error"]["code"] == "FORBIDDEN"

    # warehouse staff see no billing at all
    for path in ("/api/v1/invoices", f"/api/v1/invoices/{invoice['id']}/pdf", "/api/v1/payments"):
        assert (await client.get(path, headers=store)).status_code == 403, path

    # a portal user: its own customer's issued invoices through the portal, nothing elsewhere
    r = await client.get("/api/v1/portal/invoices", headers=portal)
    assert r.status_code == 200 and [i["id"] for i in r.json()["items"]] == [invoice["id"]]
    assert (
        await client.get(f"/api/v1/portal/invoices/{invoice['id']}/pdf", headers=portal)
    ).status_code == 200
    assert (await client.get("/api/v1/invoices", headers=portal)).status_code == 403
    assert (await client.get("/api/v1/reports/receivables-aging", headers=portal)).status_code == 403
    assert (await client.get("/api/v1/billing/runs", headers=portal)).status_code == 403

    # finance writes
    r = await client.post("/api/v1/invoices", json=body, headers=finance)
    assert r.status_code == 201 and r.json()["status"] == "issued"


async def test_a_sales_rep_sees_the_invoices_of_the_customers_they_own(client, admin_headers):
    rep_user = await create_user(client, admin_headers, username=f"rep-{uuid.uuid4().hex[:6]}")
    rep = await login(client, rep_user["username"], PASSWORD)
    own = await new_customer(client, admin_headers, owner_id=rep_user["id"])
    other = await new_customer(client, admin_headers)
    mine = await one_off(client, admin_headers, own["id"])
    theirs = await one_off(client, admin_headers, other["id"])

    r = await client.get("/api/v1/invoices?page_size=500", headers=rep)
    ids = {i["id"] for i in r.json()["items"]}
    assert r.status_code == 200 and mine["id"] in ids and theirs["id"] not in ids
    assert (await client.get(f"/api/v1/invoices/{theirs['id']}", headers=rep)).status_code == 404
    r = await client.post("/api/v1/invoices", json={"customer_id": own["id"], "currency": "EUR", "lines": [LINE]},
                          headers=rep)  # fmt: skip
    assert r.status_code == 403


# --------------------------------------------------------------------------------------
# Shapes and ids
# --------------------------------------------------------------------------------------

INVOICE = {"customer_id": 1, "currency": "EUR", "lines": [LINE]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**INVOICE, "lines": [{**LINE, "unit_price": 100.5}]}, "unit_price"),
        ({**INVOICE, "lines": [{**LINE, "unit_price": "NaN"}]}, "unit_price"),
        ({**INVOICE, "lines": [{**LINE, "quantity": 1.5}]}, "quantity"),
        ({**INVOICE, "lines": [{**LINE, "tax_percent": "Infinity"}]}, "tax_percent"),
        ({**INVOICE, "currency": "XYZ"}, "currency"),
        ({**INVOICE, "currency": "eur"}, "currency"),
        ({**INVOICE, "due_date": "2027-02-30"}, "due_date"),
        ({**INVOICE, "issue_date": "15.01.2027"}, "issue_date"),
        ({**INVOICE, "customer_id": "abc"}, "customer_id"),
        ({**INVOICE, "lines": []}, "lines"),
        ({**INVOICE, "colour": "red"}, "colour"),
        ({"currency": "EUR", "lines": [LINE]}, "customer_id"),
    ],
)
async def test_bad_invoice_bodies_are_refused_naming_the_field(client, admin_headers, body, field):
    customer = await new_customer(client, admin_headers)
    if body.get("customer_id") == 1:
        body = {**body, "customer_id": customer["id"]}  # valid but for the field under test
    before = await invoice_count(client, admin_headers)
    r = await client.post("/api/v1/invoices", json=body, headers=admin_headers)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert field in {k.split(".")[-1] for k in error["details"]}, error
    assert await invoice_count(client, admin_headers) == before  # nothing reached the service


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/payments", {"amount": 10.0}, "amount"),
        ("/api/v1/payments", {"amount": "NaN"}, "amount"),
        ("/api/v1/payments", {"currency": "ABC"}, "currency"),
        ("/api/v1/payments", {"method": "bitcoin"}, "method"),
        ("/api/v1/payments", {"received_at": "yesterday"}, "received_at"),
        ("/api/v1/payments", {"allocations": [{"invoice_id": 1, "amount": 5.5}]}, "amount"),
        ("/api/v1/billing/runs", {"as_of": "2027-13-01"}, "as_of"),
        ("/api/v1/billing/runs", {"as_of": "2027-01-31", "wait_seconds": 601}, "wait_seconds"),
        ("/api/v1/invoices/1/credit-notes", {"reason": "Rabatt", "amount": 1.25}, "amount"),
        ("/api/v1/invoices/1/void", {}, "reason"),
    ],
)
async def test_bad_payment_run_and_credit_bodies_are_refused_naming_the_field(
    client, admin_headers, path, body, field
):
    body = copy.deepcopy(body)
    customer = await new_customer(client, admin_headers)
    invoice = await one_off(client, admin_headers, customer["id"])
    path = path.replace("/invoices/1/", f"/invoices/{invoice['id']}/")
    if path == "/api/v1/payments":
        body = {"customer_id": customer["id"], "amount": "10.00", "currency": "EUR", "method": "cash",
                "received_at": "2027-02-01T10:00:00Z", **body}  # fmt: skip
        if "allocations" in body:
            body["allocations"][0]["invoice_id"] = invoice["id"]
    payments_before = (await client.get("/api/v1/payments", headers=admin_headers)).json()["total"]
    r = await client.post(path, json=body, headers=admin_headers)
    assert r.status_code == 422, r.text
    assert field in {k.split(".")[-1] for k in r.json()["error"]["details"]}
    assert (await client.get("/api/v1/payments", headers=admin_headers)).json()["total"] == payments_before
    r = await client.get(f"/api/v1/invoices/{invoice['id']}", headers=admin_headers)
    assert r.json()["status"] == "issued" and r.json()["credit_notes"] == []  # untouched


async def test_non_integer_ids_are_404_before_any_call_and_unknown_ones_404_from_the_service(
    client, admin_headers
):
    for path in [
        "/api/v1/invoices/abc",
        "/api/v1/invoices/3f0c1a4e-8d6b-4c8e-9a57-0d2d7f3b1c11",
        "/api/v1/invoices/0/pdf",
        "/api/v1/invoices/1.5",
        "/api/v1/credit-notes/x/pdf",
        "/api/v1/payments/-3",
        "/api/v1/billing/runs/abc",
        "/api/v1/billing/schedules/C-2027-000001",
        "/api/v1/billing/customers/abc/balance",
    ]:
        r = await client.get(path, headers=admin_headers)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["error"]["code"] == "NOT_FOUND"
    r = await client.post("/api/v1/invoices/abc/lock", headers=admin_headers)
    assert r.status_code == 404
    for path in ("/api/v1/invoices/999999", "/api/v1/payments/999999", "/api/v1/credit-notes/999999/pdf"):
        r = await client.get(path, headers=admin_headers)
        assert r.status_code == 404, (path, r.text)  # the service's answer


# --------------------------------------------------------------------------------------
# Invoices, PDFs, payments, locks
# --------------------------------------------------------------------------------------


async def test_a_one_off_invoice_is_created_listed_and_served_as_a_pdf(client, admin_headers):
    customer = await new_customer(client, admin_headers)
    invoice = await one_off(
        client, admin_headers, customer["id"], due_date="2099-12-31", notes="Bestellung 42"
    )
    assert invoice["kind"] == "one_off" and invoice["status"] == "issued"
    assert invoice["number"].startswith("INV-") and invoice["customer_id"] == customer["id"]
    assert (invoice["subtotal"], invoice["tax"], invoice["total"], invoice["balance"]) == (
        "200.00", "40.00", "240.00", "240.00",
    )  # fmt: skip
    assert [
        (li["quantity"], li["unit_price"], li["amount"], li["tax_amount"]) for li in invoice["lines"]
    ] == [("2", "100.00", "200.00", "40.00")]

    r = await client.get(f"/api/v1/invoices?customer_id={customer['id']}", headers=admin_headers)
    assert r.status_code == 200
    assert r.json()["total"] == 1 and r.json()["items"][0]["id"] == invoice["id"]
    r = await client.get(
        f"/api/v1/invoices?q={invoice['number']}&status=issued&kind=one_off", headers=admin_headers
    )
    assert [i["id"] for i in r.json()["items"]] == [invoice["id"]]
    r = await client.get(f"/api/v1/invoices?customer_id={customer['id']}&status=paid", headers=admin_headers)
    assert r.json()["total"] == 0
    r = await client.get(f"/api/v1/invoices/{invoice['id']}", headers=admin_headers)
    assert r.status_code == 200 and r.json()["notes"] == "Bestellung 42"

    r = await client.get(f"/api/v1/invoices/{invoice['id']}/pdf", headers=admin_headers)
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"%PDF")
    assert r.headers["content-type"] == "application/pdf"
    etag = f'"{hashlib.sha256(r.content).hexdigest()}"'
    assert r.headers["etag"] == etag
    assert r.headers["content-disposition"].startswith(f'inline; filename="{invoice["number"]}.pdf"')

    r = await client.get(
        f"/api/v1/invoices/{invoice['id']}/pdf", headers={**admin_headers, "If-None-Match": etag}
    )
    assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag
    r = await client.get(
        f"/api/v1/invoices/{invoice['id']}/pdf", headers={**admin_headers, "If-None-Match": '"0000"'}
    )
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


async def test_a_draft_changes_then_is_issued_and_then_refuses_changes(client, admin_headers):
    customer = await new_customer(client, admin_headers)
    draft = await one_off(client, admin_headers, customer["id"], draft=True)
    assert draft["status"] == "draft" and draft["number"] is None
    r = await client.patch(
        f"/api/v1/invoices/{draft['id']}",
        json={"lines": [{**LINE, "quantity": "3"}]},
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["total"] == "360.00"
    r = await client.patch(f"/api/v1/invoices/{draft['id']}", json={"lines": [{**LINE, "quantity": 3.0}]},
                           headers=admin_headers)  # fmt: skip
    assert r.status_code == 422 and "lines.0.quantity" in r.json()["error"]["details"]
    r = await client.post(f"/api/v1/invoices/{draft['id']}/issue", headers=admin_headers)
    assert r.status_code == 200 and r.json()["status"] == "issued" and r.json()["number"].startswith("INV-")
    r = await client.patch(
        f"/api/v1/invoices/{draft['id']}", json={"notes": "zu spät"}, headers=admin_headers
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"


async def test_payments_with_and_without_allocations_move_the_invoice_status(client, admin_headers):
    customer = await new_customer(client, admin_headers)
    invoice = await one_off(client, admin_headers, customer["id"])
    payment = {"customer_id": customer["id"], "currency": "EUR", "method": "bank_transfer",
               "received_at": "2027-02-01T10:00:00+01:00", "reference": "SEPA 4711"}  # fmt: skip

    r = await client.post(
        "/api/v1/payments",
        json={
            **payment,
            "amount": "100.00",
            "allocations": [{"invoice_id": invoice["id"], "amount": "100.00"}],
        },
        headers=admin_headers,
    )
    assert r.status_code == 201, r.text
    first = r.json()
    assert (
        first["status"] == "confirmed" and first["allocated"] == "100.00" and first["unallocated"] == "0.00"
    )
    assert [(a["invoice_id"], a["amount"]) for a in first["allocations"]] == [(invoice["id"], "100.00")]
    r = await client.get(f"/api/v1/invoices/{invoice['id']}", headers=admin_headers)
    assert (r.json()["status"], r.json()["paid"], r.json()["balance"]) == (
        "partially_paid",
        "100.00",
        "140.00",
    )

    # more than the balance → 422 naming the allocation; nothing recorded
    r = await client.post(
        "/api/v1/payments",
        json={
            **payment,
            "amount": "500.00",
            "allocations": [{"invoice_id": invoice["id"], "amount": "500.00"}],
        },
        headers=admin_headers,
    )
    assert r.status_code == 422 and "allocations.0.amount" in r.json()["error"]["details"], r.text

    # no allocations: the oldest open invoice first, the rest stays as credit
    r = await client.post("/api/v1/payments", json={**payment, "amount": "150.00"}, headers=admin_headers)
    assert r.status_code == 201, r.text
    second = r.json()
    assert [(a["invoice_id"], a["amount"]) for a in second["allocations"]] == [(invoice["id"], "140.00")]
    assert second["unallocated"] == "10.00"
    r = await client.get(f"/api/v1/invoices/{invoice['id']}", headers=admin_headers)
    assert (r.json()["status"], r.json()["balance"]) == ("paid", "0.00")
    assert sorted(a["payment_id"] for a in r.json()["allocations"]) == sorted([first["id"], second["id"]])

    r = await client.get(f"/api/v1/billing/customers/{customer['id']}/balance", headers=admin_headers)
    assert r.status_code == 200 and r.json()["currencies"]["EUR"]["credit"] == "10.00"
    r = await client.get(
        f"/api/v1/payments?customer_id={customer['id']}&method=bank_transfer", headers=admin_headers
    )
    assert r.status_code == 200 and r.json()["total"] == 2

    r = await client.post(f"/api/v1/payments/{second['id']}/refunds", json={"amount": "10.00", "reason": "Überzahlung"},
                          headers=admin_headers)  # fmt: skip
    assert r.status_code == 201, r.text
    r = await client.get(f"/api/v1/payments/{second['id']}", headers=admin_headers)
    assert (r.json()["refunded"], r.json()["unallocated"]) == ("10.00", "0.00")
    r = await client.post(f"/api/v1/payments/{second['id']}/refunds", json={"amount": "0.01", "reason": "nochmal"},
                          headers=admin_headers)  # fmt: skip
    assert r.status_code == 422


async def test_a_sales_reps_payment_stays_pending_until_finance_confirms_it(client, admin_headers):
    rep_user = await create_user(client, admin_headers, username=f"rep-{uuid.uuid4().hex[:6]}")
    rep = await login(client, rep_user["username"], PASSWORD)
    customer = await new_customer(client, admin_headers, owner_id=rep_user["id"])
    invoice = await one_off(client, admin_headers, customer["id"])
    r = await client.post(
        "/api/v1/payments",
        json={
            "customer_id": customer["id"],
            "amount": "240.00",
            "currency": "EUR",
            "method": "cash",
            "received_at": "2027-02-01T09:00:00Z",
        },  # fmt: skip
        headers=rep,
    )
    assert r.status_code == 201, r.text
    payment = r.json()
    assert payment["status"] == "pending"
    assert (await client.get(f"/api/v1/invoices/{invoice['id']}", headers=rep)).json()["status"] == "issued"
    r = await client.post(f"/api/v1/payments/{payment['id']}/confirm", headers=rep)
    assert r.status_code == 403
    r = await client.post(f"/api/v1/payments/{payment['id']}/confirm", headers=admin_headers)
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
    assert r.json()["allocated"] == "240.00"  # confirmed: allocated oldest first
    assert (await client.get(f"/api/v1/invoices/{invoice['id']}", headers=rep)).json()["status"] == "paid"
    r = await client.post(f"/api/v1/payments/{payment['id']}/allocations", headers=admin_headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"  # nothing left to allocate


async def test_a_locked_invoice_cannot_be_voided_until_unlocked(client, admin_headers):
    customer = await new_customer(client, admin_headers)
    invoice = await one_off(client, admin_headers, customer["id"])
    path = f"/api/v1/invoices/{invoice['id']}"

    r = await client.post(f"{path}/lock", headers=admin_headers)
    assert r.status_code == 200 and r.json()["locked"] is True, r.text
    r = await client.post(f"{path}/void", json={"reason": "Doppelt erfasst"}, headers=admin_headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"
    assert "locked" in r.json()["error"]["message"]
    r = await client.post(f"{path}/credit-notes", json={"reason": "Gutschrift"}, headers=admin_headers)
    assert r.status_code == 409
    r = await client.post(f"{path}/lock", headers=admin_headers)
    assert r.status_code == 409  # already locked

    r = await client.post(f"{path}/unlock", headers=admin_headers)
    assert r.status_code == 200 and r.json()["locked"] is False
    r = await client.post(f"{path}/void", json={"reason": "Doppelt erfasst"}, headers=admin_headers)
    assert r.status_code == 200 and r.json()["status"] == "void", r.text
    r = await client.post(f"{path}/void", json={"reason": "nochmal"}, headers=admin_headers)
    assert r.status_code == 409


async def test_a_credit_note_is_issued_listed_and_served_as_a_pdf(client, admin_headers):
    customer = await new_customer(client, admin_headers)
    invoice = await one_off(client, admin_headers, customer["id"])
    r = await client.post(
        f"/api/v1/invoices/{invoice['id']}/credit-notes",
        json={"reason": "Preisnachlass", "amount": "60.00"},
        headers=admin_headers,
    )
    assert r.status_code == 201, r.text
    note = r.json()
    assert (
        note["invoice_id"] == invoice["id"] and note["amount"] == "60.00" and note["number"].startswith("CN-")
    )
    r = await client.post(
        f"/api/v1/invoices/{invoice['id']}/credit-notes",
        json={"reason": "zu viel", "amount": "1000.00"},
        headers=admin_headers,
    )
    assert r.status_code == 422, r.text

    r = await client.get(f"/api/v1/invoices/{invoice['id']}", headers=admin_headers)
    assert (r.json()["credited"], r.json()["balance"], r.json()["status"]) == (
        "60.00",
        "180.00",
        "partially_paid",
    )
    r = await client.get(f"/api/v1/credit-notes?invoice_id={invoice['id']}", headers=admin_headers)
    assert r.status_code == 200 and [n["id"] for n in r.json()["items"]] == [note["id"]]
    r = await client.get(f"/api/v1/credit-notes/{note['id']}", headers=admin_headers)
    assert r.status_code == 200 and r.json()["number"] == note["number"]
    r = await client.get(f"/api/v1/credit-notes/{note['id']}/pdf", headers=admin_headers)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert r.headers["etag"] == f'"{hashlib.sha256(r.content).hexdigest()}"'
    assert r.headers["content-disposition"].startswith(f'inline; filename="{note["number"]}.pdf"')


# --------------------------------------------------------------------------------------
# Tax rates, billing runs, reports
# --------------------------------------------------------------------------------------


async def test_tax_rates_are_set_listed_and_removed(client, admin_headers):
    key = f"category:tests-{uuid.uuid4().hex[:6]}"
    r = await client.put(f"/api/v1/billing/tax-rates/{key}", json={"percent": "7.5"}, headers=admin_headers)
    assert r.status_code == 200 and r.json() == {"key": key, "percent": "7.5"}, r.text
    items = (await client.get("/api/v1/billing/tax-rates", headers=admin_headers)).json()["items"]
    assert {"key": key, "percent": "7.5"}.items() <= next(i for i in items if i["key"] == key).items()
    r = await client.put(f"/api/v1/billing/tax-rates/{key}", json={"percent": 7.5}, headers=admin_headers)
    assert r.status_code == 422 and "percent" in r.json()["error"]["details"]
    r = await client.put(f"/api/v1/billing/tax-rates/{key}", json={}, headers=admin_headers)
    assert r.status_code == 422 and "percent" in r.json()["error"]["details"]
    r = await client.put("/api/v1/billing/tax-rates/colour:red", json={"percent": "1"}, headers=admin_headers)
    assert r.status_code == 422 and "key" in r.json()["error"]["details"]
    r = await client.put(f"/api/v1/billing/tax-rates/{key}", json={"percent": None}, headers=admin_headers)
    assert r.status_code == 200 and r.json()["percent"] is None
    items = (await client.get("/api/v1/billing/tax-rates", headers=admin_headers)).json()["items"]
    assert key not in {i["key"] for i in items}


async def test_billing_runs_invoice_a_contracts_due_periods(client, admin_headers, billing_service):
    customer = await new_customer(client, admin_headers)
    publish_contract_event(billing_service, "contract_activated", contract_payload(customer))

    async def schedule():
        r = await client.get(f"/api/v1/billing/schedules/{CONTRACT_ID}", headers=admin_headers)
        return r.json() if r.status_code == 200 else None

    found = await wait_for(schedule)
    assert found["contract_id"] == CONTRACT_ID and found["next_bill_date"] == "2027-01-15"

    r = await client.post("/api/v1/billing/runs", json={"as_of": "2027-03-20"}, headers=admin_headers)
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["status"] == "completed" and run["invoices_created"] == 3 and run["failed"] == 0
    r = await client.get(f"/api/v1/billing/runs/{run['id']}", headers=admin_headers)
    assert r.status_code == 200 and r.json()["invoices_created"] == 3
    r = await client.get(f"/api/v1/invoices?contract_id={CONTRACT_ID}&kind=contract", headers=admin_headers)
    invoices = r.json()["items"]
    assert sorted(i["period_start"] for i in invoices) == ["2027-01-15", "2027-02-15", "2027-03-15"]
    assert {i["total"] for i in invoices} == {"100.00"}

    # again for the same day: nothing left to bill
    r = await client.post("/api/v1/billing/runs", json={"as_of": "2027-03-20"}, headers=admin_headers)
    assert r.status_code == 201 and r.json()["invoices_created"] == 0

    # without waiting: 201 if it finished at once, else 202 pointing at the run to poll
    r = await client.post("/api/v1/billing/runs", json={"as_of": "2027-04-20", "wait_seconds": 0},
                          headers=admin_headers)  # fmt: skip
    assert r.status_code in (201, 202), r.text
    later = r.json()
    if r.status_code == 202:
        assert later["status"] == "running"
        assert r.headers["location"] == f"/api/v1/billing/runs/{later['id']}"

        async def finished():
            got = (await client.get(r.headers["location"], headers=admin_headers)).json()
            return got if got["status"] != "running" else None

        later = await wait_for(finished)
    assert later["status"] == "completed" and later["invoices_created"] == 1

    r = await client.get("/api/v1/billing/runs?page_size=2", headers=admin_headers)
    assert r.status_code == 200 and [x["id"] for x in r.json()["items"]] == [later["id"], later["id"] - 1]
    schedule_view = (
        await client.get(f"/api/v1/billing/schedules/{CONTRACT_ID}", headers=admin_headers)
    ).json()
    assert schedule_view["next_period_start"] == "2027-05-15"

    reader = await headers_of(client, admin_headers, ["readonly"])
    r = await client.get(f"/api/v1/billing/runs/{run['id']}", headers=reader)
    assert r.status_code == 200
    r = await client.get("/api/v1/billing/runs/999999", headers=admin_headers)
    assert r.status_code == 404


async def test_reports_answer_per_currency_and_check_their_queries(client, admin_headers):
    customer = await new_customer(client, admin_headers)
    await one_off(client, admin_headers, customer["id"], issue_date="2027-01-10", due_date="2027-01-20")

    r = await client.get(
        f"/api/v1/reports/receivables-aging?as_of=2027-03-01&currency=EUR&customer_id={customer['id']}",
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    eur = r.json()["currencies"]["EUR"]
    assert eur["total"]["31_60"] == "240.00" and eur["total"]["total"] == "240.00"
    assert [c["customer_id"] for c in eur["customers"]] == [customer["id"]]

    r = await client.get("/api/v1/reports/cash-flow?year=2027", headers=admin_headers)
    assert r.status_code == 200 and r.json()["year"] == 2027
    assert [m["month"] for m in r.json()["currencies"]["EUR"]] == [f"2027-{n:02d}" for n in range(1, 13)]

    r = await client.get(
        "/api/v1/reports/revenue?from=2027-01-01&to=2027-01-31&by=customer", headers=admin_headers
    )
    assert r.status_code == 200 and (r.json()["from"], r.json()["to"], r.json()["by"]) == (
        "2027-01-01", "2027-01-31", "customer",
    )  # fmt: skip
    row = next(x for x in r.json()["currencies"]["EUR"]["items"] if x["key"] == customer["id"])
    assert row["amount"] == "200.00"

    r = await client.get("/api/v1/reports/recurring-revenue?as_of=2027-06-01", headers=admin_headers)
    assert r.status_code == 200 and r.json()["as_of"] == "2027-06-01"

    for query in (
        "/api/v1/reports/cash-flow?year=abc",
        "/api/v1/reports/cash-flow?year=1800",
        "/api/v1/reports/revenue?by=region",
        "/api/v1/reports/revenue?from=01.01.2027",
        "/api/v1/reports/receivables-aging?currency=eur",
        "/api/v1/reports/receivables-aging?customer_id=0",
    ):
        r = await client.get(query, headers=admin_headers)
        assert r.status_code == 422, (query, r.text)


async def test_pending_corrections_are_finance_only_and_check_their_input(client, admin_headers):
    """``/billing/pending-corrections`` (issue 17): finance and admins list and decide them; other
    roles 403; a bad status filter or id is refused before any call; an unknown one is 404."""
    finance = await headers_of(client, admin_headers, ["finance"])
    r = await client.get("/api/v1/billing/pending-corrections", headers=finance)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"items", "total", "page", "page_size"}
    assert all(c["status"] == "pending" for c in r.json()["items"])
    for roles in (["sales_rep"], ["sales_manager"], ["readonly"]):
        other = await headers_of(client, admin_headers, roles)
        assert (await client.get("/api/v1/billing/pending-corrections", headers=other)).status_code == 403
        r = await client.post("/api/v1/billing/pending-corrections/1/apply", headers=other)
        assert r.status_code == 403, r.text
    r = await client.get("/api/v1/billing/pending-corrections?status=maybe", headers=finance)
    assert r.status_code == 422 and "status" in r.text, r.text
    r = await client.post("/api/v1/billing/pending-corrections/abc/apply", headers=finance)
    assert r.status_code == 404, r.text
    r = await client.post(
        "/api/v1/billing/pending-corrections/987654/dismiss", json={"comment": "x"}, headers=finance
    )
    assert r.status_code == 404, r.text
    r = await client.post(
        "/api/v1/billing/pending-corrections/987654/apply", json={"comment": "x" * 2001}, headers=finance
    )
    assert r.status_code == 422, r.text
