"""Fixtures of the notify service's tests: a real SQLite database per test, real caller
contexts, service workers built with nameko's ``worker_factory`` on that database, and helpers
that feed stand-in event envelopes through the real handler code."""

from __future__ import annotations

import pytest
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, WorkerDatabase, make_envelope
from crm_common.testing import new_caller
from nameko.testing.services import worker_factory
from notify import events_in
from notify.models import metadata
from notify.service import NotifyService


@pytest.fixture
def db(sqlite_url):
    handle = DatabaseHandle("notify", metadata, sqlite_url)
    handle.create_all()
    yield handle
    handle.dispose()


@pytest.fixture
def service(db):
    """``service(caller)`` → a NotifyService worker with the real database and that caller."""

    def make(caller: CallerContext | None, config: dict | None = None) -> NotifyService:
        caller = caller if caller is not None else CallerContext()
        return worker_factory(
            NotifyService, db=WorkerDatabase(db, caller, None), caller=caller, config=config or {}
        )

    return make


@pytest.fixture
def admin(service):
    return service(new_caller("admin", user_id=1))


@pytest.fixture
def deliver(db):
    """``deliver(source, type, payload, event_id=None)`` → the envelope, handled as the
    event handler handles it (same code, same single transaction)."""

    def deliver(source: str, event_type: str, payload: dict, event_id: str | None = None) -> dict:
        envelope = make_envelope(source, event_type, payload, event_id=event_id)
        events_in.handle_event(db, envelope)
        return envelope

    return deliver


@pytest.fixture
def add_user(deliver):
    """``add_user(id, roles, **fields)`` via a stand-in ``gateway.user_created``."""

    def add(user_id: int, roles=("sales_rep",), **fields) -> dict:
        payload = {
            "id": user_id,
            "username": f"user{user_id}",
            "roles": list(roles),
            "full_name": f"User {user_id}",
            "email": f"user{user_id}@example.com",
            "language": "en",
            "active": True,
            **fields,
        }
        deliver("gateway", "user_created", payload)
        return payload

    return add
