"""The service's entrypoints through ``worker_factory`` on a real SQLite database: requests,
decisions, history, flows and their versions, the sheet, escalation — and nothing half-written."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import zlib

import pytest
from approvals import models as m
from approvals import usecases
from crm_common.db import make_envelope
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fontTools.ttLib import TTFont
from sqlalchemy import func, select


def embedded_code_points(data: bytes) -> set[int]:
    """Every code point the fonts embedded in a PDF map (their subset cmaps)."""
    found: set[int] = set()
    for match in re.finditer(rb"stream\r?\n", data):
        raw = data[match.end() : data.find(b"endstream", match.end())]
        try:
            body = zlib.decompress(raw)
        except zlib.error:
            continue
        if body[:4] in (b"\x00\x01\x00\x00", b"true", b"OTTO"):
            found |= set((TTFont(io.BytesIO(body)).getBestCmap() or {}).keys())
    return found


TWO_STEPS = {
    "name": "Contracts over 10k",
    "document_type": "contract",
    "conditions": {"min_amount": "10000", "currency": "EUR"},
    "priority": 10,
    "steps": [
        {"name": "Department head", "department_head": True, "mode": "any"},
        {"name": "Finance", "approver_role": "finance", "mode": "all"},
    ],
}


def count(db, table) -> int:
    with db.read() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


def submit(worker, submitter, document_id="C-1", amount="25000.00", **kw):
    return worker.request_approval(
        "contract", document_id, amount, "EUR", "Sales", submitter, "Wartung 2027", **kw
    )


def test_two_step_flow_with_department_head_and_all_mode(admin, user, outbox):
    rep_id, rep = user("sales_rep", department="Sales")
    head_id, head = user("sales_manager", department="Sales", is_department_head=True, full_name="王伟")
    fin1_id, fin1 = user("finance", department="Finance")
    fin2_id, fin2 = user("finance", department="Finance")
    _, stranger = user("approver")
    flow = admin.create_flow(TWO_STEPS)
    assert flow["version"] == 1 and flow["conditions"] == {"min_amount": "10000", "currency": "EUR"}

    req = submit(rep, rep_id)
    assert (req["status"], req["current_step"], req["flow"]["id"]) == ("pending", 1, flow["id"])
    assert req["steps"][0]["users"] == [head_id] and req["steps"][1]["status"] == "waiting"
    requested = outbox("approval_requested")
    assert requested[-1]["users"] == [head_id] and requested[-1]["step"]["name"] == "Department head"

    with pytest.raises(PermissionDenied):  # an approver not named by this flow
        stranger.decide_approval(req["id"], {"decision": "approve"})
    assert head.list_approvals({"mine": True})["total"] == 1
    assert fin1.list_approvals({"mine": True})["total"] == 0

    req = head.decide_approval(req["id"], {"decision": "approve", "comment": "同意，请尽快发货。"})
    assert req["current_step"] == 2 and req["steps"][1]["required"] == [fin1_id, fin2_id]
    assert outbox("approval_requested")[-1]["users"] == [fin1_id, fin2_id]
    req = fin1.decide_approval(req["id"], {"decision": "approve", "comment": "Uygun görünüyor, İyi."})
    assert req["status"] == "pending" and req["current_step"] == 2
    with pytest.raises(Conflict):  # already approved this step
        fin1.decide_approval(req["id"], {"decision": "approve"})
    req = fin2.decide_approval(req["id"], {"decision": "approve", "comment": "Одобрявам."})
    assert req["status"] == "approved" and req["current_step"] is None and req["closed_at"]
    assert [(d["step"], d["user"], d["comment"]) for d in req["decisions"]] == [
        (1, head_id, "同意，请尽快发货。"),
        (2, fin1_id, "Uygun görünüyor, İyi."),
        (2, fin2_id, "Одобрявам."),
    ]
    assert req["decisions"][0]["username"] == "王伟"
    (approved,) = outbox("approval_approved")
    assert (approved["id"], approved["document_id"], approved["user"]) == (req["id"], "C-1", fin2_id)
    assert len(outbox("approval_step_decided")) == 3
    with pytest.raises(Conflict):
        fin2.decide_approval(req["id"], {"decision": "reject"})


def test_rejection_returns_to_submitter_and_resubmission_keeps_history(admin, user, outbox):
    rep_id, rep = user("sales_rep", department="Sales")
    _, approver = user("approver")
    first = rep.request_approval("discount", 77, "500", "TRY", "Sales", rep_id, "İskonto %15")
    assert first["flow"]["name"] == "default" and first["steps"][0]["roles"] == ["admin", "approver"]
    with pytest.raises(PermissionDenied):  # no self-approval
        rep.decide_approval(first["id"], {"decision": "approve"})
    with pytest.raises(Conflict):  # one pending request per document
        rep.request_approval("discount", 77, "400", "TRY", "Sales", rep_id, "again")
    rejected = approver.decide_approval(first["id"], {"decision": "reject", "comment": "Çok yüksek — 太高了"})
    assert rejected["status"] == "rejected"
    (event,) = outbox("approval_rejected")
    assert (event["submitter"], event["comment"], event["document_id"]) == (rep_id, "Çok yüksek — 太高了", 77)

    second = rep.request_approval("discount", 77, "300", "TRY", "Sales", rep_id, "İskonto %10")
    assert second["id"] != first["id"] and second["previous_request_id"] == first["id"]
    assert second["history"][0]["id"] == first["id"]
    assert second["history"][0]["decisions"][0]["comment"] == "Çok yüksek — 太高了"
    assert rep.get_approval(second["id"])["document_id"] == 77


def test_withdraw_and_closed_requests(admin, user, outbox):
    rep_id, rep = user("sales_rep")
    _, other = user("sales_rep")
    req = rep.request_approval("credit_note", "CN-9", "-120.50", "EUR", None, rep_id, None)
    assert req["amount"] == "-120.50"
    with pytest.raises(NotFound):  # another rep does not even see it
        other.get_approval(req["id"])
    # nor may withdraw or decide it, and the refusal is the one of a missing request
    for act in (
        lambda rid: other.withdraw_approval(rid),
        lambda rid: other.decide_approval(rid, {"decision": "approve"}),
    ):
        with pytest.raises(NotFound) as hidden:
            act(req["id"])
        with pytest.raises(NotFound) as missing:
            act(999999)
        assert hidden.value.message == missing.value.message.replace("999999", str(req["id"]))
    assert rep.get_approval(req["id"])["status"] == "pending" and outbox("approval_withdrawn") == []
    done = rep.withdraw_approval(req["id"], "wrong customer")
    assert done["status"] == "withdrawn" and done["steps"][0]["status"] == "cancelled"
    assert outbox("approval_withdrawn")[0]["comment"] == "wrong customer"
    with pytest.raises(Conflict):
        rep.withdraw_approval(req["id"])
    with pytest.raises(Conflict):
        admin.decide_approval(req["id"], {"decision": "approve"})
    with pytest.raises(NotFound):
        admin.get_approval(999999)


def test_bad_input_is_refused_naming_the_field_and_leaves_no_trace(db, admin, user):
    rep_id, rep = user("sales_rep")
    with pytest.raises(ValidationFailed) as err:
        rep.request_approval("Contract!", None, 1.5, "XXX", None, "me", None)
    assert {"document_type", "document_id", "amount", "currency", "submitter"} <= set(err.value.details)
    with pytest.raises(ValidationFailed) as err:
        admin.create_flow({"name": "x", "document_type": "contract", "steps": [{"name": "s"}]})
    assert "steps.0.approver" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        admin.create_flow({**TWO_STEPS, "conditions": {"min_amount": "10", "max_amount": "5"}})
    assert "conditions" in err.value.details
    with pytest.raises(PermissionDenied):
        rep.create_flow(TWO_STEPS)
    req = rep.request_approval("contract", 1, None, None, None, rep_id, None)
    with pytest.raises(ValidationFailed) as err:
        admin.decide_approval(req["id"], {"decision": "ok"})
    assert "decision" in err.value.details
    assert count(db, m.flows) == 0 and count(db, m.decisions) == 0 and count(db, m.requests) == 1


def test_a_request_keeps_the_flow_version_it_started_with(admin, user):
    rep_id, rep = user("sales_rep", department="Sales")
    fin_id, fin = user("finance")
    boss_id, boss = user("admin")
    flow = admin.create_flow(
        {**TWO_STEPS, "conditions": {}, "steps": [{"name": "Finance", "approver_user_id": fin_id}]}
    )
    old = submit(rep, rep_id, "C-old")
    changed = admin.update_flow(flow["id"], {"steps": [{"name": "Boss", "approver_user_id": boss_id}]})
    assert changed["version"] == 2 and [v["version"] for v in changed["versions"]] == [1, 2]
    new = submit(rep, rep_id, "C-new")
    assert (old["flow"]["version"], new["flow"]["version"]) == (1, 2)
    with pytest.raises(PermissionDenied):  # the old approver is not in version 2
        fin.decide_approval(new["id"], {"decision": "approve"})
    with pytest.raises(PermissionDenied):  # nor the new one in version 1
        boss.decide_approval(old["id"], {"decision": "approve"})
    assert fin.decide_approval(old["id"], {"decision": "approve"})["status"] == "approved"
    assert boss.decide_approval(new["id"], {"decision": "approve"})["status"] == "approved"
    assert admin.list_flows({"document_type": "contract"})["total"] == 1
    with pytest.raises(NotFound):
        admin.update_flow(424242, {"name": "x"})


def test_sheet_pdf_and_escalation_once_per_step(db, admin, user, outbox):
    rep_id, rep = user("sales_rep", full_name="Ayşe Yılmaz")
    _, approver = user("approver", full_name="Борис Иванов")
    admin.create_flow(
        {
            "name": "Trade-ins",
            "document_type": "trade_in",
            "sla_hours": 24,
            "steps": [
                {"name": "Check", "approver_role": "approver"},
                {"name": "Admin", "approver_role": "admin"},
            ],
        }
    )
    req = rep.request_approval("trade_in", "T-1", "900", "BGN", None, rep_id, "Стара машина 旧机器")
    approver.decide_approval(req["id"], {"decision": "approve", "comment": "Добре, 可以"})
    sheet = rep.get_approval_sheet(req["id"])
    data = base64.b64decode(sheet["content_base64"])
    assert data.startswith(b"%PDF-") and sheet["content_type"] == "application/pdf"
    # the comment, summary and names are drawn with embedded glyphs (Bulgarian, Chinese, Turkish)
    text = "Добре, 可以 Стара машина 旧机器 Ayşe Yılmaz Борис Иванов"
    assert {ord(c) for c in text if not c.isspace()} <= embedded_code_points(data)

    started = dt.datetime.fromisoformat(rep.get_approval(req["id"])["steps"][1]["started_at"])
    assert usecases.escalate_overdue(db, started + dt.timedelta(hours=23)) == 0
    assert usecases.escalate_overdue(db, started + dt.timedelta(hours=24)) == 1
    assert usecases.escalate_overdue(db, started + dt.timedelta(hours=90)) == 0  # once per step
    (overdue,) = outbox("approval_overdue")
    assert (overdue["id"], overdue["step"]["name"], overdue["roles"], overdue["sla_hours"]) == (
        req["id"],
        "Admin",
        ["admin"],
        24,
    )
    assert admin.run_daily((started + dt.timedelta(days=30)).date().isoformat()) == {"approvals_overdue": 0}


def test_submitted_event_opens_a_request_and_user_events_update_the_read_copy(db, admin, user, outbox):
    _, head = user("sales_manager", department="Ops", is_department_head=False)
    head_id = head.caller.user_id
    usecases.apply_user_event(
        db,
        make_envelope(
            "gateway", "user_updated", {"id": head_id, "department": "Ops", "is_department_head": True}
        ),
    )
    admin.create_flow(
        {"name": "Gizmos", "document_type": "gizmo", "steps": [{"name": "Head", "department_head": True}]}
    )
    envelope = make_envelope(
        "standin",
        "gizmo_submitted",
        {"id": 5, "submitted_by": 3, "department": "Ops", "amount": "10", "currency": "EUR", "colour": "红"},
    )
    request_id = usecases.open_from_event(db, envelope, "gizmo")
    req = admin.get_approval(request_id)
    assert (req["document_type"], req["document_id"], req["submitter"], req["source"]) == (
        "gizmo",
        5,
        3,
        "standin",
    )
    assert req["steps"][0]["users"] == [head_id] and req["details"] == {"colour": "红"}
    # the same document submitted again while pending: skipped, not an error
    assert (
        usecases.open_from_event(db, make_envelope("standin", "gizmo_submitted", {"id": 5}), "gizmo") is None
    )
    with pytest.raises(ValueError):
        usecases.open_from_event(db, make_envelope("standin", "gizmo_submitted", {"amount": "x"}), "gizmo")


def test_a_trade_in_submitted_as_inventory_publishes_it_opens_a_request(db, admin, user):
    rep_id, _rep = user("warehouse", department="Depot")
    payload = {
        "id": 31,
        "serial_number": "SN-ÇĞ-1",
        "requested_value": "1200.00",
        "document_type": "trade_in",
        "document_id": 31,
        "amount": "1200.00",
        "submitter": f"user:{rep_id}",
        "submitter_id": rep_id,
        "department": "Depot",
    }
    request_id = usecases.open_from_event(
        db, make_envelope("inventory", "trade_in_submitted", payload), "trade_in"
    )
    req = admin.get_approval(request_id)
    assert (req["document_type"], req["document_id"], req["submitter"], req["amount"]) == (
        "trade_in",
        31,
        rep_id,
        "1200.00",
    )
    assert (
        req["details"]["serial_number"] == "SN-ÇĞ-1" and req["details"]["submitter_ref"] == f"user:{rep_id}"
    )
    # an actor name alone is understood too
    other = make_envelope("inventory", "trade_in_submitted", {"document_id": 32, "submitter": "user:7"})
    assert admin.get_approval(usecases.open_from_event(db, other, "trade_in"))["submitter"] == 7


def _trade_in_request(db, user, amount="1200.00", document_id=41):
    rep_id, rep = user("sales_rep")
    payload = {"document_id": document_id, "amount": amount, "currency": "EUR", "submitter": rep_id}
    request_id = usecases.open_from_event(
        db, make_envelope("inventory", "trade_in_submitted", payload), "trade_in"
    )
    return request_id, rep_id, rep


def test_trade_in_valuation_is_decided_in_the_approval(db, admin, user, outbox):
    request_id, _, _ = _trade_in_request(db, user)
    _, approver = user("approver")
    # refused: negative, float, wrong currency, with a rejection — nothing written
    for body, field in (
        ({"decision": "approve", "approved_value": "-5"}, "approved_value"),
        ({"decision": "approve", "approved_value": 5.5}, "approved_value"),
        ({"decision": "approve", "approved_value": "950", "currency": "USD"}, "currency"),
        ({"decision": "reject", "approved_value": "950"}, "approved_value"),
        ({"decision": "approve", "currency": "EUR"}, "currency"),
    ):
        with pytest.raises(ValidationFailed) as err:
            approver.decide_approval(request_id, body)
        assert field in err.value.details, body
    assert count(db, m.decisions) == 0 and admin.get_approval(request_id)["status"] == "pending"
    assert outbox("approval_approved") == [] and outbox("approval_step_decided") == []
    done = approver.decide_approval(
        request_id, {"decision": "approve", "approved_value": "950.00", "currency": "EUR", "comment": "worn"}
    )
    assert done["status"] == "approved" and done["decisions"][0]["approved_value"] == "950.00"
    (event,) = outbox("approval_approved")
    assert (event["approved_value"], event["currency"], event["document_id"]) == ("950.00", "EUR", 41)
    assert outbox("approval_step_decided")[0]["approved_value"] == "950.00"


def test_trade_in_valuation_defaults_to_the_requested_value(db, user, outbox):
    request_id, _, _ = _trade_in_request(db, user, amount="700.00", document_id=42)
    _, approver = user("approver")
    approver.decide_approval(request_id, {"decision": "approve"})
    (event,) = outbox("approval_approved")
    assert (event["approved_value"], event["currency"]) == ("700.00", "EUR")


def test_approved_value_only_for_trade_ins(db, user):
    rep_id, rep = user("sales_rep")
    _, approver = user("approver")
    req = rep.request_approval("discount", 78, "500", "EUR", None, rep_id, None)
    with pytest.raises(ValidationFailed) as err:
        approver.decide_approval(req["id"], {"decision": "approve", "approved_value": "400"})
    assert "approved_value" in err.value.details
    assert count(db, m.decisions) == 0
    assert approver.decide_approval(req["id"], {"decision": "approve"})["status"] == "approved"


def test_a_trade_in_decided_directly_withdraws_its_pending_request(db, admin, user, outbox):
    from approvals import decided_elsewhere

    request_id, _, _ = _trade_in_request(db, user, document_id=43)
    decided = make_envelope("inventory", "trade_in_decided", {"id": 43, "status": "approved"})
    assert decided_elsewhere.close_pending(db, decided, "trade_in") == request_id
    req = admin.get_approval(request_id)
    assert req["status"] == "withdrawn" and req["steps"][0]["status"] == "cancelled"
    (event,) = outbox("approval_withdrawn")
    assert (event["reason"], event["decision"], event["document_id"]) == ("decided_elsewhere", "approved", 43)
    # a redelivery, or the decision that came from the request itself: nothing more
    assert decided_elsewhere.close_pending(db, decided, "trade_in") is None
    assert len(outbox("approval_withdrawn")) == 1
    # another document's request stays pending; escalation no longer sees the closed one
    other_id, _, _ = _trade_in_request(db, user, document_id=44)
    assert admin.get_approval(other_id)["status"] == "pending"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    usecases.escalate_overdue(db, later)
    assert {e["id"] for e in outbox("approval_overdue")} == {other_id}
