"""Service entrypoints through nameko's worker_factory on a real SQLite database, with real
caller contexts: catalogue, prices, moves, units, reservations, reorder, trade-ins."""

from __future__ import annotations

import datetime as dt

import pytest
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from inventory import models as m
from sqlalchemy import func, select


def move(svc, product, warehouse, qty, direction="in", reason=None, **extra):
    reason = reason or ("purchase" if direction == "in" else "dispatch")
    return svc.record_move(
        {
            "warehouse_id": warehouse["id"],
            "product_id": product["id"],
            "quantity": qty,
            "direction": direction,
            "reason": reason,
            **extra,
        }  # fmt: skip
    )


# -- catalogue --------------------------------------------------------------------------


def test_products_are_found_by_sku_name_or_model_in_any_script_and_by_category_subtree(admin, create_product):
    a = create_product(sku="PRN-1", name="Лазерный принтер", model="LJ-İ200", category="Devices/Printers")
    b = create_product(sku="CPY-1", name="复印机", model="C300", category="Devices/Copiers")
    create_product(sku="TON-1", name="Toner", kind="consumable", category="Supplies")
    assert [p["id"] for p in admin.list_products({"q": "лазерный"})["items"]] == [a["id"]]
    assert [p["id"] for p in admin.list_products({"q": "lj-i200"})["items"]] == [a["id"]]
    assert [p["id"] for p in admin.list_products({"q": "复印"})["items"]] == [b["id"]]
    assert {p["id"] for p in admin.list_products({"category": "devices"})["items"]} == {a["id"], b["id"]}
    assert a["category"] == "Devices/Printers"
    paths = [c["path"] for c in admin.list_categories()]
    assert paths == ["Devices", "Devices/Copiers", "Devices/Printers", "Supplies"]


def test_duplicate_sku_is_409_and_bad_product_is_422(admin, create_product):
    create_product(sku="ABC-1")
    with pytest.raises(Conflict):
        create_product(sku="abc-1")
    with pytest.raises(ValidationFailed) as err:
        create_product(unit_price=12.5, kind="robot", extra=1)
    assert {"unit_price", "kind", "extra"} <= set(err.value.details)


def test_only_catalogue_roles_create_products_and_portal_reads_nothing(service, create_product):
    from conftest import new_caller

    with pytest.raises(PermissionDenied):
        service(new_caller("sales_rep", user_id=3)).create_product({"sku": "X", "name": "X", "kind": "device",
                                                                     "unit_price": "1", "currency": "EUR"})  # fmt: skip
    with pytest.raises(PermissionDenied):
        service(new_caller("portal", user_id=4)).list_products({})


def test_update_product_changes_fields_and_search(admin, create_product, outbox):
    p = create_product(sku="UPD-1", name="Old name")
    out = admin.update_product(p["id"], {"name": "Новое имя", "reorder_point": 3, "category": "A/B"})
    assert out["name"] == "Новое имя" and out["reorder_point"] == 3 and out["category"] == "A/B"
    assert admin.list_products({"q": "новое"})["total"] == 1
    assert outbox("product_updated")[-1]["fields_changed"] == ["category_id", "name", "reorder_point"]
    with pytest.raises(NotFound):
        admin.update_product(999, {"name": "x"})


# -- price lists ------------------------------------------------------------------------


def test_price_for_uses_the_dated_list_price_else_the_base_price(admin, create_product):
    p = create_product(unit_price="100.00")
    q = create_product(unit_price="50.00")
    pl = admin.create_price_list(
        {
            "name": "Resellers",
            "channel": "reseller",
            "currency": "EUR",
            "items": [
                {"product_id": p["id"], "unit_price": "90.00", "valid_from": "2026-01-01"},
                {"product_id": p["id"], "unit_price": "95.00", "valid_from": "2027-01-01"},
            ],
        }  # fmt: skip
    )
    assert pl["channel"] == "reseller"
    assert admin.price_for(p["id"], "reseller", "2026-06-30")["unit_price"] == "90.00"
    got = admin.price_for(p["id"], "reseller", "2027-01-01")
    assert got["unit_price"] == "95.00" and got["source"] == "price_list" and got["price_list_id"] == pl["id"]
    assert admin.price_for(p["id"], "reseller", "2025-12-31")["source"] == "base_price"
    assert admin.price_for(q["id"], "distributor", "2026-06-30") | {} == {
        "product_id": q["id"], "sku": q["sku"], "channel": "distributor", "date": "2026-06-30", "unit_price": "50.00",
        "currency": "EUR", "price_list_id": None, "price_list_name": None, "source": "base_price"}  # fmt: skip
    with pytest.raises(NotFound):
        admin.price_for(999, "reseller")
    with pytest.raises(ValidationFailed):
        admin.price_for(p["id"], "wholesale")


def test_bulk_update_by_percent_over_a_category_in_every_list_keeps_history(admin, create_product, outbox):
    printer = create_product(category="Devices/Printers", unit_price="10")
    toner = create_product(category="Supplies", unit_price="10", kind="consumable")
    ids = [printer["id"], toner["id"]]
    lists = [
        admin.create_price_list({"name": n, "channel": c, "currency": cur,
                                 "items": [{"product_id": i, "unit_price": price, "valid_from": "2026-01-01"} for i in ids]})
        for n, c, cur, price in (("Dist", "distributor", "EUR", "19.99"), ("Res JPY", "reseller", "JPY", "1999"))
    ]  # fmt: skip
    out = admin.bulk_update_prices(
        None, {"percent": "7.5", "category": "Devices", "effective_date": "2027-01-01"}
    )
    assert out["updated"] == 2
    assert admin.price_for(printer["id"], "distributor", "2027-01-01")["unit_price"] == "21.49"  # 21.48925
    assert (
        admin.price_for(printer["id"], "reseller", "2027-01-01")["unit_price"] == "2149"
    )  # JPY has no minor unit
    assert admin.price_for(printer["id"], "distributor", "2026-12-31")["unit_price"] == "19.99"
    assert admin.price_for(toner["id"], "distributor", "2027-01-01")["unit_price"] == "19.99"
    history = admin.get_price_list(lists[0]["id"])["history"]
    assert [(h["unit_price"], h["valid_to"]) for h in history if h["product_id"] == printer["id"]] == [
        ("19.99", "2026-12-31"),
        ("21.49", None),
    ]
    event = outbox("price_list_updated")[-1]
    assert (
        event["change"] == "bulk_update"
        and event["percent"] == "7.5"
        and event["product_ids"] == [printer["id"]]
    )
    with pytest.raises(ValidationFailed):
        admin.bulk_update_prices(lists[0]["id"], {"percent": "-100"})
    with pytest.raises(ValidationFailed):
        admin.bulk_update_prices(lists[0]["id"], {"percent": "NaN"})


# -- moves ------------------------------------------------------------------------------


def test_in_and_out_moves_keep_on_hand_reserved_available(
    keeper, create_product, create_warehouse, stock, outbox
):
    p = create_product(kind="consumable")
    w = create_warehouse()
    move(keeper, p, w, 10)
    out = move(keeper, p, w, 4, "out")
    assert out["stock"] == {"on_hand": 6, "reserved": 0, "available": 6}
    assert stock(keeper, p["id"], w["id"])["available"] == 6
    assert [e["quantity"] for e in outbox("stock_received")] == [10]
    assert [e["quantity"] for e in outbox("stock_dispatched")] == [4]
    with pytest.raises(Conflict) as err:
        move(keeper, p, w, 7, "out")
    assert err.value.details["available"] == 6
    assert stock(keeper, p["id"], w["id"])["on_hand"] == 6


@pytest.mark.parametrize("qty", [0, -1, "NaN", "Infinity", 1.5, 10**12, True, None])
def test_bad_quantities_are_422_and_write_nothing(keeper, create_product, create_warehouse, db, qty):
    p = create_product()
    w = create_warehouse()
    with pytest.raises(ValidationFailed) as err:
        move(keeper, p, w, qty)
    assert "quantity" in err.value.details
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(m.stock_moves)).scalar_one() == 0


def test_unknown_product_or_warehouse_is_404_and_reason_must_fit_direction(
    keeper, create_product, create_warehouse
):
    p = create_product()
    w = create_warehouse()
    with pytest.raises(NotFound):
        move(keeper, {"id": 999}, w, 1)
    with pytest.raises(NotFound):
        move(keeper, p, {"id": 999}, 1)
    with pytest.raises(ValidationFailed) as err:
        move(keeper, p, w, 1, "in", "dispatch")
    assert "reason" in err.value.details


def test_sales_roles_cannot_move_stock(rep, create_product, create_warehouse):
    with pytest.raises(PermissionDenied):
        move(rep, create_product(), create_warehouse(), 1)


def test_serialized_units_need_one_serial_each_and_are_unique_per_product(
    keeper, create_product, create_warehouse, db
):
    p = create_product(serialized=True)
    w = create_warehouse()
    with pytest.raises(ValidationFailed) as err:
        move(keeper, p, w, 2, serial_numbers=["A1"])
    assert "serial_numbers" in err.value.details
    move(keeper, p, w, 2, serial_numbers=["A1", "A2"])
    with pytest.raises(Conflict) as err:
        move(keeper, p, w, 2, serial_numbers=["A3", "a1"])
    assert err.value.details["serial_number"] == "a1"
    with db.read() as s:  # nothing half-written: A3 was not created
        assert s.execute(select(func.count()).select_from(m.units)).scalar_one() == 2
    # the same serial on another product is fine
    move(keeper, create_product(serialized=True), w, 1, serial_numbers=["A1"])


def test_unit_history_follows_receive_transfer_dispatch_and_return(
    keeper, create_product, create_warehouse, rep
):
    p = create_product(serialized=True)
    w1, w2 = create_warehouse(code="MAIN"), create_warehouse(code="EAST")
    move(keeper, p, w1, 1, serial_numbers=["SN-İ1"], manufacturing_numbers={"SN-İ1": "MFG-77"})
    t = keeper.transfer_stock({"product_id": p["id"], "from_warehouse_id": w1["id"], "to_warehouse_id": w2["id"],
                               "quantity": 1, "serial_numbers": ["SN-İ1"]})  # fmt: skip
    assert t["from"]["on_hand"] == 0 and t["to"]["on_hand"] == 1
    move(keeper, p, w2, 1, "out", serial_numbers=["SN-İ1"], contract_id=42, lease=True)
    unit = rep.get_unit("sn-i1")
    assert unit["status"] == "leased" and unit["warehouse"] is None and unit["contract_id"] == 42
    move(keeper, p, w1, 1, "in", "lease_return", serial_numbers=["SN-İ1"])
    unit = rep.get_unit("SN-İ1")
    assert unit["status"] == "in_stock" and unit["warehouse"]["code"] == "MAIN"
    assert unit["manufacturing_number"] == "MFG-77"
    assert [(h["event"], h["status"], h["warehouse_id"]) for h in unit["history"]] == [
        ("purchase", "in_stock", w1["id"]),
        ("transfer", "in_stock", w2["id"]),
        ("dispatch", "leased", w2["id"]),
        ("lease_return", "in_stock", w1["id"]),
    ]
    with pytest.raises(NotFound):
        rep.get_unit("nope")


# -- reservations -----------------------------------------------------------------------


def test_reserve_release_and_dispatch_for_a_contract(keeper, create_product, create_warehouse, stock, outbox):
    p = create_product(kind="consumable")
    w1, w2 = create_warehouse(), create_warehouse()
    move(keeper, p, w1, 3)
    move(keeper, p, w2, 5)
    res = keeper.reserve_stock({"contract_id": 7, "items": [{"product_id": p["id"], "quantity": 6}]})
    assert [(r["warehouse_id"], r["quantity"]) for r in res["reservations"]] == [(w1["id"], 3), (w2["id"], 3)]
    assert stock(keeper, p["id"], w2["id"]) | {} == {
        **stock(keeper, p["id"], w2["id"]),
        "on_hand": 5,
        "reserved": 3,
        "available": 2,
    }
    with pytest.raises(Conflict):  # only 2 left unreserved
        move(keeper, p, w2, 3, "out")
    with pytest.raises(Conflict):
        keeper.reserve_stock({"contract_id": 8, "items": [{"product_id": p["id"], "quantity": 3}]})
    released = keeper.release_reservations(7)
    assert len(released["released"]) == 2 and stock(keeper, p["id"], w2["id"])["reserved"] == 0
    assert outbox("stock_released")[0]["contract_id"] == 7
    keeper.reserve_stock(
        {"contract_id": 9, "items": [{"product_id": p["id"], "quantity": 4, "warehouse_id": w2["id"]}]}
    )
    out = keeper.dispatch_reservations(9)
    assert [mv["quantity"] for mv in out["moves"]] == [4]
    assert stock(keeper, p["id"], w2["id"]) | {} == {
        **stock(keeper, p["id"], w2["id"]),
        "on_hand": 1,
        "reserved": 0,
    }
    assert keeper.list_reservations({"contract_id": 9})["items"][0]["status"] == "dispatched"


def test_named_units_reserved_for_a_contract_are_dispatched_only_for_it(
    keeper, create_product, create_warehouse, rep
):
    p = create_product(serialized=True)
    w = create_warehouse()
    move(keeper, p, w, 2, serial_numbers=["U1", "U2"])
    keeper.reserve_stock(
        {"contract_id": "11", "items": [{"product_id": p["id"], "quantity": 1, "serial_numbers": ["U1"]}]}
    )
    assert rep.get_unit("U1")["status"] == "reserved"
    with pytest.raises(Conflict):
        move(keeper, p, w, 1, "out", serial_numbers=["U1"], contract_id=12)
    move(keeper, p, w, 1, "out", serial_numbers=["U1"], contract_id=11)
    unit = rep.get_unit("U1")
    assert unit["status"] == "dispatched" and unit["contract_id"] == 11
    assert [h["event"] for h in unit["history"]] == ["purchase", "reserved", "dispatch"]


def test_contract_events_reserve_once_and_release(
    keeper, create_product, create_warehouse, db, stock, outbox
):
    from inventory import reservations

    p = create_product(kind="consumable")
    w = create_warehouse()
    move(keeper, p, w, 2)
    event = {"event_id": "e1", "payload": {"id": 55, "lines": [{"product_id": str(p["id"]), "quantity": "3"},
                                                                 {"product_id": 999, "quantity": 1}]}}  # fmt: skip
    reservations.handle_contract_approved(db, event)
    reservations.handle_contract_approved(db, {**event, "event_id": "e2"})  # redelivered with another id
    assert stock(keeper, p["id"], w["id"])["reserved"] == 2
    (reserved,) = outbox("stock_reserved")
    assert reserved["shortfall"] == [
        {"product_id": 999, "missing": None, "error": "unknown product"},
        {"product_id": p["id"], "missing": 1},
    ]
    reservations.handle_contract_terminated(db, {"event_id": "e3", "payload": {"id": 55}})
    reservations.handle_contract_terminated(db, {"event_id": "e4", "payload": {"id": 55}})
    assert stock(keeper, p["id"], w["id"])["reserved"] == 0
    assert len(outbox("stock_released")) == 1


# -- reorder and purchase orders ----------------------------------------------------------


def test_one_purchase_order_per_product_below_reorder_point_then_receive(
    keeper, create_product, create_warehouse, stock, outbox
):
    p = create_product(
        kind="consumable", reorder_point=5, reorder_quantity=20, preferred_partner="Acme Supply"
    )
    w = create_warehouse()
    move(keeper, p, w, 6)
    move(keeper, p, w, 1, "out")  # 5: not below
    assert keeper.list_purchase_orders({})["total"] == 0
    out = move(keeper, p, w, 1, "out")  # 4
    (po,) = out["purchase_orders"]
    assert po["quantity"] == 20 and po["partner"] == "Acme Supply" and po["status"] == "open"
    move(keeper, p, w, 2, "out")  # still below: the open PO suppresses another
    assert keeper.list_purchase_orders({"status": "open"})["total"] == 1
    assert [e["number"] for e in outbox("purchase_order_created")] == [po["number"]]
    assert [e["available"] for e in outbox("stock_low")] == [4]
    received = keeper.receive_purchase_order(po["id"])
    assert received["status"] == "received" and stock(keeper, p["id"], w["id"])["on_hand"] == 22
    with pytest.raises(Conflict):
        keeper.receive_purchase_order(po["id"])
    assert keeper.list_purchase_orders({"status": "received"})["total"] == 1
    with pytest.raises(Conflict):
        keeper.cancel_purchase_order(po["id"], "too late")


def test_a_cancelled_purchase_order_lets_the_next_move_raise_a_new_one(
    keeper, create_product, create_warehouse
):
    p = create_product(kind="consumable", reorder_point=5)
    w = create_warehouse()
    move(keeper, p, w, 5)
    (first,) = move(keeper, p, w, 1, "out")["purchase_orders"]
    assert first["quantity"] == 6  # no reorder quantity: up to twice the reorder point
    assert keeper.cancel_purchase_order(first["id"], "partner out of stock")["status"] == "cancelled"
    (second,) = move(keeper, p, w, 1, "out")["purchase_orders"]
    assert second["id"] != first["id"] and second["number"] == "PO-000002"


def test_the_daily_job_raises_the_purchase_orders_an_edit_made_due(
    admin, keeper, create_product, create_warehouse
):
    p = create_product(kind="consumable")
    w = create_warehouse()
    move(keeper, p, w, 2)
    assert admin.run_daily("2027-01-01")["purchase_orders_raised"] == 0
    admin.update_product(p["id"], {"reorder_point": 3, "preferred_partner": "Acme"})
    assert admin.run_daily("2027-01-02")["purchase_orders_raised"] == 1
    assert admin.run_daily("2027-01-03")["purchase_orders_raised"] == 0  # the open PO suppresses another
    (po,) = keeper.list_purchase_orders({"product_id": p["id"]})["items"]
    assert (po["quantity"], po["partner"], po["trigger"]) == (4, "Acme", "reorder")


# -- trade-ins ----------------------------------------------------------------------------


def test_trade_in_submitted_approved_with_valuation_then_received(
    service, keeper, create_product, create_warehouse, db, outbox, rep
):
    from conftest import new_caller
    from inventory import trade_ins

    p = create_product(serialized=True)
    w = create_warehouse()
    seller = service(new_caller("sales_rep", user_id=3))
    ti = seller.create_trade_in({"product_id": p["id"], "serial_number": "OLD-1", "condition": "good",
                                 "requested_value": "300.00", "currency": "EUR", "customer_id": 5})  # fmt: skip
    assert ti["status"] == "submitted"
    submitted = outbox("trade_in_submitted")[0]
    assert submitted["document_type"] == "trade_in" and submitted["document_id"] == ti["id"]
    assert (submitted["amount"], submitted["currency"], submitted["submitter_id"]) == ("300.00", "EUR", 3)
    assert submitted["summary"] == "Trade-in unit (serial OLD-1, good) for 300.00 EUR"
    with pytest.raises(Conflict):
        keeper.receive_trade_in(ti["id"], {"warehouse_id": w["id"]})
    trade_ins.handle_approval_decided(
        db,
        {
            "event_id": "a1",
            "payload": {"document_type": "trade_in", "document_id": ti["id"], "approved_value": "250.00"},
        },
        True,
    )
    assert seller.get_trade_in(ti["id"])["approved_value"] == "250.00"
    got = keeper.receive_trade_in(ti["id"], {"warehouse_id": w["id"]})
    assert got["status"] == "received" and got["move"]["reason"] == "trade_in"
    assert rep.get_unit("OLD-1")["status"] == "in_stock"


def test_trade_in_keeps_the_valuation_decided_in_the_approval_in_its_currency(service, db, outbox):
    from conftest import new_caller
    from inventory import trade_ins

    seller = service(new_caller("sales_rep", user_id=3))
    body = {"serial_number": "V-1", "condition": "good", "requested_value": "500.00", "currency": "EUR"}
    first = seller.create_trade_in(body)
    second = service(new_caller("sales_rep", user_id=3)).create_trade_in({**body, "serial_number": "V-2"})

    def approved(ti, **extra):
        payload = {"document_type": "trade_in", "document_id": ti["id"], "comment": "valued", **extra}
        return trade_ins.handle_approval_decided(db, {"event_id": f"e{ti['id']}", "payload": payload}, True)

    approved(first, approved_value="420.00", currency="EUR")
    got = seller.get_trade_in(first["id"])
    assert (got["status"], got["approved_value"], got["decision_comment"]) == ("approved", "420.00", "valued")
    assert outbox("trade_in_decided")[-1]["approved_value"] == "420.00"
    approved(second, approved_value="420.00", currency="USD")  # not this trade-in's currency
    assert seller.get_trade_in(second["id"])["approved_value"] == "500.00"
    # a later event for a decided trade-in changes nothing
    assert approved(first, approved_value="1.00", currency="EUR") is None
    assert seller.get_trade_in(first["id"])["approved_value"] == "420.00"


def test_deciding_a_trade_in_directly_publishes_trade_in_decided(service, admin, outbox):
    from conftest import new_caller

    seller = service(new_caller("sales_rep", user_id=3))
    ti = seller.create_trade_in(
        {"serial_number": "D-1", "condition": "good", "requested_value": "80", "currency": "EUR"}
    )
    with pytest.raises(ValidationFailed):
        admin.decide_trade_in(ti["id"], {"approved": True, "approved_value": "-1"})
    assert seller.get_trade_in(ti["id"])["status"] == "submitted" and outbox("trade_in_decided") == []
    admin.decide_trade_in(ti["id"], {"approved": True, "approved_value": "75.00"})
    (event,) = outbox("trade_in_decided")
    # approvals withdraws the trade-in's pending request on this event
    assert (event["id"], event["status"], event["approved_value"]) == (ti["id"], "approved", "75.00")


def test_rejected_trade_in_cannot_be_received(service, keeper, create_warehouse, db):
    from conftest import new_caller
    from inventory import trade_ins

    ti = service(new_caller("sales_rep", user_id=3)).create_trade_in(
        {"serial_number": "X", "condition": "poor", "requested_value": "10", "currency": "EUR"}
    )
    trade_ins.handle_approval_decided(
        db, {"event_id": "r", "payload": {"document_type": "trade_in", "document_id": ti["id"]}}, False
    )
    assert keeper.get_trade_in(ti["id"])["status"] == "rejected"
    with pytest.raises(Conflict):
        keeper.receive_trade_in(ti["id"], {"warehouse_id": create_warehouse()["id"]})


def test_dates_default_to_today(admin, create_product):
    p = create_product()
    assert admin.price_for(p["id"], "customer")["date"] == dt.datetime.now(dt.UTC).date().isoformat()


def test_transfers_move_only_available_stock_between_two_known_warehouses(
    keeper, create_product, create_warehouse, stock
):
    p = create_product(kind="consumable")
    w1, w2 = create_warehouse(), create_warehouse()
    move(keeper, p, w1, 3)
    keeper.reserve_stock(
        {"contract_id": 5, "items": [{"product_id": p["id"], "quantity": 2, "warehouse_id": w1["id"]}]}
    )
    body = {"product_id": p["id"], "from_warehouse_id": w1["id"], "to_warehouse_id": w2["id"], "quantity": 2}
    with pytest.raises(Conflict):  # 2 of the 3 are reserved
        keeper.transfer_stock(body)
    with pytest.raises(ValidationFailed):
        keeper.transfer_stock({**body, "to_warehouse_id": w1["id"]})
    with pytest.raises(NotFound):
        keeper.transfer_stock({**body, "to_warehouse_id": 999})
    keeper.transfer_stock({**body, "quantity": 1})
    assert (stock(keeper, p["id"], w1["id"])["on_hand"], stock(keeper, p["id"], w2["id"])["on_hand"]) == (
        2,
        1,
    )


def test_a_serial_shared_by_two_products_needs_the_product_to_be_found(
    keeper, create_product, create_warehouse, rep
):
    a, b = create_product(serialized=True), create_product(serialized=True)
    w = create_warehouse()
    move(keeper, a, w, 1, serial_numbers=["SAME-1"])
    move(keeper, b, w, 1, serial_numbers=["SAME-1"])
    with pytest.raises(Conflict) as err:
        rep.get_unit("SAME-1")
    assert sorted(err.value.details["product_ids"]) == sorted([a["id"], b["id"]])
    assert rep.get_unit("SAME-1", b["id"])["product"]["id"] == b["id"]
    assert [u["product_id"] for u in rep.list_units({"q": "same"})["items"]] == [a["id"], b["id"]]


def test_list_units_of_a_contract_reserved_dispatched_or_leased(
    keeper, create_product, create_warehouse, rep
):
    p = create_product(serialized=True)
    w = create_warehouse()
    move(keeper, p, w, 5, serial_numbers=["C1", "C2", "C3", "C4", "C5"])
    keeper.reserve_stock(
        {"contract_id": 21, "items": [{"product_id": p["id"], "quantity": 2, "serial_numbers": ["C1", "C2"]}]}
    )
    move(keeper, p, w, 1, "out", serial_numbers=["C1"], contract_id=21)
    move(keeper, p, w, 1, "out", serial_numbers=["C3"], contract_id=21, lease=True)
    move(keeper, p, w, 1, "out", serial_numbers=["C4"], contract_id=22)
    units = rep.list_units({"contract_id": 21})
    assert units["total"] == 3
    assert [(u["serial_number"], u["status"], u["contract_id"]) for u in units["items"]] == [
        ("C1", "dispatched", 21),
        ("C2", "reserved", 21),
        ("C3", "leased", 21),
    ]
    assert set(units["items"][0]) == {
        "id", "product_id", "serial_number", "manufacturing_number", "status", "warehouse_id", "contract_id",
    }  # fmt: skip
    assert [
        u["serial_number"] for u in rep.list_units({"contract_id": "21", "status": "reserved"})["items"]
    ] == ["C2"]
    assert [u["serial_number"] for u in rep.list_units({"contract_id": 22})["items"]] == ["C4"]
    keeper.release_reservations(21)  # the reserved one goes back to stock, off the contract
    assert [u["serial_number"] for u in rep.list_units({"contract_id": 21})["items"]] == ["C1", "C3"]
    assert rep.list_units({"contract_id": 23})["total"] == 0
    for bad in (0, True, "x y"):
        with pytest.raises(ValidationFailed) as err:
            rep.list_units({"contract_id": bad})
        assert "contract_id" in err.value.details


def test_a_sales_rep_reads_only_the_trade_ins_they_submitted(service):
    from conftest import new_caller

    mine = service(new_caller("sales_rep", user_id=3))
    other = service(new_caller("sales_rep", user_id=4))
    offer = {"serial_number": "OLD-7", "condition": "good", "requested_value": "300.00", "currency": "EUR"}
    ti = mine.create_trade_in({**offer, "customer_id": 5})
    assert mine.get_trade_in(ti["id"])["id"] == ti["id"]
    assert [t["id"] for t in mine.list_trade_ins({})["items"]] == [ti["id"]]
    with pytest.raises(NotFound):
        other.get_trade_in(ti["id"])  # another rep's trade-in looks like a missing one
    assert other.list_trade_ins({})["items"] == []
    for role in ("sales_manager", "approver", "warehouse", "readonly"):
        assert service(new_caller(role, user_id=9)).get_trade_in(ti["id"])["id"] == ti["id"]


def test_a_trade_in_names_only_a_customer_the_caller_may_see(db):
    """The customer is looked up in the caller's scope (the customers service answers another
    rep's customer with NotFound): such a customer is refused like a missing one."""
    from conftest import new_caller
    from inventory import trade_ins

    def get_customer(customer_id):
        if customer_id != 5:
            raise NotFound(f"customer {customer_id} not found")
        return {"id": 5}

    rep = new_caller("sales_rep", user_id=3)
    offer = {"serial_number": "OLD-8", "condition": "good", "requested_value": "10.00", "currency": "EUR"}
    with pytest.raises(ValidationFailed) as refused:
        trade_ins.create_trade_in(db, rep, {**offer, "customer_id": 6}, get_customer)
    assert "customer_id" in refused.value.details
    made = trade_ins.create_trade_in(db, rep, {**offer, "customer_id": 5}, get_customer)
    assert made["customer_id"] == 5
