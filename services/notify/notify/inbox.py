"""The RPC use cases of a user's inbox: their notifications (newest first, sortable, with the
unread count), marking one read and marking all read. A user sees only their own notifications:
another user's does not exist for them."""

from __future__ import annotations

from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.paging import sorted_query
from sqlalchemy import func, select, update

from . import models as m
from . import schemas as sc
from .exceptions import invalid, not_found
from .store import N, int_id, page_args, page_of, require_user, run_page

# the fields the inbox may be sorted by and their columns
NOTIFICATION_SORT = {"created_at": N.created_at, "read_at": N.read_at, "event_type": N.event_type, "id": N.id}


def list_notifications(
    db, caller: CallerContext, unread: Any = None, page=1, page_size=50, sort: Any = None
) -> dict:
    user_id = require_user(caller)
    page, page_size = page_args(page, page_size)
    if unread not in (None, True, False):
        raise invalid({"unread": ["must be true or false"]})
    with db.read() as s:
        query = select(m.notifications).where(N.user_id == user_id)
        if unread:
            query = query.where(N.read_at.is_(None))
        query = sorted_query(query, sort, NOTIFICATION_SORT, N.created_at.desc(), N.id.desc())
        rows, total = run_page(s, query, page, page_size)
        unread_count = s.execute(
            select(func.count()).where(N.user_id == user_id, N.read_at.is_(None))
        ).scalar_one()
    return page_of(sc.notification_out.dump(rows, many=True), total, page, page_size, unread=unread_count)


def mark_notification_read(db, caller: CallerContext, notification_id: Any) -> dict:
    user_id = require_user(caller)
    with db.transaction() as uow:
        row = (
            uow.session.execute(
                select(m.notifications).where(N.id == int_id(notification_id), N.user_id == user_id)
            )
            .mappings()
            .first()
        )
        if row is None:  # another user's notification does not exist for this caller
            raise not_found("notification", notification_id)
        row = dict(row)
        if row["read_at"] is None:
            row["read_at"] = utcnow()
            uow.session.execute(
                update(m.notifications).where(N.id == row["id"]).values(read_at=row["read_at"])
            )
    return sc.notification_out.dump(row)


def mark_all_notifications_read(db, caller: CallerContext) -> dict:
    user_id = require_user(caller)
    with db.transaction() as uow:
        result = uow.session.execute(
            update(m.notifications).where(N.user_id == user_id, N.read_at.is_(None)).values(read_at=utcnow())
        )
    return {"marked": result.rowcount}
