"""Alembic env of the contracts service: the shared runner of crm_common with this service's
metadata."""

from contracts.models import metadata
from crm_common.migrations import run_migrations

run_migrations(metadata, "contracts")
