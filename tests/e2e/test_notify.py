"""Notifications, tasks and webhooks through the gateway, every service running as a process
on a real broker: a follow-up's next action becomes a task and an inbox entry for the owner on
the day the daily job runs; a partner's webhook receives signed customer events."""

from __future__ import annotations

import datetime as dt
import time
import uuid

from notify import domain

from ..conftest import poll

SECRET = "e2e-webhook-secret-42"


def test_follow_up_due_becomes_a_task_and_an_inbox_entry_for_the_owner(system):
    rep = system.create_user(["sales_rep"], full_name="Ayşe Yılmaz")
    day = dt.date(2031, 3, 14) + dt.timedelta(days=uuid.uuid4().int % 300)
    with system.as_user(rep) as r, system.client() as admin:
        customer = r.post(
            "/api/v1/customers",
            json={"name": f"Follow-up Müşteri {uuid.uuid4().hex[:6]}", "kind": "company", "language": "tr"},
        )
        assert customer.status_code == 201, customer.text
        cid = customer.json()["id"]
        fu = r.post(
            f"/api/v1/customers/{cid}/follow-ups",
            json={
                "method": "call",
                "occurred_at": "2031-01-10T09:00:00Z",
                "result": "interested",
                "next_action": "send the offer",
                "next_action_at": f"{day.isoformat()}T10:00:00Z",
            },
        )
        assert fu.status_code == 201, fu.text
        assert r.get("/api/v1/tasks?kind=follow_up&status=open").json()["total"] == 0

        job = admin.post("/api/v1/admin/jobs/daily", json={"as_of": day.isoformat()})
        assert job.status_code == 200, job.text

        tasks = poll(
            lambda: r.get("/api/v1/tasks?kind=follow_up&status=open").json()["items"],
            message="follow-up task",
        )
        assert tasks[0]["assignee_id"] == rep["id"] and tasks[0]["due_date"] == day.isoformat()
        inbox = poll(lambda: r.get("/api/v1/notifications?unread=true").json(), message="inbox entry")
        poll(lambda: r.get("/api/v1/notifications?unread=true").json()["unread"] >= 1, message="unread")
        inbox = r.get("/api/v1/notifications?unread=true").json()
        note = next(n for n in inbox["items"] if n["event_type"] == "follow_up_due")
        assert "Follow-up Müşteri" in note["title"]

        read = r.post(f"/api/v1/notifications/{note['id']}/read")
        assert read.status_code == 200 and read.json()["read"] is True
        assert note["id"] not in [n["id"] for n in r.get("/api/v1/notifications?unread=true").json()["items"]]

        done = r.patch(f"/api/v1/tasks/{tasks[0]['id']}", json={"status": "done"})
        assert done.status_code == 200 and done.json()["closed_at"]
        assert r.patch(f"/api/v1/tasks/{tasks[0]['id']}", json={"status": "later"}).status_code == 422
        assert r.patch("/api/v1/tasks/999999", json={"status": "done"}).status_code == 404

        # another user sees neither the task nor the notification
        other = system.create_user(["sales_rep"])
        with system.as_user(other) as o:
            assert o.get("/api/v1/tasks").json()["total"] == 0
            assert o.post(f"/api/v1/notifications/{note['id']}/read").status_code == 404

        # the same day again: nothing new
        admin.post("/api/v1/admin/jobs/daily", json={"as_of": day.isoformat()})
        time.sleep(2)
        assert r.get("/api/v1/tasks?kind=follow_up").json()["total"] == 1


def test_partner_webhook_receives_signed_customer_events(system, webhook_endpoint):
    receiver = webhook_endpoint
    with system.client() as admin:
        bad = admin.post(
            "/api/v1/webhooks", json={"url": "ftp://x.example/h", "events": ["*"], "secret": SECRET}
        )
        assert bad.status_code == 422 and "url" in bad.json()["error"]["details"]
        created = admin.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["customer_created"], "secret": SECRET}
        )
        assert created.status_code == 201, created.text
        hook = created.json()
        assert "secret" not in hook
        name = f"Webhook Partner {uuid.uuid4().hex[:6]}"
        assert admin.post("/api/v1/customers", json={"name": name, "kind": "company"}).status_code == 201
        got = poll(
            lambda: [x for x in receiver.received if x["body"]["payload"].get("name") == name],
            message="webhook delivery",
        )
        assert got[0]["event"] == "customer_created"
        assert domain.verify_signature(SECRET, got[0]["signature"], got[0]["raw"], now=int(time.time()))
        log = poll(
            lambda: [
                d
                for d in admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"]
                if d["status"] == "sent"
            ],
            message="delivery log",
        )
        assert log[0]["status_code"] == 204
        assert hook["id"] in [w["id"] for w in admin.get("/api/v1/webhooks").json()["items"]]
        rep = system.create_user(["sales_rep"])
        with system.as_user(rep) as r:
            assert r.get("/api/v1/webhooks").status_code == 403
            assert (
                r.post(
                    "/api/v1/webhooks", json={"url": receiver.url, "events": ["*"], "secret": SECRET}
                ).status_code
                == 403
            )
        assert admin.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
        assert admin.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404


def test_admin_edits_notification_rules(system):
    with system.client() as admin:
        rules = {r["event_type"]: r for r in admin.get("/api/v1/notification-rules").json()["items"]}
        assert rules["invoice_overdue"]["recipients"] == ["owner", "finance"]
        bad = admin.patch("/api/v1/notification-rules/invoice_overdue", json={"channels": ["fax"]})
        assert bad.status_code == 422
        ok = admin.patch("/api/v1/notification-rules/payment_received", json={"channels": ["inbox", "email"]})
        assert (
            ok.status_code == 200 and ok.json()["channels"] == ["inbox", "email"] and ok.json()["customised"]
        )
        assert admin.delete("/api/v1/notification-rules/payment_received").json()["channels"] == ["inbox"]
    rep = system.create_user(["sales_rep"])
    with system.as_user(rep) as r:
        assert r.get("/api/v1/notification-rules").status_code == 403


def test_a_level_customer_birthday_reaches_the_owner_once(system):
    rep = system.create_user(["sales_rep"])
    with system.as_user(rep) as r, system.client() as admin:
        vip = r.post(
            "/api/v1/customers",
            json={
                "name": f"VIP Kişi {uuid.uuid4().hex[:6]}",
                "kind": "person",
                "level": "A",
                "birthday": "1975-08-19",
            },
        )
        assert vip.status_code == 201, vip.text
        plain = r.post(
            "/api/v1/customers",
            json={
                "name": f"Plain {uuid.uuid4().hex[:6]}",
                "kind": "person",
                "level": "C",
                "birthday": "1975-08-19",
            },
        )
        assert plain.status_code == 201, plain.text
        key = f"reminder:customer_birthday:{vip.json()['id']}:2033"
        for _ in range(2):  # a re-run of the same day changes nothing
            job = admin.post("/api/v1/admin/jobs/daily", json={"as_of": "2033-08-19"})
            assert job.status_code == 200, job.text
        notes = poll(
            lambda: [
                n
                for n in r.get("/api/v1/notifications").json()["items"]
                if n["event_type"] == "customer_birthday"
            ],
            message="birthday notice",
        )
        assert [n["event_id"] for n in notes] == [key]
        assert "VIP Kişi" in notes[0]["title"]
