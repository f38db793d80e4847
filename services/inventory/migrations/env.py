"""Alembic env of the inventory service: the shared runner of crm_common with this service's
metadata."""

from crm_common.migrations import run_migrations
from inventory.models import metadata

run_migrations(metadata, "inventory")
