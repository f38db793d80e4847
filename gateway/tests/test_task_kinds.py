"""The gateway's task enums are copies of notify's: a task kind notify opens must be a kind
``GET /tasks?kind=`` accepts and ``TaskPublic`` shows, and the close reasons ``PATCH /tasks/{id}``
accepts are the ones notify stores. These fail as soon as either side changes alone."""

from __future__ import annotations

from typing import get_args

from gateway.schemas_notify import CollectionCloseReason, TaskKind, TaskStatus
from gateway.views_notify import TaskPublic
from notify import task_rules


def test_task_kind_enums_match_notify():
    assert set(get_args(TaskKind)) == set(task_rules.TASK_KINDS)
    assert set(get_args(TaskPublic.model_fields["kind"].annotation)) == set(task_rules.TASK_KINDS)


def test_task_status_and_close_reason_enums_match_notify():
    assert set(get_args(TaskStatus)) == set(task_rules.TASK_STATUSES)
    assert set(get_args(CollectionCloseReason)) == set(task_rules.COLLECTION_CLOSE_REASONS)
