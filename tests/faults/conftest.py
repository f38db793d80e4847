"""Fixtures of the fault tests: the whole system as processes this session controls one by one
(:class:`tests.faults.harness.Cluster`), billing on a PostgreSQL database of its own (so it can
be "stopped"), and, for the full set, a private RabbitMQ node (so it can be restarted).

``FAULTS=quick`` (the CI subset, ``make test-faults-quick``) or ``FAULTS=full``
(``make test-faults``) selects what runs; see docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from crm_common.testing import (
    create_pg_database,
    create_vhost,
    delete_vhost,
    drop_pg_database,
    pg_available,
    vhost_uri,
)

from .harness import Cluster, PrivateRabbit

MODE = os.environ.get("FAULTS", "quick").strip().lower()
if MODE not in ("quick", "full"):
    raise pytest.UsageError(f"FAULTS must be quick or full, not {MODE!r}")
FULL = MODE == "full"

FIGURES: list[dict] = []  # what each fault test measured, printed at the end of the session

full_only = pytest.mark.skipif(not FULL, reason="part of the full fault set (make test-faults)")


class Faulty:
    """What a fault test gets: the running cluster and the knobs to break it."""

    def __init__(
        self, cluster: Cluster, rabbit: PrivateRabbit | None, billing_db: str | None, mailbox, no_rabbit: str
    ):
        self.cluster = cluster
        self.rabbit = rabbit
        self.no_rabbit = no_rabbit  # why there is no private node to restart
        self.billing_db = billing_db
        self.mailbox = mailbox
        self.base_url = cluster.base_url
        self.amqp_uri = cluster.amqp_uri
        self.admin_password = cluster.admin_password


@pytest.fixture(scope="session")
def faulty(request, mailbox):
    rabbit = None
    no_rabbit = "the private RabbitMQ node is part of the full set only"
    vhost = None
    if FULL:
        try:
            rabbit = PrivateRabbit()
        except FileNotFoundError as exc:
            no_rabbit = str(exc)  # the broker-restart test skips itself with this reason
    billing_db = None
    overrides = {
        "CRM_OUTBOX_POLL_SECONDS": "0.5",
        "CRM_RPC_TIMEOUT": "10",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mailbox.port),
        "SMTP_FROM": "crm@example.com",
    }
    if pg_available():
        billing_db = f"crm_faults_{uuid.uuid4().hex[:10]}"
        overrides["BILLING_DATABASE_URL"] = create_pg_database(billing_db)
    cluster = None
    try:
        if rabbit is not None:
            try:
                rabbit.start()
            except (RuntimeError, OSError) as exc:  # e.g. not allowed to run one as this user
                rabbit.close()
                rabbit, no_rabbit = None, f"a private RabbitMQ node would not start: {exc}"[:2000]
        if rabbit is not None:
            amqp = rabbit.amqp_uri
        else:
            vhost = f"crm-faults-{uuid.uuid4().hex[:10]}"
            create_vhost(vhost)
            amqp = vhost_uri(vhost)
        # outside pytest's rotating temp dirs: kept (and named) when a test failed
        data_dir = Path(tempfile.mkdtemp(prefix="crm-faults-data-"))
        cluster = Cluster(amqp, data_dir, overrides)
        cluster.setup()
        try:
            cluster.start_all()
        except RuntimeError as exc:
            pytest.fail(str(exc))
        yield Faulty(cluster, rabbit, billing_db, mailbox, no_rabbit)
    finally:
        if cluster is not None:
            cluster.stop_all()
            if request.session.testsfailed:
                print(f"\nfault tests: logs kept in {cluster.data_dir / 'logs'}")
            else:
                shutil.rmtree(cluster.data_dir, ignore_errors=True)
        if rabbit is not None:
            rabbit.close()
        if vhost is not None:
            delete_vhost(vhost)
        if billing_db is not None:
            drop_pg_database(billing_db)


@pytest.fixture
def figures(request):
    """A dict the test fills with what it measured; printed in the session summary."""
    entry: dict = {"test": request.node.name, "mode": MODE}
    began = time.monotonic()
    yield entry
    entry["seconds"] = round(time.monotonic() - began, 1)
    FIGURES.append(entry)


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("fault test figures")
    for entry in FIGURES:
        terminalreporter.write_line(json.dumps(entry, ensure_ascii=False, default=str))


__all__ = ["FULL", "MODE", "Faulty", "full_only"]
