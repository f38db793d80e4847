"""The records the object-level authorization suite attacks: seeded once per session on the
real system (``system`` of tests/conftest.py), every one owned by sales rep A of department A
or belonging to customer A, plus the actors who must not reach them.

Actors: ``admin``; ``rep_a`` (sales rep, department A, owns customer A); ``rep_b`` (sales rep,
department B, owns customer B); ``readonly``; ``portal_a`` / ``portal_b`` (portal users of
customer A / B)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx
import pytest

from ..conftest import System, poll

START = "2032-01-01"


def ok(r: httpx.Response, *status: int) -> dict:
    assert r.status_code in (status or (200,)), (r.request.method, str(r.request.url), r.status_code, r.text)
    return r.json()


def tag() -> str:
    return uuid.uuid4().hex[:6]


@dataclass
class World:
    ids: dict[str, object]
    clients: dict[str, httpx.Client] = field(default_factory=dict)


def _pending_approval(admin: httpx.Client, document_type: str, document_id) -> dict | None:
    r = admin.get("/api/v1/approvals", params={"status": "pending", "page_size": 500})
    assert r.status_code == 200, r.text
    return next(
        (a for a in r.json()["items"]
         if a["document_type"] == document_type and str(a["document_id"]) == str(document_id)),
        None,
    )  # fmt: skip


def seed(system: System) -> World:
    """Every kind of record a path parameter names, owned by rep A / customer A."""
    dept_a, dept_b = f"authz-a-{tag()}", f"authz-b-{tag()}"
    users = {
        "rep_a": system.create_user(["sales_rep"], department=dept_a, full_name="Elif Yılmaz"),
        "rep_b": system.create_user(["sales_rep"], department=dept_b, full_name="Бойко Петров"),
        "readonly": system.create_user(["readonly"], full_name="Reader Only"),
    }
    ids: dict[str, object] = {"rep_a_user": users["rep_a"]["id"], "version": 1}
    admin = system.client()
    rep_a = system.as_user(users["rep_a"])

    customers = {}
    for key, owner, name in (("a", "rep_a", "王氏精密机械"), ("b", "rep_b", "Balkan Makina A.Ş.")):
        customers[key] = ok(admin.post("/api/v1/customers", json={
            "name": f"{name} {tag()}", "kind": "company", "language": "en", "owner_id": users[owner]["id"]}), 201)  # fmt: skip
    ids["customer"] = customers["a"]["id"]
    users["portal_a"] = system.create_user(["portal"], customer_id=customers["a"]["id"])
    users["portal_b"] = system.create_user(["portal"], customer_id=customers["b"]["id"])

    product = ok(admin.post("/api/v1/products", json={
        "sku": f"AUTHZ-{tag()}", "name": "Service visit", "kind": "service", "unit_price": "100.00",
        "currency": "EUR", "model": "Authz M-1"}), 201)  # fmt: skip
    ids["product"] = product["id"]
    serial = f"SN-AUTHZ-{tag()}"  # the installed item of rep A's contract (portal requests name it)

    # rep A's contract: submitted, approved, active from START, billed
    contract = ok(rep_a.post("/api/v1/contracts", json={
        "customer_id": customers["a"]["id"], "title": "Wartungsvertrag", "kind": "maintenance", "currency": "EUR",
        "start_date": START, "end_date": "2032-12-31",
        "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
        "lines": [{"product_id": product["id"], "quantity": 1, "serial_number": serial}]}), 201)  # fmt: skip
    ids["contract"] = contract["id"]
    ids["attachment"] = ok(rep_a.post(f"/api/v1/contracts/{contract['id']}/attachments",
                                      files={"file": ("signed.txt", b"signed", "text/plain")}), 201)["id"]  # fmt: skip
    ids["milestone"] = ok(rep_a.post(f"/api/v1/contracts/{contract['id']}/milestones",
                                     json={"name": "Kurulum", "planned_date": "2032-02-01"}), 201)["id"]  # fmt: skip
    ok(rep_a.post(f"/api/v1/contracts/{contract['id']}/submit"))
    request = poll(lambda: _pending_approval(admin, "contract", contract["id"]), message="approval request")
    ok(
        admin.post(
            f"/api/v1/approvals/{request['id']}/decision", json={"decision": "approve", "comment": "ok"}
        )
    )
    poll(lambda: admin.get(f"/api/v1/contracts/{contract['id']}").json()["status"] == "approved",
         message="contract approved")  # fmt: skip
    ok(admin.post("/api/v1/admin/jobs/daily", json={"as_of": START}))
    poll(lambda: admin.get(f"/api/v1/billing/schedules/{contract['id']}").status_code == 200,
         message="billing schedule")  # fmt: skip
    run = ok(admin.post("/api/v1/billing/runs", json={"as_of": "2032-02-01"}), 201)
    ids["billing_run"] = run["id"]
    invoices = ok(admin.get("/api/v1/invoices", params={"contract_id": contract["id"]}))["items"]
    assert invoices, run
    invoice = min(invoices, key=lambda i: i["issue_date"])
    ids["invoice"] = invoice["id"]
    payment = ok(admin.post("/api/v1/payments", json={
        "customer_id": customers["a"]["id"], "amount": "10.00", "currency": "EUR", "method": "bank_transfer",
        "received_at": "2032-01-10T09:00:00Z", "allocations": [{"invoice_id": invoice["id"], "amount": "10.00"}]}), 201)  # fmt: skip
    ids["payment"] = payment["id"]
    ids["credit_note"] = ok(admin.post(f"/api/v1/invoices/{invoice['id']}/credit-notes",
                                       json={"reason": "goodwill", "amount": "5.00"}), 201)["id"]  # fmt: skip
    # a price update, rejected (one pending would hold the contract's amendments back)
    manager_a = system.create_user(["sales_manager"], department=dept_a)
    with system.as_user(manager_a) as manager:
        batch = ok(manager.post("/api/v1/contracts/bulk-price-update", json={
            "percent": "3", "product_ids": [product["id"]], "effective_date": "2032-10-01"}))  # fmt: skip
    assert batch["status"] == "pending_approval", batch
    ids["price_batch"] = batch["batch_id"]
    decided = poll(
        lambda: _pending_approval(admin, "price_update", batch["batch_id"]), message="batch approval"
    )
    ok(
        admin.post(
            f"/api/v1/approvals/{decided['id']}/decision", json={"decision": "reject", "comment": "no"}
        )
    )
    poll(lambda: admin.get(f"/api/v1/contracts/price-update-batches/{batch['batch_id']}").json()["status"]
         != "pending_approval", message="price update batch rejected")  # fmt: skip
    ids["amendment"] = ok(rep_a.post(f"/api/v1/contracts/{contract['id']}/amendments",
                                     json={"reason": "one more visit", "effective_date": "2032-07-01",
                                           "change_lines": [{"id": contract["lines"][0]["id"], "quantity": 2}]}), 201)["id"]  # fmt: skip

    # the amendment's approval request stays pending (deciding it is what others must not do)
    ids["approval"] = poll(lambda: _pending_approval(admin, "amendment", ids["amendment"]),
                           message="the amendment's approval request")["id"]  # fmt: skip
    ids["opportunity"] = ok(rep_a.post("/api/v1/opportunities", json={
        "customer_id": customers["a"]["id"], "title": "Upgrade", "amount": "5000.00", "currency": "EUR",
        "stage": "lead", "expected_close": "2032-09-30"}), 201)["id"]  # fmt: skip
    ok(rep_a.post(f"/api/v1/customers/{customers['a']['id']}/contacts", json={"name": "Li Na"}), 201)
    ids["trade_in"] = ok(rep_a.post("/api/v1/trade-ins", json={
        "serial_number": f"OLD-{tag()}", "condition": "good", "requested_value": "300.00", "currency": "EUR",
        "customer_id": customers["a"]["id"], "model": "Kopya 3000"}), 201)["id"]  # fmt: skip
    ids["invitation"] = ok(rep_a.post("/api/v1/portal-invitations", json={
        "customer_id": customers["a"]["id"], "email": f"invitee-{tag()}@example.com"}), 201)["id"]  # fmt: skip
    csv = f"name,kind\nImported {tag()} Ltd,company\n".encode()
    ids["customer_import_job"] = ok(rep_a.post("/api/v1/customers/import",
                                               files={"file": ("c.csv", csv, "text/csv")}))["job_id"]  # fmt: skip

    # company-wide records (made by the administrator)
    ids["warehouse"] = ok(admin.post("/api/v1/warehouses", json={"code": f"W-{tag()}", "name": "Depo"}), 201)[
        "id"
    ]
    device = ok(admin.post("/api/v1/products", json={
        "sku": f"AUTHZ-D-{tag()}", "name": "Kopierer", "kind": "device", "unit_price": "900.00", "currency": "EUR",
        "serialized": True}), 201)  # fmt: skip
    ids["serial_number"] = f"SN-UNIT-{tag()}"
    ok(admin.post("/api/v1/stock/moves", json={
        "warehouse_id": ids["warehouse"], "product_id": device["id"], "quantity": 1, "direction": "in",
        "reason": "purchase", "serial_numbers": [ids["serial_number"]]}), 201)  # fmt: skip
    ids["purchase_order"] = ok(admin.post("/api/v1/purchase-orders", json={
        "product_id": product["id"], "quantity": 1, "warehouse_id": ids["warehouse"]}), 201)["id"]  # fmt: skip
    ids["price_list"] = ok(admin.post("/api/v1/price-lists", json={
        "name": f"Resellers {tag()}", "channel": "reseller", "currency": "EUR",
        "items": [{"product_id": product["id"], "unit_price": "90.00", "valid_from": "2032-01-01"}]}), 201)["id"]  # fmt: skip
    ids["template"] = ok(admin.post("/api/v1/contract-templates", json={
        "name": f"Template {tag()}", "language": "en", "body": "Clause 1.", "fields": []}), 201)["id"]  # fmt: skip
    ids["approval_flow"] = ok(admin.post("/api/v1/approval-flows", json={
        "name": f"Never matches {tag()}", "document_type": "contract",
        "conditions": {"department": f"nobody-{tag()}"}, "steps": [{"name": "x", "approver_role": "admin"}]}), 201)["id"]  # fmt: skip
    ids["api_key"] = ok(admin.post("/api/v1/api-keys", json={
        "name": f"authz {tag()}", "roles": ["readonly"]}), 201)["id"]  # fmt: skip
    ids["webhook"] = ok(admin.post("/api/v1/webhooks", json={
        "url": "https://hooks.example.com/authz", "events": ["customer_deleted"], "secret": "s" * 32}), 201)["id"]  # fmt: skip
    # a delivery to redeliver: the test ping leaves one in the webhook's log (the target does not answer here)
    ids["webhook_delivery"] = ok(admin.post(f"/api/v1/webhooks/{ids['webhook']}/ping"))["delivery_id"]
    ids["tax_key"] = "kind:service"
    ids["rule_event_type"] = "invoice_issued"
    pcsv = f"sku,name,kind,unit_price,currency\nAUTHZ-I-{tag()},Imported,consumable,1.00,EUR\n".encode()
    ids["product_import_job"] = ok(admin.post("/api/v1/products/import",
                                              files={"file": ("p.csv", pcsv, "text/csv")}))["job_id"]  # fmt: skip
    ccsv = (
        "contract_ref,customer_id,title,kind,currency,start_date,end_date,billing_frequency,product_id,quantity,unit_price\n"
        f"A,{customers['a']['id']},Imported,maintenance,EUR,2033-01-01,2033-12-31,monthly,{product['id']},1,70.00\n"
    ).encode()
    ids["contract_import_job"] = ok(admin.post("/api/v1/contracts/import",
                                               files={"file": ("k.csv", ccsv, "text/csv")}))["job_id"]  # fmt: skip

    # asynchronous ones: rep A's task (from a portal request) and an inbox entry
    with system.as_user(users["portal_a"]) as portal_a:
        ok(portal_a.post("/api/v1/portal/requests", json={
            "kind": "service_call", "serial_number": serial, "message": "Gerät steht"}), 201)  # fmt: skip

    def rep_a_task():
        items = ok(rep_a.get("/api/v1/tasks", params={"page_size": 500}))["items"]
        return next((t["id"] for t in items if t["assignee_id"] == users["rep_a"]["id"]), None)

    ids["task"] = poll(rep_a_task, timeout=30, message="a task for rep A")

    def rep_a_notification():
        items = ok(rep_a.get("/api/v1/notifications", params={"page_size": 500}))["items"]
        return items[0]["id"] if items else None

    ids["notification"] = poll(rep_a_notification, timeout=30, message="a notification for rep A")

    world = World(ids=ids)
    world.clients["admin"] = admin
    world.clients["rep_a"] = rep_a
    for name in ("rep_b", "readonly", "portal_a", "portal_b"):
        world.clients[name] = system.as_user(users[name])
    return world


@pytest.fixture(scope="session")
def world(system):
    w = seed(system)
    yield w
    for client in w.clients.values():
        client.close()
