"""Data management at scale: co-termination, bulk price updates (direct, and as one approved
batch of amendments), restructuring (move lines, split, merge) — on a real SQLite database,
through the service's RPC methods, with customers and inventory answered from dictionaries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from contracts import bulk, usecases
from contracts.models import metadata
from contracts.peers import FakeCustomersRpc, FakeInventoryRpc, FakePeers
from contracts_fixtures import ADMIN, CUSTOMERS, FINANCE, MANAGER, PRICES, PRODUCTS, UNITS, contract_body
from crm_common.db import DatabaseHandle, WorkerDatabase, make_envelope
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm_common.testing import outbox_payloads
from nameko.testing.services import worker_factory


def lines_by_product(contract: dict) -> dict[int, dict]:
    return {line["product_id"]: line for line in contract["lines"]}


def lock(db, contract_id: int) -> None:
    usecases.set_amounts_lock(db, FINANCE, contract_id, True)


# -- co-termination ---------------------------------------------------------------------------


def test_contracts_co_terminate_aligns_lines_and_reports_what_it_skipped(
    admin, rep, other_rep, db, active_contract, create_contract, events
):
    a = active_contract(end_date="2026-12-31")
    b = active_contract(
        end_date="2027-06-30", lines=[{"product_id": 11, "quantity": 1, "end_date": "2027-03-31"}]
    )
    draft = create_contract()
    locked = active_contract()
    lock(db, locked["id"])
    late = active_contract(
        start_date="2026-01-01",
        end_date="2027-12-31",
        lines=[{"product_id": 11, "quantity": 1, "start_date": "2027-11-01", "end_date": "2027-12-31"}],
    )
    theirs = other_rep.create_contract(contract_body(customer_id=2))

    result = admin.co_terminate(  # an admin's applies at once (anyone else's: see the batch test)
        {"contract_ids": [a["id"], b["id"], draft["id"], locked["id"], late["id"], theirs["id"], 999999],
         "end_date": "2027-09-30", "reason": "Align with the master agreement"}
    )  # fmt: skip

    assert result["changed"] == 2 and result["status"] == "applied"
    assert {(c["contract_id"], c["from"], c["to"]) for c in result["contracts"]} == {
        (a["id"], "2026-12-31", "2027-09-30"),
        (b["id"], "2027-06-30", "2027-09-30"),
    }
    reasons = {s["contract_id"]: s["reason"] for s in result["skipped"]}
    assert reasons[draft["id"]] == "not in force (draft)"
    assert reasons[locked["id"]] == "amounts are locked"
    assert "2027-11-01" in reasons[late["id"]]
    assert reasons[theirs["id"]] == "not in force (draft)" and reasons[999999] == "not found"

    for c in (a, b):
        now = rep.get_contract(c["id"])
        assert now["end_date"] == "2027-09-30"
        assert {line["end_date"] for line in now["lines"]} == {"2027-09-30"}
        assert now["version"] == c["version"] + 1
        assert now["versions"][-1]["kind"] == "co_terminate"
        assert now["versions"][-1]["reason"] == "Align with the master agreement"
    assert rep.get_contract(late["id"])["end_date"] == "2027-12-31"
    assert rep.get_contract(locked["id"])["end_date"] == "2026-12-31"

    amended = {e["id"]: e for e in events("contract_amended") if e.get("change") == "co_terminate"}
    assert set(amended) == {a["id"], b["id"]}
    assert amended[b["id"]]["previous_end_date"] == "2027-06-30"
    assert amended[b["id"]]["end_date"] == "2027-09-30"
    assert {line["end_date"] for line in amended[b["id"]]["lines"]} == {"2027-09-30"}


def test_contracts_co_terminate_shortens_too_and_refuses_bad_input(admin, rep, active_contract):
    a = active_contract(start_date="2026-01-01", end_date="2026-12-31")
    result = admin.co_terminate({"contract_ids": [a["id"]], "end_date": "2026-11-30"})
    assert result["changed"] == 1 and rep.get_contract(a["id"])["end_date"] == "2026-11-30"
    again = rep.co_terminate({"contract_ids": [a["id"]], "end_date": "2026-11-30"})
    assert again["changed"] == 0 and "already ends" in again["skipped"][0]["reason"]

    with pytest.raises(ValidationFailed) as err:
        rep.co_terminate({"contract_ids": [a["id"]], "end_date": "30.11.2026"})
    assert "end_date" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        rep.co_terminate({"contract_ids": [], "end_date": "2026-11-30"})
    assert "contract_ids" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        rep.co_terminate({"contract_ids": [a["id"]], "end_date": "2026-11-30", "colour": "red"})
    assert "colour" in err.value.details


# -- bulk price updates -----------------------------------------------------------------------


def test_contracts_direct_price_update_by_category_changes_running_contracts_only(
    admin, rep, db, active_contract, create_contract, events
):
    a = (
        active_contract()
    )  # product 10 (Devices/Printers) at 100.00, product 11 (Services) at 40.00 × 2 − 10 %
    b = active_contract(
        lines=[{"product_id": 10, "quantity": 3, "unit_price": "333.33", "discount_percent": "5"}]
    )
    locked = active_contract()
    lock(db, locked["id"])
    ended = active_contract(end_date="2026-03-31")  # ends before the effective date
    draft = create_contract()

    result = admin.bulk_price_update(
        {"percent": "10", "category": "devices", "effective_date": "2026-06-01", "direct": True}
    )

    assert result["status"] == "applied"
    assert (result["contracts_changed"], result["lines_changed"]) == (2, 2)
    assert [s["contract_id"] for s in result["skipped"]] == [locked["id"]]
    changes = {c["contract_id"]: c["lines"] for c in result["changes"]}
    assert [(x["from"], x["to"]) for x in changes[b["id"]]] == [("333.33", "366.66")]

    a_now, b_now = rep.get_contract(a["id"]), rep.get_contract(b["id"])
    assert lines_by_product(a_now)[10]["unit_price"] == "110.00"
    assert (
        lines_by_product(a_now)[11]["unit_price"] == lines_by_product(a)[11]["unit_price"]
    )  # services untouched
    # 3 × 366.66 × 95 % = 1044.981 exactly; the total is the sum of exact line amounts
    assert Decimal(lines_by_product(b_now)[10]["amount"]) == Decimal("1044.981")
    assert Decimal(b_now["total"]) == Decimal("1044.981")
    assert Decimal(a_now["total"]) == Decimal(a["total"]) + Decimal("10")
    assert a_now["versions"][-1]["kind"] == "price_update"
    assert a_now["versions"][-1]["effective_date"] == "2026-06-01"
    for untouched in (locked, ended, draft):
        assert rep.get_contract(untouched["id"])["lines"] == untouched["lines"]

    amended = [e for e in events("contract_amended") if e.get("change") == "price_update"]
    assert {e["id"] for e in amended} == {a["id"], b["id"]}
    assert all(e["percent"] == "10" and e["effective_date"] == "2026-06-01" for e in amended)


def test_contracts_price_update_needs_a_target_and_direct_is_for_admins(manager, rep, active_contract):
    a = active_contract()
    with pytest.raises(ValidationFailed) as err:
        manager.bulk_price_update({"percent": "5", "effective_date": "2026-06-01"})
    assert "product_ids" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        manager.bulk_price_update({"percent": "-100", "product_ids": [10], "effective_date": "2026-06-01"})
    assert "percent" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        manager.bulk_price_update({"percent": 5.5, "product_ids": [10], "effective_date": "2026-06-01"})
    assert "percent" in err.value.details
    with pytest.raises(PermissionDenied):
        manager.bulk_price_update(
            {"percent": "5", "product_ids": [10], "effective_date": "2026-06-01", "direct": True}
        )
    with pytest.raises(PermissionDenied):
        rep.bulk_price_update({"percent": "5", "product_ids": [10], "effective_date": "2026-06-01"})
    assert rep.get_contract(a["id"])["lines"] == a["lines"]


def test_contracts_price_update_batch_waits_for_one_approval_then_applies(
    manager, rep, db, active_contract, decide, events
):
    a = active_contract()
    b = active_contract()
    c = active_contract()
    busy = active_contract()
    rep.create_amendment(busy["id"], {"reason": "New signer", "changes": {"signer": "Ayşe Yılmaz"}})

    result = manager.bulk_price_update(
        {"percent": "-5", "product_ids": [11], "effective_date": "2026-07-01", "reason": "Loyalty discount"}
    )

    assert result["status"] == "pending_approval" and result["contracts_changed"] == 3
    assert [(s["contract_id"], s["reason"]) for s in result["skipped"]] == [
        (busy["id"], "another amendment is pending approval")
    ]
    submitted = events("price_update_submitted")
    assert len(submitted) == 1
    assert submitted[0]["document_id"] == result["batch_id"]
    assert submitted[0]["document_type"] == "price_update"
    assert submitted[0]["submitter_id"] == MANAGER.user_id and submitted[0]["contracts"] == 3
    # nothing changes before the approval; each contract shows its pending amendment
    pending = rep.get_contract(a["id"])
    assert pending["lines"] == a["lines"]
    assert [(x["status"], x["batch_id"]) for x in pending["amendments"]] == [
        ("pending_approval", result["batch_id"])
    ]
    assert pending["amendments"][0]["number"].startswith(a["number"] + "-A")

    lock(db, c["id"])  # finance locks one meanwhile: it is skipped when the batch is applied
    decide(result["batch_id"], "approved", document_type="price_update", comment="fine")

    batch = manager.get_price_batch(result["batch_id"])
    assert batch["status"] == "applied" and batch["comment"] == "fine"
    assert batch["summary"]["applied_contracts"] == 2
    assert [x["contract_id"] for x in batch["summary"]["skipped_on_apply"]] == [c["id"]]
    assert batch["amendments_by_status"] == {"applied": 2, "failed": 1}
    for contract in (a, b):
        now = rep.get_contract(contract["id"])
        assert lines_by_product(now)[11]["unit_price"] == "38.00"  # 40.00 − 5 %
        assert lines_by_product(now)[10]["unit_price"] == "100.00"
        assert now["versions"][-1]["kind"] == "price_update"
        assert now["versions"][-1]["amendment_id"] == now["amendments"][0]["id"]
        assert now["amendments"][0]["status"] == "applied"
    assert rep.get_contract(c["id"])["lines"] == c["lines"]
    assert {e["id"] for e in events("contract_amended") if e.get("change") == "price_update"} == {
        a["id"],
        b["id"],
    }

    # the approval delivered twice changes nothing more
    decide(result["batch_id"], "approved", document_type="price_update")
    assert lines_by_product(rep.get_contract(a["id"]))[11]["unit_price"] == "38.00"


def test_contracts_rejected_price_batch_changes_no_price(manager, rep, active_contract, decide):
    a = active_contract()
    result = manager.bulk_price_update(
        {"percent": "12.5", "category": "Services", "effective_date": "2026-07-01"}
    )
    decide(result["batch_id"], "rejected", document_type="price_update", comment="too much")
    batch = manager.get_price_batch(result["batch_id"])
    assert batch["status"] == "rejected" and batch["amendments_by_status"] == {"rejected": 1}
    now = rep.get_contract(a["id"])
    assert now["lines"] == a["lines"] and now["amendments"][0]["status"] == "rejected"
    with pytest.raises(NotFound):
        manager.get_price_batch(424242)


# -- restructure ------------------------------------------------------------------------------


def test_contracts_move_lines_between_contracts_of_one_customer(
    admin, rep, active_contract, create_contract, events
):
    a = active_contract()
    b = active_contract(lines=[{"product_id": 11, "quantity": 1, "unit_price": "50.00"}])
    printer = lines_by_product(a)[10]

    # an admin's applies at once (a rep's: one approval batch, see test_contracts_terminations)
    result = admin.restructure(
        {"action": "move_lines", "line_ids": [printer["id"]], "to_contract_id": b["id"]}
    )

    views = {c["id"]: c for c in result["contracts"]}
    assert [li["product_id"] for li in views[b["id"]]["lines"]] == [11, 10]
    assert views[b["id"]]["lines"][1]["id"] == printer["id"]  # the same line, moved
    assert Decimal(views[b["id"]]["total"]) == Decimal("150")
    assert Decimal(views[a["id"]]["total"]) == Decimal(a["total"]) - Decimal("100")
    assert rep.get_contract(a["id"])["versions"][-1]["kind"] == "restructure"
    amended = {e["id"]: e for e in events("contract_amended") if e.get("change") == "restructure"}
    assert amended[a["id"]]["lines_moved_out"] == [printer["id"]]
    assert amended[b["id"]]["lines_moved_in"] == [printer["id"]]

    # never leave a contract without lines; same customer; drafts and contracts in force do not mix
    only = rep.get_contract(b["id"])["lines"]
    with pytest.raises(ValidationFailed) as err:
        rep.restructure(
            {"action": "move_lines", "line_ids": [li["id"] for li in only], "to_contract_id": a["id"]}
        )
    assert "line_ids" in err.value.details
    other_customer = active_contract(customer_id=3)
    with pytest.raises(ValidationFailed) as err:
        rep.restructure(
            {"action": "move_lines", "line_ids": [printer["id"]], "to_contract_id": other_customer["id"]}
        )
    assert "to_contract_id" in err.value.details
    draft = create_contract()
    with pytest.raises(Conflict):
        rep.restructure({"action": "move_lines", "line_ids": [printer["id"]], "to_contract_id": draft["id"]})
    with pytest.raises(ValidationFailed) as err:
        rep.restructure({"action": "shuffle"})
    assert "action" in err.value.details
    assert rep.get_contract(b["id"])["lines"] == only


def test_contracts_split_an_active_contract_makes_an_active_one(admin, rep, active_contract, events):
    a = active_contract()
    service_line = lines_by_product(a)[11]

    result = admin.restructure(
        {
            "action": "split",
            "contract_id": a["id"],
            "line_ids": [service_line["id"]],
            "title": "Servis — ayrı",
        }
    )

    new, source = result["contract"], result["source"]
    assert new["number"] != a["number"] and new["status"] == "active" and new["version"] == 1
    assert new["title"] == "Servis — ayrı" and new["customer_id"] == a["customer_id"]
    assert [li["id"] for li in new["lines"]] == [service_line["id"]]
    assert Decimal(new["total"]) + Decimal(source["total"]) == Decimal(a["total"])
    assert [li["product_id"] for li in source["lines"]] == [10]
    assert [e["id"] for e in events("contract_activated")][-1] == new["id"]
    assert rep.get_contract(new["id"])["versions"][0]["kind"] == "split"
    with pytest.raises(ValidationFailed):  # splitting off every line leaves nothing behind
        rep.restructure({"action": "split", "contract_id": new["id"], "line_ids": [service_line["id"]]})


def test_contracts_merge_ends_the_others(admin, rep, active_contract, create_contract, events):
    target = active_contract()
    one = active_contract()
    two = active_contract(lines=[{"product_id": 11, "quantity": 4, "unit_price": "10.00"}])
    result = admin.restructure(
        {"action": "merge", "contract_ids": [one["id"], two["id"]], "into_contract_id": target["id"]}
    )

    merged = result["contract"]
    assert len(merged["lines"]) == len(target["lines"]) + len(one["lines"]) + 1
    assert Decimal(merged["total"]) == sum(Decimal(c["total"]) for c in (target, one, two))
    for gone in (one, two):
        now = rep.get_contract(gone["id"])
        assert now["status"] == "terminated" and now["lines"] == []
        assert now["status_reason"] == f"merged into {target['number']}"
    terminated = {e["id"]: e for e in events("contract_terminated")}
    assert terminated[one["id"]]["merged_into_id"] == target["id"]

    d1, d2 = create_contract(), create_contract()
    rep.restructure({"action": "merge", "contract_ids": [d2["id"]], "into_contract_id": d1["id"]})
    assert rep.get_contract(d2["id"])["status"] == "cancelled"
    assert len(rep.get_contract(d1["id"])["lines"]) == 4
    assert rep.get_contract(d1["id"])["version"] == 0  # a draft stays a draft, without versions


def test_contracts_restructure_respects_scope_pending_amendments_and_drafts(
    rep, other_rep, db, active_contract, create_contract, events
):
    a, b = active_contract(), active_contract()
    line = lines_by_product(a)[10]["id"]
    with pytest.raises(NotFound):  # another rep's contracts look missing
        other_rep.restructure({"action": "move_lines", "line_ids": [line], "to_contract_id": b["id"]})
    rep.create_amendment(b["id"], {"reason": "New signer", "changes": {"signer": "Иван Петров"}})
    with pytest.raises(Conflict):
        rep.restructure({"action": "move_lines", "line_ids": [line], "to_contract_id": b["id"]})
    assert rep.get_contract(a["id"])["lines"] == a["lines"]

    draft = create_contract()
    split = rep.restructure(
        {"action": "split", "contract_id": draft["id"], "line_ids": [draft["lines"][1]["id"]]}
    )
    assert (split["contract"]["status"], split["contract"]["version"]) == ("draft", 0)
    assert split["contract"]["title"] == draft["title"]
    assert split["contract"]["id"] not in [e["id"] for e in events("contract_activated")]
    assert [e["split_from_id"] for e in events("contract_created") if e["id"] == split["contract"]["id"]] == [
        draft["id"]
    ]

    # an approval for a batch nobody knows is acknowledged, not retried forever
    assert bulk.apply_price_batch(db, 987654, True, "ok")["status"] == "unknown"


# -- volume -----------------------------------------------------------------------------------


def seed_active(db, n: int) -> list[int]:
    """``n`` active contracts (2 lines each), inserted in bulk as an import of running contracts."""
    peers = FakePeers(
        {1: {"name": "Ankara Makine A.Ş.", "code": "C1", "language": "tr", "level": None, "owner_id": 3}},
        {10: {"sku": "PRN-1", "name": "Printer", "kind": "device", "category": "Devices/Printers"},
         11: {"sku": "SVC-1", "name": "Visit", "kind": "service", "category": "Services"}},
    )  # fmt: skip
    body = contract_body(
        start_date="2026-01-01",
        end_date="2026-12-31",
        lines=[{"product_id": 10, "quantity": 1, "unit_price": "99.99"},
               {"product_id": 11, "quantity": "2", "unit_price": "45.00", "discount_percent": "10"}],
    )  # fmt: skip
    header, line_rows = usecases.prepare_contract(db, peers, MANAGER, body)
    with db.transaction(MANAGER) as uow:
        rows = usecases.insert_contracts(uow, [(header, line_rows)] * n, MANAGER.actor)
        ids = [r["id"] for r in rows]
        usecases.activate_imported(uow, ids)
    return ids


@pytest.fixture
def any_db(any_db_url):
    handle = DatabaseHandle("contracts", metadata, any_db_url)
    handle.create_all()
    yield handle
    handle.dispose()


def worker(handle, caller):
    from contracts.service import ContractsService

    calls: list[tuple] = []
    return worker_factory(
        ContractsService,
        db=WorkerDatabase(handle, caller, None),
        caller=caller,
        customers_rpc=FakeCustomersRpc(CUSTOMERS, calls),
        inventory_rpc=FakeInventoryRpc(PRODUCTS, PRICES, UNITS, calls),
    )


def test_contracts_bulk_operations_over_2000_contracts(any_db):
    """SQLite and PostgreSQL: co-terminate, a direct price update and an approved batch over
    2,000 contracts — every contract changed exactly, versions and events for each."""
    admin, manager = worker(any_db, ADMIN), worker(any_db, MANAGER)
    ids = seed_active(any_db, 2000)

    co = admin.co_terminate({"contract_ids": ids, "end_date": "2027-03-31"})
    assert co["changed"] == 2000 and co["skipped"] == []
    prices = admin.bulk_price_update(
        {"percent": "3", "product_ids": [10], "effective_date": "2026-12-01", "direct": True}
    )
    assert (prices["contracts_changed"], prices["lines_changed"]) == (2000, 2000)
    assert len(prices["changes"]) == 1000 and prices["changes_truncated"] is True
    batch = manager.bulk_price_update(
        {"percent": "-10", "category": "Services", "effective_date": "2027-01-01"}
    )
    assert (batch["status"], batch["contracts_changed"]) == ("pending_approval", 2000)
    envelope = make_envelope(
        "approvals", "approval_approved",
        {"id": 5, "document_type": "price_update", "document_id": str(batch["batch_id"]), "comment": "ok"},
    )  # fmt: skip
    usecases.handle_approval_decided(any_db, envelope, "approved")
    assert manager.get_price_batch(batch["batch_id"])["amendments_by_status"] == {"applied": 2000}

    for cid in (ids[0], ids[999], ids[-1]):
        c = admin.get_contract(cid)
        assert c["end_date"] == "2027-03-31" and {li["end_date"] for li in c["lines"]} == {"2027-03-31"}
        assert lines_by_product(c)[10]["unit_price"] == "102.99"  # 99.99 + 3 % = 102.9897 → 102.99
        assert lines_by_product(c)[11]["unit_price"] == "40.50"  # 45.00 − 10 %
        assert Decimal(c["total"]) == Decimal("102.99") + Decimal("72.90")  # 2 × 40.50 − 10 %
        assert [v["kind"] for v in c["versions"]] == [
            "import",
            "co_terminate",
            "price_update",
            "price_update",
        ]
        assert c["amendments"][0]["status"] == "applied" and c["amendments"][0]["to_version"] == 4
    amended = outbox_payloads(any_db, "contract_amended")
    assert len(amended) == 6000
    assert len({e["id"] for e in amended if e.get("batch_id") == batch["batch_id"]}) == 2000
    assert dt.date.fromisoformat(amended[-1]["end_date"]) == dt.date(2027, 3, 31)
