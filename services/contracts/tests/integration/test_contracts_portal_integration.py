"""The dashboard, the portal and the users read copy in a real Nameko container on a throwaway
RabbitMQ vhost, the database migrated with Alembic (SQLite and PostgreSQL): the gateway's user
events over the broker feed the department scope; a portal user's calls over real RPC."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from decimal import Decimal

import pytest
from contracts import dashboard, domain
from contracts import models as m
from contracts.service import ContractsService
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, make_envelope, utcnow
from crm_common.errors import NotFound, PermissionDenied
from crm_common.migrations import upgrade
from crm_common.rpc import ClusterRpcProxy  # signs the caller context, as the gateway does
from crm_common.testing import outbox_payloads, publish_event
from sqlalchemy import event, insert, select

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICE_DIR = os.path.dirname(os.path.dirname(HERE))


def wait_for(predicate, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def person(*roles, user_id=None, department=None, customer_id=None):
    return CallerContext(user_id=user_id, username=f"u{user_id}", roles=tuple(roles), department=department,
                         customer_id=customer_id, request_id=uuid.uuid4().hex)  # fmt: skip


ADMIN = person("admin", user_id=1)
NORTH = person("sales_manager", user_id=2, department="North")
PORTAL_A = person("portal", user_id=50, customer_id=1)


def seed(url: str) -> dict:
    """Contracts written straight into the migrated database: customer 1 (owner 3) an active EUR
    contract ending in 30 days with the unit SN-A, an active USD one, a draft; customer 2 (owner
    4) an active contract with the unit SN-B."""
    db = DatabaseHandle("contracts", m.metadata, url)
    today, now = dt.date.today(), utcnow()
    base = {
        "customer_language": "tr", "kind": "maintenance", "payment_terms_days": 30, "billing_frequency": "monthly",
        "billing_in_advance": True, "auto_renew": False, "notice_days": 0, "renewal_uplift_percent": Decimal(0),
        "field_values": {}, "version": 1, "amounts_locked": False, "created_at": now, "updated_at": now,
        "start_date": today - dt.timedelta(days=300),
    }  # fmt: skip
    contracts = {
        "a_eur": {"customer_id": 1, "customer_name": "Ankara Makine", "owner_id": 3, "customer_owner_id": 3,
                  "currency": "EUR", "total": Decimal("100.10"), "status": "active", "end_date": today + dt.timedelta(days=30),
                  "approved_at": now, "serial": "SN-A"},
        "a_usd": {"customer_id": 1, "customer_name": "Ankara Makine", "owner_id": 3, "customer_owner_id": 3,
                  "currency": "USD", "total": Decimal("7.000001"), "status": "active", "end_date": today + dt.timedelta(days=200),
                  "approved_at": now, "serial": None},
        "a_draft": {"customer_id": 1, "customer_name": "Ankara Makine", "owner_id": 3, "customer_owner_id": 3,
                    "currency": "EUR", "total": Decimal("5"), "status": "draft", "end_date": today + dt.timedelta(days=20),
                    "approved_at": None, "serial": "SN-A"},
        "b": {"customer_id": 2, "customer_name": "北京科技", "owner_id": 4, "customer_owner_id": 4, "currency": "EUR",
              "total": Decimal("50.00"), "status": "active", "end_date": today + dt.timedelta(days=10),
              "approved_at": now, "serial": "SN-B"},
    }  # fmt: skip
    ids = {}
    with db.transaction() as uow:
        for n, (key, c) in enumerate(contracts.items(), start=1):
            serial = c.pop("serial")
            values = {**base, **c, "number": domain.contract_number(today.year, n), "title": key}
            cid = uow.session.execute(
                insert(m.contracts).values(**values).returning(m.contracts.c.id)
            ).scalar_one()
            uow.session.execute(
                insert(m.contract_lines).values(
                    contract_id=cid, position=1, product_id=10, sku="PRN-1", product_name="Принтер",
                    product_kind="device", model="LJ-9", serial_number=serial, quantity=Decimal(1),
                    unit_price=c["total"], discount_percent=Decimal(0), amount=c["total"], created_at=now,
                    updated_at=now,
                )
            )  # fmt: skip
            ids[key] = cid
    db.dispose()
    return ids


def publish_user(amqp_uri: str, user_id: int, department: str) -> None:
    payload = {"id": user_id, "username": f"u{user_id}", "roles": ["sales_rep"], "full_name": None, "email": None,
               "department": department, "is_department_head": False, "customer_id": None, "active": True,
               "language": "tr"}  # fmt: skip
    publish_event(amqp_uri, "gateway", make_envelope("gateway", "user_created", payload))


@pytest.fixture
def running(container_factory, crm_amqp_uri, any_db_url):
    upgrade(SERVICE_DIR, any_db_url)
    ids = seed(any_db_url)
    container = container_factory(ContractsService, {"AMQP_URI": crm_amqp_uri, "DATABASE_URL": any_db_url})
    container.start()

    class Running:
        amqp_uri = crm_amqp_uri
        url = any_db_url
        contract_ids = ids

        @staticmethod
        def rpc(caller: CallerContext):
            return ClusterRpcProxy(
                {"AMQP_URI": crm_amqp_uri}, context_data=caller.to_context_data(), timeout=30
            )

    yield Running
    container.kill()


def test_dashboard_and_portal_over_rpc(running):
    ids = running.contract_ids
    with running.rpc(ADMIN) as admin:
        d = admin.contracts.dashboard({})
        assert d["by_status"] == {"active": 3, "draft": 1} and d["active_contracts"] == 3
        assert d["active_value"] == {"EUR": "150.10", "USD": "7.000001"}  # exact, per currency
        assert d["renewals"]["count"] == 2 and d["renewals"]["value"] == {"EUR": "150.10"}
        assert [r["id"] for r in d["renewals"]["items"]] == [ids["b"], ids["a_eur"]]  # by end date
        assert d["signed_in_year"] == {"count": 3, "value": {"EUR": "150.10", "USD": "7.000001"}}
    with running.rpc(NORTH) as north:
        # the department's owners are not known yet
        assert north.contracts.dashboard({})["active_contracts"] == 0
        publish_user(running.amqp_uri, 3, "North")
        publish_user(running.amqp_uri, 4, "South")
        d = wait_for(lambda: (lambda x: x if x["active_contracts"] else None)(north.contracts.dashboard({})))
        assert d["active_contracts"] == 2 and d["active_value"] == {"EUR": "100.10", "USD": "7.000001"}
        assert d["by_status"] == {"active": 2, "draft": 1} and d["renewals"]["count"] == 1

    with running.rpc(PORTAL_A) as portal:
        with pytest.raises(PermissionDenied):
            portal.contracts.dashboard({})
        items = portal.contracts.list_items()
        assert [(i["contract_id"], i["serial_number"]) for i in items["items"]] == [
            (ids["a_usd"], None),
            (ids["a_eur"], "SN-A"),
        ]
        assert portal.contracts.list_items({"q": "принтер"})["total"] == 2
        assert portal.contracts.list_items({"customer_id": 2})["total"] == 0
        contracts = portal.contracts.list_contracts({"include_lines": True})["items"]
        assert {c["id"] for c in contracts} == {ids["a_eur"], ids["a_usd"]}
        assert all(len(c["lines"]) == 1 for c in contracts)
        for cid in (ids["b"], ids["a_draft"]):
            with pytest.raises(NotFound):
                portal.contracts.get_contract(cid)
        with pytest.raises(NotFound):
            portal.contracts.create_service_request(
                {"kind": "service_call", "serial_number": "SN-B", "message": "?"}
            )
        with pytest.raises(NotFound):
            portal.contracts.create_service_request(
                {"kind": "renewal_quote", "contract_id": ids["b"], "message": "?"}
            )
        call = portal.contracts.create_service_request(
            {"kind": "service_call", "serial_number": "sn-a", "message": "Принтерът не печата"}
        )
        assert call["contract_id"] == ids["a_eur"] and call["serial_number"] == "SN-A"  # not the draft's
        assert portal.contracts.list_service_requests()["items"][0]["id"] == call["id"]
    db = DatabaseHandle("contracts", m.metadata, running.url)
    try:
        published = outbox_payloads(db, "service_request_created")
    finally:
        db.dispose()
    assert [(e["service_request_id"], e["owner_id"], e["language"]) for e in published] == [
        (call["id"], 3, "tr")
    ]


def test_dashboard_figures_come_from_one_snapshot(any_db_url):
    """A contract committed while the dashboard runs is in none of its figures or in all of them
    (PostgreSQL: REPEATABLE READ; SQLite: its read transaction): here another connection commits
    one right after the first figure's query."""
    upgrade(SERVICE_DIR, any_db_url)
    ids = seed(any_db_url)
    db = DatabaseHandle("contracts", m.metadata, any_db_url)
    committed = []

    @event.listens_for(db.read_engine, "after_cursor_execute")
    def commit_meanwhile(conn, cursor, statement, parameters, context, executemany):
        if committed or "GROUP BY contracts.status" not in statement:
            return
        with db.engine.begin() as other:
            row = dict(
                other.execute(select(m.contracts).where(m.contracts.c.id == ids["a_eur"])).mappings().one()
            )
            row.pop("id")
            other.execute(insert(m.contracts).values(**{**row, "number": "C-LATE"}))
        committed.append(True)

    try:
        d = dashboard.dashboard(db, ADMIN, {})
        assert committed
        assert d["by_status"] == {"active": 3, "draft": 1} and d["active_contracts"] == 3
        assert d["signed_in_year"]["count"] == 3 and d["renewals"]["count"] == 2
        after = dashboard.dashboard(db, ADMIN, {})
        assert after["by_status"] == {"active": 4, "draft": 1} and after["active_contracts"] == 4
    finally:
        db.dispose()
