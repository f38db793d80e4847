"""Alembic env of the gateway: the shared runner of crm_common with the gateway's metadata."""

from crm_common.migrations import run_migrations
from gateway.models import Base

run_migrations(Base.metadata, "gateway")
