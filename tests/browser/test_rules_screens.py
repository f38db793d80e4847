"""The business rules' screens in the browser: a rep archives a customer with no documents and a
sales manager restores it and puts it on the red list (tag and banner); the contract page of
the red-listed customer's draft warns the rep (no submit) and lets the manager submit it with an
override reason (in Chinese); finance opens the pending corrections page, and closes an overdue
invoice's collection task with a reason. Set-up data (users, product, draft contract, an issued
invoice made overdue by the daily job) is made through the API."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from playwright.sync_api import expect

from ..conftest import poll
from ..e2e.test_contracts import decide_pending, status_is
from ..e2e.test_termination_rules import EFFECTIVE, active_contract, bill, contract_invoices, setup
from .conftest import no_horizontal_scroll
from .texts import T


def labels(lang: str) -> dict:
    return {
        "username": T(lang, "auth.username"),
        "password": T(lang, "auth.password"),
        "submit": T(lang, "auth.submit"),
    }


def prepare(system) -> dict:
    """A rep and a sales manager, the rep's customer with no documents, a service product."""
    tag = uuid.uuid4().hex[:6].upper()
    rep_user = system.create_user(["sales_rep"], full_name="Ayşe Demir")
    manager_user = system.create_user(["sales_manager"], full_name="Wang Fang")
    with system.client() as admin:
        customer = admin.post(
            "/api/v1/customers",
            json={"name": f"Balkan Offset {tag} Ltd", "kind": "company", "owner_id": rep_user["id"]},
        )
        assert customer.status_code == 201, customer.text
        product = admin.post("/api/v1/products", json={
            "sku": f"SVC-{tag}", "name": f"Press service {tag}", "kind": "service", "unit_price": "250.00",
            "currency": "EUR",
        })  # fmt: skip
        assert product.status_code == 201, product.text
    return {
        "rep": rep_user,
        "manager": manager_user,
        "customer": customer.json(),
        "product": product.json(),
    }


def draft_contract(system, data) -> dict:
    """The rep's draft contract for the customer (made through the API)."""
    with system.as_user(data["rep"]) as rep:
        contract = rep.post("/api/v1/contracts", json={
            "customer_id": data["customer"]["id"], "title": f"Press service {data['product']['sku']}",
            "kind": "service", "currency": "EUR", "start_date": "2031-01-01", "end_date": "2031-12-31",
            "lines": [{"product_id": data["product"]["id"]}],
            "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
        })  # fmt: skip
        assert contract.status_code == 201, contract.text
    return contract.json()


def test_archive_restore_red_list_and_override(console, system):
    data = prepare(system)
    cid = data["customer"]["id"]
    t = lambda key, **v: T("en", key, **v)  # noqa: E731

    # -- the rep archives the customer (no documents: archiving is theirs to do)
    rep = console.sign_in(data["rep"]["username"], data["rep"]["password"])
    rep.goto(f"/customers/{cid}")
    rep.get_by_role("button", name=t("customers.archive")).click()
    rep.locator(".ant-popconfirm").get_by_role("button", name=t("customers.archive")).click()
    expect(rep.get_by_text(t("customers.archivedBanner"))).to_be_visible()
    expect(rep.locator(".ant-tag", has_text=t("customers.archived"))).to_be_visible()
    # a rep cannot restore it
    expect(rep.get_by_role("button", name=t("customers.restore"))).to_have_count(0)
    console.shot(rep, "rules-1-customer-archived-rep")

    # -- the sales manager restores it, then puts it on the red list with a reason
    manager = console.sign_in(data["manager"]["username"], data["manager"]["password"])
    manager.goto(f"/customers/{cid}")
    manager.get_by_role("button", name=t("customers.restore")).click()
    expect(manager.get_by_text(t("customers.archivedBanner"))).to_have_count(0)
    expect(manager.locator(".ant-tag", has_text=t("customers.archived"))).to_have_count(0)
    contract = draft_contract(system, data)  # the rep's draft, before the red list
    manager.get_by_role("button", name=t("customers.redListAction")).click()
    dialog = manager.get_by_role("dialog")
    reason = "Three invoices unpaid for over 120 days; legal dispute open"
    dialog.get_by_label(t("customers.redListReason")).fill(reason)
    console.shot(manager, "rules-2-customer-red-list-dialog", full_page=False)
    dialog.get_by_role("button", name=t("customers.redListAction")).click()
    expect(manager.locator(".ant-tag", has_text=t("customers.redListed"))).to_be_visible()
    expect(manager.get_by_text(t("customers.redListBanner", reason=reason))).to_be_visible()
    console.shot(manager, "rules-3-customer-red-listed")

    # -- the rep, on a phone: the draft's page explains the red list and offers no submit
    rep_phone = console.sign_in(data["rep"]["username"], data["rep"]["password"], phone=True)
    rep_phone.goto(f"/contracts/{contract['id']}")
    banner = rep_phone.get_by_test_id("red-list-banner")
    expect(banner).to_contain_text(t("contracts.redList.explainRep"))
    expect(banner).to_contain_text(reason)
    expect(rep_phone.get_by_test_id("action-submit")).to_have_count(0)
    assert no_horizontal_scroll(rep_phone)
    console.shot(rep_phone, "rules-4-contract-red-listed-rep-phone")

    # -- the manager, in Chinese: submits with an override reason
    z = lambda key, **v: T("zh", key, **v)  # noqa: E731
    manager_zh = console.sign_in(
        data["manager"]["username"], data["manager"]["password"], lang="zh", labels=labels("zh")
    )
    manager_zh.goto(f"/contracts/{contract['id']}")
    expect(manager_zh.get_by_test_id("red-list-banner")).to_contain_text(
        z("contracts.redList.explainOverride")
    )
    submit = manager_zh.get_by_test_id("action-submit")
    expect(submit).to_have_text(z("contracts.redList.submitOverride"))
    submit.click()
    manager_zh.get_by_test_id("override-confirm").click()  # no reason yet: refused in the form
    expect(manager_zh.get_by_text(z("auth.required"))).to_be_visible()
    manager_zh.get_by_test_id("override-reason").fill("客户已签署还款计划，首期款项已到账")
    console.shot(manager_zh, "rules-5-contract-override-dialog-zh", full_page=False)
    manager_zh.get_by_test_id("override-confirm").click()
    expect(manager_zh.get_by_text(z("status.pending_approval")).first).to_be_visible()
    console.shot(manager_zh, "rules-6-contract-submitted-with-override-zh")
    with system.client() as admin:
        assert admin.get(f"/api/v1/contracts/{contract['id']}").json()["status"] == "pending_approval"
    for page in (rep, manager, rep_phone, manager_zh):
        assert page.js_errors == [], page.js_errors  # type: ignore[attr-defined]


def locked_invoice_correction(system, finance_user) -> dict:
    """A contract billed for months, one invoice locked by finance, a rep's termination ten months
    back approved: billing holds that invoice's credit back as a pending correction."""
    rep_user = system.create_user(["sales_rep"])
    approver_user = system.create_user(["approver"])
    with (
        system.client() as admin,
        system.as_user(rep_user) as rep,
        system.as_user(approver_user) as approver,
        system.as_user(finance_user) as finance,
    ):
        customer, product = setup(admin, rep_user["id"])
        c = active_contract(system, rep, approver, customer, product)
        poll(lambda: admin.get(f"/api/v1/billing/schedules/{c['id']}").status_code == 200 or None,
             message="billing schedule")  # fmt: skip
        bill(admin)
        locked = contract_invoices(finance, c["id"])[3]
        assert finance.post(f"/api/v1/invoices/{locked['id']}/lock").status_code == 200
        r = rep.post(f"/api/v1/contracts/{c['id']}/terminate",
                     json={"reason": "Customer moved abroad", "effective_date": EFFECTIVE.isoformat()})  # fmt: skip
        assert r.status_code == 200, r.text
        decide_pending(system, approver, "termination", r.json()["termination_request"]["id"])
        poll(lambda: status_is(rep, c["id"], "terminated"), message="contract terminated")
        poll(lambda: admin.get(f"/api/v1/billing/schedules/{c['id']}").json().get("termination_date")
             == EFFECTIVE.isoformat() or None, message="billing heard of the termination")  # fmt: skip
        bill(admin)
    return locked


def test_finance_corrections_and_collection_task(console, system):
    finance_user = system.create_user(["finance"], full_name="Mehmet Kaya")
    t = lambda key, **v: T("en", key, **v)  # noqa: E731
    finance = console.sign_in(finance_user["username"], finance_user["password"])
    finance.goto("/invoices/corrections")
    expect(finance.get_by_role("heading", name=t("billing.pendingCorrections"))).to_be_visible()
    expect(finance.get_by_text(t("billing.noPendingCorrections"))).to_be_visible()
    console.shot(finance, "rules-7a-pending-corrections-empty")

    today = dt.date.today()
    with system.client() as admin:
        customer = admin.post(
            "/api/v1/customers", json={"name": f"Dunav Print {uuid.uuid4().hex[:6]} AD", "kind": "company"}
        )
        assert customer.status_code == 201, customer.text
        invoice = admin.post("/api/v1/invoices", json={
            "customer_id": customer.json()["id"], "currency": "EUR", "draft": False,
            "issue_date": today.isoformat(), "due_date": (today + dt.timedelta(days=10)).isoformat(),
            "lines": [{"description": "Plate setter repair", "quantity": "1", "unit_price": "480.00",
                       "tax_percent": "20"}],
        })  # fmt: skip
        assert invoice.status_code == 201, invoice.text
        number = invoice.json()["number"]
        # the daily job a month on: the invoice is overdue and gets its collection tasks
        job = admin.post(
            "/api/v1/admin/jobs/daily", json={"as_of": (today + dt.timedelta(days=30)).isoformat()}
        )
        assert job.status_code == 200, job.text

        def collection_tasks():
            r = admin.get("/api/v1/tasks", params={"kind": "collection", "document_type": "invoice",
                                                   "document_id": str(invoice.json()["id"])})  # fmt: skip
            assert r.status_code == 200, r.text
            return r.json()["items"]

        poll(collection_tasks, timeout=30, message="the overdue invoice's collection task")

    locked = locked_invoice_correction(system, finance_user)
    finance.reload()
    row = finance.get_by_role("row", name=re.compile(re.escape(locked["number"])))
    expect(row).to_be_visible()
    expect(row.get_by_role("button", name=t("billing.applyCorrection"))).to_be_visible()
    console.shot(finance, "rules-7b-pending-correction-finance")

    finance.goto("/tasks?view=all&kind=collection")
    rows = finance.get_by_role("row", name=re.compile(re.escape(number)))
    row = rows.first
    expect(row).to_be_visible(timeout=30_000)
    open_rows = rows.count()  # the invoice owner's and finance's tasks
    console.shot(finance, "rules-8-collection-tasks-finance")
    row.get_by_role("button", name=t("notify.close")).click()
    dialog = finance.get_by_role("dialog")
    dialog.get_by_label(t("notify.closeReason")).click()
    finance.locator(
        ".ant-select-dropdown:visible .ant-select-item-option",
        has_text=t("notify.closeReasons.payment_arranged"),
    ).click()
    dialog.get_by_label(t("notify.closeNote")).fill("Pays in two instalments, agreed by phone")
    console.shot(finance, "rules-9-close-collection-task-dialog", full_page=False)
    finance.get_by_test_id("close-reason-confirm").click()
    expect(finance.get_by_text(t("notify.closed"))).to_be_visible()
    expect(rows).to_have_count(open_rows - 1)
    with system.client() as admin:
        tasks = admin.get("/api/v1/tasks", params={"kind": "collection", "document_type": "invoice",
                                                   "document_id": str(invoice.json()["id"]), "status": "done"})  # fmt: skip
        assert tasks.status_code == 200, tasks.text
        assert any(task["close_reason"] == "payment_arranged" for task in tasks.json()["items"]), tasks.json()
    finance.goto("/tasks?view=all&kind=collection&status=done")
    expect(finance.get_by_role("row", name=re.compile(re.escape(number))).first).to_be_visible()
    console.shot(finance, "rules-10-collection-task-closed")
    assert finance.js_errors == [], finance.js_errors  # type: ignore[attr-defined]
