"""The contracts Nameko service: entrypoints only. Rules live in :mod:`contracts.domain` and
:mod:`contracts.templating`; the work of each call in :mod:`contracts.usecases` (contracts,
lifecycle, amendments, versions, renewals), :mod:`contracts.templates`,
:mod:`contracts.document`, :mod:`contracts.attachments`, :mod:`contracts.bulk`,
:mod:`contracts.importer`, :mod:`contracts.progress`, :mod:`contracts.dashboard`,
:mod:`contracts.portal` (installed items, service requests) and :mod:`contracts.users` (the users
read copy)."""

from __future__ import annotations

import datetime as dt

from crm_common.db import Database
from crm_common.events import event_handler
from crm_common.idempotency import idempotent, reload_entity
from crm_common.outbox import OutboxRelayProvider
from crm_common.rpc import RpcProxy
from crm_common.service import ServiceBase

from . import (
    attachments,
    bulk,
    dashboard,
    document,
    importer,
    portal,
    progress,
    redlist,
    templates,
    terminations,
    usecases,
    users,
)
from . import events as ev
from .exceptions import rpc
from .models import metadata
from .peers import Peers


class ContractsService(ServiceBase):
    name = "contracts"

    db = Database(metadata)
    relay = OutboxRelayProvider()
    customers_rpc = RpcProxy("customers")
    inventory_rpc = RpcProxy("inventory")

    @property
    def peers(self) -> Peers:
        return Peers(self.customers_rpc, self.inventory_rpc)

    # -- templates -------------------------------------------------------------------------
    @rpc
    @idempotent(reload=reload_entity("template", "get_template"))
    def create_template(self, data):
        return templates.create_template(self.db, self.caller, data)

    @rpc
    def list_templates(self, filters=None, page=1, page_size=50, sort=None):
        return templates.list_templates(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    def get_template(self, template_id):
        return templates.get_template(self.db, self.caller, template_id)

    @rpc
    def deactivate_template(self, template_id):
        return templates.deactivate_template(self.db, self.caller, template_id)

    @rpc
    def render_document(self, contract_id):
        return document.render_contract_document(self.db, self.caller, contract_id)

    # -- contracts -------------------------------------------------------------------------
    @rpc
    @idempotent(reload=reload_entity("contract", "get_contract"))
    def create_contract(self, data):
        return usecases.create_contract(self.db, self.peers, self.caller, data)

    @rpc
    def get_contract(self, contract_id):
        view = usecases.get_contract(self.db, self.caller, contract_id)
        return redlist.with_customer_flags(view, self.customers_rpc, self.caller)

    @rpc
    def list_contracts(self, filters=None, page=1, page_size=50, sort=None):
        return usecases.list_contracts(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    def update_contract(self, contract_id, data):
        return usecases.update_contract(self.db, self.peers, self.caller, contract_id, data)

    @rpc
    def submit_contract(self, contract_id, data=None):
        override = redlist.check_submit(self.db, self.caller, self.customers_rpc, contract_id, data)
        return usecases.submit_contract(self.db, self.caller, contract_id, override)

    @rpc
    def customer_activity(self, customer_id):
        return redlist.customer_activity(self.db, self.caller, customer_id)

    @rpc
    def cancel_contract(self, contract_id, data=None):
        return usecases.cancel_contract(self.db, self.caller, contract_id, data)

    @rpc
    def terminate_contract(self, contract_id, data):
        return usecases.terminate_contract(self.db, self.caller, contract_id, data)

    @rpc
    def archive_contract(self, contract_id):
        return terminations.archive_contract(self.db, self.caller, contract_id)

    @rpc
    def renew_contract(self, contract_id, data=None):
        return usecases.renew_contract(self.db, self.caller, contract_id, data)

    @rpc
    def lock_amounts(self, contract_id):
        return usecases.set_amounts_lock(self.db, self.caller, contract_id, True)

    @rpc
    def unlock_amounts(self, contract_id):
        return usecases.set_amounts_lock(self.db, self.caller, contract_id, False)

    # -- amendments and versions -----------------------------------------------------------
    @rpc
    @idempotent
    def create_amendment(self, contract_id, data):
        return usecases.create_amendment(self.db, self.peers, self.caller, contract_id, data)

    @rpc
    def list_amendments(self, contract_id):
        return usecases.list_amendments(self.db, self.caller, contract_id)

    @rpc
    def get_amendment(self, contract_id, amendment_id):
        return usecases.get_amendment(self.db, self.caller, contract_id, amendment_id)

    @rpc
    def list_versions(self, contract_id):
        return usecases.list_versions(self.db, self.caller, contract_id)

    @rpc
    def get_version(self, contract_id, version):
        return usecases.get_version(self.db, self.caller, contract_id, version)

    @rpc
    def diff_versions(self, contract_id, a, b):
        return usecases.diff_versions(self.db, self.caller, contract_id, a, b)

    # -- attachments -----------------------------------------------------------------------
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

    # -- data management at scale ----------------------------------------------------------
    @rpc
    def co_terminate(self, data):
        return bulk.co_terminate(self.db, self.caller, data)

    @rpc
    def bulk_price_update(self, data):
        return bulk.bulk_price_update(self.db, self.caller, data)

    @rpc
    def get_price_batch(self, batch_id):
        return bulk.get_price_batch(self.db, self.caller, batch_id)

    @rpc
    def restructure(self, data):
        return bulk.restructure(self.db, self.caller, data)

    @rpc
    def start_import(self, mode, filename=None):
        return importer.start_import(self.db, self.caller, mode, filename)

    @rpc
    def import_batch(self, job_id, rows):
        return importer.import_batch(self.db, self.caller, job_id, rows)

    @rpc
    def finish_import(self, job_id):
        return importer.finish_import(self.db, self.peers, self.caller, job_id)

    @rpc
    def get_import(self, job_id):
        return importer.get_import(self.db, self.caller, job_id)

    @rpc
    def abort_import(self, job_id, reason=None):
        return importer.abort_import(self.db, self.caller, job_id, reason)

    # -- progress --------------------------------------------------------------------------
    @rpc
    @idempotent
    def add_milestone(self, contract_id, data):
        return progress.add_milestone(self.db, self.caller, contract_id, data)

    @rpc
    def update_milestone(self, contract_id, milestone_id, data):
        return progress.update_milestone(self.db, self.caller, contract_id, milestone_id, data)

    @rpc
    def delete_milestone(self, contract_id, milestone_id):
        return progress.delete_milestone(self.db, self.caller, contract_id, milestone_id)

    @rpc
    def list_milestones(self, contract_id):
        return progress.list_milestones(self.db, self.caller, contract_id)

    @rpc
    def get_progress(self, contract_id, as_of=None):
        return progress.get_progress(self.db, self.caller, contract_id, as_of)

    @rpc
    def list_progress(self, filters=None, page=1, page_size=50, sort=None):
        return progress.list_progress(self.db, self.caller, filters, page, page_size, sort)

    # -- dashboard and portal --------------------------------------------------------------
    @rpc
    def dashboard(self, args=None):
        return dashboard.dashboard(self.db, self.caller, args)

    @rpc
    def list_items(self, filters=None, page=1, page_size=50, sort=None):
        return portal.list_items(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    @idempotent
    def create_service_request(self, data):
        return portal.create_service_request(self.db, self.caller, data)

    @rpc
    def list_service_requests(self, filters=None, page=1, page_size=50, sort=None):
        return portal.list_service_requests(self.db, self.caller, filters, page, page_size, sort)

    # -- events in -------------------------------------------------------------------------
    @event_handler(ev.GATEWAY, ev.USER_CREATED)
    def handle_user_created(self, event):
        users.apply_user_event(self.db, event)

    @event_handler(ev.GATEWAY, ev.USER_UPDATED)
    def handle_user_updated(self, event):
        users.apply_user_event(self.db, event)

    @event_handler(ev.APPROVALS, ev.APPROVAL_APPROVED)
    def handle_approval_approved(self, event):
        usecases.handle_approval_decided(self.db, event, "approved")

    @event_handler(ev.APPROVALS, ev.APPROVAL_REJECTED)
    def handle_approval_rejected(self, event):
        usecases.handle_approval_decided(self.db, event, "rejected")

    @event_handler(ev.APPROVALS, ev.APPROVAL_WITHDRAWN)
    def handle_approval_withdrawn(self, event):
        usecases.handle_approval_decided(self.db, event, "withdrawn")

    # -- billing progress (events in) -------------------------------------------------------
    @event_handler(ev.BILLING, progress.INVOICE_ISSUED)
    def handle_invoice_issued(self, event):
        progress.apply_billing_event(self.db, event)

    @event_handler(ev.BILLING, progress.INVOICE_PAID)
    def handle_invoice_paid(self, event):
        progress.apply_billing_event(self.db, event)

    @event_handler(ev.BILLING, progress.PAYMENT_RECEIVED)
    def handle_payment_received(self, event):
        progress.apply_billing_event(self.db, event)

    @event_handler(ev.BILLING, progress.INVOICE_OVERDUE)
    def handle_invoice_overdue(self, event):
        progress.apply_billing_event(self.db, event)

    @event_handler(ev.BILLING, progress.INVOICE_VOIDED)
    def handle_invoice_voided(self, event):
        progress.apply_billing_event(self.db, event)

    @event_handler(ev.BILLING, progress.CREDIT_NOTE_ISSUED)
    def handle_credit_note_issued(self, event):
        progress.apply_billing_event(self.db, event)

    # -- daily work ------------------------------------------------------------------------
    def daily_jobs(self, as_of: dt.date) -> dict:
        return {
            "contracts_activated": usecases.activate_due(self.db, as_of),
            "contracts_expiring_notices": usecases.expiry_scan(self.db, as_of),
            **{f"contracts_{k}": v for k, v in usecases.end_of_term(self.db, as_of).items()},
            "uploads_swept": attachments.sweep_uploads(self.db, as_of),
            "imports_expired": importer.expire_idle_imports(self.db),
        }
