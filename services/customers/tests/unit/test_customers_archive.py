"""Issue 17 §3–4 through the service's entrypoints (worker_factory, real SQLite database):
a customer anything refers to cannot be deleted (409 naming what blocks it, nothing changed) and
is archived instead; archive / restore; the red list with its reason, who and when; the flags
other services ask for."""

from __future__ import annotations

import dataclasses

import pytest
from crm_common import testing
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from customers import models as m
from sqlalchemy import select


def new_caller(*roles, user_id=None):
    """A caller without a request id: the calls of one test are distinct requests (an
    idempotency key per call is not what these tests are about)."""
    return dataclasses.replace(testing.new_caller(*roles, user_id=user_id), request_id=None)


@pytest.fixture
def admin(service):
    return service(new_caller("admin", user_id=1))


@pytest.fixture
def manager(service):
    return service(new_caller("sales_manager", user_id=2))


@pytest.fixture
def rep(service):
    return service(new_caller("sales_rep", user_id=7))


@pytest.fixture
def finance(service):
    return service(new_caller("finance", user_id=9))


@pytest.fixture
def audit(db):
    def actions(customer_id):
        table = m.infra.audit_log
        with db.read() as s:
            rows = s.execute(
                select(table.c.action)
                .where(table.c.entity == "customer", table.c.entity_id == str(customer_id))
                .order_by(table.c.id)
            )
            return [r.action for r in rows]

    return actions


def row_of(db, customer_id):
    with db.read() as s:
        return dict(s.execute(select(m.customers).where(m.customers.c.id == customer_id)).mappings().one())


# -- delete refused while anything refers to the customer ---------------------------------


@pytest.mark.parametrize(
    ("side", "counts", "named"),
    [
        ("billing", {"invoices": 1, "payments": 0}, "1 invoices"),
        ("billing", {"payments": 2}, "2 payments"),
        ("billing", {"credit_notes": 1}, "1 credit notes"),
        ("contracts", {"contracts": 3, "contracts_by_status": {"draft": 3}}, "3 contracts"),
    ],
)
def test_delete_is_refused_naming_what_blocks_it_and_nothing_changes(
    admin, create_customer, peers, outbox, db, side, counts, named
):
    c = create_customer()
    getattr(peers, side).counts[c["id"]] = counts
    before = row_of(db, c["id"])
    with pytest.raises(Conflict) as err:
        admin.delete_customer(c["id"])
    assert named in err.value.message and "archive it instead" in err.value.message
    blocked = {k: v for k, v in counts.items() if isinstance(v, int) and v}
    assert err.value.details["blocked_by"] == blocked
    assert err.value.details["customer_id"] == c["id"] and err.value.details["archive_instead"] is True
    assert row_of(db, c["id"]) == before
    assert admin.get_customer(c["id"])["id"] == c["id"]
    assert outbox("customer_deleted") == []


def test_open_opportunities_block_a_delete_closed_ones_do_not(admin, create_customer, outbox):
    c = create_customer()
    o = admin.create_opportunity({"customer_id": c["id"], "title": "Deal", "amount": "10", "currency": "EUR"})
    with pytest.raises(Conflict) as err:
        admin.delete_customer(c["id"])
    assert err.value.details["blocked_by"] == {"open_opportunities": 1}
    admin.update_opportunity(o["id"], {"stage": "lost", "lost_reason": "price"})
    assert admin.delete_customer(c["id"]) == {"id": c["id"], "deleted": True}
    assert len(outbox("customer_deleted")) == 1


def test_delete_asks_contracts_and_billing_only_after_the_scope_check(rep, create_customer, peers):
    theirs = create_customer(owner_id=99)
    with pytest.raises(NotFound):
        rep.delete_customer(theirs["id"])
    assert peers.contracts.calls == [] and peers.billing.calls == []


def test_a_customer_with_nothing_is_deleted_after_asking_both(admin, create_customer, peers):
    c = create_customer()
    assert admin.delete_customer(c["id"])["deleted"] is True
    assert peers.contracts.calls == [c["id"]] and peers.billing.calls == [c["id"]]


# -- archive and restore -------------------------------------------------------------------


def test_archive_hides_from_lists_and_include_archived_shows_it(admin, create_customer, outbox, audit):
    kept, gone = create_customer(), create_customer()
    archived = admin.archive_customer(gone["id"])
    assert archived["archived"] is True and archived["archived_by"] == "user:1" and archived["archived_at"]
    assert [c["id"] for c in admin.list_customers({}, 1, 50)["items"]] == [kept["id"]]
    shown = admin.list_customers({"include_archived": True}, 1, 50)["items"]
    assert {c["id"] for c in shown} == {kept["id"], gone["id"]}
    assert admin.get_customer(gone["id"])["archived"] is True  # still readable
    event = outbox("customer_archived")[0]
    assert event["id"] == gone["id"] and event["archived_by"] == "user:1" and event["archived_at"]
    assert audit(gone["id"])[-1] == "archive"


def test_archiving_twice_is_409_and_restore_of_an_active_customer_is_409(admin, manager, create_customer):
    c = create_customer()
    with pytest.raises(Conflict):
        manager.restore_customer(c["id"])
    admin.archive_customer(c["id"])
    with pytest.raises(Conflict):
        admin.archive_customer(c["id"])


def test_restore_by_a_manager_only(admin, manager, rep, finance, create_customer, outbox, db):
    c = create_customer(owner_id=7)
    rep.archive_customer(c["id"])  # the owner may archive
    for who in (rep, finance):
        with pytest.raises(PermissionDenied):
            who.restore_customer(c["id"])
    assert row_of(db, c["id"])["archived_at"] is not None
    restored = manager.restore_customer(c["id"])
    assert restored["archived"] is False and restored["archived_at"] is None
    assert outbox("customer_restored")[0]["id"] == c["id"]
    assert [x["id"] for x in admin.list_customers({}, 1, 50)["items"]] == [c["id"]]


def test_a_rep_cannot_archive_another_reps_customer_and_readers_cannot_archive(service, create_customer, db):
    c = create_customer(owner_id=99)
    for caller in (new_caller("sales_rep", user_id=7), new_caller("readonly", user_id=8)):
        with pytest.raises((NotFound, PermissionDenied)):
            service(caller).archive_customer(c["id"])
    assert row_of(db, c["id"])["archived_at"] is None


def test_an_archived_customer_gets_no_new_opportunity(admin, create_customer, count):
    c = create_customer()
    admin.archive_customer(c["id"])
    with pytest.raises(Conflict) as err:
        admin.create_opportunity({"customer_id": c["id"], "title": "New", "amount": "1", "currency": "EUR"})
    assert err.value.details == {"customer_id": c["id"], "archived": True}
    assert count(m.opportunities) == 0


def test_duplicate_check_still_finds_an_archived_customer_and_says_so(admin, create_customer):
    c = create_customer(name="Archived Duplicate Ltd", tax_id=None)
    admin.archive_customer(c["id"])
    with pytest.raises(Conflict) as err:
        admin.create_customer({"name": "Archived  Duplicate LTD", "kind": "company"})
    (candidate,) = err.value.details["candidates"]
    assert candidate["id"] == c["id"] and candidate["archived"] is True and candidate["reasons"] == ["name"]


# -- the red list ----------------------------------------------------------------------------


def test_red_list_sets_reason_who_and_when_and_the_filter_finds_it(
    finance, admin, create_customer, outbox, audit
):
    listed, other = create_customer(), create_customer()
    out = finance.red_list_customer(listed["id"], {"reason": "  unpaid since March "})
    assert out["red_listed"] is True and out["red_list_reason"] == "unpaid since March"
    assert out["red_listed_by"] == "user:9" and out["red_listed_at"]
    assert [c["id"] for c in admin.list_customers({"red_listed": True}, 1, 50)["items"]] == [listed["id"]]
    assert [c["id"] for c in admin.list_customers({"red_listed": False}, 1, 50)["items"]] == [other["id"]]
    event = outbox("customer_updated")[-1]
    assert event["red_listed"] is True and event["changes"]["red_listed"] == [False, True]
    assert audit(listed["id"])[-1] == "red_list"
    cleared = admin.clear_red_list(listed["id"])
    assert (
        cleared["red_listed"] is False
        and cleared["red_list_reason"] is None
        and cleared["red_listed_by"] is None
    )
    assert audit(listed["id"])[-1] == "red_list_clear"


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "reason"), ({"reason": "  "}, "reason"), ({"reason": "x" * 1001}, "reason"), ({"reason": "x", "y": 1}, "y"),
     (None, "reason")],
)  # fmt: skip
def test_red_list_needs_a_reason_and_nothing_changes(manager, create_customer, db, body, field):
    c = create_customer()
    before = row_of(db, c["id"])
    with pytest.raises(ValidationFailed) as err:
        manager.red_list_customer(c["id"], body)
    assert field in err.value.details
    assert row_of(db, c["id"]) == before


def test_reps_and_readers_cannot_touch_the_red_list(service, admin, create_customer, db):
    c = create_customer(owner_id=7)
    admin.red_list_customer(c["id"], {"reason": "fraud"})
    before = row_of(db, c["id"])
    for caller in (new_caller("sales_rep", user_id=7), new_caller("readonly", user_id=8)):
        worker = service(caller)
        with pytest.raises(PermissionDenied):
            worker.clear_red_list(c["id"])
        with pytest.raises(PermissionDenied):
            worker.red_list_customer(c["id"], {"reason": "x"})
    # nor through PATCH: the owner cannot take their customer off the list
    with pytest.raises(PermissionDenied):
        service(new_caller("sales_rep", user_id=7)).update_customer(c["id"], {"red_listed": False})
    assert row_of(db, c["id"]) == before


def test_a_manager_may_change_red_listed_through_patch_and_who_when_are_kept(manager, create_customer):
    c = create_customer()
    out = manager.update_customer(c["id"], {"red_listed": True})
    assert out["red_listed"] is True and out["red_listed_by"] == "user:2" and out["red_list_reason"] is None


def test_customer_flags_answer_for_any_internal_caller_whoever_owns_the_customer(
    service, admin, create_customer
):
    c = create_customer(owner_id=99)
    admin.red_list_customer(c["id"], {"reason": "bad debt"})
    admin.archive_customer(c["id"])
    (flags,) = service(new_caller("sales_rep", user_id=7)).customer_flags([c["id"], 123456])
    assert flags["id"] == c["id"] and flags["red_listed"] is True and flags["archived"] is True
    assert flags["red_list_reason"] == "bad debt" and flags["code"] == c["code"]
    with pytest.raises(PermissionDenied):
        service(new_caller("portal", user_id=5)).customer_flags([c["id"]])
    with pytest.raises(ValidationFailed):
        admin.customer_flags("nope")
