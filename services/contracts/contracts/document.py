"""The contract document (PDF): the contract rendered from its template with its filled-in
fields, the parties, the lines, totals, term, billing plan, renewal terms and signatures — in the
template's language, else the customer's (labels in en, zh, tr, bg; English otherwise).

* :func:`render_contract_document` — the use case behind ``render_document`` (reads the contract
  within the caller's scope, renders, returns the file base64-encoded);
* :func:`contract_pdf` — the pure layout: a contract view (:func:`contracts.usecases.contract_view`)
  and its template row → PDF bytes, testable without a database.

Fonts are embedded by :class:`crm_common.pdf.Document` (DejaVu Sans for Latin, Turkish and
Cyrillic, a CJK fallback font for Chinese), so every script shows as text, not boxes. Amounts are
rounded half-up to the currency's minor unit here, where the document is issued.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from crm_common.context import CallerContext
from crm_common.money import quantize
from crm_common.paging import parse_id
from crm_common.pdf import Document, render_off_hub
from sqlalchemy import select

from . import domain, templating
from . import models as m

COMPANY_ENV = "CRM_COMPANY_NAME"
DEFAULT_COMPANY = "CRM"
DEFAULT_LANGUAGE = "en"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "contract": "Contract",
        "number": "Contract number",
        "title": "Title",
        "kind": "Type",
        "status": "Status",
        "version": "Version",
        "parties": "Parties",
        "supplier": "Supplier",
        "customer": "Customer",
        "customer_code": "Customer code",
        "details": "Contract details",
        "currency": "Currency",
        "term": "Term",
        "clauses": "Terms and conditions",
        "template": "Template",
        "fields": "Further details",
        "lines": "Items",
        "col_product": "Product",
        "col_model": "Model",
        "col_serial": "Serial / mfg. no.",
        "col_qty": "Qty",
        "col_unit_price": "Unit price",
        "col_discount": "Disc. %",
        "col_amount": "Amount",
        "col_period": "Period",
        "no_lines": "No items.",
        "totals": "Totals",
        "total_per_period": "Total per billing period",
        "total_once": "Total",
        "term_value": "Contract value over the term",
        "billing": "Billing plan",
        "frequency": "Billing frequency",
        "billing_timing": "Invoiced",
        "in_advance": "in advance (at the start of each period)",
        "in_arrears": "in arrears (at the end of each period)",
        "payment_terms": "Payment terms",
        "payment_terms_value": "{days} days after the invoice date",
        "anchor_day": "Billing day of the month",
        "renewal": "Renewal",
        "auto_renew": "Automatic renewal",
        "yes": "Yes",
        "no": "No",
        "notice": "Notice period",
        "days": "{days} days",
        "notice_deadline": "Last day to give notice",
        "uplift": "Price change on renewal",
        "percent": "{percent} %",
        "next_term": "Next term",
        "termination_date": "Termination date",
        "status_reason": "Reason",
        "signatures": "Signatures",
        "signer": "Signer",
        "signer_title": "Position",
        "signed_on": "Signed on",
        "for_party": "For {party}",
        "signature": "Signature",
        "date": "Date",
        "name": "Name",
        "draft_notice": "Draft — not valid until approved and signed",
    },
    "zh": {
        "contract": "合同",
        "number": "合同编号",
        "title": "合同名称",
        "kind": "合同类型",
        "status": "状态",
        "version": "版本",
        "parties": "合同双方",
        "supplier": "供方",
        "customer": "客户",
        "customer_code": "客户编号",
        "details": "合同信息",
        "currency": "币种",
        "term": "合同期限",
        "clauses": "合同条款",
        "template": "模板",
        "fields": "其他信息",
        "lines": "合同明细",
        "col_product": "产品",
        "col_model": "型号",
        "col_serial": "序列号 / 出厂编号",
        "col_qty": "数量",
        "col_unit_price": "单价",
        "col_discount": "折扣 %",
        "col_amount": "金额",
        "col_period": "期间",
        "no_lines": "无明细。",
        "totals": "金额合计",
        "total_per_period": "每个结算周期合计",
        "total_once": "合计",
        "term_value": "合同期内总金额",
        "billing": "结算计划",
        "frequency": "结算频率",
        "billing_timing": "开票方式",
        "in_advance": "预付（每期期初开票）",
        "in_arrears": "后付（每期期末开票）",
        "payment_terms": "付款期限",
        "payment_terms_value": "开票后 {days} 天内",
        "anchor_day": "每月结算日",
        "renewal": "续约条款",
        "auto_renew": "自动续约",
        "yes": "是",
        "no": "否",
        "notice": "通知期",
        "days": "{days} 天",
        "notice_deadline": "最迟通知日期",
        "uplift": "续约调价",
        "percent": "{percent}%",
        "next_term": "下一合同期限",
        "termination_date": "终止日期",
        "status_reason": "原因",
        "signatures": "签署",
        "signer": "签署人",
        "signer_title": "职务",
        "signed_on": "签署日期",
        "for_party": "{party}（盖章）",
        "signature": "签字",
        "date": "日期",
        "name": "姓名",
        "draft_notice": "草稿：经审批并签署后方可生效",
    },
    "tr": {
        "contract": "Sözleşme",
        "number": "Sözleşme no",
        "title": "Başlık",
        "kind": "Sözleşme türü",
        "status": "Durum",
        "version": "Sürüm",
        "parties": "Taraflar",
        "supplier": "Tedarikçi",
        "customer": "Müşteri",
        "customer_code": "Müşteri kodu",
        "details": "Sözleşme bilgileri",
        "currency": "Para birimi",
        "term": "Sözleşme süresi",
        "clauses": "Hüküm ve koşullar",
        "template": "Şablon",
        "fields": "Diğer bilgiler",
        "lines": "Kalemler",
        "col_product": "Ürün",
        "col_model": "Model",
        "col_serial": "Seri / üretim no",
        "col_qty": "Miktar",
        "col_unit_price": "Birim fiyat",
        "col_discount": "İnd. %",
        "col_amount": "Tutar",
        "col_period": "Dönem",
        "no_lines": "Kalem yok.",
        "totals": "Toplamlar",
        "total_per_period": "Fatura dönemi başına toplam",
        "total_once": "Toplam",
        "term_value": "Sözleşme süresince toplam değer",
        "billing": "Faturalama planı",
        "frequency": "Faturalama sıklığı",
        "billing_timing": "Faturalama",
        "in_advance": "peşin (her dönemin başında)",
        "in_arrears": "dönem sonunda (her dönemin sonunda)",
        "payment_terms": "Ödeme vadesi",
        "payment_terms_value": "fatura tarihinden itibaren {days} gün",
        "anchor_day": "Ayın faturalama günü",
        "renewal": "Yenileme",
        "auto_renew": "Otomatik yenileme",
        "yes": "Evet",
        "no": "Hayır",
        "notice": "İhbar süresi",
        "days": "{days} gün",
        "notice_deadline": "Son ihbar tarihi",
        "uplift": "Yenilemede fiyat değişikliği",
        "percent": "%{percent}",
        "next_term": "Sonraki dönem",
        "termination_date": "Fesih tarihi",
        "status_reason": "Gerekçe",
        "signatures": "İmzalar",
        "signer": "İmzalayan",
        "signer_title": "Unvan",
        "signed_on": "İmza tarihi",
        "for_party": "{party} adına",
        "signature": "İmza",
        "date": "Tarih",
        "name": "Ad soyad",
        "draft_notice": "Taslak — onaylanıp imzalanana kadar geçersizdir",
    },
    "bg": {
        "contract": "Договор",
        "number": "Номер на договора",
        "title": "Заглавие",
        "kind": "Вид договор",
        "status": "Статус",
        "version": "Версия",
        "parties": "Страни",
        "supplier": "Доставчик",
        "customer": "Клиент",
        "customer_code": "Код на клиента",
        "details": "Данни за договора",
        "currency": "Валута",
        "term": "Срок на договора",
        "clauses": "Общи условия",
        "template": "Шаблон",
        "fields": "Допълнителни данни",
        "lines": "Позиции",
        "col_product": "Продукт",
        "col_model": "Модел",
        "col_serial": "Сериен / фабр. №",
        "col_qty": "Кол.",
        "col_unit_price": "Ед. цена",
        "col_discount": "Отст. %",
        "col_amount": "Сума",
        "col_period": "Период",
        "no_lines": "Няма позиции.",
        "totals": "Суми",
        "total_per_period": "Общо за период на фактуриране",
        "total_once": "Общо",
        "term_value": "Стойност за целия срок",
        "billing": "План за фактуриране",
        "frequency": "Честота на фактуриране",
        "billing_timing": "Фактуриране",
        "in_advance": "авансово (в началото на всеки период)",
        "in_arrears": "след изтичане (в края на всеки период)",
        "payment_terms": "Срок за плащане",
        "payment_terms_value": "{days} дни от датата на фактурата",
        "anchor_day": "Ден от месеца за фактуриране",
        "renewal": "Подновяване",
        "auto_renew": "Автоматично подновяване",
        "yes": "Да",
        "no": "Не",
        "notice": "Срок на предизвестие",
        "days": "{days} дни",
        "notice_deadline": "Последен ден за предизвестие",
        "uplift": "Промяна на цената при подновяване",
        "percent": "{percent} %",
        "next_term": "Следващ срок",
        "termination_date": "Дата на прекратяване",
        "status_reason": "Причина",
        "signatures": "Подписи",
        "signer": "Подписал",
        "signer_title": "Длъжност",
        "signed_on": "Дата на подписване",
        "for_party": "За {party}",
        "signature": "Подпис",
        "date": "Дата",
        "name": "Име",
        "draft_notice": "Чернова — не е валидна преди одобрение и подписване",
    },
}

KIND_LABELS: dict[str, dict[str, str]] = {
    "en": {"sales": "Sales", "maintenance": "Maintenance", "lease": "Lease", "service": "Service"},
    "zh": {"sales": "销售合同", "maintenance": "维保合同", "lease": "租赁合同", "service": "服务合同"},
    "tr": {"sales": "Satış", "maintenance": "Bakım", "lease": "Kiralama", "service": "Hizmet"},
    "bg": {"sales": "Продажба", "maintenance": "Поддръжка", "lease": "Лизинг", "service": "Услуга"},
}

STATUS_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "draft": "Draft",
        "pending_approval": "Pending approval",
        "approved": "Approved",
        "active": "Active",
        "expired": "Expired",
        "terminated": "Terminated",
        "renewed": "Renewed",
        "cancelled": "Cancelled",
    },
    "zh": {
        "draft": "草稿",
        "pending_approval": "待审批",
        "approved": "已批准",
        "active": "生效中",
        "expired": "已到期",
        "terminated": "已终止",
        "renewed": "已续约",
        "cancelled": "已取消",
    },
    "tr": {
        "draft": "Taslak",
        "pending_approval": "Onay bekliyor",
        "approved": "Onaylandı",
        "active": "Yürürlükte",
        "expired": "Süresi doldu",
        "terminated": "Feshedildi",
        "renewed": "Yenilendi",
        "cancelled": "İptal edildi",
    },
    "bg": {
        "draft": "Чернова",
        "pending_approval": "Чака одобрение",
        "approved": "Одобрен",
        "active": "Действащ",
        "expired": "Изтекъл",
        "terminated": "Прекратен",
        "renewed": "Подновен",
        "cancelled": "Анулиран",
    },
}

FREQUENCY_LABELS: dict[str, dict[str, str]] = {
    "en": {"once": "One-off", "monthly": "Monthly", "quarterly": "Quarterly", "yearly": "Yearly"},
    "zh": {"once": "一次性", "monthly": "按月", "quarterly": "按季度", "yearly": "按年"},
    "tr": {"once": "Tek seferlik", "monthly": "Aylık", "quarterly": "Üç aylık", "yearly": "Yıllık"},
    "bg": {"once": "Еднократно", "monthly": "Месечно", "quarterly": "Тримесечно", "yearly": "Годишно"},
}

DRAFT_STATUSES = (domain.DRAFT, domain.PENDING)


def document_language(view: Mapping[str, Any], template: Mapping[str, Any] | None) -> str:
    """The template's language when the contract has a template, else the customer's; English
    when that language has no labels."""
    candidates = [template.get("language") if template else None]
    customer = view.get("customer") or {}
    candidates.append(customer.get("language") if isinstance(customer, Mapping) else None)
    for code in candidates:
        if isinstance(code, str) and code.strip().lower() in LABELS:
            return code.strip().lower()
    return DEFAULT_LANGUAGE


def company_name() -> str:
    return (os.environ.get(COMPANY_ENV) or "").strip() or DEFAULT_COMPANY


# --------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, (bool, float)):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _num(value: Any, language: str) -> str:
    """A quantity or percentage: exact, without trailing zeros (``2.000000`` → ``2``)."""
    d = _dec(value)
    return "" if d is None else templating.format_decimal(d.normalize(), language)


def _price(value: Any, currency: str | None, language: str) -> str:
    """A unit price: exact (a price is never rounded), at least the currency's minor unit."""
    d = _dec(value)
    if d is None:
        return ""
    return templating.format_decimal(Decimal(templating.amount_text(d, currency or "EUR")), language)


def _money(value: Any, currency: str | None, language: str, with_code: bool = True) -> str:
    """An amount as issued: rounded half-up to the currency's minor unit (with its code)."""
    d = _dec(value)
    if d is None:
        return ""
    if with_code:
        return templating.format_money(d, currency, language)
    return templating.format_decimal(quantize(d, currency) if currency else d, language)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _iso(value: Any) -> str:
    d = _date(value)
    return d.isoformat() if d else ("" if value is None else str(value))


def _span(start: Any, end: Any) -> str:
    a, b = _iso(start), _iso(end)
    return f"{a} – {b}" if a or b else ""


def _join(*parts: Any, sep: str = "\n") -> str:
    return sep.join(str(p) for p in parts if p not in (None, ""))


def _line_rows(view: Mapping[str, Any], language: str) -> list[list[str]]:
    currency = view.get("currency")
    rows = []
    for i, line in enumerate(view.get("lines") or [], start=1):
        position = line.get("position") or i
        rows.append(
            [
                str(position),
                _join(line.get("product_name"), line.get("sku"), line.get("description")),
                _join(line.get("model"), line.get("manufacturer")),
                _join(line.get("serial_number"), line.get("manufacturing_number")),
                _num(line.get("quantity"), language),
                _price(line.get("unit_price"), currency, language),
                _num(line.get("discount_percent"), language),
                _money(line.get("amount"), currency, language, with_code=False),
                _span(
                    line.get("start_date") or view.get("start_date"),
                    line.get("end_date") or view.get("end_date"),
                ),
            ]
        )
    return rows


def _renewal_pairs(view: Mapping[str, Any], L: Mapping[str, str], language: str) -> list[tuple[str, str]]:
    auto = bool(view.get("auto_renew"))
    notice_days = view.get("notice_days") or 0
    pairs: list[tuple[str, str]] = [(L["auto_renew"], L["yes"] if auto else L["no"])]
    pairs.append((L["notice"], L["days"].format(days=notice_days)))
    start, end = _date(view.get("start_date")), _date(view.get("end_date"))
    if end is not None and notice_days:
        pairs.append((L["notice_deadline"], domain.notice_deadline(end, int(notice_days)).isoformat()))
    if auto:
        uplift = _dec(view.get("renewal_uplift_percent"))
        pairs.append((L["uplift"], L["percent"].format(percent=_num(uplift or 0, language))))
        if start is not None and end is not None:
            nxt_start, nxt_end = domain.next_term(start, end)
            pairs.append((L["next_term"], _span(nxt_start, nxt_end)))
    return pairs


def contract_pdf(
    view: Mapping[str, Any], template: Mapping[str, Any] | None, language: str, company: str
) -> bytes:
    """The contract document as PDF bytes: ``view`` is the contract's public JSON (with lines),
    ``template`` its template row (``None``: the standard layout without clauses), ``language``
    one of :data:`LABELS` (else English), ``company`` our company's name."""
    language = language if language in LABELS else DEFAULT_LANGUAGE
    L = LABELS[language]
    currency = view.get("currency") or None
    number = str(view.get("number") or view.get("id") or "")
    status = str(view.get("status") or "")
    customer = view.get("customer") or {}
    customer_name = customer.get("name") if isinstance(customer, Mapping) else None
    customer_name = customer_name or view.get("customer_name") or ""
    footer = _join(f"{L['contract']} {number}", f"{L['version']} {view.get('version') or 0}", sep="  ·  ")
    doc = Document(title=f"{L['contract']} {number}", author=company, footer=footer, font_size=9)

    doc.title(_join(f"{L['contract']} {number}", view.get("title"), sep="\n"))
    if status in DRAFT_STATUSES:
        doc.paragraph(L["draft_notice"])

    doc.heading(L["parties"])
    supplier = company
    own_unit = view.get("company")
    if own_unit and own_unit != company:
        supplier = f"{company} — {own_unit}"
    parties = [(L["supplier"], supplier), (L["customer"], customer_name)]
    if isinstance(customer, Mapping) and customer.get("code"):
        parties.append((L["customer_code"], customer["code"]))
    doc.key_values(parties)

    doc.heading(L["details"])
    details = [
        (L["number"], number),
        (L["kind"], KIND_LABELS[language].get(str(view.get("kind")), view.get("kind"))),
        (L["status"], STATUS_LABELS[language].get(status, status)),
        (L["version"], view.get("version") or 0),
        (L["currency"], currency),
        (L["term"], _span(view.get("start_date"), view.get("end_date"))),
    ]
    if view.get("termination_date"):
        details.append((L["termination_date"], _iso(view.get("termination_date"))))
    if view.get("status_reason"):
        details.append((L["status_reason"], view.get("status_reason")))
    doc.key_values(details)

    field_values = view.get("field_values") or {}
    if template is not None:
        fields = list(template.get("fields") or [])
        heading = L["clauses"]
        doc.heading(heading)
        clauses = str(template.get("body") or "").replace("\r\n", "\n").replace("\r", "\n")
        body = templating.render(clauses, fields, field_values, language, currency)
        for paragraph in re.split(r"\n\s*\n", body.strip()):
            doc.paragraph(paragraph.strip("\n"))
        doc.paragraph(
            f"{L['template']}: {template.get('name') or ''} · {template.get('language') or ''} · "
            f"{L['version']} {template.get('version') or ''}"
        )
    elif field_values:
        doc.heading(L["fields"])
        doc.key_values(
            [(str(k), v if isinstance(v, str) else str(v)) for k, v in sorted(field_values.items())]
        )

    doc.heading(L["lines"])
    rows = _line_rows(view, language)
    if rows:
        code = f" ({currency})" if currency else ""
        header = [
            "#",
            L["col_product"],
            L["col_model"],
            L["col_serial"],
            L["col_qty"],
            L["col_unit_price"] + code,
            L["col_discount"],
            L["col_amount"] + code,
            L["col_period"],
        ]
        doc.table(header, rows, widths=[7, 0, 22, 25, 14, 20, 12, 22, 24])
    else:
        doc.paragraph(L["no_lines"])

    doc.heading(L["totals"])
    billing = view.get("billing") or {}
    frequency = str(billing.get("frequency") or "once")
    total_label = L["total_once"] if frequency == "once" else L["total_per_period"]
    totals = [(total_label, _money(view.get("total"), currency, language))]
    if frequency != "once":
        totals.append((L["term_value"], _money(view.get("term_value"), currency, language)))
    doc.key_values(totals, key_width=70)

    doc.heading(L["billing"])
    plan = [
        (L["frequency"], FREQUENCY_LABELS[language].get(frequency, frequency)),
        (L["billing_timing"], L["in_advance"] if billing.get("in_advance", True) else L["in_arrears"]),
        (L["payment_terms"], L["payment_terms_value"].format(days=billing.get("payment_terms_days") or 0)),
    ]
    if billing.get("anchor_day"):
        plan.append((L["anchor_day"], billing["anchor_day"]))
    doc.key_values(plan, key_width=70)

    doc.heading(L["renewal"])
    doc.key_values(_renewal_pairs(view, L, language), key_width=70)

    if doc.pdf.will_page_break(45):  # keep the signature block whole, with its heading
        doc.pdf.add_page()
    doc.heading(L["signatures"])
    signer_lines = [
        (L["name"], _join(view.get("signer"), view.get("signer_title"), sep=", ")),
        (L["signed_on"], _iso(view.get("signed_on"))),
        (L["signature"], ""),
    ]
    own_lines = [(L["name"], ""), (L["date"], ""), (L["signature"], "")]
    doc.table(
        [L["for_party"].format(party=company), L["for_party"].format(party=customer_name)],
        [[f"{a}: {b}", f"{c}: {d}"] for (a, b), (c, d) in zip(own_lines, signer_lines, strict=True)],
    )
    return doc.output()


# --------------------------------------------------------------------------------------
# Use case
# --------------------------------------------------------------------------------------


def _template_row(s: Any, template_id: Any) -> dict[str, Any] | None:
    if template_id is None:
        return None
    row = s.execute(select(m.templates).where(m.templates.c.id == template_id)).mappings().first()
    return dict(row) if row is not None else None


def render_contract_document(db: Any, caller: CallerContext | None, contract_id: Any) -> dict[str, Any]:
    """``GET /contracts/{id}/document.pdf``: the contract in the caller's scope (404 outside
    it) rendered from its template (even a deactivated one) → ``{"filename", "content_type",
    "data" (base64), "sha256", "language"}``."""
    from . import usecases  # the lead's module; imported here so this one loads without it

    access = domain.read_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    with db.read() as s:
        row = usecases.visible_contract(s, contract_id, access)
        lines = usecases.lines_of(s, [contract_id]).get(contract_id, [])
        view = usecases.contract_view(s, row, lines)
        template = _template_row(s, row.get("template_id"))
    language = document_language(view, template)
    data = render_off_hub(contract_pdf, view, template, language, company_name())
    return {
        "filename": f"{_safe_filename(str(view.get('number') or contract_id))}.pdf",
        "content_type": "application/pdf",
        "data": base64.b64encode(data).decode("ascii"),
        "sha256": hashlib.sha256(data).hexdigest(),
        "language": language,
    }


def _safe_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "contract"


__all__: Sequence[str] = (
    "FREQUENCY_LABELS",
    "KIND_LABELS",
    "LABELS",
    "STATUS_LABELS",
    "contract_pdf",
    "document_language",
    "render_contract_document",
)
