"""The real service in a Nameko container on a throwaway RabbitMQ vhost, on SQLite and on
PostgreSQL (migrated with Alembic): a stand-in document type registered like any service's,
opened by its ``gizmo_submitted`` event, users fed by gateway events, decisions over real RPC
with real caller contexts, and the outcome events read back from ``approvals.events``."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid

import pytest
from approvals import models as m
from approvals import registry
from approvals.service import ApprovalsService
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, make_envelope
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm_common.migrations import upgrade
from crm_common.outbox import event_exchange
from crm_common.rpc import ClusterRpcProxy  # signs the caller context, as the gateway does
from crm_common.testing import publish_event
from kombu import Connection, Queue
from sqlalchemy import select

SERVICE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STAND_IN = ("standin", "gizmo_submitted")


class StandInApprovals(ApprovalsService):
    """The service as deployed with APPROVALS_SUBMITTED_EVENTS=standin:gizmo_submitted."""


registry.install(StandInApprovals, registry.configured("standin:gizmo_submitted"))


def wait_for(predicate, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def publish(amqp_uri, source, envelope):
    publish_event(amqp_uri, source, envelope)  # signed, as the source's outbox relay does


@pytest.fixture
def running(container_factory, crm_amqp_uri, any_db_url):
    upgrade(SERVICE_DIR, any_db_url)
    config = {"AMQP_URI": crm_amqp_uri, "DATABASE_URL": any_db_url, "max_workers": 10}
    container = container_factory(StandInApprovals, config)
    handle = DatabaseHandle("approvals", m.metadata, any_db_url)
    with Connection(crm_amqp_uri) as conn:
        channel = conn.channel()
        probe = Queue(
            f"probe-{uuid.uuid4().hex[:8]}",
            exchange=event_exchange("approvals"),
            routing_key="#",
            durable=False,
            auto_delete=False,
        )(channel)
        event_exchange("approvals")(channel).declare()
        probe.declare()
        container.start()

        class Running:
            amqp_uri = crm_amqp_uri
            db = handle
            events: list[dict] = []

            @staticmethod
            def rpc(caller: CallerContext):
                return ClusterRpcProxy(
                    {"AMQP_URI": crm_amqp_uri}, context_data=caller.to_context_data(), timeout=30
                )

            @classmethod
            def event(cls, event_type, **match):
                """Wait for an event on approvals.events of that type whose payload matches."""

                def find():
                    while (message := probe.get(no_ack=True)) is not None:
                        cls.events.append(json.loads(message.body))
                    for e in cls.events:
                        if e["type"] == event_type and all(
                            e["payload"].get(k) == v for k, v in match.items()
                        ):
                            return e
                    return None

                return wait_for(find)

        Running.events = []
        yield Running
        container.kill()
        probe.delete()
    handle.dispose()


def person(user_id, *roles, department=None):
    return CallerContext(
        user_id=user_id,
        username=f"u{user_id}",
        roles=tuple(roles),
        department=department,
        request_id=uuid.uuid4().hex,
    )


def add_user(running, user_id, roles, department=None, head=False):
    payload = {
        "id": user_id,
        "username": f"u{user_id}",
        "roles": roles,
        "full_name": None,
        "email": None,
        "department": department,
        "is_department_head": head,
        "customer_id": None,
        "active": True,
        "language": "en",
    }
    publish(running.amqp_uri, "gateway", make_envelope("gateway", "user_created", payload))


def users_known(running, n):
    with running.db.read() as s:
        return len(s.execute(select(m.users.c.id)).all()) >= n


def gizmo(running, document_id, submitter, amount="1500.00", department="Ops", **extra):
    envelope = make_envelope(
        *STAND_IN,
        {
            "document_id": document_id,
            "submitter": submitter,
            "amount": amount,
            "currency": "EUR",
            "department": department,
            "summary": "Gizmo 小部件",
            **extra,
        },
    )
    publish(running.amqp_uri, "standin", envelope)
    return envelope


ADMIN = person(1, "admin")


def test_multi_step_flow_driven_through_events_ends_in_approval_approved(running):
    add_user(running, 10, ["sales_rep"], "Ops")
    add_user(running, 20, ["sales_manager"], "Ops", head=True)
    add_user(running, 30, ["finance"], "Finance")
    add_user(running, 31, ["finance"], "Finance")
    wait_for(lambda: users_known(running, 4))
    rep, head, fin_a, fin_b = (
        person(10, "sales_rep"),
        person(20, "sales_manager"),
        person(30, "finance"),
        person(31, "finance"),
    )
    with running.rpc(ADMIN) as admin:
        admin.approvals.create_flow(
            {
                "name": "Gizmos over 1000",
                "document_type": "gizmo",
                "conditions": {"min_amount": "1000"},
                "steps": [
                    {"name": "Head of department", "department_head": True},
                    {"name": "Finance", "approver_role": "finance", "mode": "all"},
                ],
            }
        )
    gizmo(running, "G-1", 10)
    requested = running.event("approval_requested", document_id="G-1")["payload"]
    assert requested["users"] == [20] and requested["step"]["name"] == "Head of department"
    approval_id = requested["id"]

    with running.rpc(rep) as r, running.rpc(head) as h, running.rpc(fin_a) as a, running.rpc(fin_b) as b:
        with pytest.raises(PermissionDenied):
            r.approvals.decide_approval(approval_id, {"decision": "approve"})  # own submission
        with pytest.raises(PermissionDenied):
            a.approvals.decide_approval(approval_id, {"decision": "approve"})  # not this step
        assert [i["id"] for i in h.approvals.list_approvals({"mine": True}, 1, 50)["items"]] == [approval_id]
        h.approvals.decide_approval(approval_id, {"decision": "approve", "comment": "Uygun — 同意"})
        assert running.event("approval_requested", id=approval_id, users=[30, 31])
        a.approvals.decide_approval(approval_id, {"decision": "approve", "comment": "Одобрено"})
        assert r.approvals.get_approval(approval_id)["status"] == "pending"
        b.approvals.decide_approval(approval_id, {"decision": "approve"})
        with pytest.raises(Conflict):
            b.approvals.decide_approval(approval_id, {"decision": "reject"})
        final = r.approvals.get_approval(approval_id)
        sheet = r.approvals.get_approval_sheet(approval_id)
    approved = running.event("approval_approved", id=approval_id)
    assert approved["source"] == "approvals" and approved["payload"]["document_id"] == "G-1"
    assert approved["payload"]["submitter"] == 10 and approved["payload"]["user"] == 31
    assert final["status"] == "approved"
    assert [(d["step"], d["user"], d["comment"]) for d in final["decisions"]] == [
        (1, 20, "Uygun — 同意"),
        (2, 30, "Одобрено"),
        (2, 31, None),
    ]
    assert base64.b64decode(sheet["content_base64"]).startswith(b"%PDF-")
    steps = [e for e in running.events if e["type"] == "approval_step_decided"]
    assert len(steps) == 3


def test_rejection_goes_back_to_the_submitter_and_a_resubmission_is_a_new_request(running):
    add_user(running, 11, ["sales_rep"], "Ops")
    add_user(running, 40, ["approver"])
    wait_for(lambda: users_known(running, 2))
    gizmo(running, 7, 11, amount="50")  # no flow for gizmos: the default, any approver or admin
    first = running.event("approval_requested", document_id=7)["payload"]
    assert first["roles"] == ["admin", "approver"]
    with running.rpc(person(40, "approver")) as approver, running.rpc(person(11, "sales_rep")) as rep:
        approver.approvals.decide_approval(
            first["id"], {"decision": "reject", "comment": "Цената е висока; 价格太高"}
        )
        rejected = running.event("approval_rejected", id=first["id"])["payload"]
        assert (rejected["submitter"], rejected["comment"]) == (11, "Цената е висока; 价格太高")
        with pytest.raises(Conflict):
            approver.approvals.decide_approval(first["id"], {"decision": "approve"})
        with pytest.raises(ValidationFailed):
            rep.approvals.request_approval("gizmo", 7, "abc", "EUR", "Ops", 11, "fixed")
        # resubmission by RPC after the fix: a new request, the history kept
        second = rep.approvals.request_approval("gizmo", 7, "45.00", "EUR", "Ops", 11, "fixed price")
        assert second["previous_request_id"] == first["id"] and second["status"] == "pending"
        assert second["history"][0]["decisions"][0]["comment"] == "Цената е висока; 价格太高"
        rep.approvals.withdraw_approval(second["id"], "not needed")
    assert running.event("approval_withdrawn", id=second["id"])["payload"]["comment"] == "not needed"


def test_a_malformed_submission_opens_nothing_and_does_not_block_the_queue(running):
    gizmo(running, None, 5)
    time.sleep(1.0)
    ok = gizmo(running, "G-ok", 5)
    assert running.event("approval_requested", document_id="G-ok")
    with running.db.read() as s:
        rows = s.execute(select(m.requests.c.document_id)).all()
    assert [r.document_id for r in rows] == ["G-ok"]
    assert ok["event_id"]


def test_a_trade_in_valued_in_its_approval_or_decided_directly_over_the_broker(running):
    """``inventory.trade_in_submitted`` opens a request; the approver's valuation travels on
    ``approval_approved``; ``inventory.trade_in_decided`` (a direct decision) withdraws the other
    request; another user's decision or withdrawal is a 404 like a missing request."""
    add_user(running, 12, ["sales_rep"])
    add_user(running, 13, ["sales_rep"])
    add_user(running, 41, ["approver"])
    wait_for(lambda: users_known(running, 3))

    def submitted(document_id, amount):
        payload = {"id": document_id, "document_id": document_id, "document_type": "trade_in",
                   "amount": amount, "currency": "EUR", "submitter_id": 12, "submitter": "user:12"}  # fmt: skip
        publish(running.amqp_uri, "inventory", make_envelope("inventory", "trade_in_submitted", payload))
        return running.event("approval_requested", document_id=document_id)["payload"]["id"]

    valued, direct = submitted(501, "400.00"), submitted(502, "150.00")
    with running.rpc(person(41, "approver")) as approver, running.rpc(person(13, "sales_rep")) as other:
        with pytest.raises(NotFound) as hidden:
            other.approvals.decide_approval(valued, {"decision": "approve"})
        with pytest.raises(NotFound):
            other.approvals.withdraw_approval(valued, "mine now")
        assert str(valued) in str(hidden.value)
        with pytest.raises(ValidationFailed):
            approver.approvals.decide_approval(valued, {"decision": "approve", "approved_value": "-1"})
        approver.approvals.decide_approval(valued, {"decision": "approve", "approved_value": "320.00"})
    approved = running.event("approval_approved", id=valued)["payload"]
    assert (approved["approved_value"], approved["currency"], approved["document_id"]) == (
        "320.00",
        "EUR",
        501,
    )

    decided = {"id": 502, "status": "approved", "approved_value": "140.00", "currency": "EUR"}
    publish(running.amqp_uri, "inventory", make_envelope("inventory", "trade_in_decided", decided))
    withdrawn = running.event("approval_withdrawn", id=direct)["payload"]
    assert (withdrawn["reason"], withdrawn["decision"], withdrawn["user"]) == (
        "decided_elsewhere",
        "approved",
        None,
    )
    with running.rpc(ADMIN) as admin:
        assert admin.approvals.get_approval(direct)["status"] == "withdrawn"
        assert admin.approvals.get_approval(valued)["status"] == "approved"  # left as it was
