"""The daily job dates what it writes by ``as_of`` and the term's dates, never by the clock
(ADR 0011): a back-dated or catch-up run writes what runs made on the day would have."""

from __future__ import annotations

import datetime as dt

from contracts import domain
from contracts import models as m
from sqlalchemy import select

D = dt.date.fromisoformat


def ended_at(db, contract_id: int) -> dt.datetime:
    """When the contract's term ended as the job recorded it (not part of the contract's view)."""
    with db.read() as s:
        value = s.execute(select(m.contracts.c.ended_at).where(m.contracts.c.id == contract_id)).scalar_one()
    return value.astimezone(dt.UTC)


def test_job_dates_follow_the_term_capped_at_the_run():
    dates = domain.job_dates(D("2027-01-01"), D("2027-12-31"), D("2030-06-01"))
    assert dates == {
        "activated_at": dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        "ended_at": dt.datetime(2028, 1, 1, tzinfo=dt.UTC),
        "renewal_year": 2028,
    }
    on_the_day = domain.job_dates(D("2027-01-01"), D("2027-12-31"), D("2028-01-01"))
    assert on_the_day == dates  # the run made on the day writes the same
    early = domain.job_dates(D("2027-01-01"), D("2027-12-31"), D("2026-12-07"))
    assert early["activated_at"] == dt.datetime(2026, 12, 7, tzinfo=dt.UTC)


def test_activation_by_a_back_dated_run_is_dated_by_the_start(rep, admin, create_contract, decide, events):
    c = create_contract(start_date="2099-01-01", end_date="2099-12-31")
    rep.submit_contract(c["id"])
    decide(c["id"])
    assert admin.run_daily("2099-01-03")["contracts_activated"] == 1  # two days late
    active = rep.get_contract(c["id"])
    assert active["status"] == "active" and active["activated_at"].startswith("2099-01-01T00:00:00")
    assert events("contract_activated")[0]["as_of"] == "2099-01-03"


def test_a_run_years_ahead_numbers_and_dates_each_renewal_by_its_term(
    admin, rep, active_contract, events, db
):
    c = active_contract(auto_renew=True)  # 2026-01-01 – 2026-12-31
    assert admin.run_daily("2029-01-02")["contracts_renewed"] == 3
    renewals = sorted(events("contract_renewed"), key=lambda e: e["renewal"]["start_date"])
    assert [(e["renewal"]["start_date"], e["renewal_number"][:7]) for e in renewals] == [
        ("2027-01-01", "C-2027-"),
        ("2028-01-01", "C-2028-"),
        ("2029-01-01", "C-2029-"),
    ]
    assert {e["as_of"] for e in renewals} == {"2029-01-02"}
    first = rep.get_contract(c["id"])
    assert first["status"] == "renewed" and ended_at(db, c["id"]) == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    for e in renewals:
        renewal = rep.get_contract(e["renewal"]["id"])
        assert renewal["activated_at"].startswith(f"{renewal['start_date']}T00:00:00"), renewal
    activated = [a for a in events("contract_activated") if a.get("renewal_of_id")]
    assert len(activated) == 3 and {a["as_of"] for a in activated} == {"2029-01-02"}


def test_expiry_is_dated_by_the_terms_end(admin, rep, active_contract, db):
    c = active_contract()  # ends 2026-12-31, no auto-renewal
    admin.run_daily("2027-03-01")  # two months late
    expired = rep.get_contract(c["id"])
    assert expired["status"] == "expired" and ended_at(db, c["id"]) == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
