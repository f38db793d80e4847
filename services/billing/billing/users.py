"""The users read copy: the gateway's ``user_created`` / ``user_updated`` events keep what the
department scope needs (department, roles, active). Events of one user travel on two queues and
may arrive out of order: an event older than the one applied changes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_common import readcopy

from . import models as m


def apply_user_event(db, envelope: Mapping[str, Any]) -> str:
    """``gateway.user_created`` / ``user_updated`` → the copy: ``created``, ``updated`` or
    ``stale``."""
    with db.transaction() as uow:
        return readcopy.apply_user_event(uow.session, m.users, envelope)
