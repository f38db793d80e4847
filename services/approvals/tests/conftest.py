"""Fixtures of the approvals service's tests: a real SQLite database per test, real caller
contexts, service workers built with nameko's ``worker_factory`` on that database, and users in
the read copy as the gateway's user events put them there."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from approvals import usecases
from approvals.models import metadata
from approvals.service import ApprovalsService
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, WorkerDatabase, make_envelope
from crm_common.testing import new_caller, outbox_payloads
from nameko.testing.services import worker_factory

_ids = itertools.count(100)


@pytest.fixture
def db(sqlite_url):
    handle = DatabaseHandle("approvals", metadata, sqlite_url)
    handle.create_all()
    yield handle
    handle.dispose()


@pytest.fixture
def service(db):
    """``service(caller)`` → an ApprovalsService worker with the real database and that caller."""

    def make(caller: CallerContext | None) -> ApprovalsService:
        caller = caller if caller is not None else CallerContext()
        return worker_factory(ApprovalsService, db=WorkerDatabase(db, caller, None), caller=caller)

    return make


@pytest.fixture
def admin(service):
    return service(new_caller("admin", user_id=1))


@pytest.fixture
def user(db, service):
    """``user(*roles, department=, is_department_head=, full_name=)`` → ``(id, worker as that user)``,
    known to the read copy through a gateway ``user_created`` event."""

    def make(*roles, department=None, is_department_head=False, full_name=None):
        user_id = next(_ids)
        payload = {
            "id": user_id,
            "username": f"u{user_id}",
            "roles": list(roles),
            "full_name": full_name,
            "department": department,
            "is_department_head": is_department_head,
            "active": True,
        }
        usecases.apply_user_event(db, make_envelope("gateway", "user_created", payload))
        return user_id, service(new_caller(*roles, user_id=user_id, department=department))

    return make


@pytest.fixture
def outbox(db):
    """``outbox(type)`` → payloads of the events of that type written so far, oldest first."""
    return lambda event_type: outbox_payloads(db, event_type)


@pytest.fixture
def now():
    return dt.datetime.now(dt.UTC)
