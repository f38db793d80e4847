"""The billing Nameko service: entrypoints only. Rules live in :mod:`billing.domain`; the work
of each call in :mod:`billing.schedules` (contract events → schedules), :mod:`billing.runs`,
:mod:`billing.invoices`, :mod:`billing.credits`, :mod:`billing.payments`, :mod:`billing.pdfs`,
:mod:`billing.reports`, :mod:`billing.dashboard`, :mod:`billing.taxes`, :mod:`billing.customers`
and :mod:`billing.users` (the read copies)."""

from __future__ import annotations

import datetime as dt

import eventlet
from crm_common.db import Database
from crm_common.errors import NotFound
from crm_common.events import event_handler
from crm_common.idempotency import idempotent, reload_entity
from crm_common.outbox import OutboxRelayProvider
from crm_common.rpc import RpcProxy
from crm_common.service import ServiceBase

from . import (
    activity,
    corrections,
    credits,
    customers,
    daily,
    dashboard,
    invoices,
    payments,
    pdfs,
    reports,
    runs,
    schedules,
    taxes,
    users,
)
from . import events as ev
from .dashboard import DashboardWarmUp
from .exceptions import rpc
from .models import metadata

CONTRACTS = "contracts"
CUSTOMERS = "customers"


class BillingService(ServiceBase):
    name = "billing"

    db = Database(metadata)
    relay = OutboxRelayProvider()
    warm_up = DashboardWarmUp()
    customers_rpc = RpcProxy("customers")

    def _customer(self, customer_id):
        """The customer as the customers service shows it to the caller (``None``: unknown or
        outside the caller's scope)."""
        try:
            return self.customers_rpc.get_customer(customer_id)
        except NotFound:
            return None

    # -- invoices --------------------------------------------------------------------------
    @rpc
    def list_invoices(self, filters=None, page=1, page_size=50, sort=None):
        return invoices.list_invoices(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    def get_invoice(self, invoice_id):
        return invoices.get_invoice(self.db, self.caller, invoice_id)

    @rpc
    @idempotent(reload=reload_entity("invoice", "get_invoice"))
    def create_invoice(self, data):
        return invoices.create_invoice(self.db, self.caller, data, self._customer)

    @rpc
    def update_invoice(self, invoice_id, data):
        return invoices.update_invoice(self.db, self.caller, invoice_id, data)

    @rpc
    def issue_invoice(self, invoice_id):
        return invoices.issue_invoice(self.db, self.caller, invoice_id)

    @rpc
    def void_invoice(self, invoice_id, data=None):
        return invoices.void_invoice(self.db, self.caller, invoice_id, data)

    @rpc
    def lock_invoice(self, invoice_id, data=None):
        return invoices.lock_invoice(self.db, self.caller, invoice_id, True)

    @rpc
    def unlock_invoice(self, invoice_id, data=None):
        return invoices.lock_invoice(self.db, self.caller, invoice_id, False)

    @rpc
    def list_pending_corrections(self, filters=None, page=1, page_size=50, sort=None):
        return corrections.list_pending_corrections(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    def apply_pending_correction(self, correction_id, data=None):
        return corrections.apply_pending_correction(self.db, self.caller, correction_id, data)

    @rpc
    def dismiss_pending_correction(self, correction_id, data=None):
        return corrections.dismiss_pending_correction(self.db, self.caller, correction_id, data)

    @rpc
    def render_invoice_pdf(self, invoice_id):
        return pdfs.render_invoice_pdf(self.db, self.caller, invoice_id)

    # -- credit notes ----------------------------------------------------------------------
    @rpc
    @idempotent(reload=reload_entity("credit_note", "get_credit_note"))
    def create_credit_note(self, invoice_id, data):
        return credits.create_credit_note(self.db, self.caller, invoice_id, data)

    @rpc
    def get_credit_note(self, credit_note_id):
        return credits.get_credit_note(self.db, self.caller, credit_note_id)

    @rpc
    def list_credit_notes(self, filters=None, page=1, page_size=50, sort=None):
        return credits.list_credit_notes(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    def render_credit_note_pdf(self, credit_note_id):
        return pdfs.render_credit_note_pdf(self.db, self.caller, credit_note_id)

    # -- billing runs and schedules --------------------------------------------------------
    @rpc
    def start_billing_run(self, data):
        return runs.start_billing_run(self.db.handle, self.caller, data, spawn=eventlet.spawn)

    @rpc
    def get_billing_run(self, run_id):
        return runs.get_billing_run(self.db, self.caller, run_id)

    @rpc
    def list_billing_runs(self, page=1, page_size=50, sort=None):
        return runs.list_billing_runs(self.db, self.caller, page, page_size, sort)

    @rpc
    def get_schedule(self, contract_id):
        return schedules.get_schedule(self.db, self.caller, contract_id)

    # -- payments --------------------------------------------------------------------------
    @rpc
    @idempotent(reload=reload_entity("payment", "get_payment"))
    def record_payment(self, data):
        return payments.record_payment(self.db, self.caller, data, self._customer)

    @rpc
    def get_payment(self, payment_id):
        return payments.get_payment(self.db, self.caller, payment_id)

    @rpc
    def list_payments(self, filters=None, page=1, page_size=50, sort=None):
        return payments.list_payments(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    @idempotent(reload=reload_entity("payment", "get_payment"))
    def confirm_payment(self, payment_id):
        return payments.confirm_payment(self.db, self.caller, payment_id)

    @rpc
    @idempotent
    def allocate_payment(self, payment_id, data=None):
        return payments.allocate_payment(self.db, self.caller, payment_id, data)

    @rpc
    @idempotent(reload=reload_entity("payment", "get_payment"))
    def refund_payment(self, payment_id, data):
        return payments.refund_payment(self.db, self.caller, payment_id, data)

    @rpc
    def lock_payment(self, payment_id, data=None):
        return payments.lock_payment(self.db, self.caller, payment_id, True)

    @rpc
    def unlock_payment(self, payment_id, data=None):
        return payments.lock_payment(self.db, self.caller, payment_id, False)

    @rpc
    def customer_balance(self, customer_id):
        return payments.customer_balance(self.db, self.caller, customer_id)

    @rpc
    def customer_activity(self, customer_id):
        return activity.customer_activity(self.db, self.caller, customer_id)

    # -- tax rates and reports -------------------------------------------------------------
    @rpc
    def list_tax_rates(self):
        return taxes.list_tax_rates(self.db, self.caller)

    @rpc
    def set_tax_rate(self, data):
        return taxes.set_tax_rate(self.db, self.caller, data)

    @rpc
    def receivables_aging(self, args=None):
        return reports.receivables_aging(self.db, self.caller, args)

    @rpc
    def cash_flow(self, args=None):
        return reports.cash_flow(self.db, self.caller, args)

    @rpc
    def revenue(self, args=None):
        return reports.revenue(self.db, self.caller, args)

    @rpc
    def recurring_revenue(self, args=None):
        return reports.recurring_revenue(self.db, self.caller, args)

    @rpc
    def dashboard(self, args=None):
        return dashboard.dashboard(self.db, self.caller, args)

    # -- events in -------------------------------------------------------------------------
    @event_handler(CONTRACTS, ev.CONTRACT_APPROVED)
    def handle_contract_approved(self, event):
        daily.on_contract_event(self.db, event)

    @event_handler(CONTRACTS, ev.CONTRACT_ACTIVATED)
    def handle_contract_activated(self, event):
        daily.on_contract_event(self.db, event)

    @event_handler(CONTRACTS, ev.CONTRACT_AMENDED)
    def handle_contract_amended(self, event):
        schedules.apply_contract_event(self.db, event)

    @event_handler(CONTRACTS, ev.CONTRACT_RENEWED)
    def handle_contract_renewed(self, event):
        daily.on_contract_event(self.db, event)

    @event_handler(CONTRACTS, ev.CONTRACT_TERMINATED)
    def handle_contract_terminated(self, event):
        schedules.apply_contract_event(self.db, event)

    @event_handler(CONTRACTS, ev.CONTRACT_CANCELLED)
    def handle_contract_cancelled(self, event):
        schedules.apply_contract_event(self.db, event)

    @event_handler(CUSTOMERS, ev.CUSTOMER_CREATED)
    def handle_customer_created(self, event):
        customers.apply_customer_event(self.db, event)

    @event_handler(CUSTOMERS, ev.CUSTOMER_UPDATED)
    def handle_customer_updated(self, event):
        customers.apply_customer_event(self.db, event)

    @event_handler(CUSTOMERS, ev.CUSTOMER_DELETED)
    def handle_customer_deleted(self, event):
        customers.apply_customer_event(self.db, event, deleted=True)

    @event_handler(ev.GATEWAY, ev.USER_CREATED)
    def handle_user_created(self, event):
        users.apply_user_event(self.db, event)

    @event_handler(ev.GATEWAY, ev.USER_UPDATED)
    def handle_user_updated(self, event):
        users.apply_user_event(self.db, event)

    # -- daily work ------------------------------------------------------------------------
    def daily_jobs(self, as_of: dt.date) -> dict:
        return daily.daily_jobs(self.db, self.caller, as_of)
