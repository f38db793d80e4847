"""Documents the customer receives (issue 17 §5), end to end: an invoice issued for a Bulgarian
customer reaches its contact at a real SMTP server in Bulgarian, named by its number, with the
invoice PDF (billing's own rendering, fetched by notify when it sends) attached and an absolute
link into the customer portal — never a relative or staff URL; the customer's owner gets the
inbox entry in their own language (Chinese)."""

from __future__ import annotations

import io
import re
import uuid

from pypdf import PdfReader

from ..conftest import poll


def ok(r, status=200):
    assert r.status_code == status, (r.request.method, str(r.request.url), r.status_code, r.text)
    return r.json()


def test_the_invoice_email_carries_its_pdf_and_an_absolute_portal_link(system, mailbox):
    owner = system.create_user(["sales_rep"], language="zh")
    contact_email = f"ivan-{uuid.uuid4().hex[:6]}@plovdiv.example"
    with system.client() as admin:
        customer = ok(
            admin.post(
                "/api/v1/customers",
                json={
                    "name": f"Пловдив Машини ООД {uuid.uuid4().hex[:6]}",
                    "kind": "company",
                    "language": "bg",
                    "owner_id": owner["id"],
                    "contacts": [{"name": "Иван Петров", "email": contact_email, "is_primary": True}],
                },
            ),
            201,
        )
        invoice = ok(
            admin.post(
                "/api/v1/invoices",
                json={
                    "customer_id": customer["id"],
                    "currency": "BGN",
                    "lines": [
                        {
                            "description": "Сервизно посещение",
                            "quantity": "1",
                            "unit_price": "150.00",
                            "tax_percent": "20",
                        }
                    ],
                },
            ),
            201,
        )
    assert invoice["status"] == "issued" and invoice["number"], invoice

    message = poll(lambda: mailbox.messages(to=contact_email), timeout=60, message="invoice e-mail")[0]
    assert message["Subject"] == f"Издадена фактура {invoice['number']}"
    assert message.get_content_type() == "multipart/mixed"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert invoice["number"] in body and "Фактурата е приложена като PDF" in body
    links = re.findall(r"https?://\S+", body)
    assert links and all(link.endswith(f"/portal/invoices/{invoice['id']}") for link in links), body
    assert "/api/v1/invoices/" not in body  # never the staff API path

    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{invoice['number']}.pdf"
    data = attachment.get_content()
    assert data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert invoice["number"] in text and "Фактура" in text

    # the owner: an inbox entry in their language, naming the invoice by its number
    with system.as_user(owner) as me:

        def entry():
            found = ok(me.get("/api/v1/notifications", params={"page_size": 50}))["items"]
            return [n for n in found if invoice["number"] in n["title"]]

        (note,) = poll(entry, timeout=30, message="owner's inbox entry")
        assert note["title"] == f"发票 {invoice['number']} 已开具"
