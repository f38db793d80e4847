"""The ``contracts`` service for the gateway's attachment tests: the real service class (real
SQLite database, real directory store), plus ``seed_contract`` to make a contract to attach to
without the customers and inventory services, and ``pending_uploads`` to look at what is staged.

Configured by the environment the test gives the process: ``CONTRACTS_DATABASE_URL`` (an SQLite
file), ``CONTRACTS_FILES_DIR``, ``CONTRACTS_ATTACHMENT_MAX_MB``; ``STAND_IN_CHUNK_BYTES`` makes
the chunks small so a small file still travels in several.

Run: ``nameko run --config config.yml attachments_stand_in:AttachmentsStandIn`` (the tests do).
"""

from __future__ import annotations

import datetime as dt
import os

from contracts import attachments
from contracts import models as m
from contracts.service import ContractsService
from crm_common.db import DatabaseHandle, utcnow
from crm_common.rpc import rpc
from sqlalchemy import insert, update

if os.environ.get("STAND_IN_CHUNK_BYTES"):
    attachments.CHUNK_BYTES = int(os.environ["STAND_IN_CHUNK_BYTES"])

if os.environ.get("CONTRACTS_DATABASE_URL"):
    _handle = DatabaseHandle("contracts", m.metadata, os.environ["CONTRACTS_DATABASE_URL"])
    _handle.create_all()
    _handle.dispose()


class AttachmentsStandIn(ContractsService):
    @rpc
    def seed_contract(self, owner_id, status="draft"):
        now = utcnow()
        with self.db.transaction() as uow:
            cid = uow.session.execute(
                insert(m.contracts).values(
                    number="pending",
                    customer_id=1,
                    customer_name="Müşteri A.Ş.",
                    kind="sales",
                    title="Test",
                    currency="EUR",
                    start_date=dt.date(2026, 1, 1),
                    end_date=dt.date(2026, 12, 31),
                    payment_terms_days=30,
                    billing_frequency="once",
                    billing_in_advance=True,
                    auto_renew=False,
                    notice_days=0,
                    renewal_uplift_percent="0",
                    owner_id=owner_id,
                    field_values={},
                    status=status,
                    version=0,
                    total="0",
                    amounts_locked=False,
                    created_at=now,
                    updated_at=now,
                )  # fmt: skip
            ).inserted_primary_key[0]
            uow.session.execute(
                update(m.contracts).where(m.contracts.c.id == cid).values(number=f"C-2026-{cid:06d}")
            )
        return cid

    @rpc
    def seed_amendment(self, contract_id):
        """An amendment of the contract to attach its change document to → its id."""
        with self.db.transaction() as uow:
            return uow.session.execute(
                insert(m.amendments).values(
                    contract_id=contract_id,
                    number=f"C-A-{contract_id}-{utcnow().timestamp()}",
                    status="pending_approval",
                    reason="Ek protokol",
                    effective_date=dt.date(2026, 6, 1),
                    changes={},
                    created_at=utcnow(),
                )  # fmt: skip
            ).inserted_primary_key[0]

    @rpc
    def pending_uploads(self):
        """How many uploads are staged and unfinished (the tests check aborted ones leave none;
        a finished upload only remembers its attachment)."""
        from sqlalchemy import func, select

        unfinished = select(func.count()).select_from(m.uploads).where(m.uploads.c.attachment_id.is_(None))
        with self.db.read() as s:
            return s.execute(unfinished).scalar_one()
