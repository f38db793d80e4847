"""Events the contracts service publishes (exchange ``contracts.events``, routing key = type) and
consumes.

Every event leaves through the transactional outbox in the envelope ``{event_id, type, version,
occurred_at, source, request_id, payload}``. What each payload holds is declared once, below, in
``CATALOGUE`` (one :class:`~crm_common.catalogue.EventSpec` per published type, its payload a
marshmallow schema); ``make events`` generates ``docs/events/`` (AsyncAPI and a JSON Schema per
event) from it, and the tests check every published payload against its declaration. Amounts are
exact decimal strings (not rounded), dates and timestamps ISO 8601.

Every ``contract_*`` payload but the amounts lock carries the whole contract as billing,
inventory and notify need it (:class:`ContractPayload`, built by
:func:`contracts.usecases.contract_payload`), plus the fields of its event; optional fields are
present only in the variant named in their description.

Consumed: ``approvals.approval_*`` (contracts, amendments, price updates, terminations, change
batches), ``billing.*`` (progress) and ``gateway.user_created`` / ``user_updated`` (the users read
copy: id, department, roles, active).
"""

from __future__ import annotations

from crm_common.catalogue import EventSpec
from crm_common.money import Money
from marshmallow import Schema, fields, validate

from . import domain

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

# the kinds of change a contract_amended reports, and of restructuring
CHANGES = ("amendment", "co_terminate", "price_update", "restructure")
RESTRUCTURE_ACTIONS = ("move_lines", "split", "merge")
BATCH_KINDS = ("co_terminate", "restructure")
AMENDMENT_STATUSES = ("pending_approval", "applied", "rejected", "withdrawn", "failed")
OUTCOMES = ("rejected", "withdrawn")


# --------------------------------------------------------------------------------------
# Field helpers: ``req`` always present (``null`` only with ``none=True``), ``opt`` present only
# in some variants of the event
# --------------------------------------------------------------------------------------


def _field(cls: type[fields.Field], required: bool, none: bool, desc: str | None, **kw) -> fields.Field:
    metadata = {"description": desc} if desc else {}
    return cls(required=required, allow_none=none, metadata=metadata, **kw)


def req(cls: type[fields.Field], desc: str | None = None, none: bool = False, **kw) -> fields.Field:
    return _field(cls, True, none, desc, **kw)


def opt(cls: type[fields.Field], desc: str | None = None, none: bool = False, **kw) -> fields.Field:
    return _field(cls, False, none, desc, **kw)


def one_of(values: tuple) -> validate.OneOf:
    return validate.OneOf(values)


def dec(desc: str | None = None, none: bool = False, **kw) -> fields.Field:
    """A decimal string (never rounded): an amount, or ``kind`` ``quantity`` / ``percent``."""
    return _field(Money, True, none, desc, **kw)


def ids(desc: str | None = None) -> fields.Field:
    return opt(fields.List, desc, cls_or_instance=fields.Integer())


# --------------------------------------------------------------------------------------
# The contract as every contract_* event carries it
# --------------------------------------------------------------------------------------


class BillingPayload(Schema):
    frequency = req(fields.String, validate=one_of(domain.FREQUENCIES))
    in_advance = req(fields.Boolean)
    payment_terms_days = req(fields.Integer)
    anchor_day = req(
        fields.Integer, "day of the month periods start on (null: the term's start day)", none=True
    )


class ContractLinePayload(Schema):
    id = req(fields.Integer)
    line_id = req(fields.Integer, "the same as id")
    product_id = req(fields.Integer)
    sku = req(fields.String, none=True)
    product_name = req(fields.String)
    product_kind = req(fields.String, none=True)
    category = req(fields.String, "the product's category path", none=True)
    model = req(fields.String, none=True)
    serial_number = req(fields.String, none=True)
    manufacturing_number = req(fields.String, none=True)
    quantity = dec(kind="quantity")
    unit_price = dec()
    discount_percent = dec(kind="percent")
    amount = dec("quantity × unit price × (1 − discount), per billing period")
    start_date = req(fields.Date, "the line's own start, else the contract's")
    end_date = req(fields.Date, "the line's own end, else the contract's")
    warehouse_id = req(fields.Integer, none=True)


class ContractPayload(Schema):
    """The whole contract, as :func:`contracts.usecases.contract_payload` builds it."""

    id = req(fields.Integer)
    contract_id = req(fields.Integer, "the same as id")
    number = req(fields.String)
    contract_number = req(fields.String, "the same as number")
    status = req(fields.String, validate=one_of(domain.STATUSES))
    version = req(fields.Integer, "the last approved version (0: never approved)")
    customer_id = req(fields.Integer)
    customer_name = req(fields.String)
    customer_code = req(fields.String, none=True)
    customer_language = req(fields.String, none=True)
    language = req(fields.String, "the same as customer_language", none=True)
    owner_id = req(fields.Integer, none=True)
    customer_owner_id = req(fields.Integer, none=True)
    kind = req(fields.String, validate=one_of(domain.KINDS))
    title = req(fields.String)
    currency = req(fields.String)
    start_date = req(fields.Date)
    end_date = req(fields.Date)
    total = dec("sum of the line amounts, per billing period")
    term_value = dec("what the contract is worth over its whole term")
    billing = req(fields.Nested, nested=BillingPayload)
    payment_terms_days = req(fields.Integer)
    auto_renew = req(fields.Boolean)
    notice_days = req(fields.Integer)
    renewal_uplift_percent = dec(kind="percent", allow_negative=True)
    department = req(fields.String, none=True)
    company = req(fields.String, none=True)
    renewal_of_id = req(fields.Integer, "the contract this one renews", none=True)
    lines = req(fields.List, cls_or_instance=fields.Nested(ContractLinePayload))


class SplitFrom(Schema):
    split_from_id = opt(fields.Integer, "split off that contract (restructure)")
    split_from_number = opt(fields.String, "split off that contract (restructure)")


class ContractCreated(ContractPayload, SplitFrom):
    pass


class RedListOverride(Schema):
    reason = req(fields.String, "the sales manager's reason")
    red_list_reason = req(fields.String, "why the customer is on the red list", none=True)
    by = req(fields.String, "actor, e.g. user:12")


class ContractSubmitted(ContractPayload):
    document_type = req(fields.String, validate=one_of((DOC_CONTRACT,)))
    document_id = req(fields.Integer, "the contract's id")
    submitter_id = req(fields.Integer, none=True)
    amount = dec("the term value")
    contract_kind = req(fields.String, validate=one_of(domain.KINDS))
    summary = req(fields.String, "one line for the approver: number, title, customer, term value")
    red_list_override = opt(fields.Nested, "the customer is red-listed and a sales manager overrode it",
                            nested=RedListOverride)  # fmt: skip


class ContractApproved(ContractPayload):
    approval_id = req(fields.String, none=True)
    approved_by = req(fields.Integer, "the approver's user id", none=True)


class ContractRejected(ContractPayload):
    comment = req(fields.String, none=True)
    rejected_by = req(fields.Integer, "the approver's user id", none=True)


class ContractActivated(ContractPayload, SplitFrom):
    as_of = opt(fields.Date, "the day of the daily job that activated it (also automatic renewals)")
    imported = opt(fields.Boolean, "true: imported as already in force")


class AmendmentRef(Schema):
    id = req(fields.Integer)
    number = req(fields.String)
    reason = req(fields.String)


class ContractAmended(ContractPayload):
    change = req(fields.String, validate=one_of(CHANGES))
    effective_date = req(fields.Date, "billing re-plans from this day")
    amendment = opt(fields.Nested, "change amendment: the amendment applied", nested=AmendmentRef)
    previous_version = opt(fields.Integer, "change amendment")
    reason = opt(fields.String, "every change but amendment", none=True)
    previous_end_date = opt(fields.Date, "change co_terminate")
    percent = opt(Money, "change price_update", kind="percent", allow_negative=True)
    batch_id = opt(fields.Integer, "change price_update through approval")
    amendment_id = opt(fields.Integer, "change price_update through approval")
    amendment_number = opt(fields.String, "change price_update through approval")
    action = opt(fields.String, "change restructure", validate=one_of(RESTRUCTURE_ACTIONS))
    lines_moved_in = ids("restructure: line ids moved onto this contract")
    from_contract_ids = ids("restructure move_lines: where the lines came from")
    lines_moved_out = ids("restructure: line ids moved off this contract")
    to_contract_id = opt(fields.Integer, "restructure move_lines / split: where the lines went")
    split_into_number = opt(fields.String, "restructure split: the new contract's number")
    merged_contract_ids = ids("restructure merge: the contracts merged into this one")


class ContractTerminated(ContractPayload):
    reason = req(fields.String)
    effective_date = req(fields.Date, "the last day in force; billing stops, inventory releases")
    approval_id = opt(fields.String, "a termination request that was approved", none=True)
    amendment_id = opt(fields.Integer, "a termination request that was approved: the request")
    merged_into_id = opt(fields.Integer, "ended by a merge into that contract")
    merged_into_number = opt(fields.String, "ended by a merge into that contract")
    lines_moved_out = ids("ended by a merge: its lines, now on merged_into_id")


class ContractCancelled(ContractPayload):
    reason = req(fields.String, none=True)
    merged_into_id = opt(fields.Integer, "ended by a merge into that contract")
    merged_into_number = opt(fields.String, "ended by a merge into that contract")


class ContractExpiring(ContractPayload):
    days = req(fields.Integer, "the notice window: 90, 60 or 30", validate=one_of(domain.EXPIRY_WINDOWS))
    days_left = req(fields.Integer)
    notice_deadline = req(fields.Date, "the last day notice can be given")
    as_of = req(fields.Date)


class ContractExpired(ContractPayload):
    as_of = req(fields.Date)


class ContractRenewed(ContractPayload):
    renewal_id = req(fields.Integer)
    renewal_number = req(fields.String)
    renewal = req(fields.Nested, "the renewal, the contract now in force", nested=ContractPayload)
    as_of = req(fields.Date)


class ContractArchived(ContractPayload):
    archived_from = req(fields.String, validate=one_of(domain.ENDED))


class AmountsLock(Schema):
    id = req(fields.Integer)
    contract_id = req(fields.Integer, "the same as id")
    number = req(fields.String)
    by = req(fields.String, "actor, e.g. user:12")


class Attachment(Schema):
    id = req(fields.Integer)
    contract_id = req(fields.Integer)
    amendment_id = req(fields.Integer, none=True)
    filename = req(fields.String)
    content_type = req(fields.String)
    size = req(fields.Integer, "bytes")
    sha256 = req(fields.String)
    description = req(fields.String, none=True)
    uploaded_by = req(fields.String, "the uploader's user name", none=True)
    uploaded_by_id = req(fields.Integer, none=True)
    created_at = req(fields.AwareDateTime)
    download_url = req(fields.String, "path under the gateway")


class AttachmentAdded(Schema):
    contract_id = req(fields.Integer)
    contract_number = req(fields.String)
    attachment = req(fields.Nested, nested=Attachment)


# --------------------------------------------------------------------------------------
# Change orders sent to the approvals service
# --------------------------------------------------------------------------------------


class TerminationChange(Schema):
    effective_date = req(fields.Date)
    reason = req(fields.String)


class AmendmentChanges(Schema):
    changes = req(fields.Dict, "header fields changed: {field: new value}", keys=fields.String())
    add_lines = req(fields.List, "lines added, as validated", cls_or_instance=fields.Dict())
    remove_line_ids = req(fields.List, cls_or_instance=fields.Integer())
    change_lines = req(fields.List, "{id, field: new value}", cls_or_instance=fields.Dict())
    termination = opt(fields.Nested, "a termination request", nested=TerminationChange)
    price_update = opt(fields.Dict, "one of a price-update batch", keys=fields.String())
    co_terminate = opt(fields.Dict, "one of a co-termination batch", keys=fields.String())
    restructure = opt(fields.Dict, "one of a restructuring batch", keys=fields.String())


class Amendment(Schema):
    id = req(fields.Integer)
    contract_id = req(fields.Integer)
    number = req(fields.String)
    status = req(fields.String, validate=one_of(AMENDMENT_STATUSES))
    reason = req(fields.String)
    impact = req(fields.String, none=True)
    effective_date = req(fields.Date)
    changes = req(fields.Nested, nested=AmendmentChanges)
    amount_before = dec("the contract's total before", none=True)
    amount_after = dec("the contract's total after", none=True)
    batch_id = req(fields.Integer, none=True)
    approval_id = req(fields.String, none=True)
    from_version = req(fields.Integer, none=True)
    to_version = req(fields.Integer, none=True)
    comment = req(fields.String, none=True)
    created_at = req(fields.AwareDateTime)
    created_by = req(fields.String, "actor, e.g. user:12", none=True)
    decided_at = req(fields.AwareDateTime, none=True)


class AmendmentRejected(Amendment):
    outcome = req(fields.String, validate=one_of(OUTCOMES))


class ChangeOrderSubmitted(Schema):
    """An amendment or a termination request for the approvals service."""

    document_type = req(fields.String)
    document_id = req(fields.Integer, "the amendment's id")
    submitter_id = req(fields.Integer, none=True)
    amount = dec("the contract's total after the change")
    currency = req(fields.String)
    department = req(fields.String, none=True)
    company = req(fields.String, none=True)
    contract_kind = req(fields.String, validate=one_of(domain.KINDS))
    summary = req(fields.String, "one line for the approver")
    contract_id = req(fields.Integer)
    contract_number = req(fields.String)
    owner_id = req(fields.Integer, none=True)
    customer_id = req(fields.Integer)
    customer_name = req(fields.String)
    amendment = req(fields.Nested, nested=Amendment)


class AmendmentSubmitted(ChangeOrderSubmitted):
    document_type = req(fields.String, validate=one_of((DOC_AMENDMENT,)))


class TerminationSubmitted(ChangeOrderSubmitted):
    document_type = req(fields.String, validate=one_of((DOC_TERMINATION,)))
    effective_date = req(fields.Date, "the requested (back-dated) termination day")


class BatchSubmitted(Schema):
    document_id = req(fields.Integer, "the batch's id")
    submitter_id = req(fields.Integer, none=True)
    department = req(fields.String, "the submitter's", none=True)
    summary = req(fields.String, "one line for the approver")
    contracts = req(fields.Integer, "how many contracts the batch changes")
    effective_date = req(fields.Date)


class PriceUpdateSubmitted(BatchSubmitted):
    document_type = req(fields.String, validate=one_of((DOC_PRICE_UPDATE,)))
    lines = req(fields.Integer, "how many lines change price")
    percent = dec(kind="percent", allow_negative=True)


class ChangeBatchSubmitted(BatchSubmitted):
    document_type = req(fields.String, validate=one_of((DOC_CHANGE_BATCH,)))
    kind = req(fields.String, validate=one_of(BATCH_KINDS))
    contract_numbers = req(fields.List, "the first contracts' numbers", cls_or_instance=fields.String())


class ServiceRequestCreated(Schema):
    service_request_id = req(fields.Integer)
    kind = req(fields.String, validate=one_of(domain.REQUEST_KINDS))
    customer_id = req(fields.Integer)
    customer_name = req(fields.String)
    contract_id = req(fields.Integer)
    contract_number = req(fields.String)
    line_id = req(fields.Integer, "service calls", none=True)
    serial_number = req(fields.String, "service calls", none=True)
    product_name = req(fields.String, "service calls", none=True)
    owner_id = req(fields.Integer, "who answers: the contract's owner, else the customer's", none=True)
    message = req(fields.String)
    requested_by = req(fields.Integer, "user id", none=True)
    language = req(fields.String, "the customer's", none=True)
    created_at = req(fields.AwareDateTime)


# --------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------

# a customer may be a natural person: their name is personal data wherever it appears
CONTRACT_PERSONAL = ("customer_name",)


def _contract(type_: str, payload: type[Schema], summary: str, **kw) -> EventSpec:
    personal = CONTRACT_PERSONAL + tuple(kw.pop("personal", ()))
    return EventSpec(SOURCE, type_, payload, summary, personal=personal, **kw)


CATALOGUE: tuple[EventSpec, ...] = (
    _contract(CONTRACT_CREATED, ContractCreated,
              "A draft contract was created (by hand, as a renewal quote, by an import or split off another)."),
    _contract(CONTRACT_SUBMITTED, ContractSubmitted,
              "A draft was submitted for approval; the approvals service opens a request for it.",
              personal=("summary",)),
    _contract(CONTRACT_APPROVED, ContractApproved,
              "A contract was approved (version 1): inventory reserves its lines, billing plans its schedule."),
    _contract(CONTRACT_REJECTED, ContractRejected, "The approver rejected a contract: it is a draft again."),
    _contract(CONTRACT_ACTIVATED, ContractActivated,
              "A contract's term started (or it was imported or split off as already in force)."),
    _contract(CONTRACT_AMENDED, ContractAmended,
              "A new version of a contract in force: an amendment, co-termination, price update or restructuring."),
    _contract(CONTRACT_TERMINATED, ContractTerminated,
              "A contract was terminated from effective_date (directly, by an approved request or by a merge)."),
    _contract(CONTRACT_EXPIRING, ContractExpiring,
              "A contract in force ends within 90, 60 or 30 days (once per contract, term end and window)."),
    _contract(CONTRACT_EXPIRED, ContractExpired, "A contract's term ended without a renewal."),
    _contract(CONTRACT_RENEWED, ContractRenewed,
              "A contract's term ended and its renewal carries on (the payload is the old contract).",
              personal=("renewal.customer_name",)),
    _contract(CONTRACT_CANCELLED, ContractCancelled, "A contract not yet in force was cancelled (or merged away)."),
    EventSpec(SOURCE, CONTRACT_AMOUNTS_LOCKED, AmountsLock,
              "Finance locked a contract's amounts: no change to its lines or prices until unlocked.",
              public=False),
    EventSpec(SOURCE, CONTRACT_AMOUNTS_UNLOCKED, AmountsLock, "Finance unlocked a contract's amounts.",
              public=False),
    EventSpec(SOURCE, CONTRACT_ATTACHMENT_ADDED, AttachmentAdded, "A file was attached to a contract.",
              personal=("attachment.uploaded_by",)),
    EventSpec(SOURCE, AMENDMENT_SUBMITTED, AmendmentSubmitted,
              "An amendment of a contract in force waits for approval; the approvals service opens a request.",
              personal=("customer_name",)),
    EventSpec(SOURCE, AMENDMENT_REJECTED, AmendmentRejected,
              "An amendment or termination request was rejected or withdrawn: the contract stays as it was."),
    EventSpec(SOURCE, PRICE_UPDATE_SUBMITTED, PriceUpdateSubmitted,
              "A bulk price update waits for one approval; the approvals service opens a request."),
    EventSpec(SOURCE, TERMINATION_SUBMITTED, TerminationSubmitted,
              "A back-dated termination waits for approval; the approvals service opens a request.",
              personal=("customer_name", "summary")),
    EventSpec(SOURCE, CHANGE_BATCH_SUBMITTED, ChangeBatchSubmitted,
              "A co-termination or restructuring of contracts in force waits for one approval."),
    _contract(CONTRACT_ARCHIVED, ContractArchived, "An ended contract was archived (read-only from now on)."),
    EventSpec(SOURCE, SERVICE_REQUEST_CREATED, ServiceRequestCreated,
              "A customer (or staff for them) asked for a renewal quote or a service call on an installed item.",
              personal=("customer_name", "message")),
)  # fmt: skip
