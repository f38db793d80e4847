"""Contracts end to end through the gateway, every service a process on a real broker: a draft
priced from inventory for a customer of the customers service, bad input, submit → the approvals
service's request decided through the gateway → approved (real events) → active by the daily job
→ expiring → renewed at the end of the term; an amendment approved the same way as a new version
with its diff; the contract document; scopes."""

from __future__ import annotations

import uuid

from ..conftest import poll


def setup(admin, rep_id):
    r = admin.post("/api/v1/customers", json={"name": f"Ankara Makine {uuid.uuid4().hex[:6]} A.Ş.", "kind": "company",
                                              "language": "tr", "owner_id": rep_id, "level": "A"})  # fmt: skip
    assert r.status_code == 201, r.text
    customer = r.json()
    r = admin.post("/api/v1/products", json={"sku": f"SVC-{uuid.uuid4().hex[:6]}", "name": "Bakım ziyareti",
                                             "kind": "service", "unit_price": "80.00", "currency": "EUR"})  # fmt: skip
    assert r.status_code == 201, r.text
    return customer, r.json()


def decide_pending(system, approver, document_type, document_id, decision="approve", comment="ok"):
    def find():
        r = approver.get("/api/v1/approvals", params={"status": "pending", "mine": "true"})
        assert r.status_code == 200, r.text
        return next(
            (a for a in r.json()["items"]
             if a["document_type"] == document_type and str(a["document_id"]) == str(document_id)),
            None,
        )  # fmt: skip

    request = poll(find, message=f"approval request for {document_type} {document_id}")
    r = approver.post(
        f"/api/v1/approvals/{request['id']}/decision", json={"decision": decision, "comment": comment}
    )
    assert r.status_code == 200, r.text


def status_is(client, contract_id, status):
    body = client.get(f"/api/v1/contracts/{contract_id}").json()
    return body if body.get("status") == status else None


def test_contract_draft_submit_approve_active_renewed(system):
    rep_user = system.create_user(["sales_rep"])
    other_user = system.create_user(["sales_rep"])
    approver_user = system.create_user(["approver"])
    with (
        system.client() as admin,
        system.as_user(rep_user) as rep,
        system.as_user(other_user) as other,
        system.as_user(approver_user) as approver,
    ):
        assert system.http.get("/readyz").json()["services"]["contracts"] == "ok"
        customer, product = setup(admin, rep_user["id"])
        body = {
            "customer_id": customer["id"],
            "title": "Bakım sözleşmesi 2030",
            "kind": "maintenance",
            "currency": "EUR",
            "start_date": "2030-01-01",
            "end_date": "2030-12-31",
            "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
            "auto_renew": True,
            "renewal_uplift_percent": "5",
            "notice_days": 60,
            "lines": [{"product_id": product["id"], "quantity": 2, "discount_percent": "10"}],
        }
        # bad input: 422 naming the field, nothing written
        bad = rep.post("/api/v1/contracts", json={**body, "end_date": "2029-01-01"})
        assert bad.status_code == 422 and "end_date" in bad.json()["error"]["details"], bad.text
        bad = rep.post(
            "/api/v1/contracts", json={**body, "lines": [{"product_id": product["id"], "unit_price": 9.5}]}
        )
        assert bad.status_code == 422, bad.text
        bad = rep.post("/api/v1/contracts", json={**body, "customer_id": 99_999_999})
        assert bad.status_code == 422 and "customer_id" in bad.json()["error"]["details"], bad.text

        r = rep.post("/api/v1/contracts", json=body)
        assert r.status_code == 201, r.text
        c = r.json()
        assert c["status"] == "draft" and c["number"].startswith("C-")
        assert c["lines"][0]["unit_price"] == "80.00" and c["total"] == "144.00"  # 2 × 80 − 10 %
        assert other.get(f"/api/v1/contracts/{c['id']}").status_code == 404  # another rep's contract
        assert (
            rep.patch(f"/api/v1/contracts/{c['id']}", json={"title": "Bakım sözleşmesi İzmir"}).status_code
            == 200
        )

        r = rep.post(f"/api/v1/contracts/{c['id']}/submit")
        assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text
        assert rep.patch(f"/api/v1/contracts/{c['id']}", json={"title": "late"}).status_code == 409
        decide_pending(system, approver, "contract", c["id"])
        approved = poll(lambda: status_is(rep, c["id"], "approved"), message="contract approved")
        assert approved["version"] == 1

        # the start date arrives: active; 60 days before the end: expiring; the end: renewed
        run = admin.post("/api/v1/admin/jobs/daily", json={"as_of": "2030-01-01"})
        assert run.status_code == 200 and run.json()["results"]["contracts"]["contracts_activated"] >= 1, (
            run.text
        )
        assert status_is(rep, c["id"], "active")
        listed = rep.get(
            "/api/v1/contracts", params={"expiring_within_days": 90, "as_of": "2030-10-15"}
        ).json()
        assert c["id"] in [x["id"] for x in listed["items"]]
        run = admin.post("/api/v1/admin/jobs/daily", json={"as_of": "2030-10-15"})
        assert run.json()["results"]["contracts"]["contracts_expiring_notices"] >= 1, run.text

        # an amendment, approved through the approvals service, is version 2 with its diff
        line = approved["lines"][0]
        r = rep.post(
            f"/api/v1/contracts/{c['id']}/amendments",
            json={"reason": "Ek ziyaret", "effective_date": "2030-07-01",
                  "change_lines": [{"id": line["id"], "quantity": 3}]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        amendment = r.json()
        assert amendment["amount_after"] == "216.00"
        decide_pending(system, approver, "amendment", amendment["id"])
        amended = poll(
            lambda: (lambda x: x if x["version"] == 2 else None)(
                rep.get(f"/api/v1/contracts/{c['id']}").json()
            ),
            message="amendment applied",
        )
        assert amended["total"] == "216.00"
        diff = rep.get(f"/api/v1/contracts/{c['id']}/versions/1/diff/2").json()
        assert diff["lines"]["changed"][0]["changes"]["quantity"] == {"from": "2", "to": "3"}

        run = admin.post("/api/v1/admin/jobs/daily", json={"as_of": "2031-01-01"})
        assert run.json()["results"]["contracts"]["contracts_renewed"] >= 1, run.text
        old = rep.get(f"/api/v1/contracts/{c['id']}").json()
        assert old["status"] == "renewed" and old["renewed_by_id"]
        renewal = rep.get(f"/api/v1/contracts/{old['renewed_by_id']}").json()
        assert renewal["status"] == "active" and renewal["start_date"] == "2031-01-01"
        assert renewal["lines"][0]["unit_price"] == "84.00" and renewal["renewal_of_id"] == c["id"]

        # illegal transitions are 409, unknown ids 404
        assert rep.post(f"/api/v1/contracts/{c['id']}/cancel", json={"reason": "x"}).status_code == 409
        assert rep.get("/api/v1/contracts/99999999").status_code == 404


def test_contract_templates_documents_attachments_and_bulk_work(system):
    import hashlib
    import io

    from pypdf import PdfReader

    manager_user = system.create_user(["sales_manager"])
    with system.client() as admin, system.as_user(manager_user) as manager:
        customer, product = setup(admin, manager_user["id"])
        # a template with typed fields; a contract fills only the fields
        r = manager.post(
            "/api/v1/contract-templates",
            json={"name": f"Bakım {uuid.uuid4().hex[:6]}", "language": "tr",
                  "body": "Madde 1. Servis {{visits}} kez yapılır; ücret {{fee}}. 合同 — Договор.",
                  "fields": [{"name": "visits", "type": "number", "required": True},
                             {"name": "fee", "type": "money", "required": True}]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        template = r.json()
        body = {
            "customer_id": customer["id"], "title": "Şablonlu sözleşme", "kind": "service", "currency": "EUR",
            "start_date": "2026-01-01", "end_date": "2026-12-31", "billing": {"frequency": "quarterly"},
            "template_id": template["id"], "lines": [{"product_id": product["id"], "quantity": 1}],
        }  # fmt: skip
        missing = manager.post("/api/v1/contracts", json={**body, "field_values": {"visits": 4}})
        assert missing.status_code == 422 and "field_values.fee" in missing.json()["error"]["details"], (
            missing.text
        )
        r = manager.post("/api/v1/contracts", json={**body, "field_values": {"visits": 4, "fee": "1250.00"}})
        assert r.status_code == 201, r.text
        first = r.json()
        pdf = manager.get(f"/api/v1/contracts/{first['id']}/document.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Ankara Makine" in text and "合同" in text and "Договор" in text and "Servis 4 kez" in text

        # attachments: any bytes back exactly; over the limit → 413
        blob = bytes(range(256)) * 2000 + "İmzalı asıl".encode()
        r = manager.post(
            f"/api/v1/contracts/{first['id']}/attachments",
            files={"file": ("imzalı sözleşme.pdf", blob, "application/pdf")},
        )
        assert r.status_code == 201, r.text
        attachment = r.json()
        assert attachment["sha256"] == hashlib.sha256(blob).hexdigest() and attachment["size"] == len(blob)
        back = manager.get(f"/api/v1/contracts/{first['id']}/attachments/{attachment['id']}")
        assert back.status_code == 200 and back.content == blob
        too_big = manager.post(
            f"/api/v1/contracts/{first['id']}/attachments",
            files={"file": ("big.bin", b"x" * (2 * 1024 * 1024))},
        )
        assert too_big.status_code == 413, too_big.text
        assert [a["id"] for a in manager.get(f"/api/v1/contracts/{first['id']}").json()["attachments"]] == [
            attachment["id"]
        ]

        # two more contracts, all three submitted and approved by an admin (no flow: any approver)
        second = manager.post(
            "/api/v1/contracts", json={**body, "template_id": None, "title": "İkinci"}
        ).json()
        third = manager.post(
            "/api/v1/contracts", json={**body, "template_id": None, "title": "Üçüncü"}
        ).json()
        for c in (first, second, third):
            assert manager.post(f"/api/v1/contracts/{c['id']}/submit").status_code == 200
            decide_pending(system, admin, "contract", c["id"])
        for c in (first, second, third):
            poll(lambda c=c: status_is(manager, c["id"], "active"), message="contract active")

        # co-terminate: every line and contract ends on one date, each a new version — contracts
        # in force changed by a manager: one batch under one approval (issue 17)
        r = manager.post(
            "/api/v1/contracts/co-terminate",
            json={"contract_ids": [first["id"], second["id"], third["id"]], "end_date": "2026-09-30"},
        )
        assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text
        assert len(r.json()["contracts"]) == 3, r.text
        decide_pending(system, admin, "change_batch", r.json()["batch_id"])
        ended = poll(
            lambda: (
                status_is(manager, second["id"], "active")
                if manager.get(f"/api/v1/contracts/{second['id']}").json()["end_date"] == "2026-09-30"
                else None
            ),
            message="co-termination applied",
        )
        assert ended["end_date"] == "2026-09-30" and ended["version"] == 2

        # a direct price update by an admin: +10 % on the product's lines of contracts in force
        r = admin.post(
            "/api/v1/contracts/bulk-price-update",
            json={
                "percent": "10",
                "product_ids": [product["id"]],
                "effective_date": "2026-07-01",
                "direct": True,
            },
        )
        assert r.status_code == 200 and r.json()["contracts_changed"] >= 3, r.text
        assert manager.get(f"/api/v1/contracts/{third['id']}").json()["lines"][0]["unit_price"] == "88.00"
        assert (
            manager.post(
                "/api/v1/contracts/bulk-price-update",
                json={
                    "percent": "10",
                    "product_ids": [product["id"]],
                    "effective_date": "2026-07-01",
                    "direct": True,
                },
            ).status_code
            == 403
        )  # direct is for admins

        # CSV import: every bad row reported by line; skip_bad imports the good contracts
        csv_text = (
            "contract_ref,customer_id,title,kind,currency,start_date,end_date,billing_frequency,product_id,quantity,unit_price\n"
            f"A,{customer['id']},Eski sözleşme A,maintenance,EUR,2027-01-01,2027-12-31,monthly,{product['id']},1,70.00\n"
            f"A,{customer['id']},Eski sözleşme A,maintenance,EUR,2027-01-01,2027-12-31,monthly,{product['id']},2,35.00\n"
            f"B,{customer['id']},Eski sözleşme B,maintenance,EUR,2027-01-01,2026-12-31,monthly,{product['id']},1,70.00\n"
        )
        r = manager.post(
            "/api/v1/contracts/import", params={"mode": "skip_bad"},
            files={"file": ("contracts.csv", csv_text.encode(), "text/csv")},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["created"] == 1 and [e["line"] for e in result["errors"]] == [4], result
        imported = manager.get(
            "/api/v1/contracts", params={"customer_id": customer["id"], "q": "Eski sözleşme A"}
        )
        assert imported.json()["items"][0]["total"] == "140.00"
