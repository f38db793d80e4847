"""Invoice and credit note PDFs, rendered on demand in the document's language and cached by the
hash of what they show (``pdf_cache``): asking again for an unchanged document costs one read; a
payment or credit note changes the content, hence the key, and the next request renders anew.
A billing run never waits for PDFs."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

from crm_common.db import utcnow
from crm_common.paging import parse_id
from crm_common.pdf import render_off_hub
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from . import credits, document, invoices, scopes
from . import models as m

C = m.pdf_cache.c


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "document"


def cached_pdf(
    db, kind: str, view: dict[str, Any], render: Callable[[dict, str, str], bytes]
) -> dict[str, Any]:
    language = document.document_language(view)
    company = document.company_name()
    key = document.cache_key(kind, view, language, company)
    with db.read() as s:
        data = s.execute(select(C.data).where(C.key == key)).scalar()
    cached = data is not None
    if data is None:
        data = render_off_hub(render, view, language, company)
        with db.transaction() as uow:
            s = uow.session
            make = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
            s.execute(
                make(m.pdf_cache)
                .values(key=key, data=data, language=language, created_at=utcnow())
                .on_conflict_do_nothing(index_elements=["key"])
            )
    name = view.get("number") or f"{kind}-{view['id']}"
    return {
        "filename": f"{_safe(str(name))}.pdf",
        "content_type": "application/pdf",
        "data": base64.b64encode(data).decode("ascii"),
        "sha256": hashlib.sha256(data).hexdigest(),
        "language": language,
        "cached": cached,
    }


def render_invoice_pdf(db, caller, invoice_id: Any) -> dict[str, Any]:
    view = invoices.get_invoice(db, caller, invoice_id)
    return cached_pdf(db, "invoice", view, document.invoice_pdf)


def render_credit_note_pdf(db, caller, note_id: Any) -> dict[str, Any]:
    access = scopes.read_access(caller)
    note_id = parse_id(note_id, "credit_note_id")
    with db.read() as s:
        note, invoice = credits.visible_credit_note(s, note_id, access)
        view = credits.credit_note_view(s, note, invoice)
    return cached_pdf(db, "credit_note", view, document.credit_note_pdf)
