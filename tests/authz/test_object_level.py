"""Object-level authorization, generated from the gateway's route table (``routes.py`` walks
the app's routes), against the real system (every service a process, the gateway over HTTP,
the records of ``conftest.seed``). For every route whose path takes an id:

* a sales rep of another department is refused (403 or 404) on rep A's records;
* a portal user of customer B is refused on customer A's records: 403 on every staff route,
  404 on the portal's own routes;
* a readonly user is refused (403) on every write — and on every write without an id too;
* and, so that none of this passes vacuously, the owner (rep A, the portal user of customer A,
  or the administrator for admin-only routes) reads every id-taking GET route (2xx).

Besides, a write without an id whose body names rep A's customer or contract is refused to
rep B (403, 404, or 422 naming that field).

A route whose path parameter has no seeded record in ``routes.ID_SOURCES`` (or whose required
body has no entry in ``routes.BODIES``) and no reasoned exemption fails the ``route_table``
tests, which need no running system; a new route under a known prefix is attacked at once.

    make test-authz                                       # = pytest tests/authz -q -p no:nameko
    pytest tests/authz -q -p no:nameko -k route_table     # the table only, in seconds
"""

from __future__ import annotations

import pytest

from . import routes
from .routes import Operation

OPS = routes.operations()
ID_OPS = [op for op in OPS if op.params]
ATTACKABLE = [op for op in ID_OPS if (op.method, op.path) not in routes.EXEMPT]
# every write without an id, but those acting on the caller alone
READONLY_WRITES = [
    op
    for op in OPS
    if op.is_write and not op.params and (op.method, op.path) not in routes.READONLY_SELF_SERVICE
]


def case_id(op: Operation) -> str:
    return op.id.replace("/api/v1", "")


def resolve(value, ids):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: resolve(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, ids) for v in value]
    return value


def url_for(op: Operation, ids: dict) -> str:
    path = op.path
    for param in op.params:
        source = routes.id_source(op.path, param)
        assert source is not None, (
            f"{op.id}: no seeded id for {{{param}}}: add it to routes.ID_SOURCES or routes.EXEMPT (with why)"
        )
        path = path.replace("{" + param + "}", str(ids[source]))
    return path


def call(world, actor: str, op: Operation):
    key = (op.method, op.path)
    kwargs = {}
    if key in routes.FILES:
        kwargs["files"] = routes.FILES[key]
    elif key in routes.BODIES:
        kwargs["json"] = resolve(routes.BODIES[key], world.ids)
    return world.clients[actor].request(op.method, url_for(op, world.ids), **kwargs)


def describe(r) -> str:
    return f"{r.request.method} {r.request.url.path} -> {r.status_code} {r.text[:300]}"


# -- the table itself (no system needed) -----------------------------------------------------


def test_route_table_every_id_route_is_seeded_or_exempt():
    missing = [
        f"{op.id} {{{param}}}"
        for op in ATTACKABLE
        for param in op.params
        if routes.id_source(op.path, param) is None
    ]
    assert not missing, "id-taking routes with no seeded id and no exemption: " + ", ".join(missing)
    no_body = [
        op.id
        for op in ATTACKABLE
        if op.body_required and (op.method, op.path) not in routes.BODIES | routes.FILES
    ]
    assert not no_body, "write routes with a required body missing from routes.BODIES: " + ", ".join(no_body)
    no_body = [
        op.id
        for op in READONLY_WRITES
        if op.body_required and (op.method, op.path) not in routes.BODIES | routes.FILES
    ]
    assert not no_body, "write routes with a required body missing from routes.BODIES: " + ", ".join(no_body)


def test_route_table_has_no_stale_entries():
    known = {(op.method, op.path) for op in OPS}
    paths = {op.path for op in OPS}
    stale = [
        k
        for k in (*routes.EXEMPT, *routes.BODIES, *routes.FILES, *routes.READONLY_OWN_RECORD_WRITES,
                  *routes.READONLY_SELF_SERVICE, *routes.BATCH_REFUSALS)
        if k not in known
    ]  # fmt: skip
    stale += [p for p in routes.COMPANY_WIDE_READS if p not in paths]
    used = {(prefix, name) for prefix, name in routes.ID_SOURCES if any(
        op.path.startswith(prefix) and name in op.params for op in ID_OPS)}  # fmt: skip
    stale += [k for k in routes.ID_SOURCES if k not in used]
    assert not stale, f"entries naming no route of the app: {stale}"
    assert len(ID_OPS) >= 90, f"only {len(ID_OPS)} id-taking routes found: is the route walk broken?"


# -- the positive control: the owner reaches every id-taking GET ------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("op", [op for op in ATTACKABLE if op.method == "GET"], ids=case_id)
def test_owner_reads_the_record(world, op):
    owner = routes.owner_of(op.path)
    r = call(world, owner, op)
    assert 200 <= r.status_code < 300, f"{owner}: {describe(r)}"


# -- cross-scope refusals --------------------------------------------------------------------


def _refused(r, allowed=(403, 404)) -> None:
    assert r.status_code in allowed, describe(r)


@pytest.mark.e2e
@pytest.mark.parametrize(
    "op",
    [op for op in ATTACKABLE if not (op.method == "GET" and op.path in routes.COMPANY_WIDE_READS)],
    ids=case_id,
)
def test_another_sales_rep_is_refused(world, op):
    _refused(call(world, "rep_b", op))


@pytest.mark.e2e
@pytest.mark.parametrize("op", ATTACKABLE, ids=case_id)
def test_portal_user_of_another_customer_is_refused(world, op):
    r = call(world, "portal_b", op)
    # staff routes: the gateway refuses portal users outright; the portal's routes: customer
    # A's ids are as unknown to customer B as made-up ones
    _refused(r, (404,) if op.is_portal else (403,))


@pytest.mark.e2e
@pytest.mark.parametrize("op", [op for op in ATTACKABLE if op.is_write], ids=case_id)
def test_readonly_user_cannot_write(world, op):
    allowed = (403, 404) if (op.method, op.path) in routes.READONLY_OWN_RECORD_WRITES else (403,)
    _refused(call(world, "readonly", op), allowed)


@pytest.mark.e2e
@pytest.mark.parametrize("op", READONLY_WRITES, ids=case_id)
def test_readonly_user_cannot_create(world, op):
    _refused(call(world, "readonly", op), (403,))


def _names_owned_record(value) -> bool:
    if isinstance(value, dict):
        return any(_names_owned_record(v) for v in value.values())
    if isinstance(value, list):
        return any(_names_owned_record(v) for v in value)
    return value in routes.OWNED_PLACEHOLDERS


# writes without an id in the path whose body names rep A's customer or contract
BODY_REFERENCES = [
    op
    for op in OPS
    if op.is_write and not op.params and _names_owned_record(routes.BODIES.get((op.method, op.path)))
]


@pytest.mark.e2e
@pytest.mark.parametrize("op", BODY_REFERENCES, ids=case_id)
def test_another_sales_rep_cannot_name_the_record_in_a_body(world, op):
    r = call(world, "rep_b", op)
    if (op.method, op.path) in routes.BATCH_REFUSALS:
        body = r.json()
        assert r.status_code == 200 and body["changed"] == 0, describe(r)
        assert [s["reason"] for s in body["skipped"]] == ["not found"], describe(r)
        return
    if r.status_code == 422:
        fields = set(r.json()["error"]["details"])
        assert fields & routes.REFERENCE_FIELDS, describe(r)  # refused for the reference itself
        return
    _refused(r)
