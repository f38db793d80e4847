"""A stand-in ``contracts`` service for the gateway's attachment tests: the real attachment use
cases of :mod:`contracts.attachments` (real SQLite database, real directory store) behind the
RPC methods the gateway's routes call, plus ``seed_contract`` to make a contract to attach to.

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
from crm_common.db import Database, DatabaseHandle, utcnow
from crm_common.rpc import rpc
from crm_common.service import ServiceBase
from sqlalchemy import insert, update

if os.environ.get("STAND_IN_CHUNK_BYTES"):
    attachments.CHUNK_BYTES = int(os.environ["STAND_IN_CHUNK_BYTES"])

if os.environ.get("CONTRACTS_DATABASE_URL"):
    _handle = DatabaseHandle("contracts", m.metadata, os.environ["CONTRACTS_DATABASE_URL"])
    _handle.create_all()
    _handle.dispose()


class AttachmentsStandIn(ServiceBase):
    name = "contracts"
    db = Database(m.metadata)

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
    def start_upload(self, contract_id, meta):
        return attachments.start_upload(self.db, self.caller, contract_id, meta)

    @rpc
    def upload_chunk(self, upload_id, seq, data):
        return attachments.upload_chunk(self.db, self.caller, upload_id, seq, data)

    @rpc
    def finish_upload(self, upload_id, sha256=None, description=None):
        return attachments.finish_upload(self.db, self.caller, upload_id, sha256, description)

    @rpc
    def abort_upload(self, upload_id):
        return attachments.abort_upload(self.db, self.caller, upload_id)

    @rpc
    def list_attachments(self, contract_id):
        return attachments.list_attachments(self.db, self.caller, contract_id)

    @rpc
    def get_attachment(self, contract_id, attachment_id):
        return attachments.get_attachment(self.db, self.caller, contract_id, attachment_id)

    @rpc
    def read_attachment(self, contract_id, attachment_id, offset=0, length=None):
        return attachments.read_attachment(self.db, self.caller, contract_id, attachment_id, offset, length)

    @rpc
    def pending_uploads(self):
        """How many uploads are staged and unfinished (the tests check aborted ones leave none;
        a finished upload only remembers its attachment)."""
        from sqlalchemy import func, select

        unfinished = select(func.count()).select_from(m.uploads).where(m.uploads.c.attachment_id.is_(None))
        with self.db.read() as s:
            return s.execute(unfinished).scalar_one()
