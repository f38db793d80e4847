"""Tasks (to-dos) opened and closed by events (notify service): a user sees the tasks assigned
to them or to one of their roles; admins see all."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..deps import Pagination, Rpc, path_id
from ..listing import sortable
from ..schemas import MAX_ID, ErrorBody
from ..schemas_notify import TaskKind, TaskStatus, TaskUpdate
from ..views_notify import TaskPage, TaskPublic

router = APIRouter(
    prefix="/tasks",
    tags=["tasks"],
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}


TaskSort = sortable("due_date", "status", "kind", "title", "created_at", "updated_at", "id")


@router.get("", responses={200: {"model": TaskPage}})
async def list_tasks(
    rpc: Rpc,
    page: Pagination,
    sort: TaskSort,
    status: TaskStatus | None = None,
    kind: TaskKind | None = None,
    assignee_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    document_type: Annotated[str | None, Query(max_length=50)] = None,
    document_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    filters = {
        k: v
        for k, v in dict(
            status=status,
            kind=kind,
            assignee_id=assignee_id,
            document_type=document_type,
            document_id=document_id,
        ).items()
        if v is not None
    }
    return await rpc.notify.list_tasks(filters, page.page, page.page_size, **sort.kwargs())


@router.get("/{task_id}", responses={200: {"model": TaskPublic}, **NOT_FOUND})
async def get_task(task_id: str, rpc: Rpc) -> Any:
    return await rpc.notify.get_task(path_id(task_id, "Task"))


@router.patch(
    "/{task_id}",
    responses={200: {"model": TaskPublic}, 409: {"model": ErrorBody}, **NOT_FOUND},
    description="An unpaid invoice's collection task closes (status done/cancelled) only by finance "
    "or an admin with a close_reason; anyone else gets 409 and nothing changes.",
)
async def update_task(task_id: str, body: TaskUpdate, rpc: Rpc) -> Any:
    return await rpc.notify.update_task(path_id(task_id, "Task"), body.data())
