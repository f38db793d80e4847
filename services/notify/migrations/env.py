"""Alembic env of the notify service: the shared runner of crm_common with this service's
metadata."""

from crm_common.migrations import run_migrations
from notify.models import metadata

run_migrations(metadata, "notify")
