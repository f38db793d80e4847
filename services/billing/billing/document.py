"""Invoice and credit note PDFs: the pure layout, testable without a database.

* :func:`invoice_pdf`, :func:`credit_note_pdf` — a view (``get_invoice`` / ``get_credit_note``)
  → PDF bytes, in one of the languages of :data:`LABELS` (English otherwise);
* :func:`document_language` — the language a document is rendered in;
* :func:`cache_key` — the hash of exactly what a document shows (:func:`document_content`), so
  an unchanged document is served from ``pdf_cache`` and a payment, credit note or status change
  gives a new key.

Both documents are laid out from :func:`document_content` alone, so nothing can appear on a
document without being part of its cache key. Amounts are printed as the view carries them
(already rounded to the currency's minor unit when the invoice was issued) with the currency
code. Fonts: :class:`crm_common.pdf.Document` (Latin, Turkish, Cyrillic and Chinese embedded).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from crm_common.pdf import Document

COMPANY_ENV = "CRM_COMPANY_NAME"
DEFAULT_COMPANY = "CRM"
DEFAULT_LANGUAGE = "en"
# part of every cache key: change it whenever the layout or the labels change
LAYOUT_VERSION = "1"
KINDS = ("invoice", "credit_note")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "draft": "Draft",
        "draft_notice": "Draft — not a valid invoice until issued",
        "void_notice": "Void — this invoice is cancelled",
        "number": "Number",
        "issue_date": "Issue date",
        "due_date": "Due date",
        "seller": "Seller",
        "customer": "Customer",
        "customer_code": "Customer code",
        "tax_id": "Tax id",
        "address": "Address",
        "contract": "Contract",
        "period": "Period",
        "currency": "Currency",
        "status": "Status",
        "payment_terms": "Payment terms",
        "payment_terms_value": "{days} days",
        "lines": "Items",
        "description": "Description",
        "quantity": "Quantity",
        "unit_price": "Unit price",
        "discount": "Discount %",
        "net": "Net",
        "tax_percent": "Tax %",
        "tax": "Tax",
        "no_lines": "No items.",
        "subtotal": "Subtotal",
        "total": "Total",
        "paid": "Paid",
        "credited": "Credited",
        "balance_due": "Balance due",
        "credit_notes": "Credit notes",
        "invoice_ref": "Invoice",
        "reason": "Reason",
        "credit_total": "Amount credited",
        "notes": "Notes",
        "page": "Page",
    },
    "zh": {
        "invoice": "发票",
        "credit_note": "红字发票（贷项通知单）",
        "draft": "草稿",
        "draft_notice": "草稿：开具前不是有效发票",
        "void_notice": "已作废：本发票已取消",
        "number": "编号",
        "issue_date": "开票日期",
        "due_date": "付款到期日",
        "seller": "销售方",
        "customer": "客户",
        "customer_code": "客户编号",
        "tax_id": "税号",
        "address": "地址",
        "contract": "合同",
        "period": "服务期间",
        "currency": "币种",
        "status": "状态",
        "payment_terms": "付款期限",
        "payment_terms_value": "{days} 天",
        "lines": "明细",
        "description": "项目",
        "quantity": "数量",
        "unit_price": "单价",
        "discount": "折扣 %",
        "net": "不含税金额",
        "tax_percent": "税率 %",
        "tax": "税额",
        "no_lines": "无明细。",
        "subtotal": "小计",
        "total": "价税合计",
        "paid": "已付",
        "credited": "已冲红",
        "balance_due": "应付余额",
        "credit_notes": "红字发票",
        "invoice_ref": "原发票",
        "reason": "原因",
        "credit_total": "冲红金额",
        "notes": "备注",
        "page": "页",
    },
    "tr": {
        "invoice": "Fatura",
        "credit_note": "İade faturası",
        "draft": "Taslak",
        "draft_notice": "Taslak — düzenlenene kadar geçerli bir fatura değildir",
        "void_notice": "İptal — bu fatura iptal edilmiştir",
        "number": "Numara",
        "issue_date": "Düzenleme tarihi",
        "due_date": "Son ödeme tarihi",
        "seller": "Satıcı",
        "customer": "Müşteri",
        "customer_code": "Müşteri kodu",
        "tax_id": "Vergi no",
        "address": "Adres",
        "contract": "Sözleşme",
        "period": "Dönem",
        "currency": "Para birimi",
        "status": "Durum",
        "payment_terms": "Ödeme vadesi",
        "payment_terms_value": "{days} gün",
        "lines": "Kalemler",
        "description": "Açıklama",
        "quantity": "Miktar",
        "unit_price": "Birim fiyat",
        "discount": "İskonto %",
        "net": "Net tutar",
        "tax_percent": "KDV %",
        "tax": "KDV",
        "no_lines": "Kalem yok.",
        "subtotal": "Ara toplam",
        "total": "Genel toplam",
        "paid": "Ödenen",
        "credited": "İade edilen",
        "balance_due": "Kalan borç",
        "credit_notes": "İade faturaları",
        "invoice_ref": "Fatura",
        "reason": "Gerekçe",
        "credit_total": "İade tutarı",
        "notes": "Notlar",
        "page": "Sayfa",
    },
    "bg": {
        "invoice": "Фактура",
        "credit_note": "Кредитно известие",
        "draft": "Чернова",
        "draft_notice": "Чернова — не е валидна фактура до издаването ѝ",
        "void_notice": "Анулирана — тази фактура е отменена",
        "number": "Номер",
        "issue_date": "Дата на издаване",
        "due_date": "Падеж",
        "seller": "Доставчик",
        "customer": "Получател",
        "customer_code": "Код на клиента",
        "tax_id": "ЕИК / ДДС №",
        "address": "Адрес",
        "contract": "Договор",
        "period": "Период",
        "currency": "Валута",
        "status": "Статус",
        "payment_terms": "Срок за плащане",
        "payment_terms_value": "{days} дни",
        "lines": "Позиции",
        "description": "Описание",
        "quantity": "Количество",
        "unit_price": "Ед. цена",
        "discount": "Отстъпка %",
        "net": "Нето",
        "tax_percent": "ДДС %",
        "tax": "ДДС",
        "no_lines": "Няма позиции.",
        "subtotal": "Данъчна основа",
        "total": "Общо",
        "paid": "Платено",
        "credited": "Кредитирано",
        "balance_due": "Остатък за плащане",
        "credit_notes": "Кредитни известия",
        "invoice_ref": "Към фактура",
        "reason": "Основание",
        "credit_total": "Кредитирана сума",
        "notes": "Бележки",
        "page": "Страница",
    },
}

STATUS_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "draft": "Draft",
        "issued": "Issued",
        "partially_paid": "Partially paid",
        "paid": "Paid",
        "overdue": "Overdue",
        "void": "Void",
    },
    "zh": {
        "draft": "草稿",
        "issued": "已开具",
        "partially_paid": "部分付款",
        "paid": "已付清",
        "overdue": "已逾期",
        "void": "已作废",
    },
    "tr": {
        "draft": "Taslak",
        "issued": "Düzenlendi",
        "partially_paid": "Kısmen ödendi",
        "paid": "Ödendi",
        "overdue": "Vadesi geçti",
        "void": "İptal",
    },
    "bg": {
        "draft": "Чернова",
        "issued": "Издадена",
        "partially_paid": "Частично платена",
        "paid": "Платена",
        "overdue": "Просрочена",
        "void": "Анулирана",
    },
}

# what a document shows of its view (and nothing else: see document_content)
_CUSTOMER_FIELDS = ("name", "code", "address", "tax_id")
_INVOICE_FIELDS = (
    "number", "status", "currency", "contract_number", "period_start", "period_end", "issue_date",
    "due_date", "subtotal", "tax", "total", "paid", "credited", "balance", "notes",
)  # fmt: skip
_INVOICE_LINE_FIELDS = (
    "position", "description", "sku", "period_start", "period_end", "quantity", "unit_price",
    "discount_percent", "amount", "tax_percent", "tax_amount",
)  # fmt: skip
_CREDIT_NOTE_FIELDS = (
    "number",
    "invoice_number",
    "currency",
    "issue_date",
    "reason",
    "subtotal",
    "tax",
    "amount",
)
_CREDIT_LINE_FIELDS = ("description", "amount", "tax_percent", "tax_amount")


def company_name() -> str:
    """Our company's name on documents: ``CRM_COMPANY_NAME``, else ``CRM``."""
    return (os.environ.get(COMPANY_ENV) or "").strip() or DEFAULT_COMPANY


def _language_code(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower().replace("_", "-").split("-")[0]


def document_language(view: Mapping[str, Any]) -> str:
    """The document's language (``view["language"]``), else its customer's, else English; a
    language without labels is English (``zh-CN`` counts as ``zh``)."""
    customer = view.get("customer")
    for value in (view.get("language"), customer.get("language") if isinstance(customer, Mapping) else None):
        code = _language_code(value)
        if code is not None:
            return code if code in LABELS else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def _text(value: Any) -> str | None:
    """A value as printed: strings as they are, mappings (a structured address) joined."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        parts = [_text(v) for v in value.values()]
        return ", ".join(p for p in parts if p) or None
    text = str(value).strip()
    return text or None


def _pick(source: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {f: _text(source.get(f)) for f in fields}


def document_content(kind: str, view: Mapping[str, Any]) -> dict[str, Any]:
    """Exactly what the document of ``kind`` (``invoice`` / ``credit_note``) shows of ``view``:
    the input of both the layout and :func:`cache_key` (ids, timestamps, locks are not on it)."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    customer = view.get("customer")
    customer = customer if isinstance(customer, Mapping) else {}
    content: dict[str, Any] = {"kind": kind, "customer": _pick(customer, _CUSTOMER_FIELDS)}
    if not content["customer"]["name"]:
        content["customer"]["name"] = _text(view.get("customer_name"))
    if kind == "invoice":
        content.update(_pick(view, _INVOICE_FIELDS))
        content["lines"] = [_pick(line, _INVOICE_LINE_FIELDS) for line in view.get("lines") or []]
        content["credit_notes"] = [
            _pick(note, ("number", "issue_date", "amount")) for note in view.get("credit_notes") or []
        ]
    else:
        content.update(_pick(view, _CREDIT_NOTE_FIELDS))
        content["lines"] = [_pick(line, _CREDIT_LINE_FIELDS) for line in view.get("lines") or []]
    if not content["number"]:
        content["id"] = _text(view.get("id"))  # a draft is known by its id
    return content


def cache_key(kind: str, view: Mapping[str, Any], language: str, company: str) -> str:
    """SHA-256 (hex) of what the document shows, the layout version, language and company."""
    payload = {
        "layout": LAYOUT_VERSION,
        "language": language,
        "company": company,
        "content": document_content(kind, view),
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------


def _labels(language: str) -> tuple[str, dict[str, str]]:
    language = language if language in LABELS else DEFAULT_LANGUAGE
    return language, LABELS[language]


def _money(amount: str | None, currency: str | None) -> str:
    if amount is None:
        return ""
    return f"{amount} {currency}" if currency else amount


def _span(start: str | None, end: str | None) -> str:
    return f"{start or ''} – {end or ''}" if start or end else ""


def _is_zero(value: str | None) -> bool:
    try:
        return value is None or Decimal(value) == 0
    except InvalidOperation:
        return False


def _days_between(start: str | None, end: str | None) -> int | None:
    try:
        return (dt.date.fromisoformat(str(end)[:10]) - dt.date.fromisoformat(str(start)[:10])).days
    except (TypeError, ValueError):
        return None


def _header(doc: Document, title: str, notice: str | None) -> None:
    doc.title(title)
    if notice:
        doc.paragraph(notice)


def _parties(doc: Document, L: Mapping[str, str], company: str, customer: Mapping[str, Any]) -> None:
    lines = [customer.get("name")]
    for key, label in (("code", "customer_code"), ("tax_id", "tax_id"), ("address", "address")):
        if customer.get(key):
            lines.append(f"{L[label]}: {customer[key]}")
    doc.table(
        [L["seller"], L["customer"]],
        [[company, "\n".join(str(x) for x in lines if x)]],
        widths=[0, 0],
    )


def _document(title: str, number: str, L: Mapping[str, str], company: str) -> Document:
    footer = f"{number}  ·  {L['page']}" if number else L["page"]
    return Document(title=title, author=company, footer=footer, font_size=9)


def invoice_pdf(view: Mapping[str, Any], language: str, company: str) -> bytes:
    """The invoice as PDF bytes: ``view`` is the invoice view of ``get_invoice``."""
    language, L = _labels(language)
    c = document_content("invoice", view)
    currency = c["currency"]
    status = c["status"] or ""
    number = c["number"] or f"{L['draft']} #{c.get('id') or ''}"
    doc = _document(f"{L['invoice']} {number}", number, L, company)
    notice = L["draft_notice"] if status == "draft" else L["void_notice"] if status == "void" else None
    _header(doc, f"{L['invoice']} {number}", notice)
    _parties(doc, L, company, c["customer"])

    details: list[tuple[str, Any]] = [
        (L["number"], number),
        (L["issue_date"], c["issue_date"]),
        (L["due_date"], c["due_date"]),
    ]
    days = _days_between(c["issue_date"], c["due_date"])
    if days is not None and days >= 0:
        details.append((L["payment_terms"], L["payment_terms_value"].format(days=days)))
    if c["contract_number"]:
        details.append((L["contract"], c["contract_number"]))
    if c["period_start"] or c["period_end"]:
        details.append((L["period"], _span(c["period_start"], c["period_end"])))
    details.append((L["currency"], currency))
    details.append((L["status"], STATUS_LABELS[language].get(status, status)))
    doc.key_values(details)

    doc.heading(L["lines"])
    if c["lines"]:
        rows = []
        for i, line in enumerate(c["lines"], start=1):
            description = "\n".join(
                x
                for x in (line["description"], line["sku"], _span(line["period_start"], line["period_end"]))
                if x
            )
            discount = line["discount_percent"]
            rows.append(
                [
                    line["position"] or str(i),
                    description,
                    line["quantity"],
                    line["unit_price"],
                    "" if _is_zero(discount) else discount,
                    line["amount"],
                    line["tax_percent"],
                    line["tax_amount"],
                ]
            )
        code = f" ({currency})" if currency else ""
        header = [
            "#",
            L["description"],
            L["quantity"],
            L["unit_price"] + code,
            L["discount"],
            L["net"] + code,
            L["tax_percent"],
            L["tax"] + code,
        ]
        doc.table(header, rows, widths=[8, 0, 17, 22, 16, 22, 13, 20])
    else:
        doc.paragraph(L["no_lines"])

    totals = [
        (L["subtotal"], _money(c["subtotal"], currency)),
        (L["tax"], _money(c["tax"], currency)),
        (L["total"], _money(c["total"], currency)),
        (L["paid"], _money(c["paid"], currency)),
        (L["credited"], _money(c["credited"], currency)),
        (L["balance_due"], _money(c["balance"], currency)),
    ]
    if doc.pdf.will_page_break(45):  # keep the totals together
        doc.pdf.add_page()
    doc.key_values(totals, key_width=60)

    if c["credit_notes"]:
        doc.heading(L["credit_notes"])
        doc.table(
            [L["number"], L["issue_date"], L["credit_total"]],
            [[n["number"], n["issue_date"], _money(n["amount"], currency)] for n in c["credit_notes"]],
        )
    if c["notes"]:
        doc.heading(L["notes"])
        doc.paragraph(c["notes"])
    return doc.output()


def credit_note_pdf(view: Mapping[str, Any], language: str, company: str) -> bytes:
    """The credit note as PDF bytes: ``view`` is the credit note view of ``get_credit_note``."""
    language, L = _labels(language)
    c = document_content("credit_note", view)
    currency = c["currency"]
    number = c["number"] or f"{L['draft']} #{c.get('id') or ''}"
    doc = _document(f"{L['credit_note']} {number}", number, L, company)
    _header(doc, f"{L['credit_note']} {number}", None)
    _parties(doc, L, company, c["customer"])
    details: list[tuple[str, Any]] = [
        (L["number"], number),
        (L["issue_date"], c["issue_date"]),
        (L["invoice_ref"], c["invoice_number"]),
        (L["currency"], currency),
    ]
    if c["reason"]:
        details.append((L["reason"], c["reason"]))
    doc.key_values(details)

    doc.heading(L["lines"])
    if c["lines"]:
        code = f" ({currency})" if currency else ""
        doc.table(
            ["#", L["description"], L["net"] + code, L["tax_percent"], L["tax"] + code],
            [
                [str(i), line["description"], line["amount"], line["tax_percent"], line["tax_amount"]]
                for i, line in enumerate(c["lines"], start=1)
            ],
            widths=[8, 0, 28, 16, 26],
        )
    else:
        doc.paragraph(L["no_lines"])
    if doc.pdf.will_page_break(25):
        doc.pdf.add_page()
    doc.key_values(
        [
            (L["subtotal"], _money(c["subtotal"], currency)),
            (L["tax"], _money(c["tax"], currency)),
            (L["credit_total"], _money(c["amount"], currency)),
        ],
        key_width=60,
    )
    return doc.output()


__all__: Sequence[str] = (
    "LABELS",
    "LAYOUT_VERSION",
    "STATUS_LABELS",
    "cache_key",
    "company_name",
    "credit_note_pdf",
    "document_content",
    "document_language",
    "invoice_pdf",
)
