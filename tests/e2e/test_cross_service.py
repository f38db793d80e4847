"""Several services working together through real events, driven over HTTP: a trade-in offered
in inventory is approved in approvals, the approver learns of it through notify, and the
decision flows back to inventory and to the submitter's inbox."""

from __future__ import annotations

import uuid

from ..conftest import poll


def test_trade_in_goes_through_approvals_and_notifies_the_people_involved(system):
    approver = system.create_user(["approver"], full_name="Zhang Wei")
    rep = system.create_user(["sales_rep"], full_name="Elif Kaya")
    with system.as_user(rep) as r, system.as_user(approver) as a:
        offered = r.post(
            "/api/v1/trade-ins",
            json={"serial_number": f"OLD-{uuid.uuid4().hex[:8]}", "condition": "good",
                  "requested_value": "1200.00", "currency": "TRY", "model": "Kopya 3000"},
        )  # fmt: skip
        assert offered.status_code == 201, offered.text
        trade_in = offered.json()

        def pending_for_approver():
            items = a.get("/api/v1/approvals", params={"status": "pending", "mine": "true"}).json()["items"]
            return next((x for x in items if x["document_type"] == "trade_in"
                         and str(x["document_id"]) == str(trade_in["id"])), None)  # fmt: skip

        request = poll(pending_for_approver, timeout=30, message="approval request for the approver")
        # the rep may not decide it; the approver is told about it in their inbox and tasks
        assert r.post(f"/api/v1/approvals/{request['id']}/decision",
                      json={"decision": "approve", "comment": "ok"}).status_code in (403, 404)  # fmt: skip

        def approval_note():
            items = a.get("/api/v1/notifications", params={"unread": "true"}).json()["items"]
            return [n for n in items if n["event_type"] == "approval_requested"]

        poll(approval_note, timeout=30, message="approval request in the approver's inbox")
        # the approval task links to the approval request the approver acts on
        my_tasks = {"kind": "approval", "status": "open", "document_type": "approval",
                    "document_id": str(request["id"])}  # fmt: skip
        poll(lambda: a.get("/api/v1/tasks", params=my_tasks).json()["total"] >= 1,
             timeout=30, message="approval task for the approver")  # fmt: skip

        decided = a.post(f"/api/v1/approvals/{request['id']}/decision",
                         json={"decision": "approve", "comment": "Uygun fiyat, onaylandı ✓"})  # fmt: skip
        assert decided.status_code == 200, decided.text
        assert a.post(f"/api/v1/approvals/{request['id']}/decision",
                      json={"decision": "reject", "comment": "late"}).status_code == 409  # fmt: skip

        # inventory hears the decision; the approver's task closes; the submitter is told
        poll(lambda: r.get(f"/api/v1/trade-ins/{trade_in['id']}").json()["status"] == "approved",
             timeout=30, message="trade-in approved in inventory")  # fmt: skip
        poll(lambda: a.get("/api/v1/tasks", params=my_tasks).json()["total"] == 0,
             timeout=30, message="approval task closed by the decision")  # fmt: skip
        history = a.get(f"/api/v1/approvals/{request['id']}").json()
        assert history["status"] == "approved"
        assert history["decisions"][0]["comment"] == "Uygun fiyat, onaylandı ✓"
