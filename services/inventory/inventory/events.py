"""Events the inventory service publishes (exchange ``inventory.events``, routing key = type)
and consumes. Every event leaves through the transactional outbox (``uow.publish``) in the
envelope ``{event_id, type, version, occurred_at, source, request_id, payload}``; amounts are
strings, quantities integers. Payloads are listed in the service README."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

SOURCE = "inventory"

STOCK_RECEIVED = "stock_received"
STOCK_DISPATCHED = "stock_dispatched"
STOCK_ADJUSTED = "stock_adjusted"
STOCK_TRANSFERRED = "stock_transferred"
STOCK_RESERVED = "stock_reserved"
STOCK_RELEASED = "stock_released"
STOCK_LOW = "stock_low"
PURCHASE_ORDER_CREATED = "purchase_order_created"
PURCHASE_ORDER_RECEIVED = "purchase_order_received"
PRICE_LIST_UPDATED = "price_list_updated"
PRODUCT_CREATED = "product_created"
PRODUCT_UPDATED = "product_updated"
TRADE_IN_SUBMITTED = "trade_in_submitted"
TRADE_IN_DECIDED = "trade_in_decided"

PUBLISHED = (
    STOCK_RECEIVED,
    STOCK_DISPATCHED,
    STOCK_ADJUSTED,
    STOCK_TRANSFERRED,
    STOCK_RESERVED,
    STOCK_RELEASED,
    STOCK_LOW,
    PURCHASE_ORDER_CREATED,
    PURCHASE_ORDER_RECEIVED,
    PRICE_LIST_UPDATED,
    PRODUCT_CREATED,
    PRODUCT_UPDATED,
    TRADE_IN_SUBMITTED,
    TRADE_IN_DECIDED,
)

# consumed
CONTRACTS = "contracts"
CONTRACT_APPROVED = "contract_approved"
CONTRACT_TERMINATED = "contract_terminated"
CONTRACT_CANCELLED = "contract_cancelled"
APPROVALS = "approvals"
APPROVAL_APPROVED = "approval_approved"
APPROVAL_REJECTED = "approval_rejected"


class ContractLine(Schema):
    class Meta:
        unknown = EXCLUDE

    product_id = fields.Raw(required=True)
    quantity = fields.Raw(load_default=1)
    serial_number = fields.String(load_default=None, allow_none=True)
    warehouse_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))


class ContractApprovedPayload(Schema):
    """What inventory needs of ``contracts.contract_approved``: the contract id (``id`` or
    ``contract_id``) and its lines."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Raw(load_default=None)
    contract_id = fields.Raw(load_default=None)
    number = fields.String(load_default=None, allow_none=True)
    lines = fields.List(fields.Nested(ContractLine), load_default=list)


class ContractTerminatedPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.Raw(load_default=None)
    contract_id = fields.Raw(load_default=None)
    reason = fields.String(load_default=None, allow_none=True)


class ApprovalDecidedPayload(Schema):
    """``approvals.approval_approved`` / ``approval_rejected``: inventory acts on
    ``document_type == "trade_in"`` only."""

    class Meta:
        unknown = EXCLUDE

    document_type = fields.String(required=True)
    document_id = fields.Raw(required=True)
    approved_value = fields.Raw(load_default=None, allow_none=True)
    currency = fields.String(load_default=None, allow_none=True)
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


contract_approved_payload = ContractApprovedPayload()
contract_terminated_payload = ContractTerminatedPayload()
approval_decided_payload = ApprovalDecidedPayload()
