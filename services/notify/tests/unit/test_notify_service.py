"""Service entrypoints through ``worker_factory`` on a real SQLite database, fed stand-in
event envelopes through the real handler code."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from notify import events_in, public_events
from notify import models as m
from notify.events import CONSUMED
from notify.service import NotifyService
from sqlalchemy import select


def rows(db, table, *where):
    with db.read() as s:
        return [dict(r) for r in s.execute(select(table).where(*where)).mappings()]


def test_every_consumed_event_has_a_handler():
    """The events notify acts on, and every public event of the catalogue (the event log and
    webhooks), each exactly one handler."""
    handlers = [
        (ep.source_service, ep.event_type)
        for _, method in vars(NotifyService).items()
        for ep in getattr(method, "nameko_entrypoints", ())
        if hasattr(ep, "event_type")
    ]
    assert len(handlers) == len(set(handlers))
    assert set(CONSUMED) | public_events.public_pairs() == set(handlers)


def test_approval_requested_reaches_the_named_approver_and_role_members(
    deliver, add_user, service, make_caller
):
    add_user(10, roles=["approver"], language="zh")
    add_user(11, roles=["finance"])
    add_user(12, roles=["sales_rep"])
    deliver(
        "approvals",
        "approval_requested",
        {
            "request_id": 77,
            "document_type": "contract",
            "document_id": 5,
            "document_number": "C-2027-5",
            "approver_ids": [10],
            "approver_roles": ["finance"],
            "summary": "Big deal",
        },
    )
    inbox10 = service(make_caller("approver", user_id=10)).list_notifications()
    assert inbox10["unread"] == 1
    assert inbox10["items"][0]["title"].startswith("待您审批") and "C-2027-5" in inbox10["items"][0]["title"]
    assert service(make_caller("finance", user_id=11)).list_notifications()["total"] == 1
    assert service(make_caller("sales_rep", user_id=12)).list_notifications()["total"] == 0
    tasks = service(make_caller("approver", user_id=10)).list_tasks({"kind": "approval", "status": "open"})
    assert tasks["total"] == 1 and tasks["items"][0]["document_id"] == "77"
    # approved → the approval tasks close
    deliver(
        "approvals", "approval_approved", {"request_id": 77, "document_type": "contract", "document_id": 5}
    )
    assert service(make_caller("approver", user_id=10)).list_tasks({"status": "open"})["total"] == 0


def test_same_event_twice_gives_one_notification(deliver, add_user, service, make_caller, db):
    add_user(20, roles=["approver"])
    payload = {"request_id": 1, "document_type": "discount", "document_id": 1, "approver_ids": [20]}
    envelope = deliver("approvals", "approval_requested", payload)
    deliver("approvals", "approval_requested", payload, event_id=envelope["event_id"])
    assert service(make_caller("approver", user_id=20)).list_notifications()["total"] == 1
    assert len(rows(db, m.deliveries, m.deliveries.c.channel == "email")) == 1
    assert len(rows(db, m.tasks)) == 1


def test_mark_read_only_for_the_owner_of_the_notification(deliver, add_user, service, make_caller):
    add_user(30, roles=["approver"])
    deliver("approvals", "approval_requested", {"request_id": 3, "approver_ids": [30]})
    me = service(make_caller("approver", user_id=30))
    (item,) = me.list_notifications(unread=True)["items"]
    with pytest.raises(NotFound):
        service(make_caller("approver", user_id=31)).mark_notification_read(item["id"])
    assert me.mark_notification_read(item["id"])["read"] is True
    inbox = me.list_notifications(unread=True)
    assert inbox["total"] == 0 and inbox["unread"] == 0
    with pytest.raises(ValidationFailed):
        me.list_notifications(unread="maybe")


def test_overdue_invoice_opens_collection_tasks_and_payment_closes_them(
    deliver, add_user, service, make_caller, db
):
    add_user(40, roles=["sales_rep"])
    add_user(41, roles=["finance"])
    deliver(
        "billing",
        "invoice_overdue",
        {
            "invoice_id": 900,
            "invoice_number": "INV-2027-0009",
            "owner_id": 40,
            "customer_id": 1,
            "amount_due": "120.00",
            "currency": "EUR",
            "due_date": "2027-01-10",
        },
    )
    rep = service(make_caller("sales_rep", user_id=40))
    fin = service(make_caller("finance", user_id=41))
    other = service(make_caller("sales_rep", user_id=42))
    assert [t["kind"] for t in rep.list_tasks({"status": "open"})["items"]] == ["collection"]
    assert fin.list_tasks({"status": "open"})["items"][0]["assignee_role"] == "finance"
    assert other.list_tasks()["total"] == 0
    assert rep.list_notifications()["items"][0]["title"] == "Invoice INV-2027-0009 is overdue"
    deliver("billing", "invoice_paid", {"invoice_id": 900})
    closed = rep.list_tasks()["items"]
    assert closed[0]["status"] == "done" and closed[0]["closed_by_event"] == "invoice_paid"
    assert len([r for r in rows(db, db.infra.outbox) if r["type"] == "task_closed"]) == 2


def test_update_task_scope_and_validation(deliver, add_user, service, make_caller):
    add_user(50)
    deliver("billing", "invoice_overdue", {"invoice_id": 1, "owner_id": 50})
    rep = service(make_caller("sales_rep", user_id=50))
    task = rep.list_tasks({"assignee_id": 50})["items"][0]
    with pytest.raises(ValidationFailed) as err:
        rep.update_task(task["id"], {"status": "finished"})
    assert "status" in err.value.details
    with pytest.raises(PermissionDenied):
        rep.update_task(task["id"], {"assignee_id": 99})
    with pytest.raises(NotFound):
        service(make_caller("sales_rep", user_id=51)).update_task(task["id"], {"status": "done"})
    # the invoice is unpaid (its collection task is open): the rep cannot close it
    with pytest.raises(Conflict):
        rep.update_task(task["id"], {"status": "done", "notes": "called them"})
    kept = rep.get_task(task["id"])
    assert kept["status"] == "open" and kept["notes"] is None and kept["closed_at"] is None
    edited = rep.update_task(task["id"], {"notes": "called them"})
    assert edited["status"] == "open" and edited["notes"] == "called them"


def test_collection_task_closes_by_finance_with_a_reason_only(deliver, add_user, service, make_caller, db):
    add_user(60, roles=["sales_rep"])
    add_user(61, roles=["finance"])
    deliver("billing", "invoice_overdue", {"invoice_id": 5, "owner_id": 60})
    rep = service(make_caller("sales_rep", user_id=60))
    fin = service(make_caller("finance", user_id=61))
    mine = rep.list_tasks()["items"][0]
    theirs = fin.list_tasks()["items"][0]
    closed_events = lambda: [r for r in rows(db, db.infra.outbox) if r["type"] == "task_closed"]  # noqa: E731
    for status in ("done", "cancelled"):
        with pytest.raises(Conflict) as err:
            rep.update_task(mine["id"], {"status": status})
        assert "not paid" in str(err.value)
    # a reason does not make a rep a closer
    with pytest.raises(Conflict):
        rep.update_task(mine["id"], {"status": "done", "close_reason": "dispute"})
    # finance: a reason is required, "other" needs a note; a reason only when closing
    with pytest.raises(ValidationFailed) as err:
        fin.update_task(theirs["id"], {"status": "done"})
    assert "close_reason" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        fin.update_task(theirs["id"], {"status": "done", "close_reason": "other"})
    assert "note" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        fin.update_task(theirs["id"], {"status": "done", "close_reason": "forgot"})
    assert "close_reason" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        fin.update_task(theirs["id"], {"close_reason": "dispute"})
    assert "close_reason" in err.value.details
    assert all(t["status"] == "open" and t["close_reason"] is None for t in rows(db, m.tasks))
    assert closed_events() == []
    done = fin.update_task(
        theirs["id"], {"status": "done", "close_reason": "write_off", "note": "customer insolvent"}
    )
    assert done["status"] == "done" and done["close_reason"] == "write_off"
    assert done["close_note"] == "customer insolvent" and done["closed_at"]
    # the owner's task of the same invoice closes with it
    events = [json.loads(e["body"])["payload"] for e in closed_events()]
    assert sorted(e["id"] for e in events) == sorted([mine["id"], theirs["id"]])
    assert {e["close_reason"] for e in events} == {"write_off"}
    mine_now = rep.get_task(mine["id"])
    assert (mine_now["status"], mine_now["close_reason"], mine_now["close_note"]) == (
        "done",
        "write_off",
        "customer insolvent",
    )
    # reopening (an admin) clears the reason; closing again with a reason works for admins too
    admin = service(make_caller("admin", user_id=1))
    reopened = admin.update_task(mine["id"], {"status": "open"})
    assert reopened["close_reason"] is None and reopened["closed_at"] is None
    closed = admin.update_task(mine["id"], {"status": "done", "close_reason": "dispute"})
    assert closed["close_reason"] == "dispute"
    # other kinds close as before
    deliver("customers", "follow_up_due", {"customer_id": 1, "owner_id": 60, "follow_up_id": 3})
    follow_ups = rep.list_tasks({"kind": "follow_up"})["items"]
    for task in follow_ups:
        assert rep.update_task(task["id"], {"status": "done"})["status"] == "done"


def test_invoice_voided_or_paid_closes_collection_tasks_with_reason(deliver, add_user, service, make_caller):
    add_user(70, roles=["sales_rep"])
    deliver("billing", "invoice_overdue", {"invoice_id": 7, "owner_id": 70})
    deliver("billing", "invoice_overdue", {"invoice_id": 8, "owner_id": 70})
    rep = service(make_caller("sales_rep", user_id=70))
    deliver("billing", "invoice_voided", {"id": 7, "invoice_id": 7, "reason": "issued twice"})
    deliver("billing", "payment_received", {"payment_id": 1, "paid_invoice_ids": [8]})
    closed = {t["document_id"]: t for t in rep.list_tasks()["items"]}
    assert closed["7"]["status"] == "done" and closed["7"]["close_reason"] == "voided"
    assert closed["7"]["closed_by_event"] == "invoice_voided"
    assert closed["8"]["status"] == "done" and closed["8"]["close_reason"] == "paid"


def test_webhook_admin_only_and_url_checks(service, make_caller, admin, monkeypatch):
    with pytest.raises(PermissionDenied):
        service(make_caller("sales_rep", user_id=2)).create_webhook(
            {"url": "https://example.com/h", "events": ["customer_created"], "secret": "0123456789"}
        )
    with pytest.raises(ValidationFailed) as err:
        admin.create_webhook(
            {"url": "ftp://example.com/h", "events": ["customer_created"], "secret": "0123456789"}
        )
    assert "url" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        admin.create_webhook({"url": "https://example.com/h", "events": [], "secret": "short"})
    assert {"events", "secret"} <= set(err.value.details)
    monkeypatch.delenv("CRM_WEBHOOKS_ALLOW_PRIVATE", raising=False)
    for config in ({"CRM_ENV": "production"}, {}):  # refused unless explicitly allowed
        with pytest.raises(ValidationFailed):
            service(make_caller("admin", user_id=1), config).create_webhook(
                {"url": "http://127.0.0.1:9/h", "events": ["*"], "secret": "0123456789"}
            )
    dev = service(make_caller("admin", user_id=1), {"CRM_WEBHOOKS_ALLOW_PRIVATE": "1"})
    hook = dev.create_webhook({"url": "http://127.0.0.1:9/h", "events": ["*"], "secret": "0123456789"})
    assert hook["active"] and "secret" not in hook
    assert admin.list_webhooks()["total"] == 1
    admin.delete_webhook(hook["id"])
    with pytest.raises(NotFound):
        admin.get_webhook(hook["id"])


def test_rules_are_admin_editable(deliver, add_user, service, make_caller, admin):
    add_user(60, roles=["warehouse"])
    rules = {r["event_type"]: r for r in admin.list_rules()["items"]}
    assert rules["stock_low"]["recipients"] == ["warehouse"]
    with pytest.raises(ValidationFailed) as err:
        admin.update_rule("stock_low", {"channels": ["pigeon"]})
    assert "channels" in str(err.value.details)
    with pytest.raises(ValidationFailed):
        admin.update_rule("stock_low", {"templates": {"en": {"subject": "{% if %}"}}})
    with pytest.raises(PermissionDenied):
        service(make_caller("warehouse", user_id=60)).update_rule("stock_low", {"enabled": False})
    admin.update_rule("stock_low", {"enabled": False})
    deliver("inventory", "stock_low", {"product_id": 1, "sku": "X"})
    wh = service(make_caller("warehouse", user_id=60))
    assert wh.list_notifications()["total"] == 0
    admin.update_rule(
        "stock_low", {"enabled": True, "templates": {"en": {"subject": "LOW {{ sku }}", "body": "b"}}}
    )
    deliver("inventory", "stock_low", {"product_id": 1, "sku": "X"})
    assert wh.list_notifications()["items"][0]["title"] == "LOW X"


def test_contract_expiring_mails_owner_and_contacts_in_customer_language(deliver, add_user, db):
    add_user(70, language="en")
    deliver(
        "customers",
        "customer_created",
        {
            "id": 5,
            "code": "C0005",
            "name": "Ankara Makina",
            "owner_id": 70,
            "language": "tr",
            "email": "info@ankara.example",
            "contacts": [{"id": 9, "name": "Ayşe", "email": "ayse@ankara.example"}],
        },
    )
    deliver(
        "contracts",
        "contract_expiring",
        {
            "contract_id": 3,
            "contract_number": "K-3",
            "customer_id": 5,
            "owner_id": 70,
            "days": 60,
            "end_date": "2027-05-01",
        },
    )
    mails = {r["recipient"]: r for r in rows(db, m.deliveries, m.deliveries.c.channel == "email")}
    assert set(mails) == {"user70@example.com", "ayse@ankara.example"}
    assert mails["ayse@ankara.example"]["language"] == "tr"
    assert (
        "sona eriyor" in mails["ayse@ankara.example"]["subject"]
        and "Ayşe" in mails["ayse@ankara.example"]["body"]
    )
    assert mails["user70@example.com"]["language"] == "en"
    # the same window again (a re-run of the contracts scan with a new event id) notifies nobody
    deliver(
        "contracts", "contract_expiring", {"contract_id": 3, "customer_id": 5, "owner_id": 70, "days": 60}
    )
    assert len(rows(db, m.deliveries, m.deliveries.c.channel == "email")) == 2
    assert rows(db, m.tasks)[0]["kind"] == "renewal"


def test_daily_job_fires_scheduled_reminders_once_and_catches_up(
    deliver, add_user, service, make_caller, admin, db
):
    add_user(80)
    deliver(
        "billing",
        "invoice_issued",
        {
            "invoice_id": 12,
            "invoice_number": "INV-12",
            "owner_id": 80,
            "due_date": "2027-03-20",
            "amount": "99.00",
            "currency": "EUR",
        },
    )
    assert admin.run_daily("2027-03-12")["reminders_fired"] == 0
    # the job did not run on the 13th: the 14th catches it up
    assert admin.run_daily("2027-03-14")["reminders_fired"] == 1
    assert admin.run_daily("2027-03-14")["reminders_fired"] == 0
    assert admin.run_daily("2027-03-15")["reminders_fired"] == 0
    titles = [n["title"] for n in service(make_caller("sales_rep", user_id=80)).list_notifications()["items"]]
    assert titles.count("Invoice INV-12 is due on 2027-03-20") == 1


def test_paid_invoice_cancels_its_due_reminder(deliver, admin):
    deliver("billing", "invoice_issued", {"invoice_id": 13, "owner_id": 1, "due_date": "2027-03-20"})
    deliver("billing", "invoice_paid", {"invoice_id": 13})
    assert admin.run_daily("2027-03-20")["reminders_fired"] == 0


def test_contract_expiry_windows_from_activation_share_keys_with_the_contracts_scan(
    deliver, add_user, admin, db
):
    add_user(90)
    deliver("contracts", "contract_activated", {"contract_id": 4, "owner_id": 90, "end_date": "2027-12-31"})
    deliver(
        "contracts",
        "contract_expiring",
        {"contract_id": 4, "owner_id": 90, "days": 90, "end_date": "2027-12-31"},
    )
    assert admin.run_daily("2027-10-02")["reminders_fired"] == 0  # 90-day window already told
    assert admin.run_daily("2027-11-01")["reminders_fired"] == 1  # 60-day window from our schedule


def test_a_level_birthdays_once_a_year(deliver, add_user, service, make_caller, admin):
    add_user(95)
    deliver(
        "customers",
        "customer_created",
        {"id": 8, "name": "VIP", "code": "C8", "owner_id": 95, "level": "A", "birthday": "1970-06-02"},
    )
    deliver(
        "customers",
        "customer_created",
        {"id": 9, "name": "Regular", "owner_id": 95, "level": "B", "birthday": "1970-06-02"},
    )
    assert admin.run_daily("2027-06-03")["birthdays"] == 1  # caught up a day late
    assert admin.run_daily("2027-06-04")["birthdays"] == 0
    inbox = service(make_caller("sales_rep", user_id=95)).list_notifications()
    assert [n["event_type"] for n in inbox["items"]] == ["customer_birthday"]


def test_follow_up_due_opens_a_task_for_the_owner(deliver, add_user, service, make_caller):
    add_user(96)
    deliver(
        "customers",
        "follow_up_due",
        {
            "id": 44,
            "follow_up_id": 44,
            "customer_id": 2,
            "customer_name": "Sofia OOD",
            "customer_code": "C2",
            "owner_id": 96,
            "language": "bg",
            "due_date": "2027-01-05",
            "next_action_at": "2027-01-05T09:00:00+00:00",
        },
    )
    me = service(make_caller("sales_rep", user_id=96))
    task = me.list_tasks({"kind": "follow_up"})["items"][0]
    assert task["due_date"] == "2027-01-05" and task["document_id"] == "44"
    assert me.list_notifications()["items"][0]["title"] == "Follow-up due: Sofia OOD"


def test_user_events_keep_the_newest_copy(deliver, db):
    new = deliver("gateway", "user_created", {"id": 5, "username": "x", "roles": ["admin"], "language": "bg"})
    old = {
        "event_id": "e-old",
        "type": "user_updated",
        "source": "gateway",
        "occurred_at": (dt.datetime.fromisoformat(new["occurred_at"]) - dt.timedelta(minutes=5)).isoformat(),
        "payload": {"id": 5, "language": "zh"},
    }
    events_in.handle_event(db, old)
    assert rows(db, m.users)[0]["language"] == "bg"


def test_approvals_service_payload_shape_steps_and_department_heads(
    deliver, add_user, service, make_caller, admin
):
    """The shape services/approvals publishes: ``id``, ``users``, ``roles``, ``department_head``,
    ``department``, ``step`` {index}, ``due_at``, ``submitter``."""
    add_user(100, roles=["approver"])
    add_user(101, roles=["sales_manager"], department="north", is_department_head=True)
    add_user(102, roles=["sales_manager"], department="south", is_department_head=True)
    add_user(103, roles=["sales_rep"])
    base = {"id": 300, "document_type": "contract", "document_id": 9, "submitter": 103, "department": "north"}
    deliver(
        "approvals",
        "approval_requested",
        {
            **base,
            "step": {"index": 0, "name": "head", "mode": "any"},
            "users": [],
            "roles": [],
            "department_head": True,
            "due_at": "2027-01-03T10:00:00+00:00",
        },
    )
    assert service(make_caller("sales_manager", user_id=101)).list_notifications()["total"] == 1
    assert service(make_caller("sales_manager", user_id=102)).list_notifications()["total"] == 0
    deliver(
        "approvals",
        "approval_requested",
        {
            **base,
            "step": {"index": 1, "name": "legal", "mode": "any"},
            "users": [100],
            "roles": [],
            "due_at": "2027-01-05T10:00:00+00:00",
        },
    )
    deliver("approvals", "approval_step_decided", {**base, "step": {"index": 0, "status": "approved"}})
    approver = service(make_caller("approver", user_id=100))
    assert [t["status"] for t in approver.list_tasks({"kind": "approval"})["items"]] == ["open"]
    # the approvals service escalates step 1 itself: our own SLA reminder for it stays silent
    deliver("approvals", "approval_overdue", {**base, "step": {"index": 1}, "users": [100], "roles": []})
    assert admin.run_daily("2027-01-06")["reminders_fired"] == 0
    assert [n["event_type"] for n in approver.list_notifications()["items"]] == [
        "approval_overdue",
        "approval_requested",
    ]
    deliver("approvals", "approval_rejected", {**base, "step": {"index": 1}, "user": 100, "comment": "no"})
    assert approver.list_tasks({"status": "open"})["total"] == 0
    assert (
        service(make_caller("sales_rep", user_id=103)).list_notifications()["items"][0]["body"].endswith("no")
    )


def test_worker_sends_sms_through_the_provider_and_reports_unconfigured_email(deliver, add_user, admin, db):
    from notify.channels import LoggingSmsProvider
    from notify.delivery import DeliverySettings, DeliveryWorker

    admin.update_rule("contract_expiring", {"channels": ["email", "sms"], "recipients": ["contacts"]})
    deliver(
        "customers",
        "customer_created",
        {
            "id": 6,
            "name": "Пловдив АД",
            "language": "bg",
            "contacts": [{"id": 61, "name": "Иван", "email": "ivan@pl.example", "phone": "+359 32 123 456"}],
        },
    )
    deliver(
        "contracts",
        "contract_expiring",
        {"contract_id": 60, "customer_id": 6, "days": 30, "end_date": "2027-09-30"},
    )
    worker = DeliveryWorker(db, DeliverySettings({"SMTP_HOST": ""}))
    assert worker.run_once() == 2
    worker.pool.waitall()
    by_channel = {r["channel"]: r for r in rows(db, m.deliveries)}
    assert by_channel["sms"]["status"] == "sent"
    assert ("+359 32 123 456", by_channel["sms"]["body"]) in LoggingSmsProvider.sent
    assert "изтича" in by_channel["sms"]["body"]
    assert (
        by_channel["email"]["status"] == "failed"
        and by_channel["email"]["last_error"] == "SMTP_HOST is not set"
    )
    sent = [r for r in rows(db, db.infra.outbox) if r["type"] == "notification_sent"]
    assert len(sent) == 1
    assert worker.run_once() == 0  # nothing left to claim


def test_broken_admin_template_falls_back_and_is_recorded(
    deliver, add_user, admin, service, make_caller, caplog
):
    add_user(110, roles=["warehouse"], language="tr")
    admin.update_rule("stock_low", {"templates": {"tr": {"subject": "{{ missing.field }}", "body": "x"}}})
    deliver("inventory", "stock_low", {"product_id": 4, "sku": "FLT-4", "available": 1, "reorder_point": 3})
    (note,) = service(make_caller("warehouse", user_id=110)).list_notifications()["items"]
    # the built-in Turkish translation comes next (then the English ones)
    assert note["title"] == "Stok azaldı: FLT-4" and note["language"] == "tr"
    assert "template stock_low failed" in caplog.text


def test_contacts_from_the_event_when_the_customer_copy_is_not_there_yet(deliver, db):
    deliver(
        "contracts",
        "contract_expiring",
        {
            "contract_id": 70,
            "customer_id": 404,
            "customer_name": "Shenzhen Ltd",
            "customer_email": "ops@sz.example",
            "language": "zh",
            "days": 90,
            "end_date": "2027-12-31",
        },
    )
    (mail,) = rows(db, m.deliveries, m.deliveries.c.channel == "email")
    assert mail["recipient"] == "ops@sz.example" and mail["language"] == "zh" and "到期" in mail["subject"]
