"""Events the contracts service publishes (exchange ``contracts.events``, routing key = type) and
consumes. Every event leaves through the transactional outbox in the envelope ``{event_id, type,
version, occurred_at, source, request_id, payload}``; amounts are exact decimal strings (not
rounded), dates ISO 8601.

Every ``contract_*`` payload carries the whole contract as billing, inventory and notify need it
(:func:`contracts.usecases.contract_payload`): ``id`` and ``contract_id``, ``number`` and
``contract_number``, ``status``, ``version``, ``customer_id``, ``customer_name``,
``customer_code``, ``customer_language`` (also as ``language``), ``owner_id``,
``customer_owner_id``, ``kind``, ``title``, ``currency``, ``start_date``, ``end_date``,
``total`` (per billing period), ``term_value``, ``billing`` {frequency, in_advance,
payment_terms_days, anchor_day}, ``payment_terms_days``, ``auto_renew``, ``notice_days``,
``renewal_uplift_percent``, ``department``, ``company``, ``renewal_of_id``, and ``lines``
[{id, line_id, product_id, sku, product_name, product_kind, model, serial_number,
manufacturing_number, quantity, unit_price, discount_percent, amount, start_date, end_date
(the line's own, else the contract's), warehouse_id}] — plus the fields named per event in the
README.

``service_request_created`` (a portal user, or staff for them, asked for a renewal quote on a
contract or a service call on an installed item; notify opens a task for ``owner_id``):
``service_request_id``, ``kind`` (``renewal_quote`` | ``service_call``), ``customer_id``,
``customer_name``, ``contract_id``, ``contract_number``, ``line_id`` (service calls),
``serial_number``, ``product_name`` (service calls, else null), ``owner_id`` (the contract's
owner, else the customer's owner), ``message``, ``requested_by`` (user id), ``language`` (the
customer's), ``created_at``.

Consumed: ``approvals.approval_*`` (contracts, amendments, price updates, terminations,
change batches), ``billing.*`` (progress)
and ``gateway.user_created`` / ``user_updated`` (the users read copy: id, department, roles,
active).
"""

from __future__ import annotations

SOURCE = "contracts"

CONTRACT_CREATED = "contract_created"
CONTRACT_SUBMITTED = "contract_submitted"
CONTRACT_APPROVED = "contract_approved"
CONTRACT_REJECTED = "contract_rejected"
CONTRACT_ACTIVATED = "contract_activated"
CONTRACT_AMENDED = "contract_amended"
CONTRACT_TERMINATED = "contract_terminated"
CONTRACT_EXPIRING = "contract_expiring"
CONTRACT_EXPIRED = "contract_expired"
CONTRACT_RENEWED = "contract_renewed"
CONTRACT_CANCELLED = "contract_cancelled"
CONTRACT_AMOUNTS_LOCKED = "contract_amounts_locked"
CONTRACT_AMOUNTS_UNLOCKED = "contract_amounts_unlocked"
CONTRACT_ATTACHMENT_ADDED = "contract_attachment_added"
AMENDMENT_SUBMITTED = "amendment_submitted"
AMENDMENT_REJECTED = "amendment_rejected"
PRICE_UPDATE_SUBMITTED = "price_update_submitted"
TERMINATION_SUBMITTED = "termination_submitted"
CHANGE_BATCH_SUBMITTED = "change_batch_submitted"
CONTRACT_ARCHIVED = "contract_archived"
SERVICE_REQUEST_CREATED = "service_request_created"

PUBLISHED = (
    CONTRACT_CREATED,
    CONTRACT_SUBMITTED,
    CONTRACT_APPROVED,
    CONTRACT_REJECTED,
    CONTRACT_ACTIVATED,
    CONTRACT_AMENDED,
    CONTRACT_TERMINATED,
    CONTRACT_EXPIRING,
    CONTRACT_EXPIRED,
    CONTRACT_RENEWED,
    CONTRACT_CANCELLED,
    CONTRACT_AMOUNTS_LOCKED,
    CONTRACT_AMOUNTS_UNLOCKED,
    CONTRACT_ATTACHMENT_ADDED,
    AMENDMENT_SUBMITTED,
    AMENDMENT_REJECTED,
    PRICE_UPDATE_SUBMITTED,
    TERMINATION_SUBMITTED,
    CHANGE_BATCH_SUBMITTED,
    CONTRACT_ARCHIVED,
    SERVICE_REQUEST_CREATED,
)

# document types this service asks the approvals service to decide
DOC_CONTRACT = "contract"
DOC_AMENDMENT = "amendment"
DOC_PRICE_UPDATE = "price_update"
DOC_TERMINATION = "termination"  # a back-dated termination (an amendment of kind termination)
DOC_CHANGE_BATCH = "change_batch"  # a co-termination or restructuring of contracts in force

# consumed
APPROVALS = "approvals"
APPROVAL_APPROVED = "approval_approved"
APPROVAL_REJECTED = "approval_rejected"
APPROVAL_WITHDRAWN = "approval_withdrawn"
BILLING = "billing"
GATEWAY = "gateway"
USER_CREATED = "user_created"
USER_UPDATED = "user_updated"
