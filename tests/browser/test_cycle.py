"""The whole cycle in the browser, as the people who run the business do it: a sales rep
creates a customer and a contract from a template with a serial-numbered line and submits it;
an approver approves it from "Waiting for me" with an opinion; the administrator runs the daily
job for the start date; finance opens the invoice, downloads its PDF and records a payment; the
dashboard shows the figures. In English and in Chinese; the main screens at a phone's size too.
Set-up data a user would not enter in this flow (catalogue, stock, template, users) is made
through the API."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from .conftest import no_horizontal_scroll
from .texts import T

START = "2027-03-01"


def setup_catalogue(system) -> dict:
    """A serialized product with one unit in stock, a template, and the people of the cycle."""
    tag = uuid.uuid4().hex[:6].upper()
    with system.client() as admin:
        product = admin.post("/api/v1/products", json={
            "sku": f"PRS-{tag}", "name": f"Offset press {tag}", "kind": "device", "unit_price": "1200.00",
            "currency": "EUR", "model": "P-75", "manufacturer": "Heidel", "serialized": True,
        })  # fmt: skip
        assert product.status_code == 201, product.text
        warehouse = admin.post("/api/v1/warehouses", json={"code": f"W{tag}", "name": f"Depot {tag}"})
        assert warehouse.status_code == 201, warehouse.text
        serial = f"SN-{tag}-1"
        move = admin.post("/api/v1/stock/moves", json={
            "warehouse_id": warehouse.json()["id"], "product_id": product.json()["id"], "quantity": 1,
            "direction": "in", "reason": "purchase", "serial_numbers": [serial],
        })  # fmt: skip
        assert move.status_code == 201, move.text
        template = admin.post("/api/v1/contract-templates", json={
            "name": f"Machine sale {tag}", "language": "en",
            "body": "Sale of {{machine}} installed at {{site}}. Warranty: 12 months.",
            "fields": [{"name": "machine", "type": "text", "required": True},
                       {"name": "site", "type": "text", "required": True}],
        })  # fmt: skip
        assert template.status_code == 201, template.text
    department = f"Sales {tag}"
    return {
        "product": product.json(),
        "serial": serial,
        "template": template.json(),
        "rep": system.create_user(["sales_rep"], full_name="Li Wei", department=department),
        "approver": system.create_user(["approver"], full_name="Elena Petrova"),
        "finance": system.create_user(["finance"], full_name="Mehmet Kaya"),
    }


def pick(page: Page, field, text: str) -> None:
    """Types into an Ant Design select and picks the option containing ``text``."""
    field.click()
    page.keyboard.type(text)
    page.locator(".ant-select-dropdown:visible .ant-select-item-option", has_text=text).first.click()


def fill_date(page: Page, field, value: str) -> None:
    field.click()
    field.fill(value)
    page.keyboard.press("Enter")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_customer_to_payment_in_the_browser(console, system, lang):
    data = setup_catalogue(system)
    t = lambda key, **v: T(lang, key, **v)  # noqa: E731
    labels = {"username": t("auth.username"), "password": t("auth.password"), "submit": t("auth.submit")}

    # -- the sales rep: a customer, then a contract from the template with the serial-numbered line
    rep = console.sign_in(data["rep"]["username"], data["rep"]["password"], lang=lang, labels=labels)
    console.shot(rep, f"cycle-{lang}-1-dashboard-rep")
    customer_name = {"en": "Sofia Print Ltd", "zh": "上海华彩印务有限公司"}[lang] + f" {uuid.uuid4().hex[:4]}"
    rep.goto("/customers/new")
    rep.get_by_label(t("common.name"), exact=True).fill(customer_name)
    rep.get_by_role("button", name=t("common.create"), exact=True).click()
    expect(rep).to_have_url(re.compile(r"/customers/\d+$"))
    customer_id = rep.url.rstrip("/").split("/")[-1]

    rep.get_by_role("link", name=t("customers.newContract")).click()
    expect(rep).to_have_url(re.compile(rf"/contracts/new\?customer_id={customer_id}"))
    pick(rep, rep.get_by_label(t("contracts.template"), exact=True), data["template"]["name"])
    rep.get_by_label("machine", exact=True).or_(rep.get_by_test_id("template-field-machine")).first.fill(
        "Offset press P-75"
    )
    rep.get_by_label("site", exact=True).or_(rep.get_by_test_id("template-field-site")).first.fill(
        "Plovdiv plant"
    )
    rep.get_by_label(t("contracts.title"), exact=True).fill(f"Press sale {customer_name}")
    fill_date(rep, rep.get_by_label(t("contracts.start"), exact=True), START)
    fill_date(rep, rep.get_by_label(t("contracts.end"), exact=True), "2028-02-29")
    console.shot(rep, f"cycle-{lang}-2-contract-terms")
    rep.get_by_test_id("wizard-next").click()
    line = rep.get_by_test_id("line-0")
    pick(rep, line.get_by_label(t("contracts.product"), exact=True), data["product"]["sku"])
    serial = line.get_by_label(t("contracts.serialNumber"), exact=True)
    serial.click()
    rep.keyboard.type(data["serial"])
    rep.keyboard.press("Enter")
    expect(rep.get_by_test_id("lines-total")).to_contain_text("1,200.00")
    console.shot(rep, f"cycle-{lang}-3-contract-lines")
    rep.get_by_test_id("wizard-next").click()
    rep.get_by_test_id("wizard-next").click()
    console.shot(rep, f"cycle-{lang}-4-contract-review")
    rep.get_by_test_id("contract-save-submit").click()
    expect(rep).to_have_url(re.compile(r"/contracts/\d+$"))
    number = rep.get_by_test_id("contract-number").inner_text().strip()
    assert re.fullmatch(r"C-\d{4}-\d+", number), number
    expect(rep.get_by_text(t("status.pending_approval")).first).to_be_visible()
    console.shot(rep, f"cycle-{lang}-5-contract-submitted")

    # -- the approver: from "Waiting for me", with an opinion
    approver = console.sign_in(
        data["approver"]["username"], data["approver"]["password"], lang=lang, labels=labels
    )
    approver.get_by_role("link", name=t("nav.approvals")).first.click()
    row = approver.get_by_role("row", name=re.compile(re.escape(number)))
    expect(row).to_be_visible()
    console.shot(approver, f"cycle-{lang}-6-waiting-for-me")
    row.get_by_role("button", name=t("approvals.approve")).click()
    approver.get_by_test_id("decision-opinion").fill(
        "Price and terms checked; serial number matches the delivery note."
    )
    approver.get_by_test_id("decision-confirm").click()
    expect(approver.get_by_role("row", name=re.compile(re.escape(number)))).to_have_count(0)
    console.shot(approver, f"cycle-{lang}-7-approved")

    # -- the administrator runs the daily job for the start date
    admin = console.sign_in("admin", system.admin_password, lang=lang, labels=labels)
    admin.goto("/admin?tab=jobs")
    fill_date(admin, admin.get_by_label(t("admin.jobs.date"), exact=True), START)
    admin.get_by_role("button", name=t("admin.jobs.run")).click()
    expect(admin.get_by_label(t("admin.jobs.result"))).to_be_visible(timeout=120_000)
    console.shot(admin, f"cycle-{lang}-8-daily-job")

    # -- finance: the invoice, its PDF, a payment
    finance = console.sign_in(
        data["finance"]["username"], data["finance"]["password"], lang=lang, labels=labels
    )
    finance.get_by_role("link", name=t("nav.invoices")).first.click()
    invoice_row = finance.get_by_role("row", name=re.compile(re.escape(customer_name)))
    expect(invoice_row).to_be_visible()
    console.shot(finance, f"cycle-{lang}-9-invoices")
    invoice_row.get_by_role("link").first.click()
    expect(finance).to_have_url(re.compile(r"/invoices/\d+$"))
    with finance.expect_download() as download:
        finance.get_by_role("button", name=re.compile(rf"{re.escape(t('billing.pdf'))}$")).click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF"), pdf[:20]
    finance.get_by_role("button", name=t("billing.recordPayment")).click()
    dialog = finance.get_by_role("dialog")
    dialog.get_by_label(t("billing.reference"), exact=False).fill("BANK-2027-0301")
    dialog.get_by_role("button", name=t("billing.recordPayment")).click()
    expect(finance.get_by_test_id("invoice-balance")).to_contain_text("0.00")
    expect(finance.get_by_text(t("status.paid")).first).to_be_visible()
    console.shot(finance, f"cycle-{lang}-10-invoice-paid")

    # -- the dashboard shows the figures
    admin.goto(f"/dashboard?year={START[:4]}")
    expect(admin.get_by_test_id("kpi-count").first).to_be_visible()
    console.shot(admin, f"cycle-{lang}-11-dashboard")
    assert not admin.js_errors, admin.js_errors  # type: ignore[attr-defined]

    # -- the main screens at a phone's size
    if lang == "en":
        phone = console.sign_in(data["finance"]["username"], data["finance"]["password"], phone=True)
        for path, name in (
            ("/dashboard", "dashboard"),
            ("/invoices", "invoices"),
            ("/contracts", "contracts"),
        ):
            phone.goto(path)
            phone.wait_for_load_state("networkidle")
            assert no_horizontal_scroll(phone), path
            console.shot(phone, f"phone-{name}")
