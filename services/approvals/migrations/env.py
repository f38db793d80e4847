"""Alembic env of the approvals service: the shared runner of crm_common with this service's
metadata."""

from approvals.models import metadata
from crm_common.migrations import run_migrations

run_migrations(metadata, "approvals")
