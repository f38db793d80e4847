"""The delivery worker: sends the queued ``deliveries`` (e-mail, SMS, webhooks) in the
background, never inside the event handler that queued them.

A managed green thread claims due rows (``next_attempt_at <= now``; ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so replicas share the work) by pushing their ``next_attempt_at`` a
lease ahead, then sends each in its own green thread from a bounded pool: a slow SMTP server or
a dead endpoint holds only its own deliveries. Each attempt is logged with its status code.

Retries: an e-mail or SMS with exponential backoff (``domain.backoff_seconds``) up to
``NOTIFY_MAX_ATTEMPTS``; a webhook delivery with exponential backoff capped at an hour for 72
hours from its first attempt (``domain.webhook_next_attempt``), then it is ``failed`` (dead).
When a webhook delivery dies and the subscription's deliveries have failed for the whole window
with no success in between (``domain.webhook_should_disable``), the subscription is disabled,
``webhook_disabled`` published and the admins told in their inbox.

The clock is injected (``clock``), so tests move time instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import eventlet
from crm_common.db import DatabaseHandle, is_sqlite, utcnow
from eventlet.event import Event
from nameko.extensions import DependencyProvider
from sqlalchemy import select, update

from . import channels, documents, domain, notifying, webhook_guard
from . import events as ev
from . import models as m
from .invitations import PORTAL_INVITATION

log = logging.getLogger(__name__)
D, W = m.deliveries.c, m.webhooks.c


TOKEN_IN_LINK = re.compile(r"([#?&]token=)[^\s&#]+")


def redact_tokens(body: str | None) -> str | None:
    """The body with every link token replaced (what is kept of an invitation once it was
    sent, or finally failed: the mail is gone, the one-time link must not stay readable)."""
    return TOKEN_IN_LINK.sub(r"\1[redacted]", body) if body else body


class DeliverySettings:
    def __init__(self, config: Mapping[str, Any]):
        s = channels.setting
        self.config = config
        self.poll = float(s(config, "DELIVERY_POLL_SECONDS", s(config, "NOTIFY_DELIVERY_POLL_SECONDS", 1.0)))
        self.concurrency = int(
            s(config, "DELIVERY_CONCURRENCY", s(config, "NOTIFY_DELIVERY_CONCURRENCY", 10))
        )
        self.retry_base = float(s(config, "NOTIFY_RETRY_BASE_SECONDS", 30.0))
        self.retry_cap = float(s(config, "NOTIFY_RETRY_MAX_SECONDS", 6 * 3600.0))
        self.max_attempts = int(s(config, "NOTIFY_MAX_ATTEMPTS", 8))
        self.webhook_retry_base = float(s(config, "WEBHOOK_RETRY_BASE_SECONDS", self.retry_base))
        self.webhook_retry_cap = float(
            s(config, "WEBHOOK_RETRY_MAX_SECONDS", domain.WEBHOOK_RETRY_CAP_SECONDS)
        )
        self.webhook_window = float(
            s(config, "WEBHOOK_RETRY_WINDOW_SECONDS", domain.WEBHOOK_RETRY_WINDOW_SECONDS)
        )
        self.webhook_timeout = float(s(config, "WEBHOOK_TIMEOUT", 10.0))
        self.smtp = channels.SmtpSettings.from_config(config)
        self.max_attachment_bytes = int(
            s(config, "NOTIFY_MAX_ATTACHMENT_BYTES", documents.DEFAULT_MAX_ATTACHMENT_BYTES)
        )
        self.lease = max(120.0, 3 * max(self.webhook_timeout, self.smtp.timeout))


class DeliveryWorker:
    def __init__(
        self,
        db: DatabaseHandle,
        settings: DeliverySettings,
        fetch_document: documents.Fetch | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ):
        self.db = db
        self.settings = settings
        self.clock = clock
        self.sms = channels.sms_provider(settings.config)
        # the documents e-mails carry (the invoice PDF), from billing at send time
        self.fetch_document = fetch_document or documents.BillingDocuments(settings.config)
        self.pool = eventlet.GreenPool(settings.concurrency)
        self.running = False
        self._wake = Event()

    # -- loop -------------------------------------------------------------------------
    def run(self) -> None:
        self.running = True
        while self.running:
            try:
                claimed = self.run_once()
            except Exception:  # keep the worker alive; the database may come back
                log.exception("delivery worker pass failed")
                claimed = 0
            if not claimed:
                self._sleep(self.settings.poll)

    def _sleep(self, seconds: float) -> None:
        with eventlet.Timeout(seconds, False):
            self._wake.wait()
        if self._wake.ready():
            self._wake = Event()

    def wake(self) -> None:
        if not self._wake.ready():
            self._wake.send(True)

    def stop(self) -> None:
        self.running = False
        self.wake()

    def run_once(self) -> int:
        """Claim what is due and hand each to the pool; returns how many were claimed."""
        free = self.pool.free()
        if free <= 0:
            return 0
        now = self.clock()
        with self.db.transaction() as uow:
            query = (
                select(m.deliveries)
                .where(D.status == "pending", D.next_attempt_at <= now)
                .order_by(D.next_attempt_at, D.id)
                .limit(free)
            )
            if not is_sqlite(self.db.url):
                query = query.with_for_update(skip_locked=True)
            rows = [dict(r) for r in uow.session.execute(query).mappings()]
            if rows:
                uow.session.execute(
                    update(m.deliveries)
                    .where(D.id.in_([r["id"] for r in rows]))
                    .values(next_attempt_at=now + dt.timedelta(seconds=self.settings.lease))
                )
        for row in rows:
            self.pool.spawn_n(self.deliver, row)
        return len(rows)

    # -- one delivery -----------------------------------------------------------------
    def deliver(self, row: dict) -> None:
        try:
            started = time.monotonic()
            webhook = None
            if row["channel"] == "webhook":
                with self.db.read() as s:
                    webhook = (
                        s.execute(select(m.webhooks).where(W.id == row["webhook_id"])).mappings().first()
                    )
                outcome = self.send_webhook(row, webhook)
            elif row["channel"] == "email":
                outcome = documents.send_email(
                    self.settings.smtp, row, self.fetch_document, self.settings.max_attachment_bytes
                )
            elif row["channel"] == "sms":
                outcome = self.sms.send(row["recipient"], row["body"])
            else:
                outcome = channels.Outcome(False, error=f"unknown channel {row['channel']}", permanent=True)
            self.record(row, webhook, outcome, int((time.monotonic() - started) * 1000))
        except Exception:
            log.exception("delivery %s failed unexpectedly", row.get("id"))

    def send_webhook(self, row: dict, webhook: Mapping | None) -> channels.Outcome:
        if webhook is None or webhook["deleted_at"] is not None:
            return channels.Outcome(False, error="webhook deleted", permanent=True)
        if not webhook["active"]:
            return channels.Outcome(False, error="webhook disabled", permanent=True)
        # checked again at send time (DNS may have changed since), and the connection goes to
        # the checked address itself: a second DNS answer cannot switch it (rebinding)
        target = webhook_guard.send_target(webhook["url"], self.settings.config)
        if target.problem:
            return channels.Outcome(
                False, error=f"url refused: {target.problem}", permanent=not target.transient
            )
        return channels.post_webhook(
            webhook["url"],
            signing_secrets(webhook, self.clock()),
            row["body"].encode("utf-8"),
            row["event_type"],
            row["id"],
            timeout=self.settings.webhook_timeout,
            addresses=target.addresses,
        )

    def next_attempt(self, row: Mapping, now: dt.datetime, attempts: int) -> dt.datetime | None:
        """When a failed delivery is tried again; None: it is dead."""
        st = self.settings
        if row["channel"] == "webhook":
            first = row.get("first_attempt_at") or now
            return domain.webhook_next_attempt(
                first, now, attempts, st.webhook_retry_base, st.webhook_retry_cap, st.webhook_window
            )
        if attempts >= st.max_attempts:
            return None
        return now + dt.timedelta(seconds=domain.backoff_seconds(attempts, st.retry_base, st.retry_cap))

    def record(self, row: dict, webhook: Mapping | None, outcome: channels.Outcome, ms: int) -> None:
        now = self.clock()
        attempts = row["attempts"] + 1
        with self.db.transaction() as uow:
            s = uow.session
            s.execute(
                m.delivery_attempts.insert().values(
                    delivery_id=row["id"],
                    attempt=attempts,
                    at=now,
                    ok=outcome.ok,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=ms,
                )
            )
            values: dict[str, Any] = {
                "attempts": attempts,
                "last_status_code": outcome.status_code,
                "last_error": outcome.error,
            }
            if row.get("first_attempt_at") is None:
                values["first_attempt_at"] = now
            retry_at = None if outcome.ok or outcome.permanent else self.next_attempt(row, now, attempts)
            if outcome.ok:
                values.update(status="sent", sent_at=now, next_attempt_at=None)
            elif retry_at is None:
                values.update(status="failed", next_attempt_at=None)
            else:
                values.update(next_attempt_at=retry_at)
            if row["event_type"] == PORTAL_INVITATION and values.get("status") in ("sent", "failed"):
                values["body"] = redact_tokens(row["body"])  # the link sets a password: not kept
            s.execute(update(m.deliveries).where(D.id == row["id"]).values(**values))
            if row["channel"] == "webhook":
                dead = values.get("status") == "failed"
                self._webhook_outcome(uow, row, webhook, outcome, attempts, now, dead)
            elif outcome.ok:
                uow.publish(
                    ev.NOTIFICATION_SENT,
                    ev.notification_sent_payload.dump(
                        {**row, "delivery_id": row["id"], "attempts": attempts}
                    ),
                )
        if not outcome.ok:
            log.warning(
                "%s delivery %s attempt %d failed: %s", row["channel"], row["id"], attempts, outcome.error
            )

    def _webhook_outcome(
        self, uow, row, webhook, outcome: channels.Outcome, attempts: int, now: dt.datetime, dead: bool
    ) -> None:
        if webhook is None:
            return
        s = uow.session
        if outcome.ok:
            s.execute(
                update(m.webhooks)
                .where(W.id == webhook["id"])
                .values(consecutive_failures=0, failing_since=None)
            )
            uow.publish(
                ev.WEBHOOK_DELIVERED,
                ev.webhook_delivered_payload.dump(
                    {
                        "delivery_id": row["id"],
                        "webhook_id": webhook["id"],
                        "event_id": row["event_id"],
                        "event_type": row["event_type"],
                        "status_code": outcome.status_code,
                        "attempts": attempts,
                    }
                ),
            )
            return
        if not webhook["active"] or webhook["deleted_at"] is not None:
            return
        current = s.execute(
            select(W.consecutive_failures, W.failing_since).where(W.id == webhook["id"])
        ).one()
        failures = (current.consecutive_failures or 0) + 1
        failing_since = current.failing_since or now
        values: dict[str, Any] = {"consecutive_failures": failures, "failing_since": failing_since}
        if dead and domain.webhook_should_disable(failing_since, now, self.settings.webhook_window):
            self._disable(uow, row, webhook, outcome, failures, failing_since, now, values)
        s.execute(update(m.webhooks).where(W.id == webhook["id"]).values(**values))

    def _disable(self, uow, row, webhook, outcome, failures, failing_since, now, values) -> None:
        """Disable a subscription whose deliveries failed for the whole window: its pending
        deliveries fail, ``webhook_disabled`` is published and the admins told."""
        s = uow.session
        hours = (now - failing_since).total_seconds() / 3600
        reason = (
            f"deliveries failed for {hours:.0f} h with no success ({failures} consecutive failed "
            f"attempts); last: {outcome.error}"
        )
        values.update(active=False, disabled_at=now, disabled_reason=reason)
        s.execute(
            update(m.deliveries)
            .where(D.webhook_id == webhook["id"], D.status == "pending", D.id != row["id"])
            .values(status="failed", last_error="webhook disabled", next_attempt_at=None)
        )
        payload = {
            "webhook_id": webhook["id"],
            "subscription_id": webhook["id"],
            "url": webhook["url"],
            "failures": failures,
            "last_error": outcome.error,
        }
        uow.publish(ev.WEBHOOK_DISABLED, ev.webhook_disabled_payload.dump(payload))
        event_id = f"webhook_disabled:{webhook['id']}:{int(now.timestamp())}"
        notifying.notify(uow, ev.WEBHOOK_DISABLED, event_id, payload)
        log.warning("webhook %s to %s disabled: %s", webhook["id"], webhook["url"], reason)


def signing_secrets(webhook: Mapping, now: dt.datetime) -> list[str]:
    """The secrets a delivery is signed with: the current one, and during a rotation's grace
    period the previous one too (``X-CRM-Signature: t=..,v1=<new>,v1=<old>``)."""
    secrets = [webhook["secret"]]
    previous, until = webhook.get("previous_secret"), webhook.get("previous_secret_expires_at")
    if previous and until is not None and until > now:
        secrets.append(previous)
    return secrets


class DeliveryWorkerProvider(DependencyProvider):
    """``delivery = DeliveryWorkerProvider()`` on the service: runs the worker in the
    container (``DELIVERY_WORKER: false`` in the config turns it off)."""

    def __init__(self, database_attr: str = "db"):
        self.database_attr = database_attr
        self.worker: DeliveryWorker | None = None

    def start(self) -> None:
        if self.container.config.get("DELIVERY_WORKER", True) is False:
            return
        database = next(d for d in self.container.dependencies if d.attr_name == self.database_attr)
        self.worker = DeliveryWorker(database.handle, DeliverySettings(self.container.config))
        database.handle.after_commit_hooks.append(self.worker.wake)
        self.container.spawn_managed_thread(self.worker.run, identifier="notify-delivery")

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            time.sleep(0)

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.worker
