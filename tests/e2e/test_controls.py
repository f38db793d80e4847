"""Controls end to end through the gateway, every service a process on a real broker (issue 17
§4, issue 18 §7): an unpaid invoice's collection task closes only by finance with a reason; a
trade-in's valuation is decided inside its approval and kept by inventory; a trade-in decided
directly withdraws its pending approval request; a rep's pending receipt with an impossible
allocation is refused on entry; an attachment names its contract's amendment; tasks of kind
service_request can be listed; deciding or withdrawing someone else's approval request is a 404
like a missing one. Every refusal checks that nothing changed."""

from __future__ import annotations

import uuid

from ..conftest import poll


def find_request(client, document_type, document_id, status="pending"):
    r = client.get("/api/v1/approvals", params={"document_type": document_type, "document_id": document_id})
    assert r.status_code == 200, r.text
    return next((i for i in r.json()["items"] if i["status"] == status), None)


def collection_tasks(client, invoice_id):
    r = client.get(
        "/api/v1/tasks",
        params={"kind": "collection", "document_type": "invoice", "document_id": str(invoice_id)},
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


def customer_of(admin, owner_id, currency="EUR"):
    r = admin.post(
        "/api/v1/customers",
        json={"name": f"Kontrol Makine {uuid.uuid4().hex[:6]} A.Ş.", "kind": "company", "language": "tr",
              "owner_id": owner_id, "level": "B"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def one_off(admin, customer_id, amount="100.00", **extra):
    r = admin.post(
        "/api/v1/invoices",
        json={"customer_id": customer_id, "currency": "EUR",
              "lines": [{"description": "Servis", "quantity": "1", "unit_price": amount}], **extra},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def test_an_unpaid_invoices_collection_task_closes_only_by_finance_with_a_reason(system):
    rep_user = system.create_user(["sales_rep"])
    fin_user = system.create_user(["finance"])
    with system.client() as admin, system.as_user(rep_user) as rep, system.as_user(fin_user) as fin:
        customer = customer_of(admin, rep_user["id"])
        invoice = one_off(admin, customer["id"], issue_date="2031-01-05", due_date="2031-01-20")
        job = admin.post("/api/v1/admin/jobs/daily", json={"as_of": "2031-02-01"})
        assert job.status_code == 200, job.text
        mine = poll(
            lambda: collection_tasks(rep, invoice["id"]), timeout=30, message="rep's collection task"
        )[0]
        theirs = poll(lambda: collection_tasks(fin, invoice["id"]), timeout=30, message="finance's task")[0]
        assert mine["status"] == "open" and theirs["assignee_role"] == "finance"

        # the rep: 409 with the reason, nothing changes (a reason does not help)
        for body in (
            {"status": "done"},
            {"status": "cancelled"},
            {"status": "done", "close_reason": "dispute"},
        ):
            r = rep.patch(f"/api/v1/tasks/{mine['id']}", json=body)
            assert r.status_code == 409, r.text
            assert "not paid" in r.json()["error"]["message"]
        assert rep.get(f"/api/v1/tasks/{mine['id']}").json() == mine
        # finance: a reason is required ("other" with a note); unknown reasons are 422
        for body, field in (
            ({"status": "done"}, "close_reason"),
            ({"status": "done", "close_reason": "other"}, "note"),
            ({"status": "done", "close_reason": "forgot"}, "close_reason"),
        ):
            r = fin.patch(f"/api/v1/tasks/{theirs['id']}", json=body)
            assert r.status_code == 422 and field in str(r.json()["error"]["details"]), r.text
        assert fin.get(f"/api/v1/tasks/{theirs['id']}").json() == theirs
        r = fin.patch(
            f"/api/v1/tasks/{theirs['id']}",
            json={"status": "done", "close_reason": "dispute", "note": "müşteri faturaya itiraz ediyor"},
        )
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["close_reason"]) == ("done", "dispute")
        # the owner's task of the invoice closes with it; the invoice itself is untouched
        closed = rep.get(f"/api/v1/tasks/{mine['id']}").json()
        assert (closed["status"], closed["close_reason"]) == ("done", "dispute")
        assert admin.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "overdue"

        # a paid invoice's tasks close by themselves, reason "paid"
        paid = one_off(admin, customer["id"], "40.00", issue_date="2031-01-05", due_date="2031-01-21")
        admin.post("/api/v1/admin/jobs/daily", json={"as_of": "2031-02-02"})
        poll(lambda: collection_tasks(rep, paid["id"]), timeout=30, message="second collection task")
        r = admin.post(
            "/api/v1/payments",
            json={"customer_id": customer["id"], "amount": "40.00", "currency": "EUR", "method": "card",
                  "received_at": "2031-02-03T09:00:00Z", "allocations": [{"invoice_id": paid["id"], "amount": "40.00"}]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        done = poll(
            lambda: [t for t in collection_tasks(rep, paid["id"]) if t["status"] == "done"],
            timeout=30,
            message="paid invoice's task closed",
        )
        assert done[0]["close_reason"] == "paid"

        # service_request tasks can be listed by kind
        r = rep.get("/api/v1/tasks", params={"kind": "service_request"})
        assert r.status_code == 200, r.text


def test_a_trade_in_is_valued_in_its_approval_and_a_direct_decision_closes_the_request(system):
    rep_user = system.create_user(["sales_rep"])
    other_user = system.create_user(["sales_rep"])
    approver_user = system.create_user(["approver"])
    with (
        system.client() as admin,
        system.as_user(rep_user) as rep,
        system.as_user(other_user) as other,
        system.as_user(approver_user) as approver,
    ):

        def trade_in(value):
            r = rep.post("/api/v1/trade-ins", json={"serial_number": f"OLD-{uuid.uuid4().hex[:6]}",
                                                     "condition": "good", "requested_value": value, "currency": "EUR"})  # fmt: skip
            assert r.status_code == 201, r.text
            return r.json()

        ti = trade_in("400.00")
        req = poll(lambda: find_request(admin, "trade_in", ti["id"]), message="trade-in approval request")
        url = f"/api/v1/approvals/{req['id']}"

        # someone who cannot read the request: 404 exactly as for a missing one, nothing changes
        missing = other.post("/api/v1/approvals/99999999/decision", json={"decision": "approve"})
        hidden = other.post(f"{url}/decision", json={"decision": "approve"})
        assert (missing.status_code, hidden.status_code) == (404, 404)
        assert hidden.json()["error"]["code"] == missing.json()["error"]["code"]
        assert hidden.json()["error"]["message"] == missing.json()["error"]["message"].replace(
            "99999999", str(req["id"])
        )
        assert other.post(f"{url}/withdraw", json={"comment": "x"}).status_code == 404
        assert admin.get(url).json()["status"] == "pending"

        # bad valuations: 422, nothing decided
        for body, field in (
            ({"decision": "approve", "approved_value": "-1"}, "approved_value"),
            ({"decision": "approve", "approved_value": "320.00", "currency": "USD"}, "currency"),
            ({"decision": "reject", "approved_value": "320.00"}, "approved_value"),
        ):
            r = approver.post(f"{url}/decision", json=body)
            assert r.status_code == 422 and field in str(r.json()["error"]["details"]), r.text
        assert admin.get(url).json()["decisions"] == []
        assert rep.get(f"/api/v1/trade-ins/{ti['id']}").json()["status"] == "submitted"

        r = approver.post(
            f"{url}/decision",
            json={
                "decision": "approve",
                "approved_value": "320.00",
                "currency": "EUR",
                "comment": "çizikler var",
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["decisions"][0]["approved_value"] == "320.00"
        kept = poll(
            lambda: (lambda t: t if t["status"] == "approved" else None)(rep.get(f"/api/v1/trade-ins/{ti['id']}").json()),
            message="trade-in approved",
        )  # fmt: skip
        assert (kept["approved_value"], kept["requested_value"]) == ("320.00", "400.00")

        second = trade_in("150.00")
        req2 = poll(lambda: find_request(admin, "trade_in", second["id"]), message="second request")
        # decided directly: the request is withdrawn (no longer waits or escalates)
        r = admin.post(
            f"/api/v1/trade-ins/{second['id']}/decision", json={"approved": True, "approved_value": "140.00"}
        )
        assert r.status_code == 200 and r.json()["approved_value"] == "140.00", r.text
        closed = poll(
            lambda: find_request(admin, "trade_in", second["id"], status="withdrawn"),
            timeout=30,
            message="request withdrawn",
        )
        assert closed["id"] == req2["id"] and closed["steps"][0]["status"] == "cancelled"
        assert (
            approver.post(
                f"/api/v1/approvals/{req2['id']}/decision", json={"decision": "approve"}
            ).status_code
            == 409
        )


def test_a_reps_pending_receipt_with_an_impossible_allocation_is_refused_on_entry(system):
    rep_user = system.create_user(["sales_rep"])
    with system.client() as admin, system.as_user(rep_user) as rep:
        customer = customer_of(admin, rep_user["id"])
        stranger = customer_of(admin, None)
        invoice = one_off(admin, customer["id"], "100.00")
        foreign = one_off(admin, stranger["id"], "100.00")

        def payments():
            return admin.get("/api/v1/payments", params={"customer_id": customer["id"]}).json()["total"]

        before = payments()
        base = {"customer_id": customer["id"], "amount": "100.00", "currency": "EUR", "method": "bank_transfer",
                "received_at": "2031-03-01T10:00:00Z"}  # fmt: skip
        for allocations, field in (
            ([{"invoice_id": invoice["id"], "amount": "150.00"}], "allocations.0.amount"),
            ([{"invoice_id": foreign["id"], "amount": "50.00"}], "allocations.0.invoice_id"),
            ([{"invoice_id": 99999999, "amount": "50.00"}], "allocations.0.invoice_id"),
        ):
            amount = "150.00" if allocations[0]["amount"] == "150.00" else "100.00"
            r = rep.post("/api/v1/payments", json={**base, "amount": amount, "allocations": allocations})
            assert r.status_code == 422 and field in str(r.json()["error"]["details"]), r.text
        r = rep.post("/api/v1/payments", json={**base, "currency": "USD",
                                               "allocations": [{"invoice_id": invoice["id"], "amount": "10.00"}]})  # fmt: skip
        assert r.status_code == 422, r.text
        assert payments() == before
        assert admin.get(f"/api/v1/invoices/{invoice['id']}").json()["paid"] == "0.00"
        # a possible one is recorded pending and counts only once finance confirms it
        r = rep.post(
            "/api/v1/payments",
            json={**base, "allocations": [{"invoice_id": invoice["id"], "amount": "100.00"}]},
        )
        assert r.status_code == 201 and r.json()["status"] == "pending", r.text
        assert admin.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "issued"


def test_an_attachment_names_an_amendment_of_its_contract(system):
    rep_user = system.create_user(["sales_rep"])
    approver_user = system.create_user(["approver"])
    with system.client() as admin, system.as_user(rep_user) as rep, system.as_user(approver_user) as approver:
        customer = customer_of(admin, rep_user["id"])
        r = admin.post("/api/v1/products", json={"sku": f"SVC-{uuid.uuid4().hex[:6]}", "name": "Bakım",
                                                 "kind": "service", "unit_price": "80.00", "currency": "EUR"})  # fmt: skip
        assert r.status_code == 201, r.text
        product = r.json()
        body = {"customer_id": customer["id"], "title": "Ekli sözleşme", "kind": "maintenance", "currency": "EUR",
                "start_date": "2032-01-01", "end_date": "2032-12-31",
                "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
                "lines": [{"product_id": product["id"], "quantity": 1}]}  # fmt: skip
        contracts = []
        for _ in range(2):
            r = rep.post("/api/v1/contracts", json=body)
            assert r.status_code == 201, r.text
            contracts.append(r.json())
        c, other = contracts
        assert rep.post(f"/api/v1/contracts/{c['id']}/submit").status_code == 200
        req = poll(lambda: find_request(approver, "contract", c["id"]), message="contract request")
        assert (
            approver.post(f"/api/v1/approvals/{req['id']}/decision", json={"decision": "approve"}).status_code
            == 200
        )
        approved = poll(
            lambda: (lambda x: x if x["status"] == "approved" else None)(rep.get(f"/api/v1/contracts/{c['id']}").json()),
            message="contract approved",
        )  # fmt: skip
        r = rep.post(
            f"/api/v1/contracts/{c['id']}/amendments",
            json={"reason": "Ek protokol", "effective_date": "2032-07-01",
                  "change_lines": [{"id": approved["lines"][0]["id"], "quantity": 2}]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        amendment = r.json()

        files = {"file": ("ek-protokol.pdf", b"%PDF-1.7 ek", "application/pdf")}
        listing = f"/api/v1/contracts/{other['id']}/attachments"
        before = rep.get(listing).json()
        for value in (str(amendment["id"]), "99999999", "abc"):  # not an amendment of that contract
            r = rep.post(listing, data={"amendment_id": value}, files=files)
            assert r.status_code == 422 and "amendment_id" in str(r.json()["error"]["details"]), r.text
        assert rep.get(listing).json() == before

        r = rep.post(
            f"/api/v1/contracts/{c['id']}/attachments",
            data={"amendment_id": str(amendment["id"]), "description": "imzalı ek protokol"},
            files=files,
        )
        assert r.status_code == 201, r.text
        assert r.json()["amendment_id"] == amendment["id"]
        listed = rep.get(f"/api/v1/contracts/{c['id']}/attachments").json()["items"]
        assert [a["amendment_id"] for a in listed if a["id"] == r.json()["id"]] == [amendment["id"]]
