"""The real service in a Nameko container on a throwaway RabbitMQ vhost, on SQLite and on
PostgreSQL (migrated with Alembic), driven over real RPC with real caller contexts."""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest
from amqp.exceptions import ChannelError
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, make_envelope
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm_common.migrations import upgrade
from crm_common.outbox import event_exchange
from crm_common.rpc import ClusterRpcProxy  # signs the caller context, as the gateway does
from crm_common.rpc import rpc as service_rpc
from crm_common.testing import publish_event
from customers import models as m
from customers.service import CustomersService
from kombu import Connection, Queue
from sqlalchemy import select

SERVICE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def wait_for(predicate, timeout=15.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.fixture
def running(container_factory, crm_amqp_uri, any_db_url):
    """The customers service running on a migrated database; ``running.rpc(caller)`` gives a
    ClusterRpcProxy context carrying that caller."""
    upgrade(SERVICE_DIR, any_db_url)
    # user events other test modules published on the session's vhost wait in the durable
    # queues of this service's handlers: they are not this test's (an unknown owner → 422)
    with Connection(crm_amqp_uri) as conn:
        for event_type in ("user_created", "user_updated"):
            with conn.channel() as channel:
                try:
                    channel.queue_purge(f"evt-gateway-{event_type}--customers.handle_{event_type}")
                except ChannelError:  # not declared yet: nothing waits
                    pass
    config = {"AMQP_URI": crm_amqp_uri, "DATABASE_URL": any_db_url, "max_workers": 10}
    container = container_factory(CustomersService, config)
    container.start()
    handle = DatabaseHandle("customers", m.metadata, any_db_url)

    class Running:
        amqp_uri = crm_amqp_uri
        db = handle

        @staticmethod
        def rpc(caller: CallerContext):
            return ClusterRpcProxy(
                {"AMQP_URI": crm_amqp_uri}, context_data=caller.to_context_data(), timeout=30
            )

    yield Running
    container.kill()  # before the database fixture drops the database
    handle.dispose()


def details(err) -> dict:
    """An error's details as a remote caller gets them (a JSON string, to keep their types)."""
    value = err.value.details
    return json.loads(value) if isinstance(value, str) else value


def person(*roles, user_id=None):
    return CallerContext(
        user_id=user_id, username=f"u{user_id}", roles=tuple(roles), request_id=uuid.uuid4().hex
    )


ADMIN = person("admin", user_id=1)


def test_create_publishes_customer_created_to_the_broker(running):
    with Connection(running.amqp_uri) as conn:
        channel = conn.channel()
        event_exchange("customers")(channel).declare()
        probe = Queue(
            f"probe-{uuid.uuid4().hex[:8]}",
            exchange=event_exchange("customers"),
            routing_key="customer_created",
            auto_delete=True,
        )(channel)
        probe.declare()
        with running.rpc(ADMIN) as rpc:
            customer = rpc.customers.create_customer(
                {
                    "name": "北京机械有限公司",
                    "kind": "company",
                    "language": "zh",
                    "contacts": [{"name": "王伟", "phone": "+86 10 1234 5678"}],
                }
            )
            assert customer["code"] == "C-000001"
            assert rpc.customers.health()["status"] == "ok"

        message = wait_for(lambda: probe.get(no_ack=True))
    event = json.loads(message.body)
    assert event["type"] == "customer_created" and event["source"] == "customers" and event["event_id"]
    assert event["request_id"] == ADMIN.request_id
    assert event["payload"]["id"] == customer["id"] and event["payload"]["name"] == "北京机械有限公司"
    assert event["payload"]["contacts"][0]["phone"] == "+86 10 1234 5678"
    assert message.properties["delivery_mode"] == 2


def test_a_sales_rep_cannot_reach_another_reps_customer_by_a_direct_rpc_call(running):
    rep_a, rep_b = person("sales_rep", user_id=10), person("sales_rep", user_id=11)
    with (
        running.rpc(rep_a) as a,
        running.rpc(rep_b) as b,
        running.rpc(person("portal", user_id=20)) as portal,
    ):
        mine = a.customers.create_customer({"name": "Ayşe's Customer", "kind": "person"})
        assert a.customers.get_customer(mine["id"])["owner_id"] == 10
        with pytest.raises(NotFound):
            b.customers.get_customer(mine["id"])
        with pytest.raises(NotFound):
            b.customers.update_customer(mine["id"], {"level": "C"})
        assert b.customers.list_customers({}, 1, 50)["total"] == 0
        with pytest.raises(PermissionDenied):
            portal.customers.list_customers({}, 1, 50)
    with ClusterRpcProxy({"AMQP_URI": running.amqp_uri}, timeout=30) as anonymous:
        with pytest.raises(PermissionDenied):
            anonymous.customers.get_customer(mine["id"])


def test_duplicates_and_bad_input_come_back_as_conflict_and_validation_errors(running):
    with running.rpc(ADMIN) as rpc:
        first = rpc.customers.create_customer(
            {"name": "İstanbul Enerji A.Ş.", "kind": "company", "tax_id": "TR-1"}
        )
        with pytest.raises(Conflict) as err:
            rpc.customers.create_customer({"name": "ISTANBUL ENERJİ AŞ", "kind": "company"})
        (candidate,) = details(err)["candidates"]
        assert (candidate["id"], candidate["reasons"]) == (first["id"], ["name"])
        assert "owner_id" not in candidate and "code" not in candidate
        with pytest.raises(ValidationFailed) as err:
            rpc.customers.create_customer({"name": 12, "kind": "alien", "level": "Z"})
        assert {"name", "kind", "level"} <= set(details(err))
        assert rpc.customers.list_customers({"q": "ｉｓｔａｎｂｕｌ"}, 1, 50)["total"] == 1

        # the same new customer entered by several people at the same moment: one wins
        replies = [
            rpc.customers.create_customer.call_async({"name": f"Balkan Trade {'.' * i}", "kind": "company"})
            for i in range(6)
        ]
        outcomes = []
        for reply in replies:
            try:
                outcomes.append(reply.result()["code"])
            except Conflict:
                outcomes.append("conflict")
        assert outcomes.count("conflict") == 5, outcomes
        opp = rpc.customers.create_opportunity(
            {
                "customer_id": first["id"],
                "title": "Türbin bakımı",
                "amount": "99999.99",
                "currency": "TRY",
                "stage": "negotiation",
            }
        )
        assert (
            rpc.customers.update_opportunity(opp["id"], {"stage": "lost", "lost_reason": "price"})[
                "probability"
            ]
            == 0
        )
        with pytest.raises(Conflict):
            rpc.customers.update_opportunity(opp["id"], {"stage": "won"})


def publish_user_event(amqp_uri, envelope):
    publish_event(amqp_uri, "gateway", envelope)  # signed, as the gateway's outbox relay does


def test_gateway_user_events_feed_the_users_read_copy_once(running):
    def user(user_id):
        with running.db.read() as s:
            return s.execute(select(m.users).where(m.users.c.id == user_id)).mappings().first()

    created = make_envelope(
        "gateway",
        "user_created",
        {
            "id": 7,
            "username": "ayse",
            "roles": ["sales_rep"],
            "full_name": "Ayşe Yılmaz",
            "department": "Ankara",
            "active": True,
            "email": "ayse@example.tr",
            "is_department_head": False,
            "language": "tr",
            "customer_id": None,
        },
    )
    publish_user_event(running.amqp_uri, created)
    assert wait_for(lambda: user(7))["full_name"] == "Ayşe Yılmaz"

    renamed = make_envelope(
        "gateway",
        "user_updated",
        {"id": 7, "username": "ayse", "roles": ["sales_rep"], "full_name": "Ayşe Demir", "active": True},
    )
    publish_user_event(running.amqp_uri, renamed)
    wait_for(lambda: user(7)["full_name"] == "Ayşe Demir")

    # the same user_created delivered again changes nothing
    publish_user_event(running.amqp_uri, created)
    sentinel = make_envelope(
        "gateway", "user_created", {"id": 8, "username": "boris", "roles": ["sales_rep"]}
    )
    publish_user_event(running.amqp_uri, sentinel)
    wait_for(lambda: user(8))
    time.sleep(0.3)
    assert user(7)["full_name"] == "Ayşe Demir"
    processed = running.db.infra.processed_events
    with running.db.read() as s:
        markers = s.execute(
            select(processed.c.handler).where(processed.c.event_id == created["event_id"])
        ).all()
    assert [r.handler for r in markers] == ["customers.handle_user_created"]

    # the read copy now decides which owners exist
    with running.rpc(person("sales_manager", user_id=2)) as rpc:
        assert (
            rpc.customers.create_customer({"name": "Owned", "kind": "company", "owner_id": 7})["owner_id"]
            == 7
        )
        with pytest.raises(ValidationFailed) as err:
            rpc.customers.create_customer({"name": "Orphan", "kind": "company", "owner_id": 987654})
        assert details(err) == {"owner_id": ["unknown user"]}


def generated_rows(n, first_line=2, bad_every=0, prefix="Firma"):
    rows = []
    for i in range(n):
        data = {
            "name": f"{prefix} {i} Ltd",
            "kind": "company",
            "tax_id": f"{prefix[:2].upper()}{i:07d}",
            "email": f"office{i}@{prefix.lower()}.example",
            "level": "ABC"[i % 3],
            "tags": "import;2026",
        }
        if bad_every and i % bad_every == 0:
            data["level"] = "Q"
        rows.append({"line": first_line + i, "data": data})
    return rows


def run_import(rpc, mode, rows, batch=1000):
    job = rpc.customers.start_import(mode, "customers.csv")
    for i in range(0, len(rows), batch):
        rpc.customers.import_batch(job["job_id"], rows[i : i + batch])
    progress = rpc.customers.get_import(job["job_id"])
    assert (progress["status"], progress["rows_received"]) == ("receiving", len(rows))
    return job["job_id"], rpc.customers.finish_import(job["job_id"])


def test_csv_import_of_thousands_of_rows_in_both_modes(running):
    n = 2500
    rows = generated_rows(n, bad_every=500)  # bad level on lines 2, 502, 1002, 1502, 2002
    rows.append({"line": n + 2, "data": {"name": "FIRMA 7 LTD", "kind": "company"}})  # duplicate of line 9
    bad_lines = [2, 502, 1002, 1502, 2002, n + 2]
    with running.rpc(ADMIN) as rpc:
        job_id, result = run_import(rpc, "all_or_nothing", rows)
        assert (result["status"], result["created"], result["updated"]) == ("done", 0, 0)
        assert [e["line"] for e in result["errors"]] == bad_lines
        assert [e["field"] for e in result["errors"]] == ["level"] * 5 + ["name"]
        assert "line 9" in result["errors"][-1]["message"]
        assert rpc.customers.list_customers({}, 1, 1)["total"] == 0

        job_id, result = run_import(rpc, "skip_bad", rows)
        assert (result["created"], result["updated"], len(result["errors"])) == (n - 5, 0, 6)
        job = rpc.customers.get_import(job_id)
        assert (job["status"], job["rows_processed"], job["created"], job["error_count"]) == (
            "done",
            n + 1,
            n - 5,
            6,
        )
        assert rpc.customers.list_customers({"tag": "import"}, 1, 1)["total"] == n - 5

        # a second file with the same tax ids updates those customers
        again = [
            {"line": 2 + i, "data": {"tax_id": f"fi-{i:07d}", "region": "Plovdiv"}} for i in range(1, 1000)
        ]
        _, result = run_import(rpc, "skip_bad", again)
        # line 502 names FI0000500, which was not imported (bad level): no name to create it with
        assert (result["created"], result["updated"]) == (0, 998)
        assert [(e["line"], e["field"]) for e in result["errors"]] == [(502, "name")]
        assert rpc.customers.list_customers({"region": "Plovdiv"}, 1, 1)["total"] == 998

    created_events = running.db.infra.outbox
    with running.db.read() as s:
        types = [r.type for r in s.execute(select(created_events.c.type))]
    assert types.count("customer_created") == n - 5 and types.count("customer_updated") == 998


def test_pipeline_over_rpc_sums_exactly_per_currency_in_the_callers_scope(running):
    def user_known(user_id):
        with running.db.read() as s:
            return s.execute(select(m.users.c.id).where(m.users.c.id == user_id)).first()

    for user_id, department in ((31, "Ankara"), (32, "Sofia")):
        publish_user_event(
            running.amqp_uri,
            make_envelope(
                "gateway",
                "user_created",
                {"id": user_id, "username": f"u{user_id}", "roles": ["sales_rep"], "department": department},
            ),
        )
    wait_for(lambda: user_known(31) and user_known(32))
    with running.rpc(ADMIN) as rpc:
        customer = rpc.customers.create_customer({"name": "Funnel GmbH", "kind": "company", "owner_id": 31})
        for owner, amount, currency, stage in (
            (31, "0.10", "EUR", "lead"),
            (31, "0.20", "EUR", "lead"),
            (31, "9999999999999.123456", "EUR", "proposal"),
            (32, "70", "TRY", "won"),
        ):
            rpc.customers.create_opportunity(
                {
                    "customer_id": customer["id"],
                    "title": stage,
                    "amount": amount,
                    "currency": currency,
                    "stage": stage,
                    "expected_close": "2031-06-01",
                    "owner_id": owner,
                }
            )
        everything = rpc.customers.pipeline({"year": 2031})
    assert everything["stages"]["lead"] == {"count": 2, "amount": {"EUR": "0.30", "TRY": "0.00"}}
    assert everything["stages"]["proposal"]["amount"]["EUR"] == "9999999999999.123456"
    assert everything["stages"]["won"] == {"count": 1, "amount": {"EUR": "0.00", "TRY": "70.00"}}
    assert everything["won_in_year"]["count"] == 0  # won now, not in 2031
    manager = CallerContext(
        user_id=2, username="m", roles=("sales_manager",), department="Ankara", request_id=uuid.uuid4().hex
    )
    with running.rpc(manager) as rpc:
        ankara = rpc.customers.pipeline({"year": 2031})
    assert ankara["currencies"] == ["EUR"]
    assert [ankara["stages"][s]["count"] for s in ("lead", "proposal", "won")] == [2, 1, 0]
    portal = CallerContext(
        user_id=9, username="p", roles=("portal",), customer_id=customer["id"], request_id=uuid.uuid4().hex
    )
    with running.rpc(portal) as rpc, pytest.raises(PermissionDenied):
        rpc.customers.pipeline({"year": 2031})


# -- delete blockers, archive and the red list over real RPC (issue 17) --------------------

ACTIVITY: dict[str, dict[int, dict]] = {"contracts": {}, "billing": {}}


class StubContracts:
    """Answers ``customer_activity`` as the contracts service would (counts from ACTIVITY)."""

    name = "contracts"

    @service_rpc
    def customer_activity(self, customer_id):
        return {"customer_id": customer_id, **ACTIVITY["contracts"].get(customer_id, {})}


class StubBilling:
    name = "billing"

    @service_rpc
    def customer_activity(self, customer_id):
        return {"customer_id": customer_id, **ACTIVITY["billing"].get(customer_id, {})}


def test_delete_asks_contracts_and_billing_over_rpc_and_archive_red_list_work(running, container_factory):
    for stub in (StubContracts, StubBilling):
        container_factory(stub, {"AMQP_URI": running.amqp_uri}).start()
    manager, rep = person("sales_manager", user_id=2), person("sales_rep", user_id=10)
    with running.rpc(ADMIN) as admin, running.rpc(manager) as mgr, running.rpc(rep) as r:
        blocked = r.customers.create_customer({"name": "Blocked Handel GmbH", "kind": "company"})
        free = r.customers.create_customer({"name": "Free Handel GmbH", "kind": "company"})
        ACTIVITY["billing"][blocked["id"]] = {"invoices": 2, "payments": 1}
        ACTIVITY["contracts"][blocked["id"]] = {"contracts": 1}
        with pytest.raises(Conflict) as err:
            r.customers.delete_customer(blocked["id"])
        assert details(err)["blocked_by"] == {"contracts": 1, "invoices": 2, "payments": 1}
        assert r.customers.get_customer(blocked["id"])["archived"] is False  # nothing changed
        assert r.customers.delete_customer(free["id"]) == {"id": free["id"], "deleted": True}

        assert r.customers.archive_customer(blocked["id"])["archived"] is True
        assert r.customers.list_customers({}, 1, 50)["total"] == 0
        assert r.customers.list_customers({"include_archived": True}, 1, 50)["total"] == 1
        with pytest.raises(PermissionDenied):
            r.customers.restore_customer(blocked["id"])
        assert mgr.customers.restore_customer(blocked["id"])["archived"] is False

        with pytest.raises(PermissionDenied):
            r.customers.red_list_customer(blocked["id"], {"reason": "mine"})
        listed = admin.customers.red_list_customer(blocked["id"], {"reason": "unpaid"})
        assert listed["red_listed"] is True and listed["red_listed_by"] == "user:1"
        (flags,) = r.customers.customer_flags([blocked["id"]])
        assert flags["red_listed"] is True and flags["red_list_reason"] == "unpaid"
