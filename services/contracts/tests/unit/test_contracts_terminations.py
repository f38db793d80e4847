"""Changes to what a customer owes go through approval and respect finance's lock (issue 17 §3):
back-dated terminations by non-admins become ``termination`` requests, locked contracts are not
terminated, co-terminated, restructured or amended in amounts, a rep's co-termination or
restructuring of contracts in force is one batch under one approval; and the contract archive.
On a real SQLite database through the service's RPC methods; dates relative to today."""

from __future__ import annotations

import datetime as dt

import pytest
from contracts import models as m
from contracts import usecases
from contracts_fixtures import FINANCE, contract_body
from crm_common.errors import Conflict, NotFound, ValidationFailed
from sqlalchemy import func, select

TODAY = dt.date.today()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def count(db, table) -> int:
    with db.read() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def running(active_contract):
    """An active contract that started ten months ago and runs for another year."""

    def make(**overrides):
        overrides.setdefault("start_date", day(-300))
        overrides.setdefault("end_date", day(365))
        return active_contract(**overrides)

    return make


# -- terminations -----------------------------------------------------------------------------


def test_contracts_a_reps_back_dated_termination_waits_for_approval(rep, running, decide, events):
    c = running()
    out = rep.terminate_contract(c["id"], {"reason": "Customer moved", "effective_date": day(-300)})
    assert out["status"] == "active" and out["termination_date"] is None
    request = out["termination_request"]
    assert request["status"] == "pending_approval" and request["effective_date"] == day(-300)
    assert request["changes"]["termination"] == {"effective_date": day(-300), "reason": "Customer moved"}
    submitted = events("termination_submitted")
    assert [(e["document_type"], e["document_id"]) for e in submitted] == [("termination", request["id"])]
    assert submitted[0]["submitter_id"] == 3 and submitted[0]["contract_number"] == c["number"]
    assert events("contract_terminated") == []
    # one change order at a time: a second termination (or an amendment) waits for this one
    with pytest.raises(Conflict):
        rep.terminate_contract(c["id"], {"reason": "again", "effective_date": day(-200)})
    with pytest.raises(Conflict):
        rep.create_amendment(c["id"], {"reason": "signer", "changes": {"signer": "X"}})

    assert decide(request["id"], "approved", document_type="termination") == "terminated"
    now = rep.get_contract(c["id"])
    assert now["status"] == "terminated" and now["termination_date"] == day(-300)
    assert now["status_reason"] == "Customer moved"
    terminated = events("contract_terminated")
    assert [(e["id"], e["effective_date"], e["amendment_id"]) for e in terminated] == [
        (c["id"], day(-300), request["id"])
    ]
    assert now["amendments"][0]["status"] == "applied"
    # a redelivered decision changes nothing
    assert "nothing to do" in decide(request["id"], "approved", document_type="termination")
    assert len(events("contract_terminated")) == 1


def test_contracts_a_rejected_termination_changes_nothing(rep, running, decide, events):
    c = running()
    request = rep.terminate_contract(c["id"], {"reason": "moved", "effective_date": day(-10)})[
        "termination_request"
    ]
    assert decide(request["id"], "rejected", document_type="termination") == "rejected"
    now = rep.get_contract(c["id"])
    assert now["status"] == "active" and now["termination_date"] is None and now["version"] == c["version"]
    assert now["amendments"][0]["status"] == "rejected" and events("contract_terminated") == []
    # free again for a termination from today on, which applies at once
    done = rep.terminate_contract(c["id"], {"reason": "moved", "effective_date": day(0)})
    assert done["status"] == "terminated" and "termination_request" not in done


def test_contracts_terminations_from_today_or_by_an_admin_apply_at_once(rep, admin, running, events):
    a, b = running(), running()
    assert (
        rep.terminate_contract(a["id"], {"reason": "r", "effective_date": day(10)})["status"] == "terminated"
    )
    assert (
        admin.terminate_contract(b["id"], {"reason": "r", "effective_date": day(-300)})["status"]
        == "terminated"
    )
    assert [e["effective_date"] for e in events("contract_terminated")] == [day(10), day(-300)]
    assert events("termination_submitted") == []


def test_contracts_locked_amounts_stop_terminations_and_amendments_of_amounts(
    rep, admin, db, running, decide, events
):
    c = running()
    usecases.set_amounts_lock(db, FINANCE, c["id"], True)
    amendments = count(db, m.amendments)
    for who, when in ((rep, day(-300)), (rep, day(5)), (admin, day(-300))):
        with pytest.raises(Conflict) as err:
            who.terminate_contract(c["id"], {"reason": "r", "effective_date": when})
        assert err.value.details["amounts_locked"] is True
    with pytest.raises(Conflict):  # the term's end is what the customer owes too
        rep.create_amendment(c["id"], {"reason": "longer", "changes": {"end_date": day(700)}})
    rep.create_amendment(c["id"], {"reason": "signer", "changes": {"signer": "Ayşe"}})  # not amounts: fine
    now = rep.get_contract(c["id"])
    assert now["status"] == "active" and now["termination_date"] is None
    assert count(db, m.amendments) == amendments + 1
    assert events("termination_submitted") == [] and events("contract_terminated") == []

    # a termination approved after finance locked the contract is not applied
    d = running()
    request = rep.terminate_contract(d["id"], {"reason": "r", "effective_date": day(-30)})[
        "termination_request"
    ]
    usecases.set_amounts_lock(db, FINANCE, d["id"], True)
    assert "locked" in decide(request["id"], "approved", document_type="termination")
    now = rep.get_contract(d["id"])
    assert now["status"] == "active" and now["amendments"][0]["status"] == "failed"
    assert events("contract_terminated") == []


def test_contracts_termination_bad_input_writes_nothing(rep, other_rep, db, running, create_contract):
    c = running()
    before = count(db, m.amendments)
    with pytest.raises(ValidationFailed) as err:
        rep.terminate_contract(c["id"], {"reason": "r", "effective_date": day(-400)})  # before the start
    assert "effective_date" in err.value.details
    with pytest.raises(ValidationFailed):
        rep.terminate_contract(c["id"], {"effective_date": day(-10)})
    with pytest.raises(NotFound):
        other_rep.terminate_contract(c["id"], {"reason": "r", "effective_date": day(-10)})
    with pytest.raises(Conflict):
        rep.terminate_contract(create_contract()["id"], {"reason": "r", "effective_date": day(-10)})
    assert count(db, m.amendments) == before and rep.get_contract(c["id"])["status"] == "active"


# -- co-termination and restructuring under one approval ----------------------------------------


def test_contracts_a_reps_co_termination_is_one_batch_under_one_approval(
    rep, other_rep, db, running, decide, events
):
    a, b = running(end_date=day(200)), running(end_date=day(250))
    theirs = other_rep.create_contract(contract_body(customer_id=2))
    result = rep.co_terminate({"contract_ids": [a["id"], b["id"], theirs["id"]], "end_date": "2035-12-31"})
    assert result["status"] == "pending_approval" and result["changed"] == 0
    assert {c["contract_id"] for c in result["contracts"]} == {a["id"], b["id"]}
    assert result["skipped"] == [{"contract_id": theirs["id"], "reason": "not found"}]  # not the rep's
    submitted = events("change_batch_submitted")
    assert [(e["document_type"], e["document_id"], e["kind"], e["contracts"]) for e in submitted] == [
        ("change_batch", result["batch_id"], "co_terminate", 2)
    ]
    for c in (a, b):  # nothing changed yet; the contracts take no other change order meanwhile
        now = rep.get_contract(c["id"])
        assert now["end_date"] == c["end_date"] and now["amendments"][-1]["status"] == "pending_approval"
        with pytest.raises(Conflict):
            rep.terminate_contract(c["id"], {"reason": "r", "effective_date": day(0)})
    assert events("contract_amended") == []

    assert "applied" in decide(result["batch_id"], "approved", document_type="change_batch")
    for c in (a, b):
        now = rep.get_contract(c["id"])
        assert now["end_date"] == "2035-12-31" and now["versions"][-1]["kind"] == "co_terminate"
        assert now["amendments"][-1]["status"] == "applied"
    assert {e["id"] for e in events("contract_amended")} == {a["id"], b["id"]}
    assert "nothing to do" in decide(result["batch_id"], "approved", document_type="change_batch")


def test_contracts_a_rejected_co_termination_batch_changes_nothing(rep, running, decide, events):
    a = running(end_date=day(200))
    result = rep.co_terminate({"contract_ids": [a["id"]], "end_date": "2035-12-31"})
    assert decide(result["batch_id"], "rejected", document_type="change_batch") == "rejected"
    now = rep.get_contract(a["id"])
    assert now["end_date"] == a["end_date"] and now["amendments"][-1]["status"] == "rejected"
    assert events("contract_amended") == []


def test_contracts_a_reps_restructure_of_contracts_in_force_waits_for_approval(
    rep, db, running, create_contract, decide, events
):
    a = running()
    b = running(lines=[{"product_id": 11, "quantity": 1, "unit_price": "50.00"}])
    printer = next(li for li in a["lines"] if li["product_id"] == 10)
    contracts_before = count(db, m.contracts)
    result = rep.restructure({"action": "move_lines", "line_ids": [printer["id"]], "to_contract_id": b["id"]})
    assert result["status"] == "pending_approval" and result["action"] == "move_lines"
    assert {c["contract_id"] for c in result["contracts_pending"]} == {a["id"], b["id"]}
    assert (
        rep.get_contract(a["id"])["lines"] == a["lines"] and rep.get_contract(b["id"])["lines"] == b["lines"]
    )
    assert events("contract_amended") == [] and count(db, m.contracts) == contracts_before

    assert "applied" in decide(result["batch_id"], "approved", document_type="change_batch")
    assert [li["id"] for li in rep.get_contract(b["id"])["lines"]][-1] == printer["id"]
    assert {e["id"] for e in events("contract_amended")} == {a["id"], b["id"]}

    # a split that no longer holds when approved (the line left meanwhile): the batch fails whole
    c = running()
    svc = next(li for li in c["lines"] if li["product_id"] == 11)
    split = rep.restructure({"action": "split", "contract_id": c["id"], "line_ids": [svc["id"]]})
    assert split["status"] == "pending_approval"
    with db.transaction() as uow:  # the line is gone meanwhile
        uow.session.execute(m.contract_lines.delete().where(m.contract_lines.c.id == svc["id"]))
    outcome = decide(split["batch_id"], "approved", document_type="change_batch")
    assert "failed" in outcome
    assert count(db, m.contracts) == contracts_before + 1  # c only; no split-off contract
    assert rep.get_contract(c["id"])["amendments"][-1]["status"] == "failed"

    # drafts are restructured at once, as before
    draft = create_contract()
    out = rep.restructure(
        {"action": "split", "contract_id": draft["id"], "line_ids": [draft["lines"][1]["id"]]}
    )
    assert out["contract"]["status"] == "draft"


def test_contracts_restructure_refused_for_locked_contracts(rep, db, running):
    a, b = running(), running()
    usecases.set_amounts_lock(db, FINANCE, b["id"], True)
    printer = next(li for li in a["lines"] if li["product_id"] == 10)
    with pytest.raises(Conflict):
        rep.restructure({"action": "move_lines", "line_ids": [printer["id"]], "to_contract_id": b["id"]})
    assert count(db, m.amendment_batches) == 0 and rep.get_contract(a["id"])["lines"] == a["lines"]


# -- archive ----------------------------------------------------------------------------------


def test_contracts_archive_ended_contracts_read_only_and_hidden(rep, admin, running, create_contract, events):
    ended, live = running(), running()
    rep.terminate_contract(ended["id"], {"reason": "r", "effective_date": day(0)})
    with pytest.raises(Conflict):
        rep.archive_contract(live["id"])
    with pytest.raises(Conflict):
        rep.archive_contract(create_contract()["id"])
    archived = rep.archive_contract(ended["id"])
    assert archived["status"] == "archived"
    assert events("contract_archived")[0]["archived_from"] == "terminated"
    listed = {c["id"] for c in rep.list_contracts({})["items"]}
    assert ended["id"] not in listed and live["id"] in listed
    assert ended["id"] in {c["id"] for c in rep.list_contracts({"include_archived": True})["items"]}
    assert [c["id"] for c in rep.list_contracts({"status": ["archived"]})["items"]] == [ended["id"]]
    for action in (
        lambda: rep.archive_contract(ended["id"]),
        lambda: rep.renew_contract(ended["id"]),
        lambda: admin.terminate_contract(ended["id"], {"reason": "r", "effective_date": day(0)}),
        lambda: rep.create_amendment(ended["id"], {"reason": "r", "changes": {"signer": "X"}}),
        lambda: rep.cancel_contract(ended["id"]),
    ):
        with pytest.raises(Conflict):
            action()
    assert rep.get_contract(ended["id"])["status"] == "archived"


def test_contracts_a_termination_inside_a_period_already_invoiced_needs_approval(rep, db, running, events):
    """From tomorrow, but billing invoiced (in advance) up to the end of the month: the credit
    it would issue goes through approval too; a voided invoice does not count."""
    from contracts import progress
    from crm_common.db import make_envelope

    c = running()
    issued = {"id": "INV-1", "number": "INV-2026-000001", "contract_id": c["id"], "currency": "EUR",
              "total": "172.00", "status": "issued", "period_end": day(20)}  # fmt: skip
    progress.apply_billing_event(db, make_envelope("billing", "invoice_issued", issued))
    out = rep.terminate_contract(c["id"], {"reason": "r", "effective_date": day(1)})
    assert out["status"] == "active" and out["termination_request"]["effective_date"] == day(1)
    # after the invoiced period: at once
    d = running()
    progress.apply_billing_event(db, make_envelope("billing", "invoice_issued", {**issued, "id": "INV-2",
                                                                                  "contract_id": d["id"]}))  # fmt: skip
    assert (
        rep.terminate_contract(d["id"], {"reason": "r", "effective_date": day(21)})["status"] == "terminated"
    )
    e = running()
    progress.apply_billing_event(db, make_envelope("billing", "invoice_issued", {**issued, "id": "INV-3",
                                                                                  "contract_id": e["id"]}))  # fmt: skip
    progress.apply_billing_event(
        db, make_envelope("billing", "invoice_voided", {"id": "INV-3", "status": "void"})
    )
    assert (
        rep.terminate_contract(e["id"], {"reason": "r", "effective_date": day(1)})["status"] == "terminated"
    )
    assert len(events("termination_submitted")) == 1
