"""The customers service's archive and red list as contracts enforce them (contracts/redlist.py),
through the service's entrypoints (worker_factory, real SQLite database, customers answered from a
dictionary): a red-listed customer's draft is not submitted (409, nothing changed) unless a sales
manager overrides it with a reason, kept in the audit trail, the event and the approval summary;
an archived customer gets no new contract; the single view carries ``customer_red_listed``; the
counts the customers service asks before a delete."""

from __future__ import annotations

import pytest
from contracts.peers import FakeCustomersRpc, FakeInventoryRpc
from contracts_fixtures import (
    ADMIN,
    CUSTOMERS,
    MANAGER,
    OTHER_REP,
    PRICES,
    PRODUCTS,
    REP,
    UNITS,
    contract_body,
)
from crm_common.context import CallerContext
from crm_common.db import WorkerDatabase
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm_common.testing import new_caller, outbox_payloads
from nameko.testing.services import worker_factory
from sqlalchemy import select


@pytest.fixture
def customers():
    return {i: dict(c) for i, c in CUSTOMERS.items()}


@pytest.fixture
def service(db, customers):
    from contracts.service import ContractsService

    def make(caller: CallerContext) -> ContractsService:
        calls: list[tuple] = []
        return worker_factory(
            ContractsService,
            db=WorkerDatabase(db, caller, None),
            caller=caller,
            customers_rpc=FakeCustomersRpc(customers, calls),
            inventory_rpc=FakeInventoryRpc(PRODUCTS, PRICES, UNITS, calls),
        )

    return make


def audit_of(db, contract_id):
    from contracts.models import infra

    table = infra.audit_log
    with db.read() as s:
        rows = s.execute(
            select(table.c.action, table.c.changes)
            .where(table.c.entity == "contract", table.c.entity_id == str(contract_id))
            .order_by(table.c.id)
        )
        return [(r.action, r.changes) for r in rows]


def test_a_red_listed_customer_stops_the_submit_and_nothing_changes(service, customers, db):
    rep = service(REP)
    c = rep.create_contract(contract_body())
    customers[1].update(red_listed=True, red_list_reason="unpaid since March")
    assert rep.get_contract(c["id"])["customer_red_listed"] is True
    with pytest.raises(Conflict) as err:
        rep.submit_contract(c["id"])
    assert (
        err.value.details["red_listed"] is True
        and err.value.details["red_list_reason"] == "unpaid since March"
    )
    with pytest.raises(PermissionDenied):  # a rep cannot override
        rep.submit_contract(c["id"], {"override_red_list": "I know them"})
    for bad, field in (
        ({"override_red_list": "  "}, "override_red_list"),
        ({"other": 1}, "other"),
        ("x", "body"),
    ):
        with pytest.raises(ValidationFailed) as err:
            service(MANAGER).submit_contract(c["id"], bad)
        assert field in err.value.details
    assert rep.get_contract(c["id"])["status"] == "draft"
    assert [a for a, _ in audit_of(db, c["id"])] == ["create"]
    assert outbox_payloads(db, "contract_submitted") == []


def test_a_manager_overrides_the_red_list_with_a_reason_kept_everywhere(service, customers, db):
    c = service(REP).create_contract(contract_body())
    customers[1].update(red_listed=True, red_list_reason="unpaid since March")
    out = service(MANAGER).submit_contract(c["id"], {"override_red_list": " CFO agreed: prepayment "})
    assert out["status"] == "pending_approval"
    (submitted,) = [ch for a, ch in audit_of(db, c["id"]) if a == "submit"]
    override = {"reason": "CFO agreed: prepayment", "red_list_reason": "unpaid since March", "by": "user:2"}
    assert submitted["red_list_override"] == [None, override]
    (event,) = outbox_payloads(db, "contract_submitted")
    assert event["red_list_override"] == override
    assert event["summary"].endswith("— red list overridden: CFO agreed: prepayment")


def test_without_the_red_list_a_submit_needs_no_override(service, db):
    rep = service(REP)
    c = rep.create_contract(contract_body())
    assert rep.get_contract(c["id"])["customer_red_listed"] is False
    assert rep.submit_contract(c["id"])["status"] == "pending_approval"
    (submitted,) = [ch for a, ch in audit_of(db, c["id"]) if a == "submit"]
    assert "red_list_override" not in submitted
    assert "red_list_override" not in outbox_payloads(db, "contract_submitted")[0]


def test_the_contracts_own_checks_come_before_the_red_list(service, customers):
    c = service(REP).create_contract(contract_body())
    customers[1].update(red_listed=True)
    with pytest.raises(NotFound):  # another rep's contract: not found, whatever the customer
        service(OTHER_REP).submit_contract(c["id"])


def test_an_archived_customer_gets_no_new_contract_and_its_drafts_are_not_submitted(service, customers, db):
    from contracts import models as m

    rep = service(REP)
    draft = rep.create_contract(contract_body())
    customers[1]["archived"] = True
    with pytest.raises(Conflict) as err:
        rep.create_contract(contract_body())
    assert err.value.details["archived"] is True
    with pytest.raises(Conflict):
        rep.submit_contract(draft["id"])
    with db.read() as s:
        assert len(s.execute(select(m.contracts.c.id)).all()) == 1


def test_customer_activity_counts_every_contract_whoever_owns_it(service):
    service(REP).create_contract(contract_body())
    service(ADMIN).create_contract(contract_body())
    counts = service(OTHER_REP).customer_activity(1)
    assert counts == {"customer_id": 1, "contracts": 2, "contracts_by_status": {"draft": 2}}
    assert service(ADMIN).customer_activity(3)["contracts"] == 0
    portal = CallerContext(user_id=6, username="p", roles=("portal",), customer_id=1)
    with pytest.raises(PermissionDenied):
        service(portal).customer_activity(1)
    with pytest.raises(PermissionDenied):
        service(new_caller("nobody", user_id=9)).customer_activity(1)
