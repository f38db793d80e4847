"""Alembic env of the customers service: the shared runner of crm_common with this service's
metadata."""

from crm_common.migrations import run_migrations
from customers.models import metadata

run_migrations(metadata, "customers")
