"""Contract progress: milestones (who may change them, the rules of their fields), delivery vs
plan, the progress list with its "behind plan" filter, and the invoicing / payment progress kept
from billing's events — replayed, out of order, one-off and malformed ones included. Real SQLite
database; contracts are inserted as rows (this file does not depend on create_contract)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest
from contracts import progress
from contracts.models import contracts, metadata
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, WorkerDatabase, make_envelope, utcnow
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm_common.testing import new_caller
from sqlalchemy import insert, select

D = dt.date
ADMIN = new_caller("admin", user_id=1)
MANAGER = new_caller("sales_manager", user_id=2)
REP = new_caller("sales_rep", user_id=3)
OTHER_REP = new_caller("sales_rep", user_id=4)
READER = new_caller("readonly", user_id=5)
PORTAL = CallerContext(user_id=6, username="portal", roles=("portal",), customer_id=10)
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

_numbers = itertools.count(1)


@pytest.fixture
def handle(sqlite_url):
    h = DatabaseHandle("contracts", metadata, sqlite_url)
    h.create_all()
    yield h
    h.dispose()


@pytest.fixture
def any_handle(any_db_url):
    """The same on SQLite and on PostgreSQL (skipped when PostgreSQL is not reachable)."""
    h = DatabaseHandle("contracts", metadata, any_db_url)
    h.create_all()
    yield h
    h.dispose()


@pytest.fixture
def as_user(handle):
    """``as_user(caller)`` → the database as a worker of that caller sees it (audit names them)."""
    return lambda caller: WorkerDatabase(handle, caller, None)


def create_contract(handle: DatabaseHandle, **overrides: Any) -> dict:
    """A contract row with every required column: monthly, 100.00 EUR a month, all of 2026
    (term value 1 200.00), owned by the rep (user 3), customer 10, active."""
    now = utcnow()
    values = {
        "number": f"C-2026-{next(_numbers):06d}",
        "customer_id": 10,
        "customer_name": "Acme 有限公司",
        "kind": "maintenance",
        "title": "Printer care",
        "currency": "EUR",
        "start_date": D(2026, 1, 1),
        "end_date": D(2026, 12, 31),
        "payment_terms_days": 30,
        "billing_frequency": "monthly",
        "billing_in_advance": True,
        "auto_renew": False,
        "notice_days": 0,
        "renewal_uplift_percent": Decimal(0),
        "owner_id": 3,
        "field_values": {},
        "status": "active",
        "version": 1,
        "total": Decimal("100.00"),
        "amounts_locked": False,
        "created_at": now,
        "updated_at": now,
        **overrides,
    }
    with handle.transaction() as uow:
        values["id"] = uow.session.execute(
            insert(contracts).values(**values).returning(contracts.c.id)
        ).scalar_one()
    return values


def milestone(name: str, planned: str, **extra: Any) -> dict:
    return {"name": name, "planned_date": planned, **extra}


def event(event_type: str, payload: dict, at: dt.datetime) -> dict:
    env = make_envelope("billing", event_type, payload)
    env["occurred_at"] = at.isoformat()
    return env


def audit_rows(handle: DatabaseHandle) -> list:
    table = handle.infra.audit_log
    with handle.read() as s:
        return list(s.execute(select(table).where(table.c.entity == "milestone").order_by(table.c.id)))


def billing(handle: DatabaseHandle, contract_id: int) -> dict:
    """The contract's billing progress in its own currency, and its invoices by id."""
    out = progress.get_progress(handle, ADMIN, contract_id, "2026-06-30")
    return {
        "own": out["billing"][0],
        "all": out["billing"],
        "invoices": {i["id"]: i for i in out["invoices"]},
    }


# -- milestones -------------------------------------------------------------------------------


def test_contracts_milestones_are_added_listed_in_plan_order_and_audited(handle, as_user):
    c = create_contract(handle)
    db = as_user(REP)
    late = progress.add_milestone(db, REP, c["id"], milestone("Training", "2026-09-30", weight="2.5"))
    early = progress.add_milestone(
        db, REP, c["id"], milestone("  Installation 安装  ", "2026-02-15", notes="Building B")
    )
    assert early["name"] == "Installation 安装"
    assert (early["weight"], early["percent_complete"], early["completed_on"]) == ("1", 0, None)
    assert late["weight"] == "2.5"

    listed = progress.list_milestones(handle, READER, c["id"])
    assert [x["name"] for x in listed["items"]] == ["Installation 安装", "Training"]
    assert listed["total"] == 2 and listed["items"][0]["notes"] == "Building B"

    rows = audit_rows(handle)
    assert [(r.action, r.actor) for r in rows] == [("created", "user:3"), ("created", "user:3")]
    assert rows[0].changes["name"] == [None, "Training"]


def test_contracts_milestone_planned_outside_the_term_is_refused_naming_the_field(handle):
    c = create_contract(handle)
    with pytest.raises(ValidationFailed) as exc:
        progress.add_milestone(handle, ADMIN, c["id"], milestone("Go-live", "2027-01-01"))
    assert list(exc.value.details) == ["planned_date"]
    assert "2026-01-01" in exc.value.details["planned_date"][0]
    assert progress.list_milestones(handle, ADMIN, c["id"])["items"] == []
    assert audit_rows(handle) == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"weight": 0}, "weight"),
        ({"weight": "-1"}, "weight"),
        ({"weight": 1.5}, "weight"),
        ({"weight": "0.00001"}, "weight"),
        ({"weight": "10001"}, "weight"),
        ({"percent_complete": 101}, "percent_complete"),
        ({"percent_complete": True}, "percent_complete"),
        ({"percent_complete": "50"}, "percent_complete"),
        ({"name": "   "}, "name"),
        ({"planned_date": "15/02/2026"}, "planned_date"),
        ({"colour": "red"}, "colour"),
        ({"completed_on": "2026-02-01"}, "completed_on"),
    ],
)
def test_contracts_bad_milestone_input_names_the_field(handle, data, field):
    c = create_contract(handle)
    with pytest.raises(ValidationFailed) as exc:
        progress.add_milestone(handle, ADMIN, c["id"], {**milestone("Install", "2026-02-15"), **data})
    assert field in exc.value.details
    assert progress.list_milestones(handle, ADMIN, c["id"])["items"] == []


def test_contracts_completing_a_milestone_dates_it_and_reopening_clears_the_date(handle, monkeypatch):
    monkeypatch.setattr(progress, "_today", lambda: D(2026, 3, 10))
    c = create_contract(handle)
    ms = progress.add_milestone(handle, ADMIN, c["id"], milestone("Install", "2026-03-01"))

    done = progress.update_milestone(handle, ADMIN, c["id"], ms["id"], {"percent_complete": 100})
    assert done["completed_on"] == "2026-03-10"
    renamed = progress.update_milestone(handle, ADMIN, c["id"], ms["id"], {"name": "Install all"})
    assert renamed["completed_on"] == "2026-03-10"  # still complete: the date stays
    reopened = progress.update_milestone(handle, ADMIN, c["id"], ms["id"], {"percent_complete": 60})
    assert (reopened["percent_complete"], reopened["completed_on"]) == (60, None)
    dated = progress.update_milestone(
        handle, ADMIN, c["id"], ms["id"], {"percent_complete": 100, "completed_on": "2026-03-05"}
    )
    assert dated["completed_on"] == "2026-03-05"

    with pytest.raises(ValidationFailed) as exc:
        progress.update_milestone(
            handle, ADMIN, c["id"], ms["id"], {"percent_complete": 50, "completed_on": "2026-03-05"}
        )
    assert list(exc.value.details) == ["completed_on"]
    with pytest.raises(ValidationFailed) as exc:
        progress.update_milestone(handle, ADMIN, c["id"], ms["id"], {"planned_date": "2025-12-31"})
    assert list(exc.value.details) == ["planned_date"]
    with pytest.raises(ValidationFailed) as exc:
        progress.update_milestone(handle, ADMIN, c["id"], ms["id"], {"name": ""})
    assert list(exc.value.details) == ["name"]

    [kept] = progress.list_milestones(handle, ADMIN, c["id"])["items"]
    assert (kept["name"], kept["percent_complete"], kept["completed_on"]) == (
        "Install all",
        100,
        "2026-03-05",
    )
    actions = [r.action for r in audit_rows(handle)]
    assert actions == ["created", "updated", "updated", "updated", "updated"]


def test_contracts_blank_notes_are_none_and_long_names_are_refused(handle):
    c = create_contract(handle)
    ms = progress.add_milestone(handle, ADMIN, c["id"], milestone("Install", "2026-03-01", notes="  "))
    assert ms["notes"] is None
    changed = progress.update_milestone(handle, ADMIN, c["id"], ms["id"], {"notes": "Gate code 1234"})
    assert changed["notes"] == "Gate code 1234"
    assert progress.update_milestone(handle, ADMIN, c["id"], ms["id"], {"notes": ""})["notes"] is None
    with pytest.raises(ValidationFailed) as exc:
        progress.update_milestone(handle, ADMIN, c["id"], ms["id"], {"name": "x" * 301})
    assert list(exc.value.details) == ["name"]


def test_contracts_an_unchanged_update_writes_nothing(handle):
    c = create_contract(handle)
    ms = progress.add_milestone(handle, ADMIN, c["id"], milestone("Install", "2026-03-01", weight="2"))
    same = progress.update_milestone(handle, ADMIN, c["id"], ms["id"], {"weight": "2.0", "name": "Install"})
    assert same["updated_at"] == ms["updated_at"]
    assert [r.action for r in audit_rows(handle)] == ["created"]


def test_contracts_milestones_of_a_cancelled_contract_cannot_change(handle):
    c = create_contract(handle, status="draft")
    ms = progress.add_milestone(handle, ADMIN, c["id"], milestone("Install", "2026-03-01"))
    with handle.transaction() as uow:
        uow.session.execute(contracts.update().where(contracts.c.id == c["id"]).values(status="cancelled"))
    with pytest.raises(Conflict):
        progress.add_milestone(handle, ADMIN, c["id"], milestone("Train", "2026-04-01"))
    with pytest.raises(Conflict):
        progress.update_milestone(handle, ADMIN, c["id"], ms["id"], {"percent_complete": 100})
    with pytest.raises(Conflict):
        progress.delete_milestone(handle, ADMIN, c["id"], ms["id"])
    [still] = progress.list_milestones(handle, ADMIN, c["id"])["items"]
    assert still["percent_complete"] == 0


def test_contracts_milestone_scopes_follow_the_contract(handle):
    own = create_contract(handle, owner_id=3)
    theirs = create_contract(handle, owner_id=4, customer_id=11)
    progress.add_milestone(
        handle, REP, own["id"], milestone("Install", "2026-03-01", notes="Kunde zahlt spät")
    )
    with pytest.raises(NotFound):
        progress.add_milestone(handle, REP, theirs["id"], milestone("Install", "2026-03-01"))
    with pytest.raises(NotFound):
        progress.list_milestones(handle, REP, theirs["id"])
    with pytest.raises(PermissionDenied):
        progress.add_milestone(handle, READER, own["id"], milestone("Install", "2026-03-01"))
    with pytest.raises(PermissionDenied):
        progress.add_milestone(handle, PORTAL, own["id"], milestone("Install", "2026-03-01"))
    assert progress.list_milestones(handle, READER, own["id"])["total"] == 1
    assert progress.list_milestones(handle, PORTAL, own["id"])["total"] == 1  # customer 10's contract
    # internal notes are the company's: the customer reads the milestone without them
    assert progress.list_milestones(handle, READER, own["id"])["items"][0]["notes"] == "Kunde zahlt spät"
    assert progress.list_milestones(handle, PORTAL, own["id"])["items"][0]["notes"] is None
    assert progress.get_progress(handle, PORTAL, own["id"])["delivery"]["items"][0]["notes"] is None
    with pytest.raises(NotFound):
        progress.list_milestones(handle, PORTAL, theirs["id"])
    with pytest.raises(PermissionDenied):
        progress.list_milestones(handle, None, own["id"])
    m2 = progress.add_milestone(handle, MANAGER, theirs["id"], milestone("Install", "2026-03-01"))
    with pytest.raises(NotFound):
        progress.update_milestone(handle, OTHER_REP, own["id"], m2["id"], {"percent_complete": 10})


def test_contracts_a_milestone_is_reached_only_through_its_own_contract(handle):
    a = create_contract(handle)
    b = create_contract(handle)
    ms = progress.add_milestone(handle, ADMIN, a["id"], milestone("Install", "2026-03-01"))
    with pytest.raises(NotFound):
        progress.update_milestone(handle, ADMIN, b["id"], ms["id"], {"percent_complete": 10})
    with pytest.raises(NotFound):
        progress.delete_milestone(handle, ADMIN, b["id"], ms["id"])
    assert progress.delete_milestone(handle, ADMIN, a["id"], ms["id"])["deleted"] is True
    assert progress.list_milestones(handle, ADMIN, a["id"])["items"] == []
    with pytest.raises(NotFound):
        progress.delete_milestone(handle, ADMIN, a["id"], ms["id"])
    with pytest.raises(ValidationFailed):
        progress.delete_milestone(handle, ADMIN, a["id"], "abc")
    assert [r.action for r in audit_rows(handle)] == ["created", "deleted"]


# -- delivery progress ------------------------------------------------------------------------


def test_contracts_delivery_progress_compares_weighted_completion_with_the_plan(any_handle):
    c = create_contract(any_handle)
    a = progress.add_milestone(any_handle, ADMIN, c["id"], milestone("Install", "2026-02-01", weight="3"))
    progress.add_milestone(any_handle, ADMIN, c["id"], milestone("Train", "2026-05-01", percent_complete=50))
    progress.update_milestone(any_handle, ADMIN, c["id"], a["id"], {"percent_complete": 40})

    early = progress.get_progress(any_handle, READER, c["id"], "2026-01-15")["delivery"]
    assert (early["actual_percent"], early["planned_percent"], early["behind"]) == ("42.5", "0.0", False)
    later = progress.get_progress(any_handle, READER, c["id"], "2026-03-01")
    d = later["delivery"]
    # actual (3×40 + 1×50) / 4 = 42.5 %; planned: Install (weight 3 of 4) was due = 75 %
    assert (d["actual_percent"], d["planned_percent"], d["behind"]) == ("42.5", "75.0", True)
    assert d["overdue"] == [a["id"]]
    assert [(i["name"], i["overdue"]) for i in d["items"]] == [("Install", True), ("Train", False)]
    assert later["as_of"] == "2026-03-01" and later["term_value"] == "1200.00"
    with pytest.raises(ValidationFailed) as exc:
        progress.get_progress(any_handle, READER, c["id"], "yesterday")
    assert list(exc.value.details) == ["as_of"]


def test_contracts_progress_list_shows_visible_contracts_with_milestones_and_filters_behind(any_handle):
    behind = create_contract(any_handle, title="Behind", owner_id=3)
    on_plan = create_contract(any_handle, title="On plan", owner_id=3, customer_id=12)
    others = create_contract(any_handle, title="Another rep's", owner_id=4, customer_id=11)
    create_contract(any_handle, title="No milestones", owner_id=3)
    progress.add_milestone(any_handle, ADMIN, behind["id"], milestone("Install", "2026-02-01"))
    progress.add_milestone(
        any_handle, ADMIN, on_plan["id"], milestone("Install", "2026-02-01", percent_complete=100)
    )
    progress.add_milestone(any_handle, ADMIN, on_plan["id"], milestone("Train", "2026-08-01"))
    progress.add_milestone(any_handle, ADMIN, others["id"], milestone("Install", "2026-02-01"))
    day = {"as_of": "2026-03-01"}

    everything = progress.list_progress(any_handle, MANAGER, day)
    assert [i["title"] for i in everything["items"]] == ["Behind", "On plan", "Another rep's"]
    assert everything["total"] == 3
    first = everything["items"][0]
    assert (first["actual_percent"], first["planned_percent"], first["behind"]) == ("0.0", "100.0", True)
    assert first["overdue_milestones"] == 1 and first["next_milestone"]["name"] == "Install"
    second = everything["items"][1]
    assert (second["actual_percent"], second["planned_percent"], second["behind"]) == ("50.0", "50.0", False)
    assert second["next_milestone"]["name"] == "Train"

    late = progress.list_progress(any_handle, MANAGER, {**day, "behind": True})
    assert [i["title"] for i in late["items"]] == ["Behind", "Another rep's"]
    fine = progress.list_progress(any_handle, MANAGER, {**day, "behind": False})
    assert [i["title"] for i in fine["items"]] == ["On plan"]
    mine = progress.list_progress(any_handle, REP, {**day, "behind": True})
    assert [i["title"] for i in mine["items"]] == ["Behind"]
    assert [
        i["title"] for i in progress.list_progress(any_handle, MANAGER, {**day, "owner_id": 4})["items"]
    ] == ["Another rep's"]
    by_customer = progress.list_progress(any_handle, MANAGER, {**day, "customer_id": 12})
    assert [i["title"] for i in by_customer["items"]] == ["On plan"]
    paged = progress.list_progress(any_handle, MANAGER, day, page=2, page_size=2)
    assert ([i["title"] for i in paged["items"]], paged["total"]) == (["Another rep's"], 3)
    with pytest.raises(ValidationFailed) as exc:
        progress.list_progress(any_handle, MANAGER, {"behind": "perhaps"})
    assert list(exc.value.details) == ["behind"]


def test_contracts_behind_filter_agrees_with_the_exact_flag_for_fractional_weights(any_handle):
    # done 0.1×67 + 1.1×70 + 1.1×33 = 120 and due (0.1 + 1.1)×100 = 120: exactly on plan,
    # though the same sums in floating point make it look behind (120.0 < 120.00000000000001)
    c = create_contract(any_handle)
    for name, planned, weight, percent in (
        ("A", "2026-02-01", "0.1", 67),
        ("B", "2026-02-02", "1.1", 70),
        ("C", "2026-09-01", "1.1", 33),
    ):
        progress.add_milestone(
            any_handle, ADMIN, c["id"], milestone(name, planned, weight=weight, percent_complete=percent)
        )
    day = {"as_of": "2026-03-01"}
    [row] = progress.list_progress(any_handle, ADMIN, day)["items"]
    assert (row["actual_percent"], row["planned_percent"], row["behind"]) == ("52.2", "52.2", False)
    assert progress.list_progress(any_handle, ADMIN, {**day, "behind": True})["items"] == []
    assert len(progress.list_progress(any_handle, ADMIN, {**day, "behind": False})["items"]) == 1


# -- billing events ---------------------------------------------------------------------------


def issued(invoice_id: int, contract_id: int | None, total: str = "300.00", **extra: Any) -> dict:
    return {
        "id": invoice_id,
        "number": f"INV-2026-{invoice_id:05d}",
        "contract_id": contract_id,
        "customer_id": 10,
        "currency": "EUR",
        "total": total,
        "issue_date": "2026-03-01",
        "due_date": "2026-03-31",
        "status": "issued",
        **extra,
    }


def payment(invoice_id: int, amount: str, contract_id: int | None = None, **alloc: Any) -> dict:
    return {
        "id": 900 + invoice_id,
        "customer_id": 10,
        "currency": "EUR",
        "amount": amount,
        "allocations": [{"invoice_id": invoice_id, "amount": amount, "contract_id": contract_id, **alloc}],
    }


def test_contracts_billing_events_build_the_invoicing_and_payment_progress(any_handle):
    c = create_contract(any_handle)
    h = dt.timedelta(hours=1)
    assert "recorded" in progress.apply_billing_event(
        any_handle, event("invoice_issued", issued(1, c["id"]), T0)
    )
    progress.apply_billing_event(any_handle, event("invoice_issued", issued(2, c["id"], "300.00"), T0))
    progress.apply_billing_event(any_handle, event("payment_received", payment(1, "100.00", c["id"]), T0 + h))
    b = billing(any_handle, c["id"])
    assert b["own"] == {
        "currency": "EUR",
        "invoiced": "600.00",
        "paid": "100.00",
        "outstanding": "500.00",
        "invoices": 2,
        "overdue_invoices": 2,  # both were due 31 March, progress asked on 30 June
        "percent_invoiced": "50.0",
        "percent_paid": "8.3",
    }
    assert b["invoices"][1]["status"] == "partially_paid" and b["invoices"][1]["number"] == "INV-2026-00001"

    progress.apply_billing_event(
        any_handle,
        event(
            "invoice_paid", {"id": 1, "contract_id": c["id"], "total": "300.00", "paid": "300.00"}, T0 + 2 * h
        ),
    )
    progress.apply_billing_event(
        any_handle,
        event(
            "invoice_paid", {"id": 2, "contract_id": c["id"], "total": "300.00", "paid": "300.00"}, T0 + 2 * h
        ),
    )
    b = billing(any_handle, c["id"])
    assert (b["own"]["paid"], b["own"]["outstanding"], b["own"]["overdue_invoices"]) == ("600.00", "0.00", 0)
    assert b["own"]["percent_paid"] == "50.0"
    assert {i["status"] for i in b["invoices"].values()} == {"paid"}


def test_contracts_a_replayed_billing_event_changes_nothing(handle):
    c = create_contract(handle)
    first = event("invoice_issued", issued(1, c["id"]), T0)
    pay = event("payment_received", payment(1, "100.00", c["id"]), T0 + dt.timedelta(hours=1))
    for env in (first, pay, pay, first, pay):
        progress.apply_billing_event(handle, env)
    inv = billing(handle, c["id"])["invoices"][1]
    assert (inv["paid"], inv["outstanding"], inv["status"]) == ("100.00", "200.00", "partially_paid")


def test_contracts_billing_events_out_of_order_end_in_the_newest_state(any_handle):
    c = create_contract(any_handle)
    h = dt.timedelta(hours=1)
    # the payment (with the invoice's state after it) arrives before the invoice itself
    progress.apply_billing_event(
        any_handle,
        event(
            "payment_received",
            payment(
                1,
                "120.00",
                c["id"],
                invoice_paid="120.00",
                invoice_total="300.00",
                invoice_status="partially_paid",
            ),
            T0 + h,
        ),
    )
    said = progress.apply_billing_event(any_handle, event("invoice_issued", issued(1, c["id"]), T0))
    assert "older event" in said
    inv = billing(any_handle, c["id"])["invoices"][1]
    assert (inv["number"], inv["due_date"], inv["total"], inv["paid"], inv["status"]) == (
        "INV-2026-00001",
        "2026-03-31",
        "300.00",
        "120.00",
        "partially_paid",
    )
    # a stale overdue (sent before the invoice was paid) does not reopen a paid invoice
    progress.apply_billing_event(
        any_handle,
        event(
            "invoice_paid", {"id": 1, "contract_id": c["id"], "total": "300.00", "paid": "300.00"}, T0 + 3 * h
        ),
    )
    progress.apply_billing_event(
        any_handle, event("invoice_overdue", {"id": 1, "contract_id": c["id"]}, T0 + 2 * h)
    )
    inv = billing(any_handle, c["id"])["invoices"][1]
    assert (inv["status"], inv["outstanding"], inv["overdue"]) == ("paid", "0.00", False)


def test_contracts_a_payment_without_the_invoice_state_is_added_once_and_never_by_an_older_event(handle):
    c = create_contract(handle)
    h = dt.timedelta(hours=1)
    progress.apply_billing_event(handle, event("invoice_issued", issued(1, c["id"]), T0))
    progress.apply_billing_event(handle, event("payment_received", payment(1, "300.00"), T0 + h))
    assert billing(handle, c["id"])["invoices"][1]["status"] == "paid"
    # an older increment arriving later would count money twice (the newer state includes it)
    said = progress.apply_billing_event(handle, event("payment_received", payment(1, "50.00"), T0 + h / 2))
    assert "older event" in said
    assert billing(handle, c["id"])["invoices"][1]["paid"] == "300.00"


def test_contracts_an_invoice_first_heard_of_through_its_payment_gets_its_total_from_the_late_issue(handle):
    c = create_contract(handle)
    progress.apply_billing_event(
        handle, event("payment_received", payment(1, "100.00", c["id"]), T0 + dt.timedelta(hours=1))
    )
    progress.apply_billing_event(handle, event("invoice_issued", issued(1, c["id"]), T0))
    inv = billing(handle, c["id"])["invoices"][1]
    assert (inv["number"], inv["total"], inv["paid"], inv["outstanding"], inv["status"]) == (
        "INV-2026-00001",
        "300.00",
        "100.00",
        "200.00",
        "partially_paid",
    )


def test_contracts_overdue_void_and_credit_notes_show_in_the_progress(handle):
    c = create_contract(handle)
    h = dt.timedelta(hours=1)
    for n in (1, 2, 3):
        progress.apply_billing_event(
            handle, event("invoice_issued", issued(n, c["id"], due_date="2026-12-31"), T0)
        )
    progress.apply_billing_event(handle, event("invoice_overdue", {"id": 1, "contract_id": c["id"]}, T0 + h))
    progress.apply_billing_event(handle, event("invoice_voided", {"id": 2, "contract_id": c["id"]}, T0 + h))
    said = progress.apply_billing_event(
        handle,
        event(
            "credit_note_issued",
            {"id": 77, "invoice_id": 3, "contract_id": c["id"], "currency": "EUR", "amount": "100.00"},
            T0 + h,
        ),
    )
    assert "invoice 3" in said
    b = billing(handle, c["id"])
    assert (b["own"]["invoiced"], b["own"]["invoices"], b["own"]["overdue_invoices"]) == ("500.00", 2, 1)
    assert b["own"]["outstanding"] == "500.00"
    assert (b["invoices"][1]["status"], b["invoices"][1]["overdue"]) == ("overdue", True)
    assert (b["invoices"][2]["status"], b["invoices"][2]["outstanding"]) == ("void", "0.00")
    assert b["invoices"][3]["total"] == "200.00"
    # a partial payment of an overdue invoice leaves it overdue
    progress.apply_billing_event(handle, event("payment_received", payment(1, "100.00"), T0 + 2 * h))
    assert billing(handle, c["id"])["invoices"][1]["status"] == "overdue"


def test_contracts_one_off_foreign_and_unknown_billing_events_are_ignored(handle):
    c = create_contract(handle)
    assert "one-off" in progress.apply_billing_event(handle, event("invoice_issued", issued(1, None), T0))
    assert "unknown" in progress.apply_billing_event(handle, event("invoice_issued", issued(2, 999_999), T0))
    assert "one-off" in progress.apply_billing_event(
        handle, event("payment_received", payment(1, "10.00"), T0)
    )
    assert "ignored" in progress.apply_billing_event(handle, event("stock_low", {"product_id": 1}, T0))
    # an invoice in another currency is shown apart, without a percent of the EUR term value
    progress.apply_billing_event(handle, event("invoice_issued", issued(3, c["id"], currency="USD"), T0))
    b = billing(handle, c["id"])
    assert [x["currency"] for x in b["all"]] == ["EUR", "USD"]
    assert (b["own"]["invoiced"], b["own"]["percent_invoiced"]) == ("0.00", "0.0")
    assert (b["all"][1]["invoiced"], b["all"][1]["percent_invoiced"]) == ("300.00", None)
    assert list(b["invoices"]) == [3]


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [
        ("invoice_issued", {"id": 1, "contract_id": 1, "currency": "EUR"}),  # no total
        ("invoice_issued", {"id": 1, "contract_id": 1, "currency": "EUR", "total": 12.5}),  # a float
        ("invoice_paid", {"id": True, "paid": "1.00"}),
        ("payment_received", {"currency": "EUR", "allocations": [{"invoice_id": 1}]}),
        ("payment_received", {"currency": "EURO", "allocations": []}),
        ("credit_note_issued", {"invoice_id": 1, "amount": "-5"}),
        ("invoice_overdue", {"id": 1, "contract_id": "seven"}),
    ],
)
def test_contracts_a_malformed_billing_payload_raises_value_error_and_writes_nothing(
    handle, event_type, payload
):
    c = create_contract(handle)
    progress.apply_billing_event(handle, event("invoice_issued", issued(1, c["id"]), T0))
    before = billing(handle, c["id"])
    with pytest.raises(ValueError):
        progress.apply_billing_event(handle, event(event_type, payload, T0 + dt.timedelta(hours=1)))
    assert billing(handle, c["id"]) == before


def test_contracts_progress_percent_uses_the_term_to_an_early_termination(handle):
    c = create_contract(handle, status="terminated", termination_date=D(2026, 6, 30))
    progress.apply_billing_event(handle, event("invoice_issued", issued(1, c["id"], "600.00"), T0))
    out = progress.get_progress(handle, ADMIN, c["id"], "2026-07-01")
    assert out["term_value"] == "600.00"
    assert out["billing"][0]["percent_invoiced"] == "100.0"
