"""Alembic env of the billing service: the shared runner of crm_common with this service's
metadata."""

from billing.models import metadata
from crm_common.migrations import run_migrations

run_migrations(metadata, "billing")
