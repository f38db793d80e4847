"""A throwaway PostgreSQL database for the benches' ``--pg`` option (not a test helper: the
tests have ``crm_common.testing``)."""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Callable


def pg_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A new database on the server at ``server_url`` (whose user may create databases): its URL
    and the function that drops it."""
    import psycopg2

    name = f"crm_bench_{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()

    def drop() -> None:
        c = psycopg2.connect(server_url)
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.close()

    parts = urllib.parse.urlsplit(server_url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name)), drop
