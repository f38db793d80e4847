"""The customer portal's invitation e-mail (RPC, system callers only: the gateway): queued as an
ordinary e-mail delivery (worker, retries, attempt log), rendered in the invitee's language from
the ``portal_invitation`` template (an admin's override first). The link sets a password, so it is
kept in the delivery's body only, until the e-mail is sent or finally fails."""

from __future__ import annotations

import uuid
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import load_or_raise
from sqlalchemy import select

from . import domain
from . import schemas as sc
from .exceptions import PermissionDenied
from .notifying import queue_delivery, report_template_error
from .store import D, load_rule

PORTAL_INVITATION = "portal_invitation"


def send_portal_invitation(db, caller: CallerContext, data: Any) -> dict:
    """Queue the invitation e-mail (the ordinary e-mail delivery: worker, retries, attempt
    log). Only a system caller (the gateway) may: the link sets a password. The link is in
    the delivery's body only — never in an event, a webhook, the audit trail or a log line — and
    only until it is sent or finally fails (``delivery.redact_tokens``)."""
    if caller is None or not caller.is_system:
        raise PermissionDenied("Only the system sends portal invitations")
    values = load_or_raise(sc.portal_invitation, data)
    language = domain.choose_language(values.get("language"))
    ctx = {
        "email": values["email"],
        "full_name": values.get("full_name"),
        "customer_name": values.get("customer_name"),
        "accept_url": values["accept_url"],
        "expires_on": domain.expiry_text(values["expires_at"]),
    }
    with db.transaction() as uow:
        s = uow.session
        _, overrides = load_rule(s, PORTAL_INVITATION)
        rendered = domain.render(PORTAL_INVITATION, language, ctx, overrides)
        event_id = f"{PORTAL_INVITATION}:{uuid.uuid4().hex}"
        report_template_error(rendered, PORTAL_INVITATION, event_id)
        queue_delivery(s, "email", event_id, PORTAL_INVITATION, values["email"], rendered, utcnow())
        delivery_id, status = s.execute(
            select(D.id, D.status).where(D.event_id == event_id, D.channel == "email")
        ).one()
        uow.audit(
            "delivery",
            delivery_id,
            "queue_portal_invitation",
            {"email": [None, values["email"]], "language": [None, rendered.language]},
        )
    return {"delivery_id": delivery_id, "status": status}
