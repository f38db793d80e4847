"""The event catalogue (``crm_common.catalogue``): every event type the services publish, with
its payload's JSON Schema, whether partners may receive it, which payload fields carry personal
data and which handlers consume it. For anyone signed in (staff or an API key); the same
catalogue decides which types a webhook may subscribe to.

The AMQP side (exchanges, routing keys, the envelope) is in ``docs/events/asyncapi.yaml``."""

from __future__ import annotations

from typing import Annotated, Any

from crm_common import catalogue
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from ..deps import CurrentUser, Pagination
from ..errors import not_found
from ..listing import page_list, sortable
from ..schemas import ErrorBody, Page

router = APIRouter(
    prefix="/event-types",
    tags=["event types"],
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)

Name = Annotated[str, Path(max_length=100, pattern=r"^[a-z][a-z0-9_-]*$")]
EventTypeSort = sortable("source", "type", "version")


class EventType(BaseModel):
    """One event type and version as the catalogue declares it."""

    model_config = ConfigDict(populate_by_name=True)

    source: str = Field(description="the publishing service: its exchange is `<source>.events`")
    type: str = Field(description="the event type, also the routing key")
    version: int = Field(description="the payload's version; a breaking change is a new version")
    summary: str = Field(description="when it is published")
    public: bool = Field(description="offered to partners (webhooks, the event log, the partner bus)")
    personal: list[str] = Field(description="payload fields that carry personal data")
    deprecated: bool = Field(description="still published, to be replaced by a newer version")
    payload_schema: dict[str, Any] = Field(
        alias="schema", description="JSON Schema (draft 2020-12) of the envelope's `payload`"
    )
    consumers: list[str] = Field(description="the handlers that consume it, as `service.method`")


EventTypePage = Page[EventType]


def _public_view(info: catalogue.EventInfo) -> dict[str, Any]:
    data = info.to_dict()
    data.pop("examples", None)
    return data


@router.get("", response_model=EventTypePage)
async def list_event_types(
    user: CurrentUser,
    page: Pagination,
    sort: EventTypeSort,
    public: Annotated[bool | None, Query(description="true: only the types offered to partners")] = None,
    source: Annotated[str | None, Query(max_length=100, description="only this service's events")] = None,
) -> Any:
    """Every declared event type and version, by source and type."""
    rows = [
        _public_view(e)
        for e in catalogue.load()
        if (public is None or e.public is public) and (source is None or e.source == source)
    ]
    return page_list(rows, sort, page)


@router.get("/{source}/{event_type}", response_model=EventType, responses={404: {"model": ErrorBody}})
async def get_event_type(
    source: Name,
    event_type: Name,
    user: CurrentUser,
    version: Annotated[int | None, Query(ge=1, le=1000, description="default: the newest")] = None,
) -> Any:
    """One event type of a source (its newest version unless ``version`` is given)."""
    info = catalogue.load().get(source, event_type, version)
    if info is None:
        details = {"source": source, "type": event_type, "version": version}
        raise not_found(f"No event type {source}.{event_type} in the catalogue", details)
    return _public_view(info)
