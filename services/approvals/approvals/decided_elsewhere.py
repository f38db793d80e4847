"""A document decided outside its approval request closes the request: today a trade-in decided
directly in inventory (``inventory.trade_in_decided``). The pending request is withdrawn by the
system (``approval_withdrawn`` with ``reason: "decided_elsewhere"`` and the ``decision``), so it
no longer waits for approvers nor escalates as overdue. A request already closed (the decision
came from this request, or a redelivery) is left as it is."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from crm_common.db import utcnow
from sqlalchemy import select

from . import domain
from . import models as m
from .usecases import close_withdrawn

log = logging.getLogger(__name__)

R = m.requests.c


def close_pending(db, envelope: Mapping[str, Any], document_type: str) -> int | None:
    """Withdraw the pending request of the document an event reports as decided; its id, or
    ``None`` when there is none (nothing to do)."""
    payload = envelope.get("payload") or {}
    document_id = payload.get("document_id", payload.get("id"))
    if document_id is None or isinstance(document_id, bool):
        raise ValueError(f"malformed {envelope.get('type')} payload: no document id")
    status = payload.get("status")
    decision = {"approved": "approved", "rejected": "rejected"}.get(str(status), "decided")
    comment = f"Decided directly ({decision}) outside this approval request"
    now = utcnow()
    with db.transaction() as uow:
        s = uow.session
        row = (
            s.execute(
                select(m.requests)
                .where(
                    R.document_type == document_type,
                    R.document_id == str(document_id),
                    R.status == domain.PENDING,
                )
                .with_for_update()
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        row = dict(row)
        close_withdrawn(
            uow,
            row,
            now,
            {"user": None, "comment": comment, "reason": "decided_elsewhere", "decision": decision},
            {"reason": [None, "decided_elsewhere"]},
        )
        log.info(
            "approval request %s withdrawn: %s %s decided directly", row["id"], document_type, document_id
        )
        return row["id"]
