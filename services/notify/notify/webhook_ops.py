"""An admin's hands on a webhook: rotating its secret with a grace period, redelivering a
delivery, sending a test ping. Admin only, like every webhook call.

* ``rotate_webhook_secret``: a new random secret, returned once; the previous one stays valid for
  ``grace_seconds`` (default 24 h, 0 to 7 days): until then every delivery carries both signatures,
  ``X-CRM-Signature: t=<unix>,v1=<hmac with the new secret>,v1=<hmac with the previous one>``.
* ``redeliver_webhook_delivery``: **requeues** the delivery itself (same row, same body, same
  ``X-CRM-Delivery`` id, the attempt log continues): status ``pending``, due now, a fresh 72-hour
  retry window. Any status: a sent one is sent again, a failed (dead) one revived, a pending one
  tried now. 409 when the webhook is disabled (re-enable it first).
* ``ping_webhook``: POSTs a ``ping`` event to the endpoint now, signed like any delivery, and
  answers with the outcome (``ok``, ``status_code``, ``error``, ``duration_ms``); the attempt is kept
  as a delivery (``event_type`` ``ping``) in the webhook's log. Works on a disabled webhook too
  (to test it before re-enabling) and never counts towards disabling.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import load_or_raise
from sqlalchemy import select, update

from . import channels, event_log, webhook_guard
from . import models as m
from . import schemas as sc
from .delivery import signing_secrets
from .exceptions import Conflict, not_found
from .store import int_id, load_webhook, require_admin

W, D, A = m.webhooks.c, m.deliveries.c, m.delivery_attempts.c
PING = "ping"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def rotate_webhook_secret(db, caller: CallerContext, webhook_id: Any, data: Any = None) -> dict:
    """A new secret (in the answer only, this once) and the previous one valid for the grace."""
    require_admin(caller, "manage webhooks")
    values = load_or_raise(sc.rotate_secret, data or {})
    now = utcnow()
    secret = new_secret()
    with db.transaction() as uow:
        row = load_webhook(uow.session, webhook_id)
        grace = int(values["grace_seconds"])
        change = {
            "secret": secret,
            "previous_secret": row["secret"] if grace else None,
            "previous_secret_expires_at": now + dt.timedelta(seconds=grace) if grace else None,
            "secret_rotated_at": now,
        }
        uow.session.execute(update(m.webhooks).where(W.id == row["id"]).values(**change))
        uow.audit("webhook", row["id"], "rotate_secret", {"grace_seconds": [None, grace]})
        row.update(change)
    return {**sc.webhook_out.dump(row), "secret": secret}


def redeliver_webhook_delivery(db, caller: CallerContext, webhook_id: Any, delivery_id: Any) -> dict:
    """Requeue one delivery of this webhook (see the module's docstring)."""
    require_admin(caller, "manage webhooks")
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        hook = load_webhook(s, webhook_id)
        row = (
            s.execute(select(m.deliveries).where(D.id == int_id(delivery_id), D.webhook_id == hook["id"]))
            .mappings()
            .first()
        )
        if row is None:
            raise not_found("delivery", delivery_id)
        if not hook["active"]:
            raise Conflict(
                "The webhook is disabled: re-enable it (active: true) before redelivering",
                {"active": ["false"]},
            )
        if row["event_type"] == PING:
            raise Conflict("A ping is not redelivered: send a new one", {"event_type": [PING]})
        change: dict[str, Any] = {"status": "pending", "next_attempt_at": now}
        if row["status"] != "pending":
            change.update(first_attempt_at=None, sent_at=None)
        s.execute(update(m.deliveries).where(D.id == row["id"]).values(**change))
        uow.audit("delivery", row["id"], "redeliver", {"status": [row["status"], "pending"]})
        out = {**row, **change, "log": []}
    return sc.delivery_out.dump(out)


def ping_webhook(db, caller: CallerContext, webhook_id: Any, config: Mapping[str, Any]) -> dict:
    """Send a ``ping`` now and answer with the outcome (see the module's docstring)."""
    require_admin(caller, "manage webhooks")
    now = utcnow()
    with db.read() as s:
        hook = load_webhook(s, webhook_id)
    envelope = {
        "event_id": f"ping:{uuid.uuid4().hex}",
        "type": PING,
        "version": 1,
        "occurred_at": now.isoformat(),
        "source": "notify",
        "payload": {"webhook_id": hook["id"], "message": "ping from the CRM"},
    }
    body = event_log.envelope_body(envelope)
    with db.transaction() as uow:
        delivery_id = uow.session.execute(
            m.deliveries.insert().values(
                channel="webhook",
                event_id=envelope["event_id"],
                event_type=PING,
                recipient=f"webhook:{hook['id']}",
                webhook_id=hook["id"],
                body=body,
                status="pending",
                attempts=0,
                next_attempt_at=None,  # never claimed by the worker: sent right here
                first_attempt_at=now,
                created_at=now,
            )
        ).inserted_primary_key[0]
    started = time.monotonic()
    outcome = _send(hook, body, int(delivery_id), config)
    ms = int((time.monotonic() - started) * 1000)
    _record_ping(db, delivery_id, outcome, ms)
    return {
        "delivery_id": int(delivery_id),
        "ok": outcome.ok,
        "status_code": outcome.status_code,
        "error": outcome.error,
        "duration_ms": ms,
    }


def _record_ping(db, delivery_id: Any, outcome: channels.Outcome, ms: int) -> None:
    """The ping's one attempt in its delivery's log, and the delivery's outcome."""
    done = utcnow()
    with db.transaction() as uow:
        s = uow.session
        s.execute(
            m.delivery_attempts.insert().values(
                delivery_id=delivery_id, attempt=1, at=done, ok=outcome.ok,
                status_code=outcome.status_code, error=outcome.error, duration_ms=ms,
            )
        )  # fmt: skip
        s.execute(
            update(m.deliveries)
            .where(D.id == delivery_id)
            .values(
                status="sent" if outcome.ok else "failed",
                attempts=1,
                last_status_code=outcome.status_code,
                last_error=outcome.error,
                sent_at=done if outcome.ok else None,
            )
        )


def _send(
    hook: Mapping[str, Any], body: str, delivery_id: int, config: Mapping[str, Any]
) -> channels.Outcome:
    target = webhook_guard.send_target(hook["url"], config)
    if target.problem:
        return channels.Outcome(False, error=f"url refused: {target.problem}", permanent=True)
    timeout = float(channels.setting(config, "WEBHOOK_TIMEOUT", 10.0))
    return channels.post_webhook(
        hook["url"],
        signing_secrets(hook, utcnow()),
        body.encode("utf-8"),
        PING,
        delivery_id,
        timeout=timeout,
        addresses=target.addresses,
    )
