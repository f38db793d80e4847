"""The approval sheet in its reader's language, naming the document by its number (issue 17
§5): labels, statuses and the document type are checked in the PDF's extracted text."""

from __future__ import annotations

import base64
import io
import itertools

import pytest
from approvals import usecases
from crm_common.db import make_envelope
from crm_common.errors import ValidationFailed
from crm_common.testing import new_caller
from pypdf import PdfReader

_ids = itertools.count(900)


def text_of(sheet: dict) -> str:
    data = base64.b64decode(sheet["content_base64"])
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def reader(db, service):
    """``reader(language)`` → an approver whose gateway user event carried ``language``."""

    def make(language: str | None):
        user_id = next(_ids)
        payload = {"id": user_id, "username": f"u{user_id}", "roles": ["approver"], "active": True}
        if language is not None:
            payload["language"] = language
        usecases.apply_user_event(db, make_envelope("gateway", "user_created", payload))
        return service(new_caller("approver", user_id=user_id))

    return make


@pytest.fixture
def contract_request(db, outbox):
    """A request opened by contracts' ``contract_submitted`` (its payload carries the number)."""
    payload = {
        "document_id": 17,
        "id": 17,
        "number": "C-2026-000017",
        "contract_number": "C-2026-000017",
        "submitter_id": 5,
        "amount": "25000.00",
        "currency": "EUR",
        "summary": "Wartung 2027",
    }
    request_id = usecases.open_from_event(
        db, make_envelope("contracts", "contract_submitted", payload), "contract"
    )
    assert request_id is not None
    return request_id


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("zh", ["审批单", "单据", "合同 C-2026-000017", "摘要", "金额", "审批步骤", "审批记录", "待审批"]),
        (
            "bg",
            [
                "Лист за одобрение",
                "Документ",
                "Договор C-2026-000017",
                "Резюме",
                "Сума",
                "Стъпки",
                "Решения",
                "чака",
            ],
        ),
        (
            "tr",
            [
                "Onay formu",
                "Belge",
                "Sözleşme C-2026-000017",
                "Özet",
                "Tutar",
                "Adımlar",
                "Kararlar",
                "beklemede",
            ],
        ),
        (
            "en",
            [
                "Approval sheet",
                "Document",
                "Contract C-2026-000017",
                "Summary",
                "Amount",
                "Steps",
                "Decisions",
            ],
        ),
    ],
)
def test_sheet_labels_are_in_the_readers_language(language, labels, reader, contract_request):
    text = text_of(reader(language).get_approval_sheet(contract_request))
    for label in labels:
        assert label in text, (label, text)
    assert "contract 17" not in text.lower()
    if language != "en":
        assert "Approval sheet" not in text and "Submitted by" not in text


def test_an_explicit_language_wins_and_an_unknown_one_is_refused(reader, contract_request):
    worker = reader("zh")
    text = text_of(worker.get_approval_sheet(contract_request, "bg"))
    assert "Лист за одобрение" in text and "审批单" not in text
    with pytest.raises(ValidationFailed):
        worker.get_approval_sheet(contract_request, "fr")


def test_a_reader_without_a_language_gets_english(reader, contract_request):
    text = text_of(reader(None).get_approval_sheet(contract_request))
    assert "Approval sheet" in text and "Contract C-2026-000017" in text


def test_approval_events_carry_the_document_number(contract_request, outbox):
    (requested,) = outbox("approval_requested")
    assert requested["document_number"] == "C-2026-000017" and requested["document_id"] == 17


def test_a_document_without_a_number_is_named_by_its_id(reader, user):
    rep_id, rep = user("sales_rep")
    req = rep.request_approval("trade_in", "T-5", "900", "BGN", None, rep_id, "Стара машина")
    text = text_of(reader("bg").get_approval_sheet(req["id"]))
    assert "Замяна на старо с ново T-5" in text
