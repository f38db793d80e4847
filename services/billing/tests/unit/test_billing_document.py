"""Invoice and credit note PDFs: every language's labels and customer names come back out of the
PDF as text (pypdf), long invoices span pages, and the cache key follows exactly what the
document shows."""

from __future__ import annotations

import copy
import io

import pytest
from billing import document
from pypdf import PdfReader

CUSTOMERS = {
    "zh": {"name": "上海精密仪器有限公司", "code": "C000010", "address": "上海市浦东新区世纪大道100号",
           "tax_id": "91310000MA1FL0000X", "email": "ap@sh.example", "language": "zh"},
    "tr": {"name": "İstanbul Makine Sanayi A.Ş.", "code": "C000011", "address": "Büyükdere Cd. 1, Şişli",
           "tax_id": "1234567890", "email": "muhasebe@ist.example", "language": "tr"},
    "bg": {"name": "София Сервиз ЕООД", "code": "C000012", "address": "бул. „Витоша“ 15, София",
           "tax_id": "BG123456789", "email": "office@sofia.example", "language": "bg"},
    "en": {"name": "Acme Printing Ltd", "code": "C000013", "address": "1 High Street, Leeds",
           "tax_id": "GB123456789", "email": "ap@acme.example", "language": "en"},
}  # fmt: skip
DESCRIPTIONS = {
    "zh": "激光打印机维护服务",
    "tr": "Yazıcı bakım hizmeti — ğüşıöç",
    "bg": "Абонаментно обслужване на принтер",
    "en": "Printer maintenance",
}


def invoice_line(position: int, description: str) -> dict:
    return {
        "id": 100 + position, "position": position, "description": description, "sku": "SVC-1",
        "product_id": 11, "contract_line_id": 7, "period_start": "2027-01-15", "period_end": "2027-02-14",
        "quantity": "2", "unit_price": "45.00", "discount_percent": "10", "covered_days": 31,
        "period_days": 31, "amount": "81.00", "tax_percent": "20", "tax_amount": "16.20",
    }  # fmt: skip


def invoice_view(lang: str = "zh", lines: int = 2, **changes) -> dict:
    view = {
        "id": 12, "number": "INV-2027-000012", "kind": "contract", "status": "issued", "currency": "EUR",
        "language": lang, "customer_id": 10, "customer": dict(CUSTOMERS[lang]),
        "contract_id": 7, "contract_number": "C-2027-000007", "period_start": "2027-01-15",
        "period_end": "2027-02-14", "issue_date": "2027-01-15", "due_date": "2027-02-14",
        "subtotal": f"{81 * lines}.00", "tax": f"{16.2 * lines:.2f}", "total": f"{97.2 * lines:.2f}",
        "paid": "0.00", "credited": "0.00", "balance": f"{97.2 * lines:.2f}", "locked": False,
        "notes": None, "lines": [invoice_line(i, DESCRIPTIONS[lang]) for i in range(1, lines + 1)],
        "credit_notes": [], "allocations": [],
        "created_at": "2027-01-15T08:00:00+00:00", "updated_at": "2027-01-15T08:00:00+00:00",
    }  # fmt: skip
    view.update(changes)
    return view


def credit_note_view(language: str) -> dict:
    return {
        "id": 3, "number": "CN-2027-000003", "invoice_id": 12, "invoice_number": "INV-2027-000012",
        "customer_id": 10, "customer": dict(CUSTOMERS[language]), "currency": "EUR", "language": language,
        "issue_date": "2027-02-01", "reason": "Service not delivered / 服务未提供",
        "subtotal": "81.00", "tax": "16.20", "amount": "97.20",
        "lines": [{"invoice_line_id": 101, "description": DESCRIPTIONS[language], "amount": "81.00",
                   "tax_percent": "20", "tax_amount": "16.20"}],
    }  # fmt: skip


def pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def squeeze(text: str) -> str:
    """Text without whitespace: extraction may break a wrapped cell anywhere."""
    return "".join(text.split())


@pytest.mark.parametrize("language", ["zh", "tr", "bg", "en"])
def test_invoice_renders_labels_and_customer_in_each_language(language):
    data = document.invoice_pdf(invoice_view(language), language, "Northwind Service GmbH")
    assert data.startswith(b"%PDF-")
    text, pages = pdf_text(data)
    flat = squeeze(text)
    L = document.LABELS[language]
    for key in (
        "invoice",
        "issue_date",
        "due_date",
        "customer",
        "tax_id",
        "subtotal",
        "total",
        "balance_due",
    ):
        assert squeeze(L[key]) in flat, (key, L[key])
    assert squeeze(document.STATUS_LABELS[language]["issued"]) in flat
    for value in (CUSTOMERS[language]["name"], CUSTOMERS[language]["address"], DESCRIPTIONS[language]):
        assert squeeze(value) in flat, value
    assert "INV-2027-000012" in flat and "C-2027-000007" in flat and "194.40EUR" in flat
    assert "NorthwindServiceGmbH" in flat
    assert pages == 1


def test_a_draft_and_a_void_invoice_say_so():
    draft = invoice_view("en", number=None, status="draft")
    text, _ = pdf_text(document.invoice_pdf(draft, "en", "CRM"))
    assert "Draft #12" in text and squeeze(document.LABELS["en"]["draft_notice"]) in squeeze(text)
    void = invoice_view("bg", status="void")
    text, _ = pdf_text(document.invoice_pdf(void, "bg", "CRM"))
    assert squeeze(document.LABELS["bg"]["void_notice"]) in squeeze(text)


def test_credit_note_renders_in_each_language():
    for language in ("zh", "tr", "bg"):
        view = credit_note_view(language)
        text, _ = pdf_text(document.credit_note_pdf(view, language, "CRM"))
        flat = squeeze(text)
        L = document.LABELS[language]
        for key in ("credit_note", "invoice_ref", "reason", "credit_total"):
            assert squeeze(L[key]) in flat, (language, key)
        assert squeeze(CUSTOMERS[language]["name"]) in flat
        assert "CN-2027-000003" in flat and "INV-2027-000012" in flat and "97.20EUR" in flat
        assert "服务未提供" in flat


def test_a_many_line_invoice_spans_pages_with_every_line_and_the_totals():
    view = invoice_view("tr", lines=70)
    text, pages = pdf_text(document.invoice_pdf(view, "tr", "CRM"))
    assert pages >= 3
    assert squeeze(text).count(squeeze(DESCRIPTIONS["tr"])) == 70
    assert "6804.00EUR" in squeeze(text)  # total, after the last line
    assert f"{document.LABELS['tr']['page']} 1/{pages}".replace(" ", "") in squeeze(text)


def test_unknown_language_falls_back_to_english():
    view = invoice_view("en", language="de")
    view["customer"]["language"] = "fr"
    assert document.document_language(view) == "en"
    text, _ = pdf_text(document.invoice_pdf(view, "de", "CRM"))
    assert "Invoice INV-2027-000012" in text and "Balance due" in text


def test_document_language_order():
    view = invoice_view("zh")
    assert document.document_language(view) == "zh"
    view["language"] = None
    view["customer"]["language"] = "bg"
    assert document.document_language(view) == "bg"
    view["customer"]["language"] = None
    assert document.document_language(view) == "en"
    view["language"] = "TR-tr"
    assert document.document_language(view) == "tr"
    assert document.document_language({"language": "zh-CN"}) == "zh"


def test_cache_key_follows_what_the_document_shows():
    view = invoice_view("zh")
    key = document.cache_key("invoice", view, "zh", "CRM")
    assert len(key) == 64 and int(key, 16) >= 0
    # equal content, other bookkeeping: the same key
    same = copy.deepcopy(view)
    same["updated_at"] = "2027-03-01T10:00:00+00:00"
    same["created_at"] = "2027-03-01T10:00:00+00:00"
    same["locked"] = True
    same["allocations"] = [{"payment_id": 1, "amount": "0.00"}]
    assert document.cache_key("invoice", same, "zh", "CRM") == key
    # a payment changes paid, balance and status: a new key for each
    for field, value in (("balance", "94.40"), ("paid", "100.00"), ("status", "partially_paid")):
        assert document.cache_key("invoice", {**view, field: value}, "zh", "CRM") != key, field
    changed_line = copy.deepcopy(view)
    changed_line["lines"][1]["description"] = "打印机维修"
    assert document.cache_key("invoice", changed_line, "zh", "CRM") != key
    renamed = copy.deepcopy(view)
    renamed["customer"]["name"] = "北京精密仪器有限公司"
    assert document.cache_key("invoice", renamed, "zh", "CRM") != key
    assert document.cache_key("invoice", view, "en", "CRM") != key
    assert document.cache_key("invoice", view, "zh", "Other GmbH") != key
    assert document.cache_key("credit_note", credit_note_view("zh"), "zh", "CRM") != key


def test_company_name_from_environment(monkeypatch):
    monkeypatch.delenv(document.COMPANY_ENV, raising=False)
    assert document.company_name() == "CRM"
    monkeypatch.setenv(document.COMPANY_ENV, "  Northwind Service GmbH ")
    assert document.company_name() == "Northwind Service GmbH"


def test_every_language_has_every_label_and_status():
    for language in ("zh", "tr", "bg"):
        assert set(document.LABELS[language]) == set(document.LABELS["en"]), language
        assert set(document.STATUS_LABELS[language]) == set(document.STATUS_LABELS["en"]), language
        assert all(text.strip() for text in document.LABELS[language].values())
