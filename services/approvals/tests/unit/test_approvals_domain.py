"""approvals.domain without any I/O: flow choice, who may decide, any/all, state machine, SLA."""

from __future__ import annotations

import datetime as dt

import pytest
from approvals import domain

NOW = dt.datetime(2027, 1, 10, 9, 0, tzinfo=dt.UTC)


def flow(fid, priority=100, **conditions):
    return {
        "id": fid,
        "document_type": "contract",
        "priority": priority,
        "active": True,
        "conditions": conditions,
        "steps": [{"name": "x", "mode": "any", "approver_role": "finance"}],
    }


def doc(**kw):
    return {"document_type": "contract", "submitter": 5, **kw}


def test_first_matching_flow_by_priority_applies_and_none_falls_back_to_default():
    big = flow(1, priority=10, min_amount="10000", currency="EUR")
    sales = flow(2, priority=20, department="Sales")
    anything = flow(3, priority=30)
    flows = [anything, sales, big]
    assert domain.select_flow(flows, doc(amount="25000", currency="EUR", department="sales"))["id"] == 1
    assert domain.select_flow(flows, doc(amount="25000", currency="USD", department="Sales"))["id"] == 2
    assert domain.select_flow(flows, doc(amount="5"))["id"] == 3
    assert domain.select_flow([big], doc(amount="9999.99", currency="EUR")) is None
    assert domain.select_flow([big], doc(currency="EUR")) is None  # no amount, amount condition
    assert domain.select_flow([flow(4, max_amount="100")], doc(amount="100"))["id"] == 4
    assert domain.select_flow([{**anything, "active": False}], doc()) is None
    assert domain.select_flow(
        [flow(5, contract_kind="lease", company="ACME")], doc(contract_kind="Lease", company="acme")
    )
    default = domain.default_flow("trade_in")
    step = domain.resolve_step(default["steps"][0], 1, doc(), [], False, NOW)
    assert step["roles"] == ["admin", "approver"] and step["mode"] == "any"


USERS = [
    {"id": 10, "roles": ["sales_manager"], "department": "Sales", "is_department_head": True, "active": True},
    {"id": 11, "roles": ["finance"], "department": "Finance", "is_department_head": True, "active": True},
    {"id": 12, "roles": ["finance"], "department": "Finance", "is_department_head": False, "active": True},
    {"id": 13, "roles": ["finance"], "department": "Finance", "is_department_head": False, "active": False},
]


def test_department_head_step_is_decided_by_the_submitters_head_only():
    step = domain.resolve_step(
        {"name": "Head", "department_head": True}, 1, doc(department="sales"), USERS, False, NOW
    )
    assert step["users"] == [10] and step["roles"] == []
    assert domain.may_decide(step, 10, ["sales_manager"], 5, False)
    assert not domain.may_decide(step, 11, ["finance", "admin"], 5, False)
    # a department without a known head: admins decide
    nobody = domain.resolve_step(
        {"name": "Head", "department_head": True}, 1, doc(department="Legal"), USERS, False, NOW
    )
    assert nobody["users"] == [] and nobody["roles"] == ["admin"]
    # the head submitting their own document cannot approve it
    own = domain.resolve_step(
        {"name": "Head", "department_head": True}, 1, doc(department="Sales", submitter=10), USERS, False, NOW
    )
    assert own["users"] == [] and own["roles"] == ["admin"]


def test_all_mode_needs_every_active_role_holder_and_one_rejection_rejects():
    spec = {"name": "Finance board", "mode": "all", "approver_role": "finance"}
    steps = [domain.resolve_step(spec, 1, doc(), USERS, False, NOW)]
    assert steps[0]["required"] == [11, 12]  # 13 is inactive
    assert domain.apply_decision(steps, 1, 11, "approve", NOW) == ("pending", "waiting")
    assert not domain.may_decide(steps[0], 11, ["finance"], 5, False)  # already approved
    assert domain.may_decide(steps[0], 12, ["finance"], 5, False)
    assert domain.apply_decision(steps, 1, 12, "approve", NOW) == ("approved", "approved")

    two = [domain.resolve_step(spec, 1, doc(), USERS, False, NOW), {"index": 2, "status": "waiting"}]
    domain.apply_decision(two, 1, 11, "approve", NOW)
    assert domain.apply_decision(two, 1, 12, "reject", NOW) == ("rejected", "rejected")
    assert two[1]["status"] == "cancelled"


def test_any_mode_moves_to_the_next_step_and_the_last_approval_approves():
    steps = [
        domain.resolve_step({"name": "A", "approver_user_id": 12}, 1, doc(), USERS, False, NOW),
        {"index": 2, "status": "waiting"},
    ]
    assert domain.apply_decision(steps, 1, 12, "approve", NOW) == ("approved", "next")


def request(status="pending", submitter=5, allow_self=False, **step):
    s = {"index": 1, "name": "A", "mode": "any", "status": "pending", "users": [5, 12], "roles": [], **step}
    return {
        "id": 1,
        "status": status,
        "submitter": submitter,
        "allow_self_approval": allow_self,
        "steps": [s],
    }


def test_decision_rules_forbidden_conflict_and_self_approval():
    assert domain.check_decision(request(), 12, [], "approve")["index"] == 1
    with pytest.raises(domain.Refused) as err:
        domain.check_decision(request(), 99, ["approver"], "approve")
    assert err.value.kind == "forbidden"
    with pytest.raises(domain.Refused) as err:
        domain.check_decision(request(), 5, [], "approve")
    assert err.value.kind == "forbidden" and "own" in err.value.message
    assert domain.check_decision(request(allow_self=True), 5, [], "approve")
    for closed in ("approved", "rejected", "withdrawn"):
        with pytest.raises(domain.Refused) as err:
            domain.check_decision(request(status=closed), 12, [], "approve")
        assert err.value.kind == "conflict"
    with pytest.raises(domain.Refused) as err:
        domain.check_decision(request(), 12, [], "maybe")
    assert err.value.kind == "invalid"


def test_withdraw_only_pending_by_submitter_or_admin():
    domain.check_withdraw(request(), 5, [])
    domain.check_withdraw(request(), 1, ["admin"])
    with pytest.raises(domain.Refused) as err:
        domain.check_withdraw(request(), 12, ["approver"])
    assert err.value.kind == "forbidden"
    with pytest.raises(domain.Refused) as err:
        domain.check_withdraw(request(status="approved"), 5, [])
    assert err.value.kind == "conflict"


def test_a_step_is_overdue_once_after_its_sla():
    step = {"status": "pending", "started_at": NOW.isoformat(), "overdue_notified_at": None}
    assert not domain.is_overdue(step, 48, NOW + dt.timedelta(hours=47, minutes=59))
    assert domain.is_overdue(step, 48, NOW + dt.timedelta(hours=48))
    assert domain.is_overdue(step, None, NOW + dt.timedelta(hours=48))  # default 48 h
    assert not domain.is_overdue(step, 72, NOW + dt.timedelta(hours=48))
    assert not domain.is_overdue(
        {**step, "overdue_notified_at": NOW.isoformat()}, 48, NOW + dt.timedelta(days=9)
    )
    assert not domain.is_overdue({**step, "status": "approved"}, 48, NOW + dt.timedelta(days=9))
    today = NOW.date()
    assert domain.escalation_moment(today, NOW) == NOW
    assert domain.escalation_moment(today + dt.timedelta(days=2), NOW) == dt.datetime(
        2027, 1, 13, tzinfo=dt.UTC
    )


def test_step_specs_and_document_types():
    assert domain.step_spec_problems({"name": "x"})
    assert domain.step_spec_problems({"name": "x", "approver_role": "finance", "department_head": True})
    assert not domain.step_spec_problems({"name": "x", "approver_user_ids": [1, 2], "mode": "all"})
    assert domain.document_type_of_event("trade_in_submitted") == "trade_in"
    assert domain.document_type_of_event("contract_approved") is None
