"""The inventory service's tables (its own database; no other service reads them).

Stock per product and warehouse lives in ONE row of ``stock_levels`` (``on_hand``,
``reserved``); every move locks that row (``SELECT ... FOR UPDATE`` on PostgreSQL, the write
lock on SQLite) before it checks and changes it, so concurrent moves never oversell.
"""

from __future__ import annotations

from crm_common.db import BigId, ExactDecimal, UTCDateTime, service_metadata
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata, infra = service_metadata()


# Product lines / categories: a tree; ``path_key`` is the folded path ("devices/printers")
categories = Table(
    "categories",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("parent_id", BigId, ForeignKey("categories.id"), nullable=True),
    Column("path", String(1000), nullable=False),
    Column("path_key", String(1000), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False),
    Column("sku_key", String(64), nullable=False, unique=True),
    Column("name", String(300), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("model", String(200), nullable=True),
    Column("manufacturer", String(200), nullable=True),
    Column("unit", String(20), nullable=False),
    Column("unit_price", ExactDecimal(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("category_id", BigId, ForeignKey("categories.id"), nullable=True, index=True),
    Column("serialized", Boolean, nullable=False),
    Column("reorder_point", Integer, nullable=True),
    Column("reorder_quantity", Integer, nullable=True),
    Column("preferred_partner", String(200), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("search_key", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

price_lists = Table(
    "price_lists",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("tier", String(50), nullable=True),
    Column("currency", String(3), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Dated prices: [valid_from, valid_to] inclusive, valid_to NULL = open-ended. History is kept:
# a change closes the old row and adds a new one.
prices = Table(
    "prices",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("price_list_id", BigId, ForeignKey("price_lists.id"), nullable=False),
    Column("product_id", BigId, ForeignKey("products.id"), nullable=False),
    Column("unit_price", ExactDecimal(), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ix_prices_list_product", prices.c.price_list_id, prices.c.product_id, prices.c.valid_from)

warehouses = Table(
    "warehouses",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(50), nullable=False),
    Column("code_key", String(50), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("address", Text, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# One row per product and warehouse: the row every move locks.
stock_levels = Table(
    "stock_levels",
    metadata,
    Column("product_id", BigId, ForeignKey("products.id"), primary_key=True),
    Column("warehouse_id", BigId, ForeignKey("warehouses.id"), primary_key=True),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

stock_moves = Table(
    "stock_moves",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("product_id", BigId, ForeignKey("products.id"), nullable=False, index=True),
    Column("warehouse_id", BigId, ForeignKey("warehouses.id"), nullable=False, index=True),
    Column("direction", String(3), nullable=False),
    Column("reason", String(20), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("serial_numbers", JSON, nullable=False),
    Column("contract_id", String(64), nullable=True, index=True),
    Column("reference", String(200), nullable=True),
    Column("transfer_id", String(36), nullable=True),
    Column("purchase_order_id", BigId, nullable=True),
    Column("trade_in_id", BigId, nullable=True),
    Column("note", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(100), nullable=True),
)

units = Table(
    "units",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("product_id", BigId, ForeignKey("products.id"), nullable=False),
    Column("serial_number", String(100), nullable=False),
    Column("serial_key", String(100), nullable=False, index=True),
    Column("manufacturing_number", String(100), nullable=True),
    Column("status", String(20), nullable=False),
    Column("warehouse_id", BigId, ForeignKey("warehouses.id"), nullable=True),
    # the contract a unit is reserved for / dispatched or leased to (list_units' filter: the
    # contract page's devices)
    Column("contract_id", String(64), nullable=True, index=True),
    Column("reservation_id", BigId, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("product_id", "serial_key", name="uq_units_product_serial"),
)

unit_history = Table(
    "unit_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("unit_id", BigId, ForeignKey("units.id"), nullable=False, index=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("event", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("warehouse_id", BigId, nullable=True),
    Column("contract_id", String(64), nullable=True),
    Column("move_id", BigId, nullable=True),
    Column("actor", String(100), nullable=True),
    Column("note", Text, nullable=True),
)

reservations = Table(
    "reservations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("contract_id", String(64), nullable=False, index=True),
    Column("product_id", BigId, ForeignKey("products.id"), nullable=False),
    Column("warehouse_id", BigId, ForeignKey("warehouses.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("serial_numbers", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # active, released, dispatched
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

purchase_orders = Table(
    "purchase_orders",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("product_id", BigId, ForeignKey("products.id"), nullable=False, index=True),
    Column("warehouse_id", BigId, ForeignKey("warehouses.id"), nullable=True),
    Column("partner", String(200), nullable=True),
    Column("quantity", Integer, nullable=False),
    Column("status", String(20), nullable=False),  # open, received, cancelled
    Column("trigger", String(20), nullable=False),  # reorder, manual
    Column("created_at", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=True),
)

trade_ins = Table(
    "trade_ins",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", String(64), nullable=True),
    Column("product_id", BigId, ForeignKey("products.id"), nullable=True),
    Column("model", String(200), nullable=True),
    Column("serial_number", String(100), nullable=False),
    Column("manufacturing_number", String(100), nullable=True),
    Column("condition", String(20), nullable=False),
    Column("requested_value", ExactDecimal(), nullable=False),
    Column("approved_value", ExactDecimal(), nullable=True),
    Column("currency", String(3), nullable=False),
    Column("against_product_id", BigId, nullable=True),
    Column("notes", Text, nullable=True),
    Column("status", String(20), nullable=False),  # submitted, approved, rejected, received
    Column("decision_comment", Text, nullable=True),
    Column("submitted_by", String(100), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# CSV import of products: a job, its rows as received (validated and applied at the end)
import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("mode", String(20), nullable=False),
    Column("filename", String(300), nullable=True),
    Column("status", String(20), nullable=False),  # receiving, done, aborted
    Column("user", String(100), nullable=True),
    Column("rows_received", Integer, nullable=False),
    Column("created", Integer, nullable=False),
    Column("errors", JSON, nullable=False),
    Column("message", Text, nullable=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
)

import_rows = Table(
    "import_rows",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("job_id", BigId, ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("line", Integer, nullable=False),
    Column("data", JSON, nullable=False),
)

DOMAIN_TABLES = (
    categories,
    products,
    price_lists,
    prices,
    warehouses,
    stock_levels,
    stock_moves,
    units,
    unit_history,
    reservations,
    purchase_orders,
    trade_ins,
    import_jobs,
    import_rows,
)
