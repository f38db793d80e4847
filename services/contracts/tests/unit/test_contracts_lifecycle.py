"""Contracts through the service's entrypoints (nameko's worker_factory) on a real SQLite database:
creation with numbers, prices and units, bad input, scopes, the lifecycle driven by approval
events and the daily job, renewals, amendments with versions, amount locks."""

from __future__ import annotations

import datetime as dt

import pytest
from contracts import models as m
from contracts import usecases
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sqlalchemy import func, select

D = dt.date


def count(db, table) -> int:
    with db.read() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


# -- creation ---------------------------------------------------------------------------


def test_contracts_created_with_number_prices_units_and_exact_totals(rep, create_contract, events):
    c = create_contract()
    assert c["number"] == f"C-{dt.date.today().year}-000001" and c["status"] == "draft"
    assert c["owner_id"] == 3 and c["department"] == "North"
    device, service = c["lines"]
    # the unit covered: model from the product, manufacturing number from inventory's unit
    assert device["serial_number"] == "SN-1" and device["manufacturing_number"] == "MFG-0001"
    assert device["model"] == "LJ-200" and device["price_source"] == "manual"
    # no price given: the customer's tier (A) price list of the customer channel
    assert service["unit_price"] == "40.00" and service["price_source"] == "price_list"
    assert service["amount"] == "72.00"  # 2 × 40 − 10 %
    assert c["total"] == "172.00" and c["term_value"] == "2064.00"  # 12 monthly periods
    assert c["customer"] == {"id": 1, "name": "Ankara Makine A.Ş.", "code": "C000001", "language": "tr"}
    assert create_contract()["number"].endswith("000002")
    assert [e["number"] for e in events("contract_created")] == [c["number"], c["number"][:-1] + "2"]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"end_date": "2026-12-31"}, "end_date"),
        ({"customer_id": 99}, "customer_id"),
        ({"currency": "EURO"}, "currency"),
        ({"lines": [{"product_id": 999}]}, "lines.0.product_id"),
        ({"lines": [{"product_id": 11, "unit_price": "-1"}]}, "lines.0.unit_price"),
        ({"lines": [{"product_id": 11, "unit_price": "NaN"}]}, "lines.0.unit_price"),
        ({"lines": [{"product_id": 11, "quantity": "0"}]}, "lines.0.quantity"),
        ({"lines": [{"product_id": 11, "start_date": "2026-06-01"}]}, "lines.0.start_date"),
        ({"lines": [{"product_id": 12}]}, "lines.0.unit_price"),  # only a USD price for toner
        ({"lines": [{"product_id": 13, "unit_price": "1"}]}, "lines.0.product_id"),  # inactive
        ({"kind": "sales", "lines": [{"product_id": 10, "unit_price": "1", "serial_number": "NOPE"}]},
         "lines.0.serial_number"),
        ({"billing": {"frequency": "weekly"}}, "billing.frequency"),
        ({"title": "   "}, "title"),
    ],
)  # fmt: skip
def test_contracts_bad_input_is_422_naming_the_field_and_consumes_no_number(
    rep, db, contract_body, overrides, field
):
    with pytest.raises(ValidationFailed) as err:
        rep.create_contract(contract_body(**overrides))
    assert field in err.value.details, err.value.details
    assert count(db, m.contracts) == 0 and count(db, m.counters) == 0
    assert rep.create_contract(contract_body())["number"].endswith("-000001")


def test_contracts_a_rep_sees_and_changes_only_their_own(
    rep, other_rep, manager, finance, create_contract, contract_body
):
    c = create_contract()
    with pytest.raises(NotFound):
        other_rep.get_contract(c["id"])
    with pytest.raises(NotFound):
        other_rep.submit_contract(c["id"])
    assert other_rep.list_contracts({})["total"] == 0
    assert manager.get_contract(c["id"])["id"] == c["id"]
    assert finance.list_contracts({})["total"] == 1
    with pytest.raises(PermissionDenied):
        finance.update_contract(c["id"], {"title": "x"})
    with pytest.raises(PermissionDenied):
        rep.create_contract(contract_body(owner_id=4))


def test_contracts_patch_only_in_draft_and_validated_whole(rep, create_contract, decide):
    c = create_contract()
    changed = rep.update_contract(
        c["id"], {"title": "Neuer Titel", "lines": [{"product_id": 11, "quantity": 3}]}
    )
    assert changed["title"] == "Neuer Titel" and changed["total"] == "120.00" and len(changed["lines"]) == 1
    with pytest.raises(ValidationFailed) as err:
        rep.update_contract(c["id"], {"end_date": "2026-01-01"})
    assert "end_date" in err.value.details
    rep.submit_contract(c["id"])
    with pytest.raises(Conflict):
        rep.update_contract(c["id"], {"title": "late"})


# -- lifecycle --------------------------------------------------------------------------


def test_contracts_submit_approve_activate_by_daily_job(rep, admin, create_contract, decide, events):
    c = create_contract(start_date="2099-01-01", end_date="2099-12-31")
    submitted = rep.submit_contract(c["id"])
    assert submitted["status"] == "pending_approval"
    request = events("contract_submitted")[0]
    assert request["document_type"] == "contract" and request["document_id"] == c["id"]
    assert request["submitter_id"] == 3 and request["amount"] == "2064.00" and request["currency"] == "EUR"
    assert decide(c["id"]) == "approved"
    assert decide(c["id"]) == "contract is approved: nothing to do"  # a redelivery is harmless
    approved = rep.get_contract(c["id"])
    assert approved["status"] == "approved" and approved["version"] == 1
    assert [v["kind"] for v in approved["versions"]] == ["approval"]
    payload = events("contract_approved")[0]
    assert payload["lines"][0]["serial_number"] == "SN-1" and payload["customer_language"] == "tr"
    assert admin.run_daily("2098-12-31")["contracts_activated"] == 0
    assert admin.run_daily("2099-01-01")["contracts_activated"] == 1
    assert rep.get_contract(c["id"])["status"] == "active"
    assert events("contract_activated")[0]["billing"]["frequency"] == "monthly"


def test_contracts_rejection_returns_to_draft_with_the_comment(rep, create_contract, decide):
    c = create_contract()
    rep.submit_contract(c["id"])
    decide(c["id"], "rejected", comment="Rabatt zu hoch")
    back = rep.get_contract(c["id"])
    assert back["status"] == "draft" and back["rejection_comment"] == "Rabatt zu hoch"
    rep.update_contract(c["id"], {"lines": [{"product_id": 11, "quantity": 1}]})
    assert rep.submit_contract(c["id"])["status"] == "pending_approval"


def test_contracts_started_term_goes_active_on_approval(active_contract):
    c = active_contract()
    assert c["status"] == "active"


def test_contracts_cancel_and_terminate(rep, create_contract, active_contract, events, decide):
    draft = create_contract()
    assert rep.cancel_contract(draft["id"], {"reason": "lost"})["status"] == "cancelled"
    live = active_contract()
    with pytest.raises(Conflict):
        rep.cancel_contract(live["id"])
    with pytest.raises(ValidationFailed) as err:
        rep.terminate_contract(live["id"], {"reason": "moved", "effective_date": "2030-01-01"})
    assert "effective_date" in err.value.details
    # back-dated by a rep: a termination request, terminated once approved (issue 17)
    asked = rep.terminate_contract(live["id"], {"reason": "moved", "effective_date": "2026-06-30"})
    assert asked["status"] == "active" and asked["termination_request"]["status"] == "pending_approval"
    decide(asked["termination_request"]["id"], document_type="termination")
    done = rep.get_contract(live["id"])
    assert done["status"] == "terminated" and done["termination_date"] == "2026-06-30"
    assert events("contract_terminated")[0]["effective_date"] == "2026-06-30"
    with pytest.raises(Conflict):
        rep.terminate_contract(live["id"], {"reason": "again", "effective_date": "2026-06-30"})


# -- expiry and renewal -----------------------------------------------------------------


def test_contracts_expiring_once_per_window_then_auto_renewed(rep, admin, active_contract, events):
    c = active_contract(auto_renew=True, renewal_uplift_percent="3", notice_days=30)
    assert admin.run_daily("2026-10-02")["contracts_expiring_notices"] == 1
    assert admin.run_daily("2026-10-03")["contracts_expiring_notices"] == 0
    assert admin.run_daily("2026-12-05")["contracts_expiring_notices"] == 1  # 60 passed over
    notices = events("contract_expiring")
    assert [(n["days"], n["notice_deadline"]) for n in notices] == [(90, "2026-12-01"), (30, "2026-12-01")]
    result = admin.run_daily("2027-01-01")
    assert result["contracts_renewed"] == 1
    old = rep.get_contract(c["id"])
    assert old["status"] == "renewed" and old["renewed_by_id"]
    new = rep.get_contract(old["renewed_by_id"])
    assert new["status"] == "active" and (new["start_date"], new["end_date"]) == ("2027-01-01", "2027-12-31")
    assert new["renewal_of_id"] == c["id"]
    assert [li["unit_price"] for li in new["lines"]] == ["103.00", "41.20"]  # raised by 3 %
    renewed = events("contract_renewed")[0]
    assert renewed["id"] == c["id"] and renewed["renewal"]["id"] == new["id"]
    assert renewed["renewal_number"] == new["number"]


def test_contracts_a_run_years_ahead_renews_the_whole_chain(admin, rep, active_contract):
    c = active_contract(auto_renew=True)
    assert admin.run_daily("2029-01-02")["contracts_renewed"] == 3
    chain = rep.list_contracts({"status": ["active"]})["items"]
    assert [x["start_date"] for x in chain] == ["2029-01-01"]
    assert rep.get_contract(c["id"])["status"] == "renewed"


def test_contracts_without_auto_renew_expire(admin, rep, active_contract, events):
    c = active_contract()
    admin.run_daily("2027-01-01")
    assert rep.get_contract(c["id"])["status"] == "expired"
    assert events("contract_expired")[0]["id"] == c["id"]


def test_contracts_manual_renewal_quote(rep, active_contract, decide, admin):
    c = active_contract(renewal_uplift_percent="10")
    quote = rep.renew_contract(c["id"])
    assert quote["status"] == "draft" and quote["start_date"] == "2027-01-01"
    assert quote["lines"][0]["unit_price"] == "110.00"
    with pytest.raises(Conflict):
        rep.renew_contract(c["id"])
    rep.submit_contract(quote["id"])
    decide(quote["id"])
    admin.run_daily("2027-01-01")
    assert rep.get_contract(c["id"])["status"] == "renewed"
    assert rep.get_contract(quote["id"])["status"] == "active"


def test_contracts_expiring_within_days_filter(rep, active_contract):
    c = active_contract()
    assert rep.list_contracts({"expiring_within_days": 30, "as_of": "2026-12-15"})["total"] == 1
    assert rep.list_contracts({"expiring_within_days": 30, "as_of": "2026-06-01"})["total"] == 0
    assert (
        rep.list_contracts({"expiring_within_days": 30, "as_of": "2026-12-15"})["items"][0]["id"] == c["id"]
    )


# -- amendments and versions ------------------------------------------------------------


def test_contracts_amendment_approved_is_a_new_version_with_a_diff(rep, active_contract, decide, events):
    c = active_contract()
    device, service = c["lines"]
    with pytest.raises(ValidationFailed) as err:
        rep.create_amendment(c["id"], {"reason": "x", "changes": {"currency": "USD"}})
    assert "changes.currency" in err.value.details
    a = rep.create_amendment(
        c["id"],
        {
            "reason": "Second printer",
            "effective_date": "2026-07-01",
            "changes": {"title": "Bakım + ikinci yazıcı"},
            "add_lines": [{"product_id": 10, "unit_price": "90.00", "serial_number": "SN-2",
                           "start_date": "2026-07-01"}],
            "change_lines": [{"id": service["id"], "quantity": "3"}],
        },
    )  # fmt: skip
    assert a["status"] == "pending_approval" and a["number"] == c["number"] + "-A01"
    assert a["amount_before"] == "172.00" and a["amount_after"] == "298.00"
    with pytest.raises(Conflict):
        rep.create_amendment(c["id"], {"reason": "another", "changes": {"title": "y"}})
    assert events("amendment_submitted")[0]["document_id"] == a["id"]
    assert decide(a["id"], document_type="amendment") == "applied"
    after = rep.get_contract(c["id"])
    assert after["version"] == 2 and after["total"] == "298.00" and len(after["lines"]) == 3
    assert after["lines"][2]["manufacturing_number"] == "MFG-0002"
    diff = rep.diff_versions(c["id"], 1, 2)
    assert diff["fields"]["title"] == {"from": c["title"], "to": "Bakım + ikinci yazıcı"}
    assert [li["serial_number"] for li in diff["lines"]["added"]] == ["SN-2"]
    assert diff["lines"]["changed"][0]["changes"]["quantity"] == {"from": "2", "to": "3"}
    amended = events("contract_amended")[0]
    assert amended["effective_date"] == "2026-07-01" and amended["amendment"]["number"] == a["number"]
    assert rep.get_version(c["id"], 1)["contract"]["total"] == "172.00"
    with pytest.raises(NotFound):
        rep.get_version(c["id"], 3)


def test_contracts_rejected_amendment_changes_nothing(rep, active_contract, decide):
    c = active_contract()
    a = rep.create_amendment(c["id"], {"reason": "r", "remove_line_ids": [c["lines"][0]["id"]]})
    decide(a["id"], "rejected", document_type="amendment", comment="nein")
    assert rep.get_amendment(c["id"], a["id"])["status"] == "rejected"
    assert rep.get_contract(c["id"])["version"] == 1
    with pytest.raises(ValidationFailed):
        rep.create_amendment(c["id"], {"reason": "r", "remove_line_ids": [li["id"] for li in c["lines"]]})


def test_contracts_finance_locks_amounts(rep, finance, active_contract, create_contract):
    c = active_contract()
    with pytest.raises(PermissionDenied):
        rep.lock_amounts(c["id"])
    assert finance.lock_amounts(c["id"])["amounts_locked"] is True
    with pytest.raises(Conflict):
        rep.create_amendment(
            c["id"], {"reason": "r", "change_lines": [{"id": c["lines"][0]["id"], "unit_price": "1"}]}
        )
    # a change that does not touch amounts is still possible
    assert rep.create_amendment(c["id"], {"reason": "signer", "changes": {"signer": "Ayşe Yılmaz"}})["id"]
    finance.unlock_amounts(c["id"])
    draft = create_contract()
    finance.lock_amounts(draft["id"])
    with pytest.raises(Conflict):
        rep.update_contract(draft["id"], {"lines": [{"product_id": 11}]})


def test_contracts_portal_user_sees_their_signed_contracts_only(service, active_contract, create_contract):
    from crm_common.context import CallerContext

    signed = active_contract()
    draft = create_contract()
    portal = service(CallerContext(user_id=50, username="p", roles=("portal",), customer_id=1))
    assert [c["id"] for c in portal.list_contracts({})["items"]] == [signed["id"]]
    with pytest.raises(NotFound):
        portal.get_contract(draft["id"])
    other = service(CallerContext(user_id=51, username="q", roles=("portal",), customer_id=2))
    with pytest.raises(NotFound):
        other.get_contract(signed["id"])


def test_contracts_number_is_unique_per_year_under_the_counter(db):
    with db.transaction() as uow:
        first = usecases.contract_numbers(uow.session, 2031, 3)
    with db.transaction() as uow:
        second = usecases.contract_numbers(uow.session, 2031, 1)
    assert first == ["C-2031-000001", "C-2031-000002", "C-2031-000003"] and second == ["C-2031-000004"]
    try:
        with db.transaction() as uow:
            usecases.contract_numbers(uow.session, 2031, 1)
            raise RuntimeError("failed creation")
    except RuntimeError:
        pass
    with db.transaction() as uow:
        assert usecases.contract_numbers(uow.session, 2031, 1) == ["C-2031-000005"]
