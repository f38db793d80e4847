"""The approvals Nameko service: entrypoints only. Rules live in :mod:`approvals.domain`, the
work of each call in :mod:`approvals.usecases`; ``*_submitted`` handlers come from
:mod:`approvals.registry`."""

from __future__ import annotations

import datetime as dt

from crm_common.db import Database, utcnow
from crm_common.events import event_handler
from crm_common.idempotency import idempotent, reload_entity
from crm_common.outbox import OutboxRelayProvider
from crm_common.service import ServiceBase
from nameko.timer import timer

from . import decided_elsewhere, domain, events, registry, usecases
from .exceptions import rpc
from .models import metadata

ESCALATION_INTERVAL_SECONDS = 3600


class ApprovalsService(ServiceBase):
    name = "approvals"

    db = Database(metadata)
    relay = OutboxRelayProvider()

    # -- requests ------------------------------------------------------------------------
    @rpc
    def request_approval(
        self,
        document_type,
        document_id,
        amount=None,
        currency=None,
        department=None,
        submitter=None,
        summary=None,
        **extra,
    ):
        data = {
            "document_type": document_type,
            "document_id": document_id,
            "amount": amount,
            "currency": currency,
            "department": department,
            "submitter": submitter,
            "summary": summary,
            **extra,
        }
        return usecases.request_approval(self.db, self.caller, data)

    @rpc
    def get_approval(self, approval_id):
        return usecases.get_approval(self.db, self.caller, approval_id)

    @rpc
    def list_approvals(self, filters=None, page=1, page_size=50, sort=None):
        return usecases.list_approvals(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    def decide_approval(self, approval_id, data):
        return usecases.decide(self.db, self.caller, approval_id, data)

    @rpc
    def withdraw_approval(self, approval_id, comment=None):
        return usecases.withdraw(self.db, self.caller, approval_id, comment)

    @rpc
    def get_approval_sheet(self, approval_id, language=None):
        return usecases.approval_sheet(self.db, self.caller, approval_id, language)

    # -- flows -----------------------------------------------------------------------------
    @rpc
    @idempotent(reload=reload_entity("approval_flow", "get_flow"))
    def create_flow(self, data):
        return usecases.create_flow(self.db, self.caller, data)

    @rpc
    def update_flow(self, flow_id, data):
        return usecases.update_flow(self.db, self.caller, flow_id, data)

    @rpc
    def get_flow(self, flow_id):
        return usecases.get_flow(self.db, self.caller, flow_id)

    @rpc
    def list_flows(self, filters=None, page=1, page_size=50, sort=None):
        return usecases.list_flows(self.db, self.caller, filters, page, page_size, sort)

    # -- events in -----------------------------------------------------------------------------
    @event_handler(events.GATEWAY, events.USER_CREATED)
    def handle_user_created(self, event):
        usecases.apply_user_event(self.db, event)

    @event_handler(events.GATEWAY, events.USER_UPDATED)
    def handle_user_updated(self, event):
        usecases.apply_user_event(self.db, event)

    # a trade-in decided directly in inventory: its pending request is withdrawn
    @event_handler(events.INVENTORY, events.TRADE_IN_DECIDED)
    def handle_inventory_trade_in_decided(self, event):
        decided_elsewhere.close_pending(self.db, event, "trade_in")

    # -- escalation ----------------------------------------------------------------------------
    @timer(interval=ESCALATION_INTERVAL_SECONDS)
    def escalate_overdue(self):
        usecases.escalate_overdue(self.db, utcnow())

    def daily_jobs(self, as_of: dt.date) -> dict:
        return {
            "approvals_overdue": usecases.escalate_overdue(self.db, domain.escalation_moment(as_of, utcnow()))
        }


# one idempotent handler per registered ``<source>.<document_type>_submitted`` event
registry.install(ApprovalsService, registry.configured())
