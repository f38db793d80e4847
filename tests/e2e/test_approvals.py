"""Approvals end to end: flows administered through the gateway, documents submitted by a
``contract_submitted`` event as the contracts service publishes it, decisions through the gateway
as department head and an all-mode step, rejection and resubmission, 403/409, the sheet PDF."""

from __future__ import annotations

import datetime as dt
import uuid

from crm_common.db import make_envelope
from crm_common.testing import publish_event

from ..conftest import poll


def submit_contract(system, document_id, submitter, department, amount="25000.00", summary="Wartung 2027"):
    """Publish ``contracts.contract_submitted`` as the contracts service would."""
    envelope = make_envelope(
        "contracts",
        "contract_submitted",
        {
            "document_id": document_id,
            "submitter": submitter,
            "amount": amount,
            "currency": "EUR",
            "department": department,
            "contract_kind": "maintenance",
            "summary": summary,
        },
    )
    publish_event(system.amqp_uri, "contracts", envelope)  # signed with the system's key


def find_request(client, document_id, status="pending"):
    r = client.get("/api/v1/approvals", params={"document_type": "contract", "document_id": document_id})
    assert r.status_code == 200, r.text
    return next((i for i in r.json()["items"] if i["status"] == status), None)


def department_known(system, admin, department, head_id, submitter):
    """The approvals service has the department head in its users read copy (gateway events):
    a probe submission resolves its head step to them."""

    def probe():
        doc = f"probe-{uuid.uuid4().hex[:8]}"
        submit_contract(system, doc, submitter, department)
        req = poll(lambda: find_request(admin, doc), message="probe request opened")
        admin.post(f"/api/v1/approvals/{req['id']}/withdraw", json={"comment": "probe"})
        return req["steps"][0]["users"] == [head_id]

    poll(probe, timeout=30, interval=0.5, message="department head known to approvals")


def setup_department(system):
    department = f"Ops-{uuid.uuid4().hex[:6]}"
    rep = system.create_user(["sales_rep"], department=department, full_name="Ayşe Yılmaz")
    head = system.create_user(
        ["sales_manager"], department=department, is_department_head=True, full_name="王伟"
    )
    fin_a = system.create_user(["finance"], full_name="Борис Иванов")
    fin_b = system.create_user(["finance"], full_name="Elif Öztürk")
    with system.client() as admin:
        r = admin.post(
            "/api/v1/approval-flows",
            json={
                "name": f"Contracts of {department}",
                "document_type": "contract",
                "conditions": {"min_amount": "10000", "department": department},
                "priority": 1,
                "steps": [
                    {"name": "Department head", "department_head": True, "mode": "any"},
                    {"name": "Finance", "approver_user_ids": [fin_a["id"], fin_b["id"]], "mode": "all"},
                ],
            },
        )
        assert r.status_code == 201, r.text
        department_known(system, admin, department, head["id"], rep["id"])
    return department, rep, head, fin_a, fin_b


def test_department_head_then_all_mode_step_approves_and_prints_the_sheet(system):
    department, rep, head, fin_a, fin_b = setup_department(system)
    outsider = system.create_user(["approver"])
    other_rep = system.create_user(["sales_rep"])
    doc = f"C-{uuid.uuid4().hex[:8]}"
    submit_contract(system, doc, rep["id"], department)
    with (
        system.client() as admin,
        system.as_user(rep) as r,
        system.as_user(head) as h,
        system.as_user(fin_a) as a,
        system.as_user(fin_b) as b,
        system.as_user(outsider) as o,
        system.as_user(other_rep) as other,
    ):
        req = poll(lambda: find_request(admin, doc), message="approval request opened")
        assert (req["current_step"], req["steps"][0]["users"]) == (1, [head["id"]])
        mine = h.get("/api/v1/approvals", params={"mine": "true", "status": "pending"}).json()
        assert req["id"] in [i["id"] for i in mine["items"]]
        assert req["id"] not in [i["id"] for i in a.get("/api/v1/approvals?mine=true").json()["items"]]

        url = f"/api/v1/approvals/{req['id']}"
        assert o.post(f"{url}/decision", json={"decision": "approve"}).status_code == 403
        assert r.post(f"{url}/decision", json={"decision": "approve"}).status_code == 403  # own
        # not theirs to see: deciding answers as for a missing request, revealing nothing
        assert other.post(f"{url}/decision", json={"decision": "approve"}).status_code == 404
        assert other.get(url).status_code == 404
        bad = h.post(f"{url}/decision", json={"decision": "maybe"})
        assert bad.status_code == 422 and "decision" in str(bad.json()["error"]["details"])

        ok = h.post(f"{url}/decision", json={"decision": "approve", "comment": "同意，请尽快安排。"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["current_step"] == 2
        assert (
            a.post(f"{url}/decision", json={"decision": "approve", "comment": "Uygun, İyi iş."}).json()[
                "status"
            ]
            == "pending"
        )
        done = b.post(f"{url}/decision", json={"decision": "approve", "comment": "Одобрено без забележки."})
        assert done.json()["status"] == "approved"
        assert b.post(f"{url}/decision", json={"decision": "reject"}).status_code == 409

        full = r.get(url).json()
        assert [(d["step"], d["user"], d["decision"], d["comment"]) for d in full["decisions"]] == [
            (1, head["id"], "approve", "同意，请尽快安排。"),
            (2, fin_a["id"], "approve", "Uygun, İyi iş."),
            (2, fin_b["id"], "approve", "Одобрено без забележки."),
        ]
        assert all(d["decided_at"] for d in full["decisions"])
        sheet = r.get(f"{url}/sheet.pdf")
        assert sheet.status_code == 200 and sheet.headers["content-type"] == "application/pdf"
        assert sheet.content.startswith(b"%PDF-") and len(sheet.content) > 5000
        assert o.get("/api/v1/approvals/999999999").status_code == 404


def test_rejection_returns_to_the_submitter_who_resubmits(system):
    department, rep, head, _fin_a, _fin_b = setup_department(system)
    doc = f"C-{uuid.uuid4().hex[:8]}"
    submit_contract(system, doc, rep["id"], department)
    with system.client() as admin, system.as_user(rep) as r, system.as_user(head) as h:
        first = poll(lambda: find_request(admin, doc), message="approval request opened")
        url = f"/api/v1/approvals/{first['id']}"
        rej = h.post(
            f"{url}/decision", json={"decision": "reject", "comment": "Цената е твърде висока — 价格太高"}
        )
        assert rej.status_code == 200 and rej.json()["status"] == "rejected"
        assert h.post(f"{url}/decision", json={"decision": "approve"}).status_code == 409
        assert r.post(f"{url}/withdraw", json={}).status_code == 409

        submit_contract(system, doc, rep["id"], department, amount="22000.00", summary="Wartung 2027, -12%")
        second = poll(lambda: find_request(admin, doc), message="resubmitted request opened")
        assert second["id"] != first["id"] and second["previous_request_id"] == first["id"]
        again = r.get(f"/api/v1/approvals/{second['id']}").json()
        assert again["history"][0]["status"] == "rejected"
        assert again["history"][0]["decisions"][0]["comment"] == "Цената е твърде висока — 价格太高"
        assert (
            r.post(f"/api/v1/approvals/{second['id']}/withdraw", json={"comment": "later"}).json()["status"]
            == "withdrawn"
        )


def test_flow_administration_is_for_admins_only_and_versions_flows(system):
    rep = system.create_user(["sales_rep"])
    flow = {
        "name": "Trade-ins",
        "document_type": "trade_in",
        "steps": [{"name": "Check", "approver_role": "approver"}],
    }
    with system.client() as admin, system.as_user(rep) as r:
        assert r.post("/api/v1/approval-flows", json=flow).status_code == 403
        assert r.get("/api/v1/approval-flows").status_code == 403
        bad = admin.post("/api/v1/approval-flows", json={**flow, "steps": [{"name": "x", "mode": "some"}]})
        assert bad.status_code == 422
        created = admin.post("/api/v1/approval-flows", json=flow).json()
        changed = admin.patch(f"/api/v1/approval-flows/{created['id']}", json={"sla_hours": 24})
        assert changed.status_code == 200 and changed.json()["version"] == 2
        assert admin.get(f"/api/v1/approval-flows/{created['id']}").json()["sla_hours"] == 24
        assert admin.get("/api/v1/approval-flows/987654").status_code == 404


def test_the_daily_job_escalates_a_step_waiting_past_its_sla_once(system):
    department, rep, _head, _fin_a, _fin_b = setup_department(system)
    doc = f"C-{uuid.uuid4().hex[:8]}"
    submit_contract(system, doc, rep["id"], department)
    with system.client() as admin:
        req = poll(lambda: find_request(admin, doc), message="approval request opened")
        later = (dt.datetime.fromisoformat(req["steps"][0]["due_at"]) + dt.timedelta(days=1)).date()
        run = admin.post("/api/v1/admin/jobs/daily", json={"as_of": later.isoformat()})
        assert run.status_code == 200, run.text
        assert run.json()["results"]["approvals"]["approvals_overdue"] >= 1
        step = admin.get(f"/api/v1/approvals/{req['id']}").json()["steps"][0]
        assert step["overdue_notified_at"]
        again = admin.post("/api/v1/admin/jobs/daily", json={"as_of": later.isoformat()}).json()
        assert (
            admin.get(f"/api/v1/approvals/{req['id']}").json()["steps"][0]["overdue_notified_at"]
            == step["overdue_notified_at"]
        )
        assert again["results"]["approvals"]["approvals_overdue"] == 0
