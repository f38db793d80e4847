"""The inventory Nameko service: entrypoints only. Rules live in :mod:`inventory.domain`, the
work of each call in the use-case modules (:mod:`inventory.catalogue`, ``price_lists``, ``stock``,
``units``, ``reservations``, ``purchase_orders``, ``trade_ins``) and :mod:`inventory.importer`."""

from __future__ import annotations

import datetime as dt

from crm_common.db import Database
from crm_common.events import event_handler
from crm_common.idempotency import idempotent, reload_entity
from crm_common.outbox import OutboxRelayProvider
from crm_common.rpc import RpcProxy
from crm_common.service import ServiceBase

from . import catalogue, events, importer, price_lists, purchase_orders, reservations, stock, trade_ins, units
from .exceptions import rpc
from .models import metadata


class InventoryService(ServiceBase):
    name = "inventory"

    db = Database(metadata)
    relay = OutboxRelayProvider()
    # a trade-in's customer is looked up in the caller's scope (the context travels with the call)
    customers_rpc = RpcProxy("customers")

    # -- catalogue -------------------------------------------------------------------------
    @rpc
    @idempotent
    def create_category(self, data):
        return catalogue.create_category(self.db, self.caller, data)

    @rpc
    def list_categories(self):
        return catalogue.list_categories(self.db, self.caller)

    @rpc
    @idempotent(reload=reload_entity("product", "get_product"))
    def create_product(self, data):
        return catalogue.create_product(self.db, self.caller, data)

    @rpc
    def get_product(self, product_id):
        return catalogue.get_product(self.db, self.caller, product_id)

    @rpc
    def get_products(self, product_ids):
        return catalogue.get_products(self.db, self.caller, product_ids)

    @rpc
    def list_products(self, filters=None, page=1, page_size=50, sort=None):
        return catalogue.list_products(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    def update_product(self, product_id, data):
        return catalogue.update_product(self.db, self.caller, product_id, data)

    # -- price lists -----------------------------------------------------------------------
    @rpc
    @idempotent
    def create_price_list(self, data):
        return price_lists.create_price_list(self.db, self.caller, data)

    @rpc
    def get_price_list(self, price_list_id, as_of=None):
        return price_lists.get_price_list(self.db, self.caller, price_list_id, as_of)

    @rpc
    def list_price_lists(self, filters=None, page=1, page_size=50, sort=None):
        return price_lists.list_price_lists(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    def set_prices(self, price_list_id, data):
        return price_lists.set_prices(self.db, self.caller, price_list_id, data)

    @rpc
    def bulk_update_prices(self, price_list_id, data):
        return price_lists.bulk_update_prices(self.db, self.caller, price_list_id, data)

    @rpc
    def price_for(self, product_id, channel, date=None, currency=None, tier=None):
        return price_lists.price_for(self.db, self.caller, product_id, channel, date, currency, tier)

    # -- warehouses and stock --------------------------------------------------------------
    @rpc
    @idempotent(reload=reload_entity("warehouse", "get_warehouse"))
    def create_warehouse(self, data):
        return stock.create_warehouse(self.db, self.caller, data)

    @rpc
    def get_warehouse(self, warehouse_id):
        return stock.get_warehouse(self.db, self.caller, warehouse_id)

    @rpc
    def list_warehouses(self, page=1, page_size=50, sort=None):
        return stock.list_warehouses(self.db, self.caller, page, page_size, sort)

    @rpc
    def get_stock(self, filters=None, page=1, page_size=50, sort=None):
        return stock.get_stock(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    @idempotent
    def record_move(self, data):
        return stock.record_move(self.db, self.caller, data)

    @rpc
    @idempotent
    def transfer_stock(self, data):
        return stock.transfer_stock(self.db, self.caller, data)

    @rpc
    def list_moves(self, filters=None, page=1, page_size=50, sort=None):
        return stock.list_moves(self.db, self.caller, filters, page, page_size, sort)

    # -- units -----------------------------------------------------------------------------
    @rpc
    def get_unit(self, serial_number, product_id=None):
        return units.get_unit(self.db, self.caller, serial_number, product_id)

    @rpc
    def list_units(self, filters=None, page=1, page_size=50, sort=None):
        return units.list_units(self.db, self.caller, filters, page, page_size, sort)

    # -- reservations ----------------------------------------------------------------------
    @rpc
    def reserve_stock(self, data):
        return reservations.reserve_stock(self.db, self.caller, data)

    @rpc
    def release_reservations(self, contract_id, reason=None):
        return reservations.release_reservations(self.db, self.caller, contract_id, reason)

    @rpc
    def dispatch_reservations(self, contract_id, lease=False):
        return reservations.dispatch_reservations(self.db, self.caller, contract_id, lease)

    @rpc
    def list_reservations(self, filters=None, page=1, page_size=50, sort=None):
        return reservations.list_reservations(self.db, self.caller, filters, page, page_size, sort)

    # -- purchase orders -------------------------------------------------------------------
    @rpc
    @idempotent(reload=reload_entity("purchase_order", "get_purchase_order"))
    def create_purchase_order(self, data):
        return purchase_orders.create_purchase_order(self.db, self.caller, data)

    @rpc
    def get_purchase_order(self, purchase_order_id):
        return purchase_orders.get_purchase_order(self.db, self.caller, purchase_order_id)

    @rpc
    def list_purchase_orders(self, filters=None, page=1, page_size=50, sort=None):
        return purchase_orders.list_purchase_orders(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    @idempotent(reload=reload_entity("purchase_order", "get_purchase_order"))
    def receive_purchase_order(self, purchase_order_id, data=None):
        return purchase_orders.receive_purchase_order(self.db, self.caller, purchase_order_id, data)

    @rpc
    def cancel_purchase_order(self, purchase_order_id, reason=None):
        return purchase_orders.cancel_purchase_order(self.db, self.caller, purchase_order_id, reason)

    # -- trade-ins -------------------------------------------------------------------------
    @rpc
    @idempotent(reload=reload_entity("trade_in", "get_trade_in"))
    def create_trade_in(self, data):
        return trade_ins.create_trade_in(self.db, self.caller, data, self.customers_rpc.get_customer)

    @rpc
    def get_trade_in(self, trade_in_id):
        return trade_ins.get_trade_in(self.db, self.caller, trade_in_id)

    @rpc
    def list_trade_ins(self, filters=None, page=1, page_size=50, sort=None):
        return trade_ins.list_trade_ins(self.db, self.caller, filters, page, page_size, sort)

    @rpc
    def decide_trade_in(self, trade_in_id, data):
        return trade_ins.decide_trade_in(self.db, self.caller, trade_in_id, data)

    @rpc
    def receive_trade_in(self, trade_in_id, data):
        return trade_ins.receive_trade_in(self.db, self.caller, trade_in_id, data)

    # -- CSV import of products --------------------------------------------------------------
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

    # -- events in -------------------------------------------------------------------------
    @event_handler(events.CONTRACTS, events.CONTRACT_APPROVED)
    def handle_contract_approved(self, event):
        reservations.handle_contract_approved(self.db, event)

    @event_handler(events.CONTRACTS, events.CONTRACT_TERMINATED)
    def handle_contract_terminated(self, event):
        reservations.handle_contract_terminated(self.db, event)

    @event_handler(events.CONTRACTS, events.CONTRACT_CANCELLED)
    def handle_contract_cancelled(self, event):
        # an approved contract cancelled before it started: what it reserved goes back
        reservations.handle_contract_terminated(self.db, event)

    @event_handler(events.APPROVALS, events.APPROVAL_APPROVED)
    def handle_approval_approved(self, event):
        trade_ins.handle_approval_decided(self.db, event, approved=True)

    @event_handler(events.APPROVALS, events.APPROVAL_REJECTED)
    def handle_approval_rejected(self, event):
        trade_ins.handle_approval_decided(self.db, event, approved=False)

    # -- daily work ------------------------------------------------------------------------
    def daily_jobs(self, as_of: dt.date) -> dict:
        return {
            "purchase_orders_raised": purchase_orders.reorder_scan(self.db),
            "imports_expired": importer.expire_idle_imports(self.db),
        }
