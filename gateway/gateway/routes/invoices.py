"""Invoices and credit notes — owned by the ``billing`` service; each route is named after the
RPC it calls and passes the service's JSON through. PDFs are decoded from the service's base64
and served inline with their SHA-256 as the ETag (``If-None-Match`` → 304). Roles: see
:mod:`gateway.routes.billing`."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from ..deps import Pagination, Rpc
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import MAX_ID, IsoDate
from ..schemas_billing import (
    CreditNoteCreate,
    InvoiceCreate,
    InvoiceKind,
    InvoiceStatus,
    InvoiceUpdate,
    VoidRequest,
)
from ..views_billing import PDF, CreditNotePage, CreditNotePublic, InvoicePage, InvoicePublic
from .billing import BILLING_ERRORS, BILLING_READERS, BILLING_WRITERS, NOT_FOUND, STATE
from .contract_attachments import content_disposition, etag_matches
from .contract_progress import int_id

router = APIRouter(tags=["invoices"], dependencies=[BILLING_READERS], responses=BILLING_ERRORS)

CurrencyQuery = Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": PDF, "description": "the document, inline"},
    304: {"description": "If-None-Match matched the document's ETag"},
    **NOT_FOUND,
}
INVOICE: dict[int | str, dict[str, Any]] = {200: {"model": InvoicePublic}}
CREDIT_NOTE: dict[int | str, dict[str, Any]] = {200: {"model": CreditNotePublic}}


def pdf_response(doc: dict[str, Any], request: Request) -> Response:
    """The PDF of a ``render_*_pdf`` answer; 304 when the client already has these bytes."""
    etag = f'"{doc["sha256"]}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "Content-Disposition": "inline" + content_disposition(doc["filename"]).removeprefix("attachment"),
        "Content-Language": doc.get("language") or "en",
        "X-Content-Type-Options": "nosniff",
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(
        content=base64.b64decode(doc["data"]),
        media_type=doc.get("content_type") or "application/pdf",
        headers=headers,
    )


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


# --------------------------------------------------------------------------------------
# Invoices
# --------------------------------------------------------------------------------------


InvoiceSort = sortable(
    "issue_date", "due_date", "number", "status", "kind", "total", "paid", "currency", "created_at", "id"
)


@router.get("/invoices", responses={200: {"model": InvoicePage}})
async def list_invoices(
    rpc: Rpc,
    page: Pagination,
    sort: InvoiceSort,
    customer_id: IdQuery = None,
    contract_id: IdQuery = None,
    status: InvoiceStatus | None = None,
    kind: InvoiceKind | None = None,
    currency: CurrencyQuery = None,
    overdue: Annotated[bool | None, Query(description="true: only overdue; false: none overdue")] = None,
    issued_from: Annotated[IsoDate | None, Query(description="issue date on or after")] = None,
    issued_to: Annotated[IsoDate | None, Query(description="issue date on or before")] = None,
    q: Annotated[str | None, Query(max_length=100, description="any part of the number")] = None,
) -> Any:
    """Invoices the caller may see, newest issue date first (drafts first)."""
    values = {
        "customer_id": customer_id, "contract_id": contract_id, "status": status, "kind": kind,
        "currency": currency, "overdue": overdue, "issued_from": _iso(issued_from),
        "issued_to": _iso(issued_to), "q": q,
    }  # fmt: skip
    filters = {k: v for k, v in values.items() if v is not None}
    return await rpc.billing.list_invoices(filters, page.page, page.page_size, **sort.kwargs())


@router.post(
    "/invoices",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, BILLING_WRITERS],
    responses={201: {"model": InvoicePublic}},
)
async def create_invoice(body: InvoiceCreate, rpc: Rpc) -> Any:
    """A one-off invoice, issued with the next number of its year unless ``draft`` is true.
    An unknown customer → 422 naming ``customer_id``."""
    return await rpc.billing.create_invoice(body.data())


@router.get("/invoices/{invoice_id}", responses={**INVOICE, **NOT_FOUND})
async def get_invoice(invoice_id: str, rpc: Rpc) -> Any:
    """The invoice with its lines, credit notes and allocated payments."""
    return await rpc.billing.get_invoice(int_id(invoice_id, "Invoice"))


@router.patch("/invoices/{invoice_id}", dependencies=[BILLING_WRITERS], responses={**INVOICE, **STATE})
async def update_invoice(invoice_id: str, body: InvoiceUpdate, rpc: Rpc) -> Any:
    """Drafts only (409 once issued: credit it instead)."""
    return await rpc.billing.update_invoice(int_id(invoice_id, "Invoice"), body.data())


@router.post("/invoices/{invoice_id}/issue", dependencies=[BILLING_WRITERS], responses={**INVOICE, **STATE})
async def issue_invoice(invoice_id: str, rpc: Rpc) -> Any:
    """draft → issued: the invoice takes its number now."""
    return await rpc.billing.issue_invoice(int_id(invoice_id, "Invoice"))


@router.post("/invoices/{invoice_id}/void", dependencies=[BILLING_WRITERS], responses={**INVOICE, **STATE})
async def void_invoice(invoice_id: str, body: VoidRequest, rpc: Rpc) -> Any:
    """An invoice nobody paid or credited, not locked (409 otherwise); its number stays used."""
    return await rpc.billing.void_invoice(int_id(invoice_id, "Invoice"), body.data())


@router.get("/invoices/{invoice_id}/pdf", response_class=Response, responses=PDF_RESPONSES)
async def invoice_pdf(invoice_id: str, request: Request, rpc: Rpc) -> Response:
    """The invoice document in its language (the customer's unless set on the invoice)."""
    doc = await rpc.billing.render_invoice_pdf(int_id(invoice_id, "Invoice"))
    return pdf_response(doc, request)


@router.post("/invoices/{invoice_id}/lock", dependencies=[BILLING_WRITERS], responses={**INVOICE, **STATE})
async def lock_invoice(invoice_id: str, rpc: Rpc) -> Any:
    """Finance: nobody changes, voids or credits it until unlocked (409 meanwhile)."""
    return await rpc.billing.lock_invoice(int_id(invoice_id, "Invoice"))


@router.post("/invoices/{invoice_id}/unlock", dependencies=[BILLING_WRITERS], responses={**INVOICE, **STATE})
async def unlock_invoice(invoice_id: str, rpc: Rpc) -> Any:
    return await rpc.billing.unlock_invoice(int_id(invoice_id, "Invoice"))


@router.post(
    "/invoices/{invoice_id}/credit-notes",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, BILLING_WRITERS],
    responses={201: {"model": CreditNotePublic}, **STATE},
)
async def create_credit_note(invoice_id: str, body: CreditNoteCreate, rpc: Rpc) -> Any:
    """A credit note on an issued invoice: ``amount`` (gross), ``lines`` (net per invoice
    line) or neither (the whole creditable rest); more than is left → 422."""
    return await rpc.billing.create_credit_note(int_id(invoice_id, "Invoice"), body.data())


# --------------------------------------------------------------------------------------
# Credit notes
# --------------------------------------------------------------------------------------


CreditNoteSort = sortable("issue_date", "number", "amount", "created_at", "id")


@router.get("/credit-notes", responses={200: {"model": CreditNotePage}})
async def list_credit_notes(
    rpc: Rpc, page: Pagination, sort: CreditNoteSort, customer_id: IdQuery = None, invoice_id: IdQuery = None
) -> Any:
    values = {"customer_id": customer_id, "invoice_id": invoice_id}
    filters = {k: v for k, v in values.items() if v is not None}
    return await rpc.billing.list_credit_notes(filters, page.page, page.page_size, **sort.kwargs())


@router.get("/credit-notes/{credit_note_id}", responses={**CREDIT_NOTE, **NOT_FOUND})
async def get_credit_note(credit_note_id: str, rpc: Rpc) -> Any:
    return await rpc.billing.get_credit_note(int_id(credit_note_id, "Credit note"))


@router.get("/credit-notes/{credit_note_id}/pdf", response_class=Response, responses=PDF_RESPONSES)
async def credit_note_pdf(credit_note_id: str, request: Request, rpc: Rpc) -> Response:
    doc = await rpc.billing.render_credit_note_pdf(int_id(credit_note_id, "Credit note"))
    return pdf_response(doc, request)
