"""``inbox_notification_created``: one event per new inbox entry, for its recipient (what the
gateway's notifications stream pushes to the browser), written in the same transaction as the
entry and never twice for the same entry."""

from __future__ import annotations

from crm_common.testing import outbox_payloads
from notify.events import INBOX_NOTIFICATION_CREATED, PUBLISHED


def test_each_new_inbox_entry_is_published_for_its_recipient(deliver, add_user, service, make_caller, db):
    add_user(10, roles=["approver"], language="zh")
    add_user(11, roles=["finance"])
    add_user(12, roles=["sales_rep"])
    payload = {
        "request_id": 77,
        "document_type": "contract",
        "document_id": 5,
        "document_number": "C-2027-5",
        "approver_ids": [10],
        "approver_roles": ["finance"],
        "summary": "Big deal",
    }
    envelope = deliver("approvals", "approval_requested", payload)

    events = outbox_payloads(db, INBOX_NOTIFICATION_CREATED)
    assert sorted(e["user_id"] for e in events) == [10, 11]  # not the sales rep
    (mine,) = service(make_caller("approver", user_id=10)).list_notifications()["items"]
    (event,) = [e for e in events if e["user_id"] == 10]
    # the entry as the recipient lists it, plus user_id
    assert event == {**mine, "user_id": 10}
    assert event["read"] is False and "C-2027-5" in event["title"]

    # the same event again: no new entry, nothing published
    deliver("approvals", "approval_requested", payload, event_id=envelope["event_id"])
    assert len(outbox_payloads(db, INBOX_NOTIFICATION_CREATED)) == 2


def test_the_event_is_declared_with_the_others():
    assert INBOX_NOTIFICATION_CREATED in PUBLISHED
