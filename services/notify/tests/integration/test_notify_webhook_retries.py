"""The delivery worker against a real HTTP endpoint on a real database, with an injected clock
(no sleeping through 72 hours): a failing webhook delivery is rescheduled per the schedule until it
dies and the subscription is disabled; a success in between keeps it; redelivery by hand, the
test ping and secret rotation with both signatures (issue 19 §5)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from crm_common.errors import Conflict, PermissionDenied, ValidationFailed
from notify import domain
from notify import models as m
from notify.delivery import DeliverySettings, DeliveryWorker
from sqlalchemy import select, update

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
LOCAL = {"CRM_WEBHOOKS_ALLOW_PRIVATE": "1"}  # the endpoint listens on 127.0.0.1


def rows(db, table, *where):
    with db.read() as s:
        query = select(table).where(*where).order_by(*table.primary_key.columns)
        return [dict(r) for r in s.execute(query).mappings()]


# -- a partner's endpoint -------------------------------------------------------------------


class Endpoint:
    """A local HTTP endpoint answering ``status`` (changeable), keeping what arrived."""

    def __init__(self, status: int = 503):
        self.status = status
        self.received: list[dict] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                endpoint.received.append(
                    {"body": body, "signature": self.headers.get(domain.SIGNATURE_HEADER, "")}
                )
                self.send_response(endpoint.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    e = Endpoint()
    yield e
    e.close()


@pytest.fixture
def local_admin(service, make_caller):
    return service(make_caller("admin", user_id=1), LOCAL)


class Clock:
    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def run(worker: DeliveryWorker) -> int:
    claimed = worker.run_once()
    worker.pool.waitall()
    return claimed


# -- the worker on the schedule, with an injected clock ----------------------------------------


def test_a_failing_delivery_is_rescheduled_per_the_schedule_then_dead_and_disabled(
    local_admin, deliver, db, endpoint
):
    hook = local_admin.create_webhook(
        {"url": endpoint.url, "events": ["customer_created"], "secret": "s" * 12}
    )
    deliver("customers", "customer_created", {"id": 7, "name": "Down GmbH"})
    with db.transaction() as uow:  # queued "now" by the handler: make it due at T0
        uow.session.execute(update(m.deliveries).values(next_attempt_at=T0))
    clock = Clock(T0)
    worker = DeliveryWorker(db, DeliverySettings(LOCAL), clock=clock)
    schedule = domain.webhook_retry_schedule()
    for n, offset in enumerate(schedule, start=1):
        clock.now = T0 + dt.timedelta(seconds=offset)
        assert run(worker) == 1, f"attempt {n} at +{offset}s"
        (row,) = rows(db, m.deliveries)
        assert row["attempts"] == n and row["first_attempt_at"] == T0
        if n < len(schedule):
            assert row["status"] == "pending"
            assert row["next_attempt_at"] == T0 + dt.timedelta(seconds=schedule[n])
            clock.now = row["next_attempt_at"] - dt.timedelta(seconds=1)
            assert run(worker) == 0  # not before it is due
            # still enabled after the 15 failures that used to disable it
            assert local_admin.get_webhook(hook["id"])["active"]
    (row,) = rows(db, m.deliveries)
    assert row["status"] == "failed" and row["next_attempt_at"] is None
    assert len(endpoint.received) == len(schedule) == 79
    got = local_admin.get_webhook(hook["id"])
    assert not got["active"] and "72 h with no success" in got["disabled_reason"]
    assert got["failing_since"] == T0.isoformat()


def test_a_success_in_between_keeps_the_subscription(local_admin, deliver, db, endpoint):
    hook = local_admin.create_webhook({"url": endpoint.url, "events": ["*"], "secret": "s" * 12})
    deliver("customers", "customer_created", {"id": 7, "name": "Old GmbH"})
    with db.transaction() as uow:
        uow.session.execute(update(m.deliveries).values(next_attempt_at=T0))
    clock = Clock(T0)
    worker = DeliveryWorker(db, DeliverySettings(LOCAL), clock=clock)
    run(worker)  # fails at T0
    clock.now = T0 + dt.timedelta(hours=30)
    endpoint.status = 200
    deliver("customers", "customer_created", {"id": 8, "name": "New GmbH"})
    with db.transaction() as uow:
        uow.session.execute(
            update(m.deliveries).where(m.deliveries.c.id == 2).values(next_attempt_at=clock.now)
        )
    # the first is due too (hourly by now): both go; then the partner is down again
    assert run(worker) == 2
    assert local_admin.get_webhook(hook["id"])["failing_since"] is None
    endpoint.status = 500
    deliver("customers", "customer_created", {"id": 9, "name": "Later GmbH"})
    with db.transaction() as uow:
        uow.session.execute(update(m.deliveries).where(m.deliveries.c.id == 3).values(next_attempt_at=T0))
    clock.now = T0 + dt.timedelta(hours=31)
    run(worker)  # the third fails: failing since +31 h, not since T0
    assert local_admin.get_webhook(hook["id"])["failing_since"] == clock.now.isoformat()
    clock.now = T0 + dt.timedelta(hours=31 + 72)
    with db.transaction() as uow:
        uow.session.execute(
            update(m.deliveries).where(m.deliveries.c.id == 3).values(next_attempt_at=clock.now)
        )
    run(worker)
    assert rows(db, m.deliveries, m.deliveries.c.id == 3)[0]["status"] == "failed"
    assert not local_admin.get_webhook(hook["id"])["active"]


# -- redelivery, ping, rotation ----------------------------------------------------------------


def test_redeliver_requeues_a_dead_delivery_with_a_fresh_window(
    local_admin, deliver, db, endpoint, service, make_caller
):
    hook = local_admin.create_webhook({"url": endpoint.url, "events": ["*"], "secret": "s" * 12})
    deliver("customers", "customer_created", {"id": 7, "name": "Dead GmbH"})
    with db.transaction() as uow:
        uow.session.execute(
            update(m.deliveries).values(
                status="failed", attempts=79, first_attempt_at=T0, next_attempt_at=None
            )
        )
    (dead,) = rows(db, m.deliveries)
    with pytest.raises(PermissionDenied):
        service(make_caller("sales_manager", user_id=2)).redeliver_webhook_delivery(hook["id"], dead["id"])
    out = local_admin.redeliver_webhook_delivery(hook["id"], dead["id"])
    assert out["id"] == dead["id"] and out["status"] == "pending" and out["first_attempt_at"] is None
    endpoint.status = 200
    run(DeliveryWorker(db, DeliverySettings(LOCAL)))
    (row,) = rows(db, m.deliveries)
    assert row["status"] == "sent" and row["attempts"] == 80
    assert json.loads(endpoint.received[0]["body"])["payload"]["name"] == "Dead GmbH"
    with pytest.raises(Exception) as missing:
        local_admin.redeliver_webhook_delivery(hook["id"], 999)
    assert type(missing.value).__name__ == "NotFound"
    local_admin.update_webhook(hook["id"], {"active": False})
    with pytest.raises(Conflict):
        local_admin.redeliver_webhook_delivery(hook["id"], dead["id"])


def test_ping_answers_with_the_outcome_and_is_logged(local_admin, db, endpoint):
    hook = local_admin.create_webhook({"url": endpoint.url, "events": ["*"], "secret": "s" * 12})
    endpoint.status = 204
    out = local_admin.ping_webhook(hook["id"])
    assert out["ok"] and out["status_code"] == 204 and out["error"] is None
    received = endpoint.received[0]
    body = json.loads(received["body"])
    assert body["type"] == "ping" and body["payload"]["webhook_id"] == hook["id"]
    assert domain.verify_signature("s" * 12, received["signature"], received["body"], now=int(time.time()))
    endpoint.status = 500
    failed = local_admin.ping_webhook(hook["id"])
    assert not failed["ok"] and failed["status_code"] == 500 and failed["error"] == "HTTP 500"
    log = local_admin.list_webhook_deliveries(hook["id"])["items"]
    assert [(d["event_type"], d["status"]) for d in log] == [("ping", "failed"), ("ping", "sent")]
    # a ping never counts towards disabling, nor does the worker pick it up
    assert local_admin.get_webhook(hook["id"])["failing_since"] is None
    assert run(DeliveryWorker(db, DeliverySettings(LOCAL))) == 0


def test_rotation_keeps_the_previous_secret_valid_for_the_grace_period(local_admin, deliver, db, endpoint):
    hook = local_admin.create_webhook({"url": endpoint.url, "events": ["*"], "secret": "old-secret-1"})
    endpoint.status = 200
    rotated = local_admin.rotate_webhook_secret(hook["id"], {"grace_seconds": 3600})
    new = rotated["secret"]
    assert new.startswith("whsec_") and new != "old-secret-1"
    assert rotated["secret_hint"] == "…" + new[-4:] and rotated["previous_secret_expires_at"]
    assert "secret" not in local_admin.get_webhook(hook["id"])  # shown once
    deliver("customers", "customer_created", {"id": 7, "name": "Rotating GmbH"})
    run(DeliveryWorker(db, DeliverySettings(LOCAL)))
    first = endpoint.received[-1]
    assert first["signature"].count("v1=") == 2
    for secret in (new, "old-secret-1"):
        assert domain.verify_signature(secret, first["signature"], first["body"], now=int(time.time()))
    # after the grace period: the new signature only
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    deliver("customers", "customer_created", {"id": 8, "name": "Later GmbH"})
    run(DeliveryWorker(db, DeliverySettings(LOCAL), clock=lambda: later))
    second = endpoint.received[-1]
    assert second["signature"].count("v1=") == 1
    assert domain.verify_signature(new, second["signature"], second["body"])
    assert not domain.verify_signature("old-secret-1", second["signature"], second["body"])
    with pytest.raises(ValidationFailed):
        local_admin.rotate_webhook_secret(hook["id"], {"grace_seconds": 8 * 86400})
    at_once = local_admin.rotate_webhook_secret(hook["id"], {"grace_seconds": 0})
    assert at_once["previous_secret_expires_at"] is None
