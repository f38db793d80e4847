"""Inventory through the gateway, every service running as a process on a real broker: the
catalogue and its CSV import, price lists, stock moves with serialized units, reservations
driven by stand-in contract events, reorder and purchase orders, trade-ins."""

from __future__ import annotations

import uuid

from crm_common.db import make_envelope
from crm_common.testing import publish_event

from ..conftest import poll


def sku(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def publish(system, source: str, event_type: str, payload: dict) -> None:
    publish_event(system.amqp_uri, source, make_envelope(source, event_type, payload))  # signed


def test_inventory_flows_through_the_gateway(system):
    keeper_user = system.create_user(["warehouse"])
    rep_user = system.create_user(["sales_rep"])
    with system.client() as admin, system.as_user(keeper_user) as keeper, system.as_user(rep_user) as rep:
        assert system.http.get("/readyz").json()["services"]["inventory"] == "ok"
        # catalogue
        r = admin.post(
            "/api/v1/products",
            json={"sku": sku("MFP"), "name": "Многофункциональный принтер", "kind": "device",
                  "unit_price": "1250.00", "currency": "EUR", "model": "MX-İ500", "manufacturer": "Sharp",
                  "category": "Devices/Printers", "serialized": True, "reorder_point": 1, "reorder_quantity": 3},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        mfp = r.json()
        assert (mfp["unit_price"], mfp["category"]) == ("1250.00", "Devices/Printers")
        assert admin.post("/api/v1/products", json={**mfp_body(mfp), "unit_price": 12.5}).status_code == 422
        assert admin.post("/api/v1/products", json=mfp_body(mfp)).status_code == 409
        found = rep.get("/api/v1/products", params={"q": "mx-i500", "category": "devices"}).json()
        assert [p["id"] for p in found["items"]] == [mfp["id"]]
        # price lists
        r = admin.post(
            "/api/v1/price-lists",
            json={"name": "Resellers", "channel": "reseller", "currency": "EUR",
                  "items": [{"product_id": mfp["id"], "unit_price": "1100.00", "valid_from": "2026-01-01"}]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        pl = r.json()
        r = admin.post(
            f"/api/v1/price-lists/{pl['id']}/bulk-update",
            json={"percent": "10", "effective_date": "2030-01-01"},
        )
        assert r.status_code == 200 and r.json()["updated"] == 1
        price = rep.get(
            "/api/v1/price-lists/price",
            params={"product_id": mfp["id"], "channel": "reseller", "date": "2030-01-01"},
        )
        assert price.json()["unit_price"] == "1210.00"
        # warehouses and moves
        assert rep.post("/api/v1/warehouses", json={"code": "X", "name": "X"}).status_code == 403
        w = keeper.post("/api/v1/warehouses", json={"code": sku("IST"), "name": "İstanbul depo"}).json()
        move = {"warehouse_id": w["id"], "product_id": mfp["id"], "direction": "in", "reason": "purchase"}
        serials = [sku("SN"), sku("SN")]
        assert (
            rep.post(
                "/api/v1/stock/moves", json={**move, "quantity": 2, "serial_numbers": serials}
            ).status_code
            == 403
        )
        for bad in (0, -1, 1.5, "NaN", 10**9):
            r = keeper.post("/api/v1/stock/moves", json={**move, "quantity": bad, "serial_numbers": serials})
            assert r.status_code == 422 and "quantity" in str(r.json()["error"]["details"]), (bad, r.text)
        r = keeper.post("/api/v1/stock/moves", json={**move, "quantity": 2, "serial_numbers": serials[:1]})
        assert r.status_code == 422 and "serial_numbers" in r.json()["error"]["details"]
        assert (
            keeper.post("/api/v1/stock/moves", json={**move, "product_id": 10**6, "quantity": 1}).status_code
            == 404
        )
        r = keeper.post("/api/v1/stock/moves", json={**move, "quantity": 2, "serial_numbers": serials})
        assert r.status_code == 201, r.text
        assert (
            keeper.post(
                "/api/v1/stock/moves", json={**move, "quantity": 1, "serial_numbers": serials[:1]}
            ).status_code
            == 409
        )
        (level,) = rep.get("/api/v1/stock", params={"product_id": mfp["id"]}).json()["items"]
        assert (level["on_hand"], level["reserved"], level["available"]) == (2, 0, 2)
        # a contract approved elsewhere reserves a named unit; terminated releases it
        contract_id = 900_000 + uuid.uuid4().int % 1000
        lines = [{"product_id": mfp["id"], "quantity": 1, "serial_number": serials[0]}]
        publish(system, "contracts", "contract_approved", {"id": contract_id, "lines": lines})
        poll(
            lambda: rep.get(f"/api/v1/units/{serials[0]}").json()["status"] == "reserved", message="reserved"
        )
        (level,) = rep.get("/api/v1/stock", params={"product_id": mfp["id"]}).json()["items"]
        assert (level["reserved"], level["available"]) == (1, 1)
        # dispatching the other unit drops available below the reorder point: one PO
        out = {**move, "direction": "out", "reason": "dispatch", "quantity": 1, "serial_numbers": serials[1:]}
        r = keeper.post("/api/v1/stock/moves", json=out)
        assert r.status_code == 201, r.text
        assert keeper.post("/api/v1/stock/moves", json=out).status_code == 409
        pos = rep.get("/api/v1/purchase-orders", params={"status": "open", "product_id": mfp["id"]}).json()[
            "items"
        ]
        assert [po["quantity"] for po in pos] == [3]
        publish(system, "contracts", "contract_terminated", {"id": contract_id, "reason": "cancelled"})
        poll(
            lambda: rep.get(f"/api/v1/units/{serials[0]}").json()["status"] == "in_stock", message="released"
        )
        unit = rep.get(f"/api/v1/units/{serials[1]}").json()
        assert unit["status"] == "dispatched" and unit["warehouse"] is None
        assert [h["event"] for h in unit["history"]] == ["purchase", "dispatch"]
        assert rep.get("/api/v1/units/no-such-serial").status_code == 404
        # receive the PO with its serials
        new = [sku("SN") for _ in range(3)]
        r = keeper.post(f"/api/v1/purchase-orders/{pos[0]['id']}/receive", json={"serial_numbers": new})
        assert r.status_code == 200, r.text
        (level,) = rep.get("/api/v1/stock", params={"product_id": mfp["id"]}).json()["items"]
        assert (level["on_hand"], level["available"]) == (4, 4)
        # trade-in: submitted by the rep, decided, received into stock
        r = rep.post("/api/v1/trade-ins", json={"product_id": mfp["id"], "serial_number": sku("OLD"), "condition": "good",
                                                 "requested_value": "400.00", "currency": "EUR"})  # fmt: skip
        assert r.status_code == 201, r.text
        ti = r.json()
        assert (
            keeper.post(f"/api/v1/trade-ins/{ti['id']}/receive", json={"warehouse_id": w["id"]}).status_code
            == 409
        )
        publish(system, "approvals", "approval_approved",
                {"document_type": "trade_in", "document_id": ti["id"], "approved_value": "350.00"})  # fmt: skip
        poll(
            lambda: rep.get(f"/api/v1/trade-ins/{ti['id']}").json()["status"] == "approved",
            message="approved",
        )
        assert rep.get(f"/api/v1/trade-ins/{ti['id']}").json()["approved_value"] == "350.00"
        r = keeper.post(f"/api/v1/trade-ins/{ti['id']}/receive", json={"warehouse_id": w["id"]})
        assert r.status_code == 200 and r.json()["move"]["reason"] == "trade_in"


def mfp_body(p: dict) -> dict:
    return {"sku": p["sku"], "name": p["name"], "kind": "device", "unit_price": "1", "currency": "EUR"}


def test_product_csv_import_reports_bad_lines_and_imports_all_or_nothing(system):
    good, other = sku("CSV"), sku("CSV")
    csv = (
        "sku,name,kind,unit_price,currency,category,serialized,reorder_point\n"
        f"{good},Тонер картридж,consumable,19.90,EUR,Supplies/Toner,false,10\n"
        f"{other},硒鼓,consumable,12.5x,EUR,,maybe,\n"
    ).encode()
    with system.client() as admin:
        r = admin.post(
            "/api/v1/products/import?mode=all_or_nothing", files={"file": ("p.csv", csv, "text/csv")}
        )
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["created"] == 0
        assert [(e["line"], e["field"]) for e in report["errors"]] == [(3, "serialized"), (3, "unit_price")]
        assert admin.get("/api/v1/products", params={"sku": good}).json()["total"] == 0
        r = admin.post("/api/v1/products/import?mode=skip_bad", files={"file": ("p.csv", csv, "text/csv")})
        assert r.json()["created"] == 1 and {e["line"] for e in r.json()["errors"]} == {3}
        (p,) = admin.get("/api/v1/products", params={"sku": good}).json()["items"]
        assert (p["name"], p["category"], p["reorder_point"]) == ("Тонер картридж", "Supplies/Toner", 10)
