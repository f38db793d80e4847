"""What every list route shares beyond paging: ``sort=field,-field`` and the rule that a query
parameter a route does not declare is a 422 naming it.

* :func:`sortable` builds a route's ``sort`` dependency from the fields it may be sorted by;
  the OpenAPI document shows them (a ``pattern`` over the allowed names, the list in the
  description and in ``x-sort-fields``); an unknown field is a 422 on ``sort`` naming it (the
  same check as the services', :func:`crm_common.paging.sort_keys`). The route passes
  ``**sort.kwargs()`` to the service's list method, which orders its query by it.
* :func:`page_list` pages and sorts a short list a service answers whole (attachments,
  versions, amendments, categories) into the list envelope ``{items, total, page, page_size}``.
* :func:`unknown_query_parameters` finds the query parameters a request sends that its route
  does not declare (directly or through a dependency); :class:`middleware.InputLimitsMiddleware`
  answers them 422 ``UNKNOWN_PARAMETER`` naming them, so ``/customers?size=medium`` no longer
  silently lists everything.
"""

import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qsl

from crm_common.paging import sort_keys, sort_rows
from fastapi import Depends, Query
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import WithJsonSchema
from starlette.types import Scope

if TYPE_CHECKING:  # deps imports the middleware, which imports this module
    from .deps import PageParams

# accepted on every route though no route declares them: none today (the notifications
# stream declares its ``access_token``; the console sends no cache-busting parameter)
ALWAYS_ALLOWED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Sort:
    """The validated ``sort`` of a request: ``("name", "-created_at")``; empty when not given."""

    fields: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()

    def kwargs(self) -> dict[str, Any]:
        """``{"sort": [...]}`` for the service's list method, ``{}`` when no sort was asked for
        (the list keeps its own order)."""
        return {"sort": list(self.fields)} if self.fields else {}


def sort_description(allowed: Iterable[str]) -> str:
    names = ", ".join(f"`{name}`" for name in allowed)
    return (
        "Comma-separated fields to sort by, `-` before one for descending "
        f"(e.g. `{next(iter(allowed))},-id`): {names}. Ties keep the list's default order."
    )


def sort_pattern(allowed: Iterable[str]) -> str:
    one = "-?(" + "|".join(allowed) + ")"
    return f"^{one}(,{one})*$"


def sortable(*allowed: str) -> Any:
    """The ``sort`` dependency of a list route sortable by ``allowed`` (use it as the
    parameter's type: ``sort: Sortable``)."""
    fields = tuple(allowed)

    schema = {
        "type": "string",
        "maxLength": 500,
        "pattern": sort_pattern(fields),
        "x-sort-fields": list(fields),
        "description": sort_description(fields),
    }

    async def get_sort(
        sort: Annotated[
            str | None,
            Query(max_length=500, description=sort_description(fields)),
            WithJsonSchema(schema),  # documented as the string it is; checked below, naming the field
        ] = None,
    ) -> Sort:
        keys = sort_keys(sort, fields)  # ValidationFailed → 422 naming the field
        return Sort(tuple(f"-{name}" if desc else name for name, desc in keys), fields)

    get_sort.__name__ = "sort_by_" + "_".join(fields)
    return Annotated[Sort, Depends(get_sort)]


def page_list(items: list[dict[str, Any]], sort: Sort, page: "PageParams") -> dict[str, Any]:
    """A whole list → one page of it in the envelope, sorted by ``sort`` first."""
    rows = sort_rows(items, list(sort.fields), sort.allowed) if sort.fields else list(items)
    start = (page.page - 1) * page.page_size
    return {
        "items": rows[start : start + page.page_size],
        "total": len(rows),
        "page": page.page,
        "page_size": page.page_size,
    }


# -- unknown query parameters ------------------------------------------------------------


@dataclass(frozen=True)
class RouteInfo:
    """One API route as the router matches it: its full path template, the regular expression
    of that path, its methods and the query parameter names it reads (its own and its
    dependencies')."""

    path: str
    regex: re.Pattern[str]
    methods: frozenset[str]
    query: frozenset[str]


_tables: weakref.WeakKeyDictionary[Any, list[RouteInfo]] = weakref.WeakKeyDictionary()


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def route_table(app: Any) -> list[RouteInfo]:
    """The documented API routes of ``app`` in the order the router tries them (built once)."""
    table = _tables.get(app)
    if table is None:
        table = []
        for context in iter_route_contexts(app.routes):
            if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
                continue
            table.append(
                RouteInfo(
                    path=context.path_format or "",
                    regex=context.path_regex,
                    methods=frozenset(context.methods or ()),
                    query=frozenset(_query_names(context.dependant)),
                )
            )
        _tables[app] = table
    return table


def find_route(app: Any, method: str, path: str) -> RouteInfo | None:
    """The documented API route that answers ``method path`` (a path without ``root_path``);
    None for anything else (docs, the console, a 404 or 405)."""
    if app is None or not hasattr(app, "routes"):
        return None
    wanted = "GET" if method == "HEAD" else method
    for route in route_table(app):
        if route.regex.match(path) and (wanted in route.methods or method in route.methods):
            return route
    return None


def route_path(scope: Scope) -> str:
    """The request's path as the app routes it (without a proxy's ``root_path``)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def unknown_query_parameters(scope: Scope) -> dict[str, Any] | None:
    """The error body (code ``UNKNOWN_PARAMETER``) when the query string names parameters
    the matched route does not declare; None when it names none."""
    raw = scope.get("query_string", b"")
    if not raw:
        return None
    route = find_route(scope.get("app"), scope.get("method", ""), route_path(scope))
    if route is None:
        return None
    declared = route.query | ALWAYS_ALLOWED
    sent = [name for name, _ in parse_qsl(raw.decode("latin-1"), keep_blank_values=True)]
    unknown = list(dict.fromkeys(name for name in sent if name not in declared))
    return unknown_parameters_body(unknown, declared) if unknown else None


def unknown_parameters_body(names: list[str], declared: Iterable[str] = ()) -> dict[str, Any]:
    """The error body of a request with query parameters its route does not take."""
    listed = ", ".join(names)
    return {
        "error": {
            "code": "UNKNOWN_PARAMETER",
            "message": f"Unknown query parameter{'s' if len(names) > 1 else ''}: {listed}",
            "details": {
                "parameters": names,
                **{name: ["unknown query parameter"] for name in names},
                "allowed": sorted(declared),
            },
        }
    }
