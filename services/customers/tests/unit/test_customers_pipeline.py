"""The sales funnel of the dashboard (``pipeline``): the pure year and scope rules, and the
RPC entrypoint through nameko's worker_factory on a real SQLite database — figures against the
opportunities created, scopes (rep, department manager, admin, portal), the year rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from crm_common.context import CallerContext
from crm_common.errors import Conflict, PermissionDenied, ValidationFailed
from crm_common.testing import new_caller
from customers import domain
from customers import models as m
from sqlalchemy import update

UTC = dt.UTC
THIS_YEAR = dt.datetime.now(UTC).year

# -- pure rules -----------------------------------------------------------------------------


def test_an_opportunity_counts_in_the_year_of_its_expected_close_else_of_its_creation():
    created = dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert domain.in_pipeline_year(dt.date(2027, 1, 1), created, 2027)
    assert not domain.in_pipeline_year(dt.date(2027, 1, 1), created, 2026)
    assert domain.in_pipeline_year(dt.date(2027, 12, 31), created, 2027)
    assert domain.in_pipeline_year(None, created, 2026)
    assert not domain.in_pipeline_year(None, created, 2027)
    # created late on 31 December in Istanbul is still 2026 in UTC... and 1 January there is not
    istanbul = dt.timezone(dt.timedelta(hours=3))
    assert domain.in_pipeline_year(None, dt.datetime(2027, 1, 1, 1, 0, tzinfo=istanbul), 2026)


def test_won_in_year_is_a_won_opportunity_closed_that_year():
    closed = dt.datetime(2027, 3, 1, tzinfo=UTC)
    assert domain.won_in_year("won", closed, 2027)
    assert not domain.won_in_year("won", closed, 2026)
    assert not domain.won_in_year("lost", closed, 2027)
    assert not domain.won_in_year("won", None, 2027)


def test_pipeline_scope_by_role_and_department():
    assert domain.pipeline_scope(new_caller("sales_rep", user_id=5)) == domain.PipelineScope(owner_id=5)
    assert domain.pipeline_scope(
        new_caller("sales_manager", user_id=2, department=" Ankara ")
    ) == domain.PipelineScope(department="Ankara")
    everything = domain.PipelineScope()
    assert domain.pipeline_scope(new_caller("sales_manager", user_id=2)) == everything
    assert domain.pipeline_scope(new_caller("sales_manager", user_id=2, department="  ")) == everything
    for roles in (("admin",), ("finance",), ("readonly",), ("sales_manager", "admin")):
        assert domain.pipeline_scope(new_caller(*roles, user_id=3, department="Ankara")) == everything
    # a rep who is also a department manager sees the department
    assert domain.pipeline_scope(
        new_caller("sales_rep", "sales_manager", user_id=4, department="Sofia")
    ) == domain.PipelineScope(department="Sofia")
    assert domain.pipeline_scope(CallerContext.system("gateway")) == everything
    portal = CallerContext(user_id=9, username="p", roles=("portal",), customer_id=7)
    for caller in (portal, CallerContext(), new_caller("approver", "portal", user_id=9), None):
        with pytest.raises(PermissionDenied):
            domain.pipeline_scope(caller)


def test_funnel_lists_every_stage_in_order_with_every_currency_and_never_adds_currencies():
    answer = domain.funnel(
        [
            ("proposal", "EUR", 2, Decimal("10.50")),
            ("lead", "USD", 1, Decimal("3")),
            ("won", "EUR", 1, Decimal("1")),
        ],
        [("TRY", 1, Decimal("7"))],
        2027,
    )
    assert list(answer["stages"]) == list(domain.STAGES)
    assert answer["currencies"] == ["EUR", "TRY", "USD"]
    assert answer["stages"]["proposal"] == {
        "count": 2,
        "amount": {"EUR": Decimal("10.50"), "TRY": Decimal(0), "USD": Decimal(0)},
    }
    assert answer["stages"]["qualified"]["count"] == 0
    assert answer["won_in_year"] == {"count": 1, "amount": {"EUR": 0, "TRY": Decimal("7"), "USD": 0}}
    empty = domain.funnel([], [], 2027)
    assert empty["currencies"] == [] and empty["stages"]["lead"] == {"count": 0, "amount": {}}


# -- the RPC entrypoint ---------------------------------------------------------------------


def user_event(event_id, user_id, department, roles=("sales_rep",)):
    return {
        "event_id": event_id,
        "type": "user_created",
        "version": 1,
        "occurred_at": "2026-01-01T10:00:00+00:00",
        "source": "gateway",
        "request_id": None,
        "payload": {
            "id": user_id,
            "username": f"u{user_id}",
            "roles": list(roles),
            "full_name": f"User {user_id}",
            "department": department,
            "active": True,
        },
    }


@pytest.fixture
def sales(service, db, create_customer):
    """Opportunities of reps 10 and 11 (department Ankara) and 20 (Sofia), in several years,
    stages and currencies; ``sales.set(opp_id, **columns)`` moves timestamps."""
    system = service(CallerContext.system("customers"))
    system.handle_user_created(user_event("u1", 1, None, roles=("admin",)))
    system.handle_user_created(user_event("u10", 10, "Ankara"))
    system.handle_user_created(user_event("u11", 11, "Ankara"))
    system.handle_user_created(user_event("u20", 20, "Sofia"))
    admin = service(new_caller("admin", user_id=1))
    customer = create_customer()

    def opp(owner, amount, currency, stage="lead", expected_close=None):
        return admin.create_opportunity(
            {
                "customer_id": customer["id"],
                "title": f"{stage} {amount} {currency}",
                "amount": amount,
                "currency": currency,
                "stage": stage,
                "expected_close": expected_close,
                "owner_id": owner,
            }
        )

    def set_columns(opp_id, **values):
        with db.transaction() as uow:
            uow.session.execute(
                update(m.opportunities).where(m.opportunities.c.id == opp_id).values(**values)
            )

    class Sales:
        opps = [
            opp(10, "100.10", "EUR", "lead", "2027-01-01"),
            opp(10, "0.20", "EUR", "lead", "2027-12-31"),
            opp(11, "50", "USD", "proposal", "2027-06-30"),
            opp(11, "999", "EUR", "negotiation", "2028-01-01"),  # next year: not in 2027
            opp(20, "7.5", "EUR", "qualified", "2027-05-05"),
            opp(20, "1000", "TRY", "won", "2027-02-02"),
            opp(10, "3", "EUR", "lost", "2027-03-03"),
            opp(10, "11", "EUR", "lead"),  # no expected close: the year it was created
        ]
        set = staticmethod(set_columns)
        customer_id = customer["id"]

    # the won one was closed in 2027; the undated lead was created in 2027
    Sales.set(Sales.opps[5]["id"], closed_at=dt.datetime(2027, 2, 2, 9, tzinfo=UTC))
    Sales.set(Sales.opps[7]["id"], created_at=dt.datetime(2027, 4, 1, tzinfo=UTC))
    return Sales


def figures(answer):
    return {s: (v["count"], v["amount"]) for s, v in answer["stages"].items() if v["count"]}


def test_admin_sees_the_whole_funnel_of_the_year_in_exact_per_currency_amounts(service, sales):
    answer = service(new_caller("admin", user_id=1)).pipeline({"year": 2027})
    assert answer["year"] == 2027
    assert list(answer["stages"]) == ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
    assert answer["currencies"] == ["EUR", "TRY", "USD"]
    assert answer["stages"]["lead"] == {"count": 3, "amount": {"EUR": "111.30", "TRY": "0.00", "USD": "0.00"}}
    assert answer["stages"]["qualified"] == {
        "count": 1,
        "amount": {"EUR": "7.50", "TRY": "0.00", "USD": "0.00"},
    }
    assert answer["stages"]["proposal"]["amount"]["USD"] == "50.00"
    assert answer["stages"]["negotiation"] == {
        "count": 0,
        "amount": {"EUR": "0.00", "TRY": "0.00", "USD": "0.00"},
    }
    assert answer["stages"]["won"] == {"count": 1, "amount": {"EUR": "0.00", "TRY": "1000.00", "USD": "0.00"}}
    assert answer["stages"]["lost"]["count"] == 1
    assert answer["won_in_year"] == {"count": 1, "amount": {"EUR": "0.00", "TRY": "1000.00", "USD": "0.00"}}
    # the next year holds the negotiation; nothing was won then
    nxt = service(new_caller("finance", user_id=5)).pipeline({"year": 2028})
    assert figures(nxt) == {"negotiation": (1, {"EUR": "999.00"})}
    assert nxt["won_in_year"] == {"count": 0, "amount": {"EUR": "0.00"}}


def test_the_year_rule_moves_an_opportunity_with_its_expected_close_or_creation(service, sales):
    admin = service(new_caller("admin", user_id=1))
    undated = sales.opps[7]["id"]
    sales.set(undated, created_at=dt.datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    assert admin.pipeline({"year": 2027})["stages"]["lead"]["count"] == 2
    assert admin.pipeline({"year": 2026})["stages"]["lead"] == {"count": 1, "amount": {"EUR": "11.00"}}
    admin.update_opportunity(undated, {"expected_close": "2027-07-01"})
    assert admin.pipeline({"year": 2027})["stages"]["lead"]["count"] == 3
    assert admin.pipeline({"year": 2026})["stages"]["lead"]["count"] == 0


def test_won_in_year_follows_the_closing_date_not_the_expected_close(service, sales):
    admin = service(new_caller("admin", user_id=1))
    admin.update_opportunity(sales.opps[3]["id"], {"stage": "won"})  # expected 2028, won now
    now_year = admin.pipeline({"year": THIS_YEAR})["won_in_year"]
    assert now_year["count"] == (2 if THIS_YEAR == 2027 else 1)
    assert now_year["amount"]["EUR"] == "999.00"
    assert admin.pipeline({"year": 2028})["stages"]["won"] == {"count": 1, "amount": {"EUR": "999.00"}}


def test_default_year_is_this_year(service, create_customer):
    admin = service(new_caller("admin", user_id=1))
    c = create_customer()
    admin.create_opportunity({"customer_id": c["id"], "title": "T", "amount": "5", "currency": "BGN"})
    for args in (None, {}, {"year": None}):
        answer = admin.pipeline(args)
        assert answer["year"] == THIS_YEAR
        assert answer["stages"]["lead"] == {"count": 1, "amount": {"BGN": "5.00"}}


def test_a_rep_counts_own_opportunities_a_manager_those_of_the_department(service, sales):
    rep = service(new_caller("sales_rep", user_id=10)).pipeline({"year": 2027})
    assert figures(rep) == {"lead": (3, {"EUR": "111.30"}), "lost": (1, {"EUR": "3.00"})}
    assert rep["won_in_year"]["count"] == 0
    ankara = service(new_caller("sales_manager", user_id=2, department="Ankara")).pipeline({"year": 2027})
    assert figures(ankara) == {
        "lead": (3, {"EUR": "111.30", "USD": "0.00"}),
        "proposal": (1, {"EUR": "0.00", "USD": "50.00"}),
        "lost": (1, {"EUR": "3.00", "USD": "0.00"}),
    }
    sofia = service(new_caller("sales_manager", user_id=3, department="Sofia")).pipeline({"year": 2027})
    assert figures(sofia) == {
        "qualified": (1, {"EUR": "7.50", "TRY": "0.00"}),
        "won": (1, {"EUR": "0.00", "TRY": "1000.00"}),
    }
    assert sofia["won_in_year"]["count"] == 1
    nobody = service(new_caller("sales_manager", user_id=4, department="Varna")).pipeline({"year": 2027})
    assert nobody["currencies"] == [] and all(v["count"] == 0 for v in nobody["stages"].values())
    everything = service(new_caller("sales_manager", user_id=5)).pipeline({"year": 2027})
    assert sum(v["count"] for v in everything["stages"].values()) == 7


def test_a_deleted_customers_opportunities_leave_the_funnel(service, sales, db):
    admin = service(new_caller("admin", user_id=1))
    with pytest.raises(Conflict):  # open opportunities keep a customer from being deleted
        admin.delete_customer(sales.customer_id)
    with db.transaction() as uow:  # once they are closed it can go
        uow.session.execute(
            update(m.opportunities)
            .where(m.opportunities.c.stage.in_(domain.OPEN_STAGES))
            .values(stage="lost")
        )
    admin.delete_customer(sales.customer_id)
    assert admin.pipeline({"year": 2027})["currencies"] == []


def test_portal_and_anonymous_callers_are_refused_and_bad_args_name_the_field(service, sales):
    portal = CallerContext(user_id=9, username="p", roles=("portal",), customer_id=7)
    for caller in (portal, CallerContext()):
        with pytest.raises(PermissionDenied):
            service(caller).pipeline({"year": 2027})
    admin = service(new_caller("admin", user_id=1))
    for bad in ({"year": "soon"}, {"year": 2027.0}, {"year": 12}, {"month": 1}):
        with pytest.raises(ValidationFailed) as err:
            admin.pipeline(bad)
        assert set(err.value.details) == set(bad), err.value.details
