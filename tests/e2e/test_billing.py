"""Billing end to end through the gateway, every service a process on a real broker: a monthly
maintenance contract in advance (customers → contracts → approvals → contracts → billing events)
billed for a whole year by ONE billing run with gapless numbers, safe to re-run; invoice PDFs in
Chinese, English, Turkish and Bulgarian; payments allocated explicitly and oldest first; the
daily job marks an invoice overdue and notify opens a collection task, which paying it closes;
finance locks; the money reports per currency.

The contract is in CHF, which no other end-to-end test uses, so the system-wide reports (cash
flow, MRR) can be checked to the cent."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal

from pypdf import PdfReader

from ..conftest import poll
from .test_contracts import decide_pending, status_is

CURRENCY = "CHF"
START = dt.date(2027, 1, 15)
TERMS_DAYS = 30
TAX_KEY = "kind:service"


def add_months(day: dt.date, months: int) -> dt.date:
    """The 15th of a later month (the contract starts on a 15th: no month-end clamping)."""
    year, month = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + year, month + 1, day.day)


def expected_periods() -> list[tuple[str, str]]:
    return [
        (add_months(START, k).isoformat(), (add_months(START, k + 1) - dt.timedelta(days=1)).isoformat())
        for k in range(12)
    ]


def setup(admin) -> tuple[dict, dict]:
    r = admin.post("/api/v1/customers", json={"name": f"上海精密机械有限公司 {uuid.uuid4().hex[:6]}", "kind": "company",
                                              "language": "zh", "level": "A"})  # fmt: skip
    assert r.status_code == 201, r.text
    customer = r.json()
    r = admin.post("/api/v1/products", json={"sku": f"MNT-{uuid.uuid4().hex[:6]}", "name": "设备维护服务",
                                             "kind": "service", "unit_price": "100.00", "currency": CURRENCY})  # fmt: skip
    assert r.status_code == 201, r.text
    return customer, r.json()


def contract_invoices(client, contract_id) -> list[dict]:
    r = client.get("/api/v1/invoices", params={"contract_id": contract_id, "page_size": 100})
    assert r.status_code == 200, r.text
    return sorted(r.json()["items"], key=lambda x: x["period_start"])


def invoice_total(client) -> int:
    r = client.get("/api/v1/invoices", params={"page_size": 1})
    assert r.status_code == 200, r.text
    return r.json()["total"]


def series_numbers(client, prefix: str) -> list[str]:
    numbers, page = [], 1
    while True:
        r = client.get("/api/v1/invoices", params={"q": prefix, "page": page, "page_size": 100})
        assert r.status_code == 200, r.text
        body = r.json()
        numbers += [x["number"] for x in body["items"] if (x["number"] or "").startswith(prefix)]
        if page * body["page_size"] >= body["total"]:
            return sorted(numbers)
        page += 1


def pdf_text(client, path: str, language: str) -> str:
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.headers["content-language"] == language
    assert r.content.startswith(b"%PDF")
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)


def submitted_contract(client, customer, product) -> dict:
    r = client.post(
        "/api/v1/contracts",
        json={"customer_id": customer["id"], "title": "设备维护合同 2027", "kind": "maintenance",
              "currency": CURRENCY, "start_date": START.isoformat(), "end_date": "2028-01-14",
              "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": TERMS_DAYS},
              "lines": [{"product_id": product["id"], "quantity": 1}]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    contract = r.json()
    assert contract["total"] == "100.00"
    assert client.post(f"/api/v1/contracts/{contract['id']}/submit").status_code == 200
    return contract


def approved_schedule(client, contract_id) -> dict:
    """Billing's schedule of an approved contract: built from ``contract_approved``, before the
    start date's job activates it (ADR 0011)."""

    def schedule():
        r = client.get(f"/api/v1/billing/schedules/{contract_id}")
        return r.json() if r.status_code == 200 else None

    found = poll(schedule, message="billing schedule from contract_approved")
    assert found["contract_status"] == "approved", found
    return found


def task_for(admin, invoice_id, status):
    r = admin.get(
        "/api/v1/tasks",
        params={"kind": "collection", "document_type": "invoice", "document_id": str(invoice_id)},
    )
    assert r.status_code == 200, r.text
    return next((t for t in r.json()["items"] if t["status"] == status), None)


def test_a_year_billed_by_one_run_paid_collected_locked_credited_and_reported(system):
    with system.client() as admin:
        assert system.http.get("/readyz").json()["services"]["billing"] == "ok"
        r = admin.put(f"/api/v1/billing/tax-rates/{TAX_KEY}", json={"percent": "20"})
        assert r.status_code == 200, r.text
        try:
            run_scenario(system, admin)
        finally:
            admin.put(f"/api/v1/billing/tax-rates/{TAX_KEY}", json={"percent": None})


def run_scenario(system, admin) -> None:
    customer, product = setup(admin)
    manager_user = system.create_user(["sales_manager"])
    with system.as_user(manager_user) as manager:  # drafts and submits; the admin approves
        contract = submitted_contract(manager, customer, product)
    decide_pending(system, admin, "contract", contract["id"])
    poll(lambda: status_is(admin, contract["id"], "approved"), message="contract approved")
    schedule = approved_schedule(admin, contract["id"])
    assert schedule["frequency"] == "monthly" and schedule["currency"] == CURRENCY

    # the start date arrives: ONE daily job call activates the contract and bills its first period,
    # whichever service runs its job first (ADR 0011) — there when the call returns
    job = admin.post("/api/v1/admin/jobs/daily", json={"as_of": START.isoformat()})
    assert job.status_code == 200, job.text
    assert job.json()["results"]["contracts"]["contracts_activated"] >= 1, job.text
    assert status_is(admin, contract["id"], "active")
    (first,) = contract_invoices(admin, contract["id"])
    assert (first["period_start"], first["issue_date"], first["total"]) == (
        START.isoformat(),
        START.isoformat(),
        "120.00",
    )
    # the customer sees it in the portal
    portal_user = system.create_user(["portal"], customer_id=customer["id"])
    with system.as_user(portal_user) as portal:
        r = portal.get("/api/v1/portal/invoices")
        assert r.status_code == 200, r.text
        assert [(i["id"], i["number"]) for i in r.json()["items"]] == [(first["id"], first["number"])]

    # ONE run bills the rest of the year: 12 invoices in all, 15 Jan – 14 Feb … 15 Dec – 14 Jan
    before = invoice_total(admin)
    r = admin.post("/api/v1/billing/runs", json={"as_of": "2027-12-31"})
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["status"] == "completed" and run["failed"] == 0 and run["failures"] == [], run
    assert run["invoices_created"] == invoice_total(admin) - before
    invoices = contract_invoices(admin, contract["id"])
    assert len(invoices) == 12 and run["invoices_created"] >= 11, run
    assert [(i["period_start"], i["period_end"]) for i in invoices] == expected_periods()
    for inv in invoices:
        assert inv["status"] == "issued" and inv["kind"] == "contract" and inv["currency"] == CURRENCY
        assert (inv["subtotal"], inv["tax"], inv["total"]) == ("100.00", "20.00", "120.00"), inv
        assert inv["language"] == "zh" and inv["issue_date"] == inv["period_start"]
        due = dt.date.fromisoformat(inv["issue_date"]) + dt.timedelta(days=TERMS_DAYS)
        assert inv["due_date"] == due.isoformat()
    # numbers: gapless in the series, in date order for this contract
    numbers = series_numbers(admin, "INV-2027-")
    assert numbers == [f"INV-2027-{n:06d}" for n in range(1, len(numbers) + 1)], numbers
    ours = [int(i["number"].rsplit("-", 1)[1]) for i in invoices]
    assert ours == sorted(ours) and len(set(ours)) == 12
    if len(numbers) == 12:  # nothing else billed in 2027 in this system: exactly 000001..000012
        assert [i["number"] for i in invoices] == numbers
    detail = admin.get(f"/api/v1/invoices/{invoices[0]['id']}").json()
    line = detail["lines"][0]
    assert (line["amount"], line["tax_amount"]) == ("100.00", "20.00") and Decimal(line["tax_percent"]) == 20
    assert (line["covered_days"], line["period_days"]) == (31, 31)  # 15 Jan – 14 Feb
    assert detail["customer"]["name"] == customer["name"]
    sched = admin.get(f"/api/v1/billing/schedules/{contract['id']}").json()
    assert [p["status"] for p in sched["periods"]] == ["invoiced"] * 12, sched["periods"]

    # re-running the same day bills nothing
    again = admin.post("/api/v1/billing/runs", json={"as_of": "2027-12-31"})
    assert again.status_code == 201 and again.json()["invoices_created"] == 0, again.text
    assert len(contract_invoices(admin, contract["id"])) == 12

    # PDFs: the contract invoice in the customer's language (zh); a one-off draft in en, tr, bg
    text = pdf_text(admin, f"/api/v1/invoices/{invoices[0]['id']}/pdf", "zh")
    assert "发票" in text and invoices[0]["number"] in text and customer["name"] in text
    r = admin.post(
        "/api/v1/invoices",
        json={"customer_id": customer["id"], "currency": CURRENCY, "language": "en", "draft": True,
              "lines": [{"description": "Extra visit", "quantity": "1", "unit_price": "50.00", "tax_percent": "20"}]},
    )  # fmt: skip
    assert r.status_code == 201 and r.json()["status"] == "draft" and r.json()["number"] is None, r.text
    draft = r.json()
    for language, label in (("en", "Invoice"), ("tr", "Fatura"), ("bg", "Фактура")):
        if language != "en":
            r = admin.patch(f"/api/v1/invoices/{draft['id']}", json={"language": language})
            assert r.status_code == 200 and r.json()["language"] == language, r.text
        text = pdf_text(admin, f"/api/v1/invoices/{draft['id']}/pdf", language)
        assert label in text and "Extra visit" in text, (language, text[:300])

    # payments: one allocated explicitly (part of the third invoice), one oldest first (the first two)
    r = admin.post(
        "/api/v1/payments",
        json={"customer_id": customer["id"], "amount": "50.00", "currency": CURRENCY, "method": "bank_transfer",
              "received_at": "2027-03-01T10:00:00Z", "reference": "TT-1",
              "allocations": [{"invoice_id": invoices[2]["id"], "amount": "50.00"}]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "confirmed" and r.json()["unallocated"] == "0.00", r.text
    r = admin.post(
        "/api/v1/payments",
        json={"customer_id": customer["id"], "amount": "240.00", "currency": CURRENCY, "method": "bank_transfer",
              "received_at": "2027-03-10T10:00:00Z", "reference": "TT-2"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert sorted((a["invoice_id"], a["amount"]) for a in r.json()["allocations"]) == sorted(
        [(invoices[0]["id"], "120.00"), (invoices[1]["id"], "120.00")]
    ), r.text
    statuses = [admin.get(f"/api/v1/invoices/{i['id']}").json() for i in invoices[:4]]
    assert [s["status"] for s in statuses] == ["paid", "paid", "partially_paid", "issued"]
    assert (statuses[2]["paid"], statuses[2]["balance"]) == ("50.00", "70.00")

    # past the third invoice's due date (2027-04-14): overdue → a collection task in notify
    job = admin.post("/api/v1/admin/jobs/daily", json={"as_of": "2027-04-20"})
    assert job.status_code == 200, job.text
    assert job.json()["results"]["billing"]["invoices_overdue"] >= 1, job.text
    third = admin.get(f"/api/v1/invoices/{invoices[2]['id']}").json()
    assert third["status"] == "overdue", third
    assert admin.get(f"/api/v1/invoices/{invoices[3]['id']}").json()["status"] == "issued"
    listed = admin.get("/api/v1/invoices", params={"customer_id": customer["id"], "overdue": "true"}).json()
    assert [x["id"] for x in listed["items"]] == [invoices[2]["id"]]
    task = poll(lambda: task_for(admin, invoices[2]["id"], "open"), timeout=30, message="collection task")
    assert task["kind"] == "collection"

    # paying the rest closes the task
    r = admin.post(
        "/api/v1/payments",
        json={"customer_id": customer["id"], "amount": "70.00", "currency": CURRENCY, "method": "card",
              "received_at": "2027-04-25T09:00:00Z",
              "allocations": [{"invoice_id": invoices[2]["id"], "amount": "70.00"}]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert admin.get(f"/api/v1/invoices/{invoices[2]['id']}").json()["status"] == "paid"
    closed = poll(lambda: task_for(admin, invoices[2]["id"], "done"), timeout=30, message="task closed")
    assert closed["id"] == task["id"]

    # finance lock: no void, no credit note (409) until unlocked
    fourth = invoices[3]["id"]
    r = admin.post(f"/api/v1/invoices/{fourth}/lock")
    assert r.status_code == 200 and r.json()["locked"] is True, r.text
    r = admin.post(f"/api/v1/invoices/{fourth}/void", json={"reason": "wrong"})
    assert r.status_code == 409, r.text
    r = admin.post(f"/api/v1/invoices/{fourth}/credit-notes", json={"reason": "goodwill", "amount": "30.00"})
    assert r.status_code == 409, r.text
    r = admin.post(f"/api/v1/invoices/{fourth}/unlock")
    assert r.status_code == 200 and r.json()["locked"] is False, r.text
    r = admin.post(
        f"/api/v1/invoices/{fourth}/credit-notes",
        json={"reason": "goodwill", "amount": "30.00", "issue_date": "2027-04-21"},
    )
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["number"].startswith("CN-2027-") and note["amount"] == "30.00"
    assert (note["subtotal"], note["tax"]) == ("25.00", "5.00"), note
    inv = admin.get(f"/api/v1/invoices/{fourth}").json()
    assert (inv["credited"], inv["balance"], inv["status"]) == ("30.00", "90.00", "partially_paid"), inv
    text = pdf_text(admin, f"/api/v1/credit-notes/{note['id']}/pdf", "zh")
    assert note["number"] in text

    # reports, per currency
    aging = admin.get(
        "/api/v1/reports/receivables-aging", params={"as_of": "2027-12-31", "customer_id": customer["id"]}
    ).json()
    total = aging["currencies"][CURRENCY]["total"]
    assert {k: total[k] for k in ("current", "1_30", "31_60", "61_90", "over_90", "total")} == {
        "current": "120.00",  # due 2028-01-14
        "1_30": "120.00",  # due 2027-12-15
        "31_60": "120.00",  # due 2027-11-14
        "61_90": "120.00",  # due 2027-10-15
        "over_90": "570.00",  # 90.00 (credited 30.00) + 4 × 120.00
        "total": "1050.00",  # 1440.00 − 360.00 paid − 30.00 credited
    }, aging
    assert list(aging["currencies"]) == [CURRENCY]

    flow = admin.get("/api/v1/reports/cash-flow", params={"year": 2027}).json()
    months = {row["month"]: row for row in flow["currencies"][CURRENCY]}
    assert [months[f"2027-{m:02d}"]["invoiced"] for m in range(1, 13)] == ["120.00"] * 3 + ["90.00"] + [
        "120.00"
    ] * 8
    assert {mo: row["collected"] for mo, row in months.items() if row["collected"] != "0.00"} == {
        "2027-03": "290.00",
        "2027-04": "70.00",
    }
    # forecast: open balances by due date (an overdue one from today on)
    forecast: dict[str, Decimal] = {}
    today = dt.date.today()
    for i in contract_invoices(admin, contract["id"]):
        due = max(dt.date.fromisoformat(i["due_date"]), today)
        if Decimal(i["balance"]) > 0 and due.year == 2027:
            key = due.isoformat()[:7]
            forecast[key] = forecast.get(key, Decimal(0)) + Decimal(i["balance"])
    assert {
        mo: Decimal(row["forecast"]) for mo, row in months.items() if Decimal(row["forecast"])
    } == forecast

    revenue = admin.get("/api/v1/reports/revenue", params={"year": 2027, "by": "customer"}).json()
    mine = [x for x in revenue["currencies"][CURRENCY]["items"] if x["key"] == customer["id"]]
    assert mine and mine[0]["amount"] == "1175.00", revenue  # 12 × 100.00 net − 25.00 credited

    mrr = admin.get("/api/v1/reports/recurring-revenue", params={"as_of": "2027-06-01"}).json()
    assert mrr["currencies"][CURRENCY] == {"mrr": "100.00", "arr": "1200.00", "contracts": 1}, mrr
    after = admin.get("/api/v1/reports/recurring-revenue", params={"as_of": "2028-02-01"}).json()
    assert CURRENCY not in after["currencies"], after


def test_one_daily_job_a_year_after_the_start_bills_the_whole_year_at_once(system):
    """A contract approved before the date is billed by that date's daily job in the same call,
    whatever order the services run their jobs in: run once for the term's last day, there are
    exactly 12 invoices totalling 12 × the price when the call returns, and the customer sees
    them in the portal. (In NOK, which no other end-to-end test uses.)"""
    currency, price = "NOK", Decimal("250.00")
    with system.client() as admin:
        r = admin.post("/api/v1/customers", json={"name": f"Fjordservice AS {uuid.uuid4().hex[:6]}",
                                                  "kind": "company", "language": "en"})  # fmt: skip
        assert r.status_code == 201, r.text
        customer = r.json()
        r = admin.post("/api/v1/products", json={"sku": f"NOK-{uuid.uuid4().hex[:6]}", "name": "Kompressorservice",
                                                 "kind": "service", "unit_price": str(price),
                                                 "currency": currency})  # fmt: skip
        assert r.status_code == 201, r.text
        product = r.json()
        manager_user = system.create_user(["sales_manager"])
        with system.as_user(manager_user) as manager:  # drafts and submits; the admin approves
            r = manager.post(
                "/api/v1/contracts",
                json={"customer_id": customer["id"], "title": "Service 2027", "kind": "maintenance", "currency": currency,
                      "start_date": START.isoformat(), "end_date": "2028-01-14",
                      "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": TERMS_DAYS},
                      "lines": [{"product_id": product["id"], "quantity": 1}]},
            )  # fmt: skip
            assert r.status_code == 201, r.text
            contract = r.json()
            assert manager.post(f"/api/v1/contracts/{contract['id']}/submit").status_code == 200
        decide_pending(system, admin, "contract", contract["id"])
        poll(lambda: status_is(admin, contract["id"], "approved"), message="contract approved")
        approved_schedule(admin, contract["id"])

        job = admin.post("/api/v1/admin/jobs/daily", json={"as_of": "2028-01-14"})
        assert job.status_code == 200, job.text
        invoices = contract_invoices(admin, contract["id"])
        assert [(i["period_start"], i["period_end"]) for i in invoices] == expected_periods()
        assert sum(Decimal(i["subtotal"]) for i in invoices) == 12 * price
        assert sum(Decimal(i["total"]) for i in invoices) == 12 * Decimal(invoices[0]["total"])
        assert [i["issue_date"] for i in invoices] == [p for p, _ in expected_periods()]  # dated when due
        assert status_is(admin, contract["id"], "active")

        portal_user = system.create_user(["portal"], customer_id=customer["id"])
        with system.as_user(portal_user) as portal:
            r = portal.get("/api/v1/portal/invoices", params={"page_size": 100})
            assert r.status_code == 200, r.text
            assert sorted(i["id"] for i in r.json()["items"]) == sorted(i["id"] for i in invoices)
