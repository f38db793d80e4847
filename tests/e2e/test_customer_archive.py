"""Issue 17 §3–4 end to end through the gateway, every service a process on a real broker:
a customer with an invoice cannot be deleted (409 naming it, nothing changed) and is archived
instead — hidden from lists unless asked for, still found by the duplicate check, no new
contracts or opportunities, restored by a sales manager only; the red list stops a contract's
submit (409, nothing changed) until a sales manager overrides it with a reason, and the
override is kept in the contract's audit trail and shown to the approver."""

from __future__ import annotations

import json
import sqlite3
import uuid

from ..conftest import poll


def new_customer(admin, owner_id, name=None):
    r = admin.post(
        "/api/v1/customers",
        json={
            "name": name or f"Archiv Handel {uuid.uuid4().hex[:8]} GmbH",
            "kind": "company",
            "owner_id": owner_id,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def new_product(admin):
    r = admin.post(
        "/api/v1/products",
        json={"sku": f"SVC-{uuid.uuid4().hex[:6]}", "name": "Wartung", "kind": "service", "unit_price": "10.00",
              "currency": "EUR"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def contract_body(customer_id, product):
    return {"customer_id": customer_id, "title": "Wartung 2031", "kind": "service", "currency": "EUR",
            "start_date": "2031-01-01", "end_date": "2031-12-31", "lines": [{"product_id": product["id"]}],
            "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30}}  # fmt: skip


def listed_ids(client, **params):
    r = client.get("/api/v1/customers", params={"page_size": 500, **params})
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


def test_a_customer_with_an_invoice_is_archived_not_deleted(system):
    rep_user = system.create_user(["sales_rep"])
    manager_user = system.create_user(["sales_manager"])
    finance_user = system.create_user(["finance"])
    with (
        system.client() as admin,
        system.as_user(rep_user) as rep,
        system.as_user(manager_user) as manager,
        system.as_user(finance_user) as finance,
    ):
        customer = new_customer(admin, rep_user["id"])
        cid = customer["id"]
        r = finance.post(
            "/api/v1/invoices",
            json={"customer_id": cid, "currency": "EUR", "draft": True,
                  "lines": [{"description": "Setup", "quantity": "1", "unit_price": "100.00", "tax_percent": "20"}]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        invoice = r.json()

        # delete → 409 naming the invoice; nothing changed
        r = rep.delete(f"/api/v1/customers/{cid}")
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert error["details"]["blocked_by"] == {"invoices": 1}, error
        assert "1 invoices" in error["message"] and "archive" in error["message"]
        after = rep.get(f"/api/v1/customers/{cid}")
        assert after.status_code == 200 and after.json()["archived"] is False
        assert after.json()["updated_at"] == customer["updated_at"]
        assert finance.get(f"/api/v1/invoices/{invoice['id']}").status_code == 200

        # archive: hidden from lists, shown with include_archived, still readable
        r = rep.post(f"/api/v1/customers/{cid}/archive")
        assert r.status_code == 200 and r.json()["archived"] is True, r.text
        assert r.json()["archived_by"] == f"user:{rep_user['id']}"
        assert cid not in listed_ids(rep, q=customer["name"])
        assert cid in listed_ids(rep, q=customer["name"], include_archived="true")
        assert rep.get(f"/api/v1/customers/{cid}").json()["archived"] is True
        assert rep.post(f"/api/v1/customers/{cid}/archive").status_code == 409  # already archived

        # the duplicate check still finds it, and says it is archived
        r = admin.post("/api/v1/customers", json={"name": customer["name"], "kind": "company"})
        assert r.status_code == 409, r.text
        candidates = r.json()["error"]["details"]["candidates"]
        assert [(c["id"], c["archived"]) for c in candidates] == [(cid, True)], candidates

        # no new opportunity or contract for an archived customer (409), nothing written
        r = rep.post(
            "/api/v1/opportunities",
            json={"customer_id": cid, "title": "New deal", "amount": "5", "currency": "EUR"},
        )
        assert r.status_code == 409, r.text
        assert rep.get("/api/v1/opportunities", params={"customer_id": cid}).json()["total"] == 0
        r = rep.post("/api/v1/contracts", json=contract_body(cid, new_product(admin)))
        assert r.status_code == 409, r.text
        assert rep.get("/api/v1/contracts", params={"customer_id": cid}).json()["total"] == 0

        # restore: a sales manager only; nothing changes on a refusal
        for who in (rep, finance):
            assert who.post(f"/api/v1/customers/{cid}/restore").status_code == 403
        assert admin.get(f"/api/v1/customers/{cid}").json()["archived"] is True
        r = manager.post(f"/api/v1/customers/{cid}/restore")
        assert r.status_code == 200 and r.json()["archived"] is False, r.text
        assert cid in listed_ids(rep, q=customer["name"])
        assert manager.post(f"/api/v1/customers/{cid}/restore").status_code == 409  # not archived

        # a customer nothing refers to is still deleted
        spare = new_customer(admin, rep_user["id"])
        assert rep.delete(f"/api/v1/customers/{spare['id']}").status_code == 204


def contract_audit(system, contract_id):
    with sqlite3.connect(system.data_dir / "contracts.db") as conn:
        rows = conn.execute(
            "SELECT action, changes FROM audit_log WHERE entity = 'contract' AND entity_id = ? ORDER BY id",
            (str(contract_id),),
        ).fetchall()
    return [(action, json.loads(changes) if changes else None) for action, changes in rows]


def test_the_red_list_stops_a_submit_until_a_manager_overrides_it(system):
    rep_user = system.create_user(["sales_rep"])
    manager_user = system.create_user(["sales_manager"])
    finance_user = system.create_user(["finance"])
    with (
        system.client() as admin,
        system.as_user(rep_user) as rep,
        system.as_user(manager_user) as manager,
        system.as_user(finance_user) as finance,
    ):
        customer = new_customer(admin, rep_user["id"])
        cid = customer["id"]
        r = rep.post("/api/v1/contracts", json=contract_body(cid, new_product(admin)))
        assert r.status_code == 201, r.text
        contract = r.json()
        assert rep.get(f"/api/v1/contracts/{contract['id']}").json()["customer_red_listed"] is False

        # the red list: not the rep's to set; finance puts the customer on it with a reason
        r = rep.post(f"/api/v1/customers/{cid}/red-list", json={"reason": "mine"})
        assert r.status_code == 403, r.text
        assert finance.post(f"/api/v1/customers/{cid}/red-list", json={"reason": " "}).status_code == 422
        assert rep.get(f"/api/v1/customers/{cid}").json()["red_listed"] is False
        r = finance.post(f"/api/v1/customers/{cid}/red-list", json={"reason": "Unpaid since March"})
        assert r.status_code == 200, r.text
        flagged = r.json()
        assert flagged["red_listed"] is True and flagged["red_list_reason"] == "Unpaid since March"
        assert flagged["red_listed_by"] == f"user:{finance_user['id']}" and flagged["red_listed_at"]
        assert cid in listed_ids(admin, red_listed="true", q=customer["name"])
        assert cid not in listed_ids(admin, red_listed="false", q=customer["name"])
        view = rep.get(f"/api/v1/contracts/{contract['id']}").json()
        assert (
            view["customer_red_listed"] is True and view["customer_red_list_reason"] == "Unpaid since March"
        )

        # submit → 409, nothing changed; a rep cannot override
        r = rep.post(f"/api/v1/contracts/{contract['id']}/submit")
        assert r.status_code == 409, r.text
        assert r.json()["error"]["details"]["red_listed"] is True
        r = rep.post(f"/api/v1/contracts/{contract['id']}/submit", json={"override_red_list": "I know them"})
        assert r.status_code == 403, r.text
        r = manager.post(f"/api/v1/contracts/{contract['id']}/submit", json={"override_red_list": ""})
        assert r.status_code == 422, r.text
        still = rep.get(f"/api/v1/contracts/{contract['id']}").json()
        assert still["status"] == "draft" and still["updated_at"] == contract["updated_at"]
        assert [a for a, _ in contract_audit(system, contract["id"])] == ["create"]

        # a sales manager overrides with a reason: submitted, kept in the audit trail, told to the approver
        r = manager.post(
            f"/api/v1/contracts/{contract['id']}/submit", json={"override_red_list": "CFO agreed: prepayment"}
        )
        assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text
        (submitted,) = [c for a, c in contract_audit(system, contract["id"]) if a == "submit"]
        override = submitted["red_list_override"][1]
        assert override["reason"] == "CFO agreed: prepayment"
        assert override["red_list_reason"] == "Unpaid since March"
        assert override["by"] == f"user:{manager_user['id']}"

        def request():
            items = admin.get("/api/v1/approvals", params={"status": "pending", "page_size": 500}).json()[
                "items"
            ]
            return next(
                (
                    a
                    for a in items
                    if a["document_type"] == "contract" and str(a["document_id"]) == str(contract["id"])
                ),
                None,
            )

        approval = poll(request, message="approval request of the overridden contract")
        assert "red list overridden: CFO agreed: prepayment" in approval["summary"]

        # taken off the list: a plain submit works again for the next contract
        r = finance.delete(f"/api/v1/customers/{cid}/red-list")
        assert (
            r.status_code == 200 and r.json()["red_listed"] is False and r.json()["red_list_reason"] is None
        )
