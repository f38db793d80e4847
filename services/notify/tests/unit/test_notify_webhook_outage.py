"""Webhooks that outlast a partner's outage (issue 19 §5), the pure rules and the service calls
without a network: the retry schedule (hourly at most, for 72 hours), the disabling rule, both
signatures during a secret rotation, subscriptions to unknown types (422), and the 30-day event
log with its scopes. The worker against a real endpoint: tests/integration/test_notify_webhook_retries.py."""

from __future__ import annotations

import datetime as dt

import pytest
from crm_common.errors import PermissionDenied, ValidationFailed
from notify import domain, event_log
from notify import models as m
from sqlalchemy import select, update

HOUR = 3600.0
WINDOW = 72 * HOUR
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
LOCAL = {"CRM_WEBHOOKS_ALLOW_PRIVATE": "1"}


def rows(db, table, *where):
    with db.read() as s:
        query = select(table).where(*where).order_by(*table.primary_key.columns)
        return [dict(r) for r in s.execute(query).mappings()]


# -- the pure schedule --------------------------------------------------------------------------


def test_the_schedule_backs_off_exponentially_then_hourly_for_72_hours():
    offsets = domain.webhook_retry_schedule()
    gaps = [b - a for a, b in zip(offsets, offsets[1:], strict=False)]
    assert offsets[:8] == [0, 30, 90, 210, 450, 930, 1890, 3810]  # 30 s × 2^n ...
    assert max(gaps) == HOUR and all(g > 0 for g in gaps)  # ... never more than an hour apart
    assert gaps[7:-1] == [HOUR] * (len(gaps) - 8)
    assert offsets[-1] == WINDOW  # the last try on the window's end: 72 h after the first
    assert len(offsets) == 79


def test_next_attempt_stops_at_the_end_of_the_window():
    first = T0
    assert domain.webhook_next_attempt(first, first, 1) == first + dt.timedelta(seconds=30)
    late = first + dt.timedelta(hours=71, minutes=30)
    assert domain.webhook_next_attempt(first, late, 40) == first + dt.timedelta(hours=72)
    assert domain.webhook_next_attempt(first, first + dt.timedelta(hours=72), 79) is None
    assert domain.webhook_next_attempt(first, first, 1, base=10, cap=15, window=12) == first + dt.timedelta(
        seconds=10
    )


def test_disabling_needs_the_whole_window_without_success():
    assert not domain.webhook_should_disable(None, T0)
    assert not domain.webhook_should_disable(T0, T0 + dt.timedelta(hours=71, minutes=59))
    assert domain.webhook_should_disable(T0, T0 + dt.timedelta(hours=72))


def test_two_secrets_give_two_signatures_either_verifies():
    body = b'{"a":1}'
    header = domain.signature_header(["new-secret", "old-secret"], 1700000000, body)
    t, new, old = header.split(",")
    assert t == "t=1700000000" and new.startswith("v1=") and old.startswith("v1=")
    assert domain.verify_signature("new-secret", header, body, now=1700000010)
    assert domain.verify_signature("old-secret", header, body, now=1700000010)
    assert not domain.verify_signature("other", header, body, now=1700000010)
    assert header.split(",")[:2] == domain.signature_header("new-secret", 1700000000, body).split(",")


@pytest.fixture
def local_admin(service, make_caller):
    return service(make_caller("admin", user_id=1), LOCAL)


def test_subscribing_to_an_unknown_type_is_422_naming_it(local_admin):
    with pytest.raises(ValidationFailed) as err:
        local_admin.create_webhook(
            {
                "url": "http://127.0.0.1:9/h",
                "events": ["custmer_created", "invoice_issued", "nope"],
                "secret": "s" * 12,
            }
        )
    assert "custmer_created, nope" in err.value.details["events"][0]
    hook = local_admin.create_webhook(
        {"url": "http://127.0.0.1:9/h", "events": ["invoice_issued"], "secret": "s" * 12}
    )
    with pytest.raises(ValidationFailed) as err:
        local_admin.update_webhook(hook["id"], {"events": ["*", "webhook_delivered"]})
    assert "webhook_delivered" in err.value.details["events"][0]
    assert local_admin.update_webhook(hook["id"], {"events": ["*"]})["events"] == ["*"]


# -- the event log --------------------------------------------------------------------------------


def test_public_events_are_kept_listed_in_order_scoped_and_purged(
    service, make_caller, deliver, db, add_user
):
    admin = service(make_caller("admin", user_id=1))
    deliver("customers", "customer_created", {"id": 10, "name": "Mine", "owner_id": 5}, event_id="e-1")
    deliver("customers", "customer_created", {"id": 11, "name": "Theirs", "owner_id": 6}, event_id="e-2")
    deliver("billing", "invoice_issued", {"invoice_id": 1, "customer_id": 10}, event_id="e-3")
    deliver("billing", "invoice_issued", {"invoice_id": 2, "customer_id": 11}, event_id="e-4")
    deliver("billing", "invoice_issued", {"invoice_id": 2, "customer_id": 11}, event_id="e-4")  # again
    add_user(5, ("sales_rep",))  # a user directory event: not public, not kept
    page = admin.list_events()
    assert [e["event_id"] for e in page["items"]] == ["e-1", "e-2", "e-3", "e-4"]
    assert page["items"][2]["payload"] == {"invoice_id": 1, "customer_id": 10}
    assert set(page["items"][0]) == {"event_id", "type", "version", "occurred_at", "source", "payload"}
    after = admin.list_events(after="e-2", page_size=1)
    assert [e["event_id"] for e in after["items"]] == ["e-3"] and after["next_after"] == "e-3"
    assert after["has_more"] and after["total"] == 2
    assert [e["event_id"] for e in admin.list_events(event_type="invoice_issued")["items"]] == ["e-3", "e-4"]
    assert admin.list_events(after="2000-01-01T00:00:00Z")["total"] == 4
    assert admin.list_events(after="2999-01-01T00:00:00+00:00")["total"] == 0
    with pytest.raises(ValidationFailed):
        admin.list_events(after="no-such-event")
    with pytest.raises(ValidationFailed):
        admin.list_events(event_type="custmer_created")
    # a sales rep: their customers' events only
    rep = service(make_caller("sales_rep", user_id=5))
    assert [e["event_id"] for e in rep.list_events()["items"]] == ["e-1", "e-3"]
    assert service(make_caller("finance", user_id=7)).list_events()["total"] == 4
    for role in ("warehouse", "portal", "readonly"):
        with pytest.raises(PermissionDenied):
            service(make_caller(role, user_id=8)).list_events()
    # 30 days
    with db.transaction() as uow:
        uow.session.execute(
            update(m.event_log)
            .where(m.event_log.c.event_id.in_(["e-1", "e-2"]))
            .values(recorded_at=dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC))
        )
    assert event_log.purge(db, dt.date(2026, 12, 1)) == 0  # exactly 30 days: kept
    assert event_log.purge(db, dt.date(2026, 12, 2)) == 2
    assert [e["event_id"] for e in admin.list_events()["items"]] == ["e-3", "e-4"]
