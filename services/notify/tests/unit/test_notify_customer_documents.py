"""Documents the customer receives (issue 17 §5): the invoice e-mail to a customer's contact
carries the invoice PDF and an absolute link into the customer portal built from
``CRM_PUBLIC_URL``; inbox titles and e-mails are in the recipient's language and name documents
by their numbers. E-mail goes to a real SMTP server (aiosmtpd in its own process)."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
import time
import uuid

import pytest
from crm_common.pdf import Document
from crm_common.testing import free_port, new_caller
from notify import channels, documents, domain
from notify import models as m
from notify.delivery import DeliverySettings, DeliveryWorker
from sqlalchemy import select

SINK = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration", "smtp_sink.py"
)
PUBLIC = "https://crm.example.test"


def rows(db, table, *where):
    with db.read() as s:
        return [dict(r) for r in s.execute(select(table).where(*where).order_by(table.c.id)).mappings()]


class Sink:
    """aiosmtpd in its own process (its asyncio loop stays out of the eventlet-patched tests)."""

    def __init__(self, tmp_path):
        self.dir = tmp_path / f"mail-{uuid.uuid4().hex[:6]}"
        self.dir.mkdir()
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, SINK, str(self.port), str(self.dir)])
        deadline = time.monotonic() + 20
        while not (self.dir / ".ready").exists():
            assert time.monotonic() < deadline, "SMTP sink did not start"
            time.sleep(0.05)

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(self.dir.glob("*.eml"), key=lambda p: int(p.stem))
        ]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def smtp(tmp_path):
    sink = Sink(tmp_path)
    yield sink
    sink.close()


@pytest.fixture(autouse=True)
def public_url(monkeypatch):
    monkeypatch.setenv("CRM_PUBLIC_URL", PUBLIC + "/")  # a trailing slash is dropped


def invoice_pdf() -> bytes:
    doc = Document(title="Фактура INV-2026-000017", footer="INV-2026-000017")
    doc.title("Фактура INV-2026-000017")
    doc.paragraph("Пловдив АД")
    return doc.output()


INVOICE = {
    "id": 17,
    "invoice_id": 17,
    "number": "INV-2026-000017",
    "invoice_number": "INV-2026-000017",
    "customer_id": 6,
    "customer_name": "Пловдив АД",
    "language": "bg",
    "owner_id": 5,
    "amount": "1200.00",
    "currency": "EUR",
    "due_date": "2027-01-31",
    "pdf_url": "/api/v1/invoices/17/pdf",
}


@pytest.fixture
def issued(deliver, add_user):
    add_user(5, roles=["sales_rep"], language="zh", email="owner5@crm.example")
    deliver(
        "customers",
        "customer_created",
        {
            "id": 6,
            "name": "Пловдив АД",
            "language": "bg",
            "owner_id": 5,
            "contacts": [{"id": 61, "name": "Иван", "email": "ivan@pl.example"}],
        },
    )
    deliver("billing", "invoice_issued", INVOICE)


def by_recipient(db) -> dict[str, dict]:
    return {r["recipient"]: r for r in rows(db, m.deliveries, m.deliveries.c.channel == "email")}


def test_invoice_mail_to_a_contact_links_into_the_portal_and_names_the_pdf(issued, db, service, make_caller):
    mails = by_recipient(db)
    contact, owner = mails["ivan@pl.example"], mails["owner5@crm.example"]
    # the contact: the customer's language, the number, an absolute portal link, the PDF attached
    assert contact["language"] == "bg"
    assert contact["subject"] == "Издадена фактура INV-2026-000017"
    assert f"{PUBLIC}/portal/invoices/17" in contact["body"]
    assert "Фактурата е приложена като PDF" in contact["body"]
    assert "/api/v1/invoices/17/pdf" not in contact["body"]  # never the staff API path
    assert contact["attachments"] == [{"kind": "invoice_pdf", "invoice_id": 17}]
    # the owner: their own language, the console's page, nothing attached
    assert owner["language"] == "zh" and owner["subject"] == "发票 INV-2026-000017 已开具"
    assert f"{PUBLIC}/invoices/17" in owner["body"] and "/portal/" not in owner["body"]
    assert owner["attachments"] is None
    (note,) = service(make_caller("sales_rep", user_id=5)).list_notifications()["items"]
    assert note["title"] == "发票 INV-2026-000017 已开具" and note["language"] == "zh"


def test_an_admin_template_using_pdf_url_gets_the_absolute_link_of_its_reader(deliver, add_user, admin, db):
    admin.update_rule(
        "invoice_issued", {"templates": {"en": {"subject": "{{ invoice_number }}", "body": "{{ pdf_url }}"}}}
    )
    deliver(
        "customers",
        "customer_created",
        {"id": 6, "name": "Acme", "language": "en", "contacts": [{"id": 1, "email": "a@acme.example"}]},
    )
    deliver("billing", "invoice_issued", {**INVOICE, "language": "en"})
    (mail,) = rows(db, m.deliveries, m.deliveries.c.recipient == "a@acme.example")
    assert mail["body"] == f"{PUBLIC}/api/v1/portal/invoices/17/pdf"


def test_the_contact_receives_the_invoice_pdf_attached(issued, db, smtp):
    pdf = invoice_pdf()
    asked: list[dict] = []

    def fetch(ref):
        asked.append(dict(ref))
        return channels.Attachment("INV-2026-000017.pdf", "application/pdf", pdf)

    worker = DeliveryWorker(
        db, DeliverySettings({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}), fetch_document=fetch
    )
    assert worker.run_once() == 2
    worker.pool.waitall()
    assert {r["status"] for r in rows(db, m.deliveries)} == {"sent"}
    assert asked == [{"kind": "invoice_pdf", "invoice_id": 17}]  # only for the contact's mail
    received = {str(msg["To"]): msg for msg in smtp.messages()}
    contact = received["ivan@pl.example"]
    assert contact["Subject"] == "Издадена фактура INV-2026-000017"
    assert contact.get_content_type() == "multipart/mixed"
    (attachment,) = list(contact.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "INV-2026-000017.pdf"
    data = attachment.get_content()
    assert data == pdf and data.startswith(b"%PDF")
    body = contact.get_body(("plain",)).get_content()
    assert f"{PUBLIC}/portal/invoices/17" in body
    owner = received["owner5@crm.example"]
    assert not list(owner.iter_attachments()) and owner.get_content_type() == "text/plain"


def test_an_unreachable_billing_retries_and_a_missing_invoice_fails(issued, db):
    calls = {"n": 0}

    def down(ref):
        calls["n"] += 1
        raise documents.AttachmentError("billing.render_invoice_pdf(17): Unavailable: no answer")

    settings = DeliverySettings({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port()})
    worker = DeliveryWorker(db, settings, fetch_document=down)
    assert worker.run_once() == 2
    worker.pool.waitall()
    contact = by_recipient(db)["ivan@pl.example"]
    # never sent without its PDF: the attempt fails and waits for its retry
    assert contact["status"] == "pending" and contact["attempts"] == 1
    assert contact["last_error"].startswith("attachment: billing.render_invoice_pdf(17)")
    assert calls["n"] == 1

    def gone(ref):
        raise documents.AttachmentError("billing.render_invoice_pdf(17): NotFound", permanent=True)

    with db.transaction() as uow:
        uow.session.execute(
            m.deliveries.update()
            .where(m.deliveries.c.id == contact["id"])
            .values(next_attempt_at=contact["created_at"])
        )
    worker = DeliveryWorker(db, settings, fetch_document=gone)
    assert worker.run_once() == 1
    worker.pool.waitall()
    contact = by_recipient(db)["ivan@pl.example"]
    assert contact["status"] == "failed" and contact["attempts"] == 2


def test_a_pdf_over_the_size_limit_is_left_out_and_the_link_remains(issued, db, smtp):
    settings = DeliverySettings(
        {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "NOTIFY_MAX_ATTACHMENT_BYTES": 1000}
    )
    big = channels.Attachment("INV-2026-000017.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * 2000)
    worker = DeliveryWorker(db, settings, fetch_document=lambda ref: big)
    worker.run_once()
    worker.pool.waitall()
    contact = next(msg for msg in smtp.messages() if msg["To"] == "ivan@pl.example")
    assert not list(contact.iter_attachments())
    assert f"{PUBLIC}/portal/invoices/17" in contact.get_content()


def test_unknown_attachment_kind_is_a_permanent_failure():
    with pytest.raises(documents.AttachmentError) as info:
        documents.BillingDocuments({})({"kind": "contract_pdf", "contract_id": 1})
    assert info.value.permanent


def test_without_crm_public_url_links_point_at_the_local_gateway(monkeypatch):
    from crm_common.config import public_url

    monkeypatch.delenv("CRM_PUBLIC_URL", raising=False)
    monkeypatch.setenv("GATEWAY_PORT", "8123")
    assert public_url() == "http://127.0.0.1:8123"
    links = domain.document_links({"invoice_id": 3}, public_url(), domain.CUSTOMER)
    assert links["invoice_url"] == "http://127.0.0.1:8123/portal/invoices/3"


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("en", "Contract C-2026-000017 renewed as C-2027-000003"),
        ("zh", "合同 C-2026-000017 已续约，新合同 C-2027-000003"),
        ("tr", "C-2026-000017 numaralı sözleşme yenilendi: C-2027-000003"),
        ("bg", "Договор C-2026-000017 е подновен с C-2027-000003"),
    ],
)
def test_contract_renewed_in_the_owners_language_by_number(language, title, deliver, add_user, service, db):
    add_user(8, roles=["sales_rep"], language=language)
    deliver(
        "contracts",
        "contract_renewed",
        {
            "id": 17,
            "contract_id": 17,
            "contract_number": "C-2026-000017",
            "number": "C-2026-000017",
            "owner_id": 8,
            "renewal_id": 23,
            "renewal_number": "C-2027-000003",
            "end_date": "2027-12-31",
        },
    )
    (note,) = service(new_caller("sales_rep", user_id=8)).list_notifications()["items"]
    assert note["title"] == title and note["language"] == language
    assert "17" not in note["title"].replace("000017", "")  # the number, never "contract 17"
    (mail,) = rows(db, m.deliveries)
    assert mail["subject"] == title and "C-2027-000003" in mail["body"]


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("en", "Approval waiting for you: contract C-2026-000017"),
        ("zh", "待您审批：合同 C-2026-000017"),
        ("tr", "Onayınızı bekliyor: sözleşme C-2026-000017"),
        ("bg", "Очаква вашето одобрение: договор C-2026-000017"),
    ],
)
def test_approval_titles_name_the_document_type_and_number_in_the_approvers_language(
    language, title, deliver, add_user, service
):
    add_user(9, roles=["approver"], language=language)
    deliver(
        "approvals",
        "approval_requested",
        {
            "id": 4,
            "document_type": "contract",
            "document_id": 17,
            "document_number": "C-2026-000017",
            "users": [9],
            "step": {"index": 1},
        },
    )
    (note,) = service(new_caller("approver", user_id=9)).list_notifications()["items"]
    assert note["title"] == title


def test_every_built_in_template_renders_in_every_language():
    payload = {
        "document_type": "dispatch_request",
        "document_id": 3,
        "document_number": "DR-2026-000003",
        "contract_number": "C-2026-000017",
        "invoice_number": "INV-2026-000017",
        "days": 30,
        "kind": "service_call",
        "accept_url": f"{PUBLIC}/portal/accept#token=x",
        "expires_on": "2027-01-01 10:00 UTC",
        "full_name": "Ivan",
    }
    for name, translations in domain.DEFAULT_TEMPLATES.items():
        if name == "generic":
            continue
        assert set(translations) == set(domain.LANGUAGES), name
        for language in domain.LANGUAGES:
            out = domain.render(name, language, domain.template_context(name, payload))
            assert out.error is None and out.language == language, (name, language, out.error)
            assert out.subject and out.body
