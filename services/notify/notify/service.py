"""The notify Nameko service: entrypoints only. Rules live in :mod:`notify.domain` and
:mod:`notify.task_rules`; the work of each call in the use-case modules (:mod:`notify.events_in`
for consumed events, :mod:`notify.inbox`, :mod:`notify.tasks`, :mod:`notify.webhooks`,
:mod:`notify.webhook_ops`, :mod:`notify.rules`, :mod:`notify.invitations`, :mod:`notify.daily`);
sending in :mod:`notify.delivery` / :mod:`notify.channels`."""

from __future__ import annotations

import datetime as dt

from crm_common.db import Database
from crm_common.events import event_handler
from crm_common.idempotency import idempotent, reload_entity
from crm_common.outbox import OutboxRelayProvider
from crm_common.service import ServiceBase
from nameko.dependency_providers import Config

from . import (
    daily,
    event_log,
    events_in,
    inbox,
    invitations,
    public_events,
    rules,
    tasks,
    webhook_ops,
    webhooks,
)
from .delivery import DeliveryWorkerProvider
from .exceptions import rpc
from .models import metadata


def _on(source: str, event_type: str):
    """One idempotent handler per consumed event; all share :func:`events_in.handle_event`
    (read copies, notifications, deliveries, tasks, reminders in one transaction)."""

    @event_handler(source, event_type)
    def handle(self, event):
        events_in.handle_event(self.db, event)

    handle.__name__ = f"handle_{event_type}"
    return handle


class NotifyService(ServiceBase):
    name = "notify"

    db = Database(metadata)
    relay = OutboxRelayProvider()
    delivery = DeliveryWorkerProvider()
    config = Config()

    # -- inbox -----------------------------------------------------------------------------
    @rpc
    def list_notifications(self, unread=None, page=1, page_size=50, sort=None):
        return inbox.list_notifications(self.db, self.caller, unread, page, page_size, sort)

    @rpc
    def mark_notification_read(self, notification_id):
        return inbox.mark_notification_read(self.db, self.caller, notification_id)

    @rpc
    def mark_all_notifications_read(self):
        return inbox.mark_all_notifications_read(self.db, self.caller)

    # -- tasks -----------------------------------------------------------------------------
    @rpc
    def list_tasks(self, filters=None, page=1, page_size=50, sort=None):
        return tasks.list_tasks(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    def get_task(self, task_id):
        return tasks.get_task(self.db, self.caller, task_id)

    @rpc
    def update_task(self, task_id, data):
        return tasks.update_task(self.db, self.caller, task_id, data)

    # -- webhooks (admin) --------------------------------------------------------------------
    @rpc(sensitive_arguments=("data.secret",))
    @idempotent(reload=reload_entity("webhook", "get_webhook"))
    def create_webhook(self, data):
        return webhooks.create_webhook(self.db, self.caller, data, self.config)

    @rpc
    def list_webhooks(self, page=1, page_size=50, sort=None):
        return webhooks.list_webhooks(self.db, self.caller, page, page_size, sort)

    @rpc
    def get_webhook(self, webhook_id):
        return webhooks.get_webhook(self.db, self.caller, webhook_id)

    @rpc(sensitive_arguments=("data.secret",))
    def update_webhook(self, webhook_id, data):
        return webhooks.update_webhook(self.db, self.caller, webhook_id, data, self.config)

    @rpc
    def delete_webhook(self, webhook_id):
        return webhooks.delete_webhook(self.db, self.caller, webhook_id)

    @rpc
    def list_webhook_deliveries(self, webhook_id, page=1, page_size=50, sort=None):
        return webhooks.list_webhook_deliveries(self.db, self.caller, webhook_id, page, page_size, sort)

    @rpc
    def rotate_webhook_secret(self, webhook_id, data=None):
        return webhook_ops.rotate_webhook_secret(self.db, self.caller, webhook_id, data)

    @rpc
    def redeliver_webhook_delivery(self, webhook_id, delivery_id):
        return webhook_ops.redeliver_webhook_delivery(self.db, self.caller, webhook_id, delivery_id)

    @rpc
    def ping_webhook(self, webhook_id):
        return webhook_ops.ping_webhook(self.db, self.caller, webhook_id, self.config)

    # -- the event log (public events, 30 days) -----------------------------------------------
    @rpc
    def list_events(self, after=None, event_type=None, page=1, page_size=100):
        return event_log.list_events(self.db, self.caller, after, event_type, page, page_size)

    # -- portal invitations (system callers: the gateway) --------------------------------------
    @rpc(sensitive_arguments=("data.accept_url",))
    def send_portal_invitation(self, data):
        return invitations.send_portal_invitation(self.db, self.caller, data)

    # -- rules (admin) -----------------------------------------------------------------------
    @rpc
    def list_rules(self):
        return rules.list_rules(self.db, self.caller)

    @rpc
    def update_rule(self, event_type, data):
        return rules.update_rule(self.db, self.caller, event_type, data)

    @rpc
    def reset_rule(self, event_type):
        return rules.reset_rule(self.db, self.caller, event_type)

    # -- events in ---------------------------------------------------------------------------
    handle_user_created = _on("gateway", "user_created")
    handle_user_updated = _on("gateway", "user_updated")
    handle_customer_created = _on("customers", "customer_created")
    handle_customer_updated = _on("customers", "customer_updated")
    handle_customer_deleted = _on("customers", "customer_deleted")
    handle_follow_up_due = _on("customers", "follow_up_due")
    handle_opportunity_stage_changed = _on("customers", "opportunity_stage_changed")
    handle_opportunity_won = _on("customers", "opportunity_won")
    handle_contract_submitted = _on("contracts", "contract_submitted")
    handle_contract_approved = _on("contracts", "contract_approved")
    handle_contract_activated = _on("contracts", "contract_activated")
    handle_contract_amended = _on("contracts", "contract_amended")
    handle_contract_expiring = _on("contracts", "contract_expiring")
    handle_contract_expired = _on("contracts", "contract_expired")
    handle_contract_renewed = _on("contracts", "contract_renewed")
    handle_contract_terminated = _on("contracts", "contract_terminated")
    handle_contract_cancelled = _on("contracts", "contract_cancelled")
    handle_service_request_created = _on("contracts", "service_request_created")
    handle_approval_requested = _on("approvals", "approval_requested")
    handle_approval_step_decided = _on("approvals", "approval_step_decided")
    handle_approval_approved = _on("approvals", "approval_approved")
    handle_approval_rejected = _on("approvals", "approval_rejected")
    handle_approval_withdrawn = _on("approvals", "approval_withdrawn")
    handle_approval_overdue = _on("approvals", "approval_overdue")
    handle_invoice_issued = _on("billing", "invoice_issued")
    handle_invoice_overdue = _on("billing", "invoice_overdue")
    handle_payment_received = _on("billing", "payment_received")
    handle_invoice_paid = _on("billing", "invoice_paid")
    handle_invoice_voided = _on("billing", "invoice_voided")
    handle_credit_note_issued = _on("billing", "credit_note_issued")
    handle_stock_received = _on("inventory", "stock_received")
    handle_stock_reserved = _on("inventory", "stock_reserved")
    handle_stock_released = _on("inventory", "stock_released")
    handle_stock_dispatched = _on("inventory", "stock_dispatched")
    handle_stock_low = _on("inventory", "stock_low")
    handle_purchase_order_created = _on("inventory", "purchase_order_created")

    # -- daily work --------------------------------------------------------------------------
    def daily_jobs(self, as_of: dt.date) -> dict:
        return {
            "reminders_fired": daily.fire_due_reminders(self.db, as_of),
            "birthdays": daily.fire_birthdays(self.db, as_of),
            "events_purged": event_log.purge(self.db, as_of),
        }


# every other public event of the catalogue (its source's exchange, its type): the event log and
# webhooks see all of them, not only the ones the handlers above were written for
for _source, _type in public_events.extra_subscriptions():
    _name = (
        f"handle_{_type}" if not hasattr(NotifyService, f"handle_{_type}") else f"handle_{_source}_{_type}"
    )
    setattr(NotifyService, _name, _on(_source, _type))
