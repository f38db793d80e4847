"""The contract document: a real PDF whose text (extracted with pypdf, as a reader's copy and
paste would) shows the parties, lines, totals, filled-in clauses and labels in the document's
language — Chinese, Turkish and Bulgarian as text in embedded fonts, not boxes — and the use
case behind ``GET /contracts/{id}/document.pdf`` on a real SQLite database."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
from decimal import Decimal

import pytest
from contracts import document
from contracts import models as m
from crm_common.db import DatabaseHandle, WorkerDatabase, utcnow
from crm_common.errors import NotFound, PermissionDenied, ValidationFailed
from crm_common.testing import new_caller
from sqlalchemy import insert

pypdf = pytest.importorskip("pypdf")

TEMPLATE = {
    "id": 7,
    "name": "Bakım sözleşmesi",
    "language": "tr",
    "version": 3,
    "body": (
        "MADDE 1 — Konu\n\nTedarikçi, {{ site }} adresindeki cihazların bakımını yapar.\n\n"
        "MADDE 2 — Ücret\n\nZiyaret başına ücret {{ fee }}; yılda {{ visits }} ziyaret; "
        "ilk ziyaret {{ first_visit }}. Not: {{ note }}"
    ),
    "fields": [
        {"name": "site", "type": "text", "required": True},
        {"name": "fee", "type": "money", "required": True},
        {"name": "visits", "type": "number", "required": False},
        {"name": "first_visit", "type": "date", "required": False},
        {"name": "note", "type": "text", "required": False},
    ],
    "active": True,
}


def make_line(position: int, **overrides) -> dict:
    line = {
        "id": position,
        "position": position,
        "product_id": 10 + position,
        "sku": f"SKU-{position}",
        "product_name": "Laser printer",
        "product_kind": "device",
        "category": "Devices",
        "model": "LJ-200",
        "manufacturer": "Acme",
        "serial_number": None,
        "manufacturing_number": None,
        "description": None,
        "quantity": "1",
        "unit_price": "100.00",
        "discount_percent": "0",
        "amount": "100.00",
        "price_source": "manual",
        "start_date": None,
        "end_date": None,
    }
    line.update(overrides)
    return line


def make_view(**overrides) -> dict:
    view = {
        "id": 1,
        "number": "C-2026-000042",
        "status": "active",
        "version": 2,
        "customer_id": 5,
        "customer": {"id": 5, "name": "İzmir Güneş Makine A.Ş.", "code": "C000005", "language": "tr"},
        "kind": "maintenance",
        "title": "Yıllık bakım",
        "currency": "EUR",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "signer": "Ayşe Çelik",
        "signer_title": "Genel Müdür",
        "signed_on": "2025-12-20",
        "billing": {"frequency": "quarterly", "in_advance": True, "payment_terms_days": 30, "anchor_day": None},
        "auto_renew": True,
        "notice_days": 60,
        "renewal_uplift_percent": "3.5",
        "owner_id": 3,
        "department": "east",
        "company": None,
        "template_id": 7,
        "field_values": {"site": "Karşıyaka şubesi", "fee": "1250.5", "visits": "4", "first_visit": "2026-02-01"},
        "total": "2525.50",
        "term_value": "10102.00",
        "amounts_locked": False,
        "renewal_of_id": None,
        "renewed_by_id": None,
        "status_reason": None,
        "termination_date": None,
        "created_at": "2025-12-01T10:00:00+00:00",
        "updated_at": "2025-12-01T10:00:00+00:00",
        "lines": [
            make_line(
                1,
                product_name="激光打印机 Лазерен принтер",
                model="LJ-İ200",
                manufacturer="Şahin Elektronik",
                serial_number="SN-ÇĞ-001",
                manufacturing_number="MFG-0001",
                quantity="2",
                unit_price="1200.125",
                discount_percent="5",
                amount="2280.2375",
                end_date="2026-06-30",
            ),
            make_line(2, product_name="Поддръжка на място", sku="SVC-1", quantity="1.5", unit_price="163.50",
                      amount="245.25", description="Посещение на техник"),
        ],
    }  # fmt: skip
    view.update(overrides)
    return view


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def squash(text: str) -> str:
    """Table cells wrap: compare without whitespace."""
    return "".join(text.split())


def embedded_fonts(data: bytes) -> set[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    names = set()
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            names.add(str(font["/BaseFont"]))
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, "font not embedded"
    return names


def test_contracts_document_shows_parties_lines_clauses_and_totals_in_turkish():
    data = document.contract_pdf(make_view(), TEMPLATE, "tr", "Örnek Teknoloji Ltd. Şti.")
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    flat = squash(text)
    for expected in (
        "Sözleşme C-2026-000042",
        "Örnek Teknoloji Ltd. Şti.",  # our company (the supplier)
        "İzmir Güneş Makine A.Ş.",  # the customer
        "Hüküm ve koşullar",
        "Karşıyaka şubesi adresindeki cihazların bakımını yapar",  # a filled-in clause
        "Ziyaret başına ücret 1.250,50 EUR; yılda 4 ziyaret; ilk ziyaret 2026-02-01",
        "Not: ________",  # an optional field left empty is a blank to fill by hand
        "Yürürlükte",  # status active
        "Üç aylık",  # quarterly
        "Ayşe Çelik, Genel Müdür",
        "2027-01-01 – 2027-12-31",  # the next term of an auto-renewing contract
        "%3,5",
    ):
        assert expected in text, expected
    for expected in (
        "激光打印机",
        "Лазеренпринтер",
        "LJ-İ200",
        "ŞahinElektronik",
        "SN-ÇĞ-001",
        "MFG-0001",
        "1.200,125",  # a unit price is exact, never rounded
        "2.280,24",  # an amount is rounded where the document is issued
        "2026-01-01–2026-06-30",  # the line's own end
        "Поддръжканамясто",
        "Посещениенатехник",
        "1,5",
        "2.525,50EUR",  # total per billing period
        "10.102,00EUR",  # term value
    ):
        assert expected in flat, expected


def test_contracts_document_embeds_the_text_and_cjk_fonts():
    data = document.contract_pdf(make_view(), TEMPLATE, "zh", "CRM")
    fonts = " ".join(embedded_fonts(data))
    assert "DejaVu" in fonts
    assert "Droid" in fonts or "Noto" in fonts


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("zh", ["合同条款", "合同明细", "金额合计", "结算计划", "续约条款", "签署", "按季度", "生效中"]),
        ("bg", ["Общи условия", "Позиции", "Суми", "План за фактуриране", "Подновяване", "Тримесечно"]),
        ("en", ["Terms and conditions", "Items", "Totals", "Billing plan", "Renewal", "Quarterly"]),
        ("tr", ["Hüküm ve koşullar", "Kalemler", "Toplamlar", "Faturalama planı", "Yenileme"]),
    ],
)
def test_contracts_document_labels_follow_the_language(language, labels):
    customer = {"id": 5, "name": "北京科技有限公司", "code": None, "language": "zh"}
    text = pdf_text(document.contract_pdf(make_view(customer=customer), TEMPLATE, language, "CRM"))
    for label in labels:
        assert label in text, label
    assert "北京科技有限公司" in text


def test_contracts_document_without_template_has_the_standard_layout_without_clauses():
    view = make_view(
        template_id=None,
        field_values={},
        customer={"id": 9, "name": "София Принт ООД", "code": "C000009", "language": "bg"},
        billing={"frequency": "once", "in_advance": False, "payment_terms_days": 14, "anchor_day": None},
        auto_renew=False,
        notice_days=0,
        status="draft",
        signer=None,
        signer_title=None,
        signed_on=None,
    )
    text = pdf_text(document.contract_pdf(view, None, "bg", "CRM"))
    assert "Общи условия" not in text and "MADDE" not in text
    assert "София Принт ООД" in text
    assert "Чернова — не е валидна преди одобрение и подписване" in text
    assert "Еднократно" in text and "14 дни от датата на фактурата" in text
    assert "Стойност за целия срок" not in text  # a one-off contract has no per-period total
    assert "Общо 2 525,50 EUR" in text.replace("\u00a0", " ")
    assert "Автоматично подновяване Не" in text


def test_contracts_document_language_is_the_templates_else_the_customers_else_english():
    view = make_view()
    assert document.document_language(view, {"language": "zh"}) == "zh"
    assert document.document_language(view, None) == "tr"
    assert document.document_language(make_view(customer={"name": "x", "language": "de"}), None) == "en"
    assert document.document_language(make_view(customer={"name": "x", "language": None}), None) == "en"


def test_contracts_every_language_has_every_label():
    for table in (document.LABELS, document.KIND_LABELS, document.STATUS_LABELS, document.FREQUENCY_LABELS):
        keys = set(table["en"])
        assert set(table) == {"en", "zh", "tr", "bg"}
        for language, labels in table.items():
            assert set(labels) == keys, language


# -- the use case, on a database -----------------------------------------------------------


@pytest.fixture
def db(sqlite_url):
    handle = DatabaseHandle("contracts", m.metadata, sqlite_url)
    handle.create_all()
    yield handle
    handle.dispose()


def insert_contract(db, template_id=None, owner_id=3, customer_id=5, status="active", language="bg") -> int:
    now = utcnow()
    with db.transaction() as uow:
        cid = uow.session.execute(
            insert(m.contracts)
            .values(
                number=f"C-2026-{owner_id:03d}{customer_id:03d}",
                customer_id=customer_id,
                customer_name="София Принт ООД",
                customer_code="C000005",
                customer_language=language,
                kind="lease",
                title="Лизинг на принтери",
                currency="BGN",
                start_date=dt.date(2026, 1, 1),
                end_date=dt.date(2026, 12, 31),
                payment_terms_days=30,
                billing_frequency="monthly",
                billing_in_advance=True,
                auto_renew=False,
                notice_days=30,
                renewal_uplift_percent=Decimal("0"),
                owner_id=owner_id,
                template_id=template_id,
                field_values={"site": "Пловдив"} if template_id else {},
                status=status,
                version=1,
                total=Decimal("300"),
                amounts_locked=False,
                created_at=now,
                updated_at=now,
            )
            .returning(m.contracts.c.id)
        ).scalar_one()
        uow.session.execute(
            insert(m.contract_lines).values(
                contract_id=cid,
                position=1,
                product_id=10,
                sku="PRN-1",
                product_name="Принтер 彩色",
                serial_number="SN-77",
                quantity=Decimal("3"),
                unit_price=Decimal("100"),
                discount_percent=Decimal("0"),
                amount=Decimal("300"),
                created_at=now,
                updated_at=now,
            )  # fmt: skip
        )
    return cid


def insert_template(db, language="zh", active=False) -> int:
    with db.transaction() as uow:
        return uow.session.execute(
            insert(m.templates)
            .values(
                name="租赁合同",
                name_key="租赁合同",
                language=language,
                version=1,
                body="第一条 设备安装地点：{{ site }}。",
                fields=[{"name": "site", "type": "text", "required": True}],
                active=active,
                created_at=utcnow(),
            )  # fmt: skip
            .returning(m.templates.c.id)
        ).scalar_one()


def render(db, caller, contract_id):
    return document.render_contract_document(WorkerDatabase(db, caller, None), caller, contract_id)


def test_contracts_render_document_returns_the_pdf_in_the_customers_language(db, monkeypatch):
    monkeypatch.setenv("CRM_COMPANY_NAME", "Пример ЕООД")
    cid = insert_contract(db)
    out = render(db, new_caller("sales_rep", user_id=3), cid)
    assert out["filename"] == "C-2026-003005.pdf"
    assert out["content_type"] == "application/pdf" and out["language"] == "bg"
    data = base64.b64decode(out["data"])
    assert hashlib.sha256(data).hexdigest() == out["sha256"]
    text = pdf_text(data)
    assert "Пример ЕООД" in text and "София Принт ООД" in text and "Лизинг на принтери" in text
    assert "Принтер 彩色" in text and "SN-77" in text
    assert "300,00 BGN" in text.replace("\u00a0", " ")


def test_contracts_render_document_uses_its_template_even_when_deactivated(db, monkeypatch):
    monkeypatch.delenv("CRM_COMPANY_NAME", raising=False)
    cid = insert_contract(db, template_id=insert_template(db, "zh", active=False))
    out = render(db, new_caller("readonly", user_id=9), str(cid))
    assert out["language"] == "zh"  # the template's language wins over the customer's
    text = pdf_text(base64.b64decode(out["data"]))
    assert "第一条 设备安装地点：Пловдив。" in text
    assert "合同条款" in text and "CRM" in text


def test_contracts_render_document_respects_the_callers_scope(db):
    cid = insert_contract(db, owner_id=3, customer_id=5)
    draft = insert_contract(db, owner_id=4, customer_id=5, status="draft")
    with pytest.raises(NotFound):
        render(db, new_caller("sales_rep", user_id=4), cid)  # another rep's contract
    with pytest.raises(NotFound):
        render(db, new_caller("sales_rep", user_id=3), 99999)
    with pytest.raises(PermissionDenied):
        render(db, None, cid)
    portal = new_caller("portal", user_id=20)
    portal = type(portal)(**{**portal.__dict__, "customer_id": 5})
    assert render(db, portal, cid)["filename"].endswith(".pdf")
    with pytest.raises(NotFound):
        render(db, portal, draft)  # portal users never see drafts


# -- through the service: a contract filled from a template, then its document --------------


def test_contracts_contract_filled_from_a_template_renders_its_clauses_through_the_service(
    manager, admin, rep, create_contract
):
    template = manager.create_template(TEMPLATE_IN)
    contract = create_contract(
        template_id=template["id"],
        field_values={
            "site": "  Kadıköy deposu ",
            "fee": {"amount": "1250.5", "currency": "EUR"},
            "visits": 4,
        },
    )
    assert contract["template_id"] == template["id"]
    assert contract["field_values"] == {"site": "Kadıköy deposu", "fee": "1250.50", "visits": "4"}
    out = rep.render_document(contract["id"])
    assert out["language"] == "tr" and out["filename"] == f"{contract['number']}.pdf"
    text = pdf_text(base64.b64decode(out["data"]))
    assert "Tedarikçi, Kadıköy deposu adresindeki cihazların bakımını yapar." in text
    assert "Ziyaret başına ücret 1.250,50 EUR; yılda 4 ziyaret; ilk ziyaret ________." in text
    assert "Ankara Makine A.Ş." in text  # the customer, as the contract took it over

    # a deactivated template fills no new contract, but the existing one still renders
    admin.deactivate_template(template["id"])
    with pytest.raises(ValidationFailed) as err:
        create_contract(template_id=template["id"], field_values={"site": "x", "fee": "1"})
    assert err.value.details["template_id"] == ["unknown template"]
    assert rep.render_document(contract["id"])["sha256"]


def test_contracts_bad_field_values_are_422_naming_each_field_through_the_service(manager, create_contract):
    template = manager.create_template(TEMPLATE_IN)
    with pytest.raises(ValidationFailed) as err:
        create_contract(
            template_id=template["id"],
            field_values={"fee": {"amount": "10", "currency": "USD"}, "visits": 2.5, "colour": "red"},
        )
    details = err.value.details
    assert details["field_values.site"] == ["required"]
    assert details["field_values.fee"] == ["must be in EUR"]
    assert "floats are not accepted" in details["field_values.visits"][0]
    assert details["field_values.colour"] == ["not a field of the template"]


TEMPLATE_IN = {
    "name": "Bakım sözleşmesi",
    "language": "tr",
    "body": TEMPLATE["body"],
    "fields": TEMPLATE["fields"],
}
