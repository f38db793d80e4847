"""The users read copy: the gateway's ``user_created`` / ``user_updated`` events keep ``users``
(id, department, roles, active) current, so a sales manager's dashboard can count the contracts
owned by the users of their department without asking the gateway."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_common import readcopy
from crm_common.errors import load_or_raise
from sqlalchemy import select

from . import models as m
from . import schemas

U = m.users.c
user_event_in = schemas.UserEventSchema()


def apply_user_event(db, envelope: Mapping[str, Any]) -> str:
    """Upsert the user of a gateway user event (idempotent: the same event twice, or an older
    one after a newer, changes nothing). Returns ``created`` / ``updated`` / ``stale``."""
    try:
        load_or_raise(user_event_in, envelope.get("payload"))
    except Exception as exc:  # a malformed event goes to the dead-letter queue with its reason
        raise ValueError(f"malformed user event payload: {exc}") from None
    with db.transaction() as uow:
        return readcopy.apply_user_event(uow.session, m.users, envelope)


def department_members(department: str):
    """``SELECT id FROM users WHERE department = …`` (a subquery for ``owner_id IN (…)``)."""
    return select(U.id).where(U.department == department)
