"""The customers Nameko service: entrypoints only. Rules live in :mod:`customers.domain`, the
work of each call in :mod:`customers.usecases` and :mod:`customers.importer`."""

from __future__ import annotations

import datetime as dt

from crm_common.db import Database
from crm_common.events import event_handler
from crm_common.idempotency import idempotent, reload_entity
from crm_common.outbox import OutboxRelayProvider
from crm_common.rpc import RpcProxy
from crm_common.service import ServiceBase

from . import dashboard, events, importer, lifecycle, usecases
from .exceptions import rpc
from .models import metadata


class CustomersService(ServiceBase):
    name = "customers"

    db = Database(metadata)
    relay = OutboxRelayProvider()
    # asked before a delete whether anything refers to the customer (read-only counts)
    contracts_rpc = RpcProxy("contracts")
    billing_rpc = RpcProxy("billing")

    def _activity(self, customer_id):
        """What the other services hold for the customer: contracts, invoices, payments,
        credit notes (counts; a service that does not answer fails the delete with 503)."""
        counts = dict(self.contracts_rpc.customer_activity(customer_id))
        counts.update(self.billing_rpc.customer_activity(customer_id))
        return counts

    # -- customers ---------------------------------------------------------------------
    @rpc
    @idempotent(reload=reload_entity("customer", "get_customer"))
    def create_customer(self, data):
        return usecases.create_customer(self.db, self.caller, data)

    @rpc
    def get_customer(self, customer_id):
        return usecases.get_customer(self.db, self.caller, customer_id)

    @rpc
    def get_customers(self, customer_ids):
        return usecases.get_customers(self.db, self.caller, customer_ids)

    @rpc
    def list_customers(self, filters=None, page=1, page_size=50, sort=None):
        return usecases.list_customers(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    def update_customer(self, customer_id, data):
        return usecases.update_customer(self.db, self.caller, customer_id, data)

    @rpc
    def delete_customer(self, customer_id):
        return usecases.delete_customer(self.db, self.caller, customer_id, self._activity)

    @rpc
    def archive_customer(self, customer_id):
        return lifecycle.archive_customer(self.db, self.caller, customer_id)

    @rpc
    def restore_customer(self, customer_id):
        return lifecycle.restore_customer(self.db, self.caller, customer_id)

    @rpc
    def red_list_customer(self, customer_id, data):
        return lifecycle.red_list_customer(self.db, self.caller, customer_id, data)

    @rpc
    def clear_red_list(self, customer_id):
        return lifecycle.clear_red_list(self.db, self.caller, customer_id)

    @rpc
    def customer_flags(self, customer_ids):
        return lifecycle.customer_flags(self.db, self.caller, customer_ids)

    # -- contacts and follow-ups ---------------------------------------------------------
    @rpc
    @idempotent
    def add_contact(self, customer_id, data):
        return usecases.add_contact(self.db, self.caller, customer_id, data)

    @rpc
    def list_contacts(self, customer_id, page=1, page_size=50, sort=None):
        return usecases.list_contacts(self.db, self.caller, customer_id, page, page_size, sort)

    @rpc
    @idempotent
    def add_follow_up(self, customer_id, data):
        return usecases.add_follow_up(self.db, self.caller, customer_id, data)

    @rpc
    def list_follow_ups(self, customer_id, page=1, page_size=50, sort=None):
        return usecases.list_follow_ups(self.db, self.caller, customer_id, page, page_size, sort)

    # -- opportunities -------------------------------------------------------------------
    @rpc
    @idempotent(reload=reload_entity("opportunity", "get_opportunity"))
    def create_opportunity(self, data):
        return usecases.create_opportunity(self.db, self.caller, data)

    @rpc
    def get_opportunity(self, opportunity_id):
        return usecases.get_opportunity(self.db, self.caller, opportunity_id)

    @rpc
    def list_opportunities(self, filters=None, page=1, page_size=50, sort=None):
        return usecases.list_opportunities(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    def update_opportunity(self, opportunity_id, data):
        return usecases.update_opportunity(self.db, self.caller, opportunity_id, data)

    # -- dashboard -------------------------------------------------------------------------
    @rpc
    def pipeline(self, args=None):
        return dashboard.pipeline(self.db, self.caller, args)

    # -- CSV import ------------------------------------------------------------------------
    @rpc
    def start_import(self, mode, filename=None):
        return importer.start_import(self.db, self.caller, mode, filename)

    @rpc
    def import_batch(self, job_id, rows):
        return importer.import_batch(self.db, self.caller, job_id, rows)

    @rpc
    def finish_import(self, job_id):
        return importer.finish_import(self.db, self.caller, job_id)

    @rpc
    def get_import(self, job_id):
        return importer.get_import(self.db, self.caller, job_id)

    @rpc
    def abort_import(self, job_id, reason=None):
        return importer.abort_import(self.db, self.caller, job_id, reason)

    # -- events in: the users read copy ------------------------------------------------------
    @event_handler(events.GATEWAY, events.USER_CREATED)
    def handle_user_created(self, event):
        usecases.apply_user_event(self.db, event)

    @event_handler(events.GATEWAY, events.USER_UPDATED)
    def handle_user_updated(self, event):
        usecases.apply_user_event(self.db, event)

    # -- daily work --------------------------------------------------------------------------
    def daily_jobs(self, as_of: dt.date) -> dict:
        return {
            "follow_ups_due": usecases.publish_due_follow_ups(self.db, as_of),
            "imports_expired": importer.expire_idle_imports(self.db),
        }
