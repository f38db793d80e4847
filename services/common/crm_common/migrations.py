"""Alembic ``env.py`` shared by every service: ``run_migrations(metadata, "customers")``.

The database URL is the service's own (``<SERVICE>_DATABASE_URL`` or the SQLite file in
``CRM_DATA_DIR``); ``-x url=...`` overrides it (tests)."""

from __future__ import annotations

from alembic import context

from .config import database_url
from .db import make_engine


def run_migrations(metadata, service: str) -> None:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or context.config.get_main_option("sqlalchemy.url")
        or database_url(service)
    )
    if context.is_offline_mode():
        context.configure(
            url=url, target_metadata=metadata, literal_binds=True, render_as_batch=url.startswith("sqlite")
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=metadata, render_as_batch=url.startswith("sqlite")
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def upgrade(service_dir: str, url: str | None = None) -> None:
    """Run ``alembic upgrade head`` for the service in ``service_dir`` (tests, the runner)."""
    import os

    from alembic import command
    from alembic.config import Config

    cfg = Config(os.path.join(service_dir, "alembic.ini"))
    cfg.set_main_option("script_location", os.path.join(service_dir, "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "head")


def create_infra_tables() -> None:
    """In a service's first migration: create the outbox, processed_events, audit_log and
    job_runs tables exactly as :func:`crm_common.db.define_infra_tables` defines them."""
    from alembic import op

    from .db import service_metadata

    md, _ = service_metadata()
    for table in md.sorted_tables:
        table.create(op.get_bind(), checkfirst=True)


def drop_infra_tables() -> None:
    from alembic import op

    from .db import service_metadata

    md, _ = service_metadata()
    for table in reversed(md.sorted_tables):
        table.drop(op.get_bind(), checkfirst=True)


def create_idempotency_table() -> None:
    """The ``idempotency_keys`` table (:mod:`crm_common.idempotency`) in a service's migration::

    def upgrade():
        create_idempotency_table()
    """
    from alembic import op

    from .db import service_metadata

    _, infra = service_metadata()
    infra.idempotency_keys.create(op.get_bind(), checkfirst=True)


def drop_idempotency_table() -> None:
    from alembic import op

    from .db import service_metadata

    _, infra = service_metadata()
    infra.idempotency_keys.drop(op.get_bind(), checkfirst=True)
