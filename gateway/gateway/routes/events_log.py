"""The event log (notify service): the public events of the last 30 days, in the order they
arrived, for a partner catching up after an outage.

Scope (enforced by notify): admins, finance and sales managers read every event; a sales rep the
events about their own customers (the payload's ``customer_id`` / ``owner_id``); other roles and
portal users 403."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ..deps import Pagination, Rpc, require_roles
from ..schemas import ErrorBody
from ..views_notify import EventLogPage

# the roles with a scope in notify's event log; everyone else is refused here already
READERS = ("admin", "finance", "sales_manager", "sales_rep")

router = APIRouter(
    prefix="/events",
    tags=["events"],
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)


EventReader = Annotated[Any, Depends(require_roles(*READERS))]


@router.get("", responses={200: {"model": EventLogPage}})
async def list_events(
    reader: EventReader,
    rpc: Rpc,
    page: Pagination,
    after: Annotated[
        str | None,
        Query(
            max_length=100,
            description="an event id (the last one you have: the events that arrived after it) or "
            "an ISO 8601 time (the events that occurred after it); none: from the oldest kept",
        ),
    ] = None,
    type: Annotated[  # noqa: A002 - the query parameter's name
        str | None,
        Query(
            max_length=2000, description="public event types, comma-separated", examples=["invoice_issued"]
        ),
    ] = None,
) -> Any:
    """``{"items", "total", "page", "page_size", "next_after", "has_more"}``: envelopes
    ``{event_id, type, version, occurred_at, source, payload}`` as webhooks receive them, oldest
    first. Page on with ``?after=<next_after>``. An ``after`` that is neither a kept event id nor a
    time, or an unknown ``type``, is 422."""
    return await rpc.notify.list_events(after, type, page.page, page.page_size)
