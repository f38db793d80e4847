"""Idempotent RPC calls: a call carried out twice under one request id has one effect.

Nameko acknowledges an RPC message only after it has sent the reply, so a service killed between
its commit and that acknowledgement gets the request again from RabbitMQ and would carry it out
again; a client that retries after a timeout does the same through the gateway. Every create and
every money-moving RPC method is therefore decorated::

    @rpc
    @idempotent(reload=reload_entity("customer", "get_customer"))
    def create_customer(self, data): ...

The gateway sends a request id with every call: ``ik-`` and a hash when the client sent an
``Idempotency-Key`` (the same for every retry), else the request's own id. Under it the
decorator, in an RPC worker:

* finds the call's ``idempotency_keys`` row: the call was carried out before, and the first
  result comes back (the same record, the same id), nothing runs again. With an ``ik-`` id the
  row is the key's whatever the arguments: the same key with other arguments or from another
  caller is refused (422, ``VALIDATION_FAILED`` with ``details.idempotency_key``). With any
  other id the row is that of the id *and* the arguments and caller: a redelivered message finds
  it, a caller reusing one id for different calls (a script, a test) just makes another call;
* otherwise runs the method; the first unit of work of the call that commits inserts the row in
  its own transaction, with its effect (the records it audited), so a call whose commit happened
  is recognised whatever happens next; the result is stored right after the method returns. Two
  deliveries at once: the second one's commit fails on the row's key (or its checks refuse it
  because of the first one's effect: a duplicate, a payment already confirmed), it rolls back,
  finds the row, and answers with the first one's result;
* a row whose result is missing (the first delivery is still finishing, or died between its
  commit and storing its result): the result is waited for briefly, then rebuilt with ``reload``
  from the records the first delivery audited (``reload_entity``), or refused with 409 when the
  method has no ``reload``.

A call without a request id, or not made through an RPC entrypoint (a worker database built by
hand in a test, a use case called directly), just runs. Rows are kept ``CRM_IDEMPOTENCY_DAYS``
(default 7) and purged by the daily jobs (:func:`purge`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import json
import logging
from collections.abc import Callable
from typing import Any

from nameko.exceptions import IncorrectSignature
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from . import config
from .db import DatabaseHandle, IdempotencyClaim, WorkerDatabase, _pause, dumps, utcnow
from .errors import Conflict, CrmError, ValidationFailed

log = logging.getLogger(__name__)

Reload = Callable[[Any, list[list[str]]], Any]

WAIT_WITH_RELOAD = 1.0  # seconds a replay waits for the first delivery's result before rebuilding it
WAIT_WITHOUT_RELOAD = 5.0
STRICT_PREFIX = "ik-"  # request ids derived from a client's Idempotency-Key (gateway/idempotency.py)


def retention_days() -> int:
    return config.env_int("CRM_IDEMPOTENCY_DAYS", 7)


def fingerprint(actor: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """What identifies one call: its caller and its arguments (key order does not matter)."""
    try:
        text = json.dumps(
            [actor, json.loads(dumps(list(args))), json.loads(dumps(kwargs))],
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
    except (TypeError, ValueError):  # something JSON cannot carry (bytes): its repr
        text = repr((actor, args, sorted(kwargs.items())))
    return hashlib.sha256(text.encode()).hexdigest()


def record_key(request_id: str, fp: str) -> str:
    """The ``key`` of a call's record. A request id the gateway derived from an
    ``Idempotency-Key`` (``ik-…``) is the key itself: the same key with other arguments is
    refused. Any other request id (the gateway's own per request, an internal caller's) names
    one call per set of arguments: only a redelivery of the very same call is answered from the
    record, and a caller reusing an id for different calls is not refused."""
    if request_id.startswith(STRICT_PREFIX):
        return request_id[:64]
    return "rq-" + hashlib.sha256(f"{request_id}\x1f{fp}".encode()).hexdigest()[:40]


def find(handle: DatabaseHandle, key: str, method: str) -> dict[str, Any] | None:
    t = handle.infra.idempotency_keys
    with handle.read() as s:
        row = s.execute(select(t).where(t.c.key == key, t.c.method == method)).mappings().first()
        return dict(row) if row is not None else None


def store_result(handle: DatabaseHandle, key: str, method: str, result: Any) -> None:
    t = handle.infra.idempotency_keys
    with handle.locked(), handle.engine.begin() as conn:
        conn.execute(update(t).where(t.c.key == key, t.c.method == method).values(result_json=dumps(result)))


def purge(handle: DatabaseHandle, now: dt.datetime | None = None, days: int | None = None) -> int:
    """Delete the records older than the retention (``CRM_IDEMPOTENCY_DAYS``); their number."""
    t = handle.infra.idempotency_keys
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days() if days is None else days)
    with handle.locked(), handle.engine.begin() as conn:
        return conn.execute(delete(t).where(t.c.created_at < cutoff)).rowcount or 0


def reload_entity(entity: str, getter: str) -> Reload:
    """A ``reload`` calling the service's ``getter(id)`` with the id of the first ``entity``
    record the first delivery audited: ``reload_entity("payment", "get_payment")``."""

    def reload(service: Any, effect: list[list[str]]) -> Any:
        for audited_entity, entity_id, _action in effect:
            if audited_entity == entity:
                return getattr(service, getter)(int(entity_id) if entity_id.isdigit() else entity_id)
        raise _result_lost()

    reload.__name__ = f"reload_{entity}"
    return reload


def _result_lost() -> Conflict:
    return Conflict(
        "This request was already carried out; its result is not available: look the record up",
        {"idempotency_key": ["already used"]},
    )


def _reused() -> ValidationFailed:
    return ValidationFailed(
        "Idempotency-Key (request id) already used for a different request",
        {"idempotency_key": ["already used with other arguments or by another caller"]},
    )


def _replay(
    service: Any,
    handle: DatabaseHandle,
    row: dict[str, Any],
    fp: str,
    reload: Reload | None,
) -> Any:
    if row["fingerprint"] != fp:
        raise _reused()
    waited = 0.0
    limit = WAIT_WITH_RELOAD if reload is not None else WAIT_WITHOUT_RELOAD
    delay = 0.01
    while row["result_json"] is None and waited < limit:
        _pause(delay)
        waited += delay
        delay = min(delay * 2, 0.2)
        row = find(handle, row["key"], row["method"]) or row
    if row["result_json"] is not None:
        log.info("replayed %s for request %s: the first result", row["method"], row["key"])
        return json.loads(row["result_json"])
    if reload is None:
        raise _result_lost()
    log.info("replayed %s for request %s: result rebuilt from %s", row["method"], row["key"], row["effect"])
    return reload(service, row["effect"] or [])


def _find_after(handle: DatabaseHandle, key: str, method: str, exc: BaseException) -> dict[str, Any] | None:
    """The call's record once the call failed: there when another delivery committed it."""
    if not isinstance(exc, (CrmError, IntegrityError)):
        return None  # a failure of this delivery's own (the database, a bug): raised as it is
    try:
        return find(handle, key, method)
    except Exception:  # the look-up fails too: the call's own error is what the caller gets
        log.exception("could not look up the idempotency record of %s for request %s", method, key)
        return None


def idempotent(fn: Callable[..., Any] | None = None, *, reload: Reload | None = None) -> Any:
    """Make an RPC method of a service (``self.db`` a :class:`~crm_common.db.Database`) run once
    per request id; see the module's documentation. ``@idempotent`` or
    ``@idempotent(reload=reload_entity(...))``, below ``@rpc``."""

    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(method)
        name = method.__name__

        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:  # called directly (not through Nameko): the same check
                signature.bind(self, *args, **kwargs)
            except TypeError as exc:
                raise IncorrectSignature(str(exc)) from None
            db = getattr(self, "db", None)
            if not isinstance(db, WorkerDatabase) or not db.rpc_call or not db.caller.request_id:
                return method(self, *args, **kwargs)  # not an RPC call, or no request id
            if db.claim is not None:
                return method(self, *args, **kwargs)  # called by another such method
            handle = db.handle
            fp = fingerprint(db.caller.actor, args, kwargs)
            key = record_key(db.caller.request_id, fp)
            row = find(handle, key, name)
            if row is not None:
                return _replay(self, handle, row, fp, reload)
            claim = IdempotencyClaim(key, name, fp)
            db.claim = claim
            try:
                result = method(self, *args, **kwargs)
            except Exception as exc:
                if claim.committed:
                    raise
                # another delivery of this call committed first (this one's commit conflicted on
                # the record, or its checks saw the first one's effect: "duplicate", "already
                # confirmed"): this one rolled back, and answers with the first one's result
                row = _find_after(handle, key, name, exc)
                if row is None:
                    raise
                return _replay(self, handle, row, fp, reload)
            finally:
                db.claim = None
            if claim.committed:
                try:
                    store_result(handle, key, name, result)
                except Exception:  # the effect is committed; a replay rebuilds the result
                    log.exception("could not store the result of %s for request %s", name, key)
            return result

        # Nameko checks the arguments (and redacts sensitive ones) against this signature
        wrapper.__signature__ = signature  # type: ignore[attr-defined]
        wrapper.crm_idempotent_rpc = True  # type: ignore[attr-defined]
        return wrapper

    if fn is not None:
        return decorate(fn)
    return decorate
