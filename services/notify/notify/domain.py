"""Pure rules of the notify service (no I/O): default notification rules, recipient specs,
template choice and rendering with fallback, webhook signing, backoff, webhook URL checks and
reminder windows. Reading a payload's fields is :mod:`notify.payload_fields`; the tasks events
open and close are :mod:`notify.task_rules`."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from . import targets
from . import templates as builtin
from .payload_fields import approver_targets, as_date, customer_of, doc_id, ints, owner_of, step_of

LANGUAGES = ("en", "zh", "tr", "bg")
DEFAULT_LANGUAGE = "en"
CHANNELS = ("inbox", "email", "sms")
# who may receive a notification; "contacts" = the customer's contact e-mails/phones
# "owner_or_managers" = the owner, or every sales manager when the event names no owner
RECIPIENTS = (
    "owner",
    "contacts",
    "approvers",
    "submitter",
    "finance",
    "warehouse",
    "admins",
    "assignee",
    "owner_or_managers",
)
EXPIRY_WINDOWS = (90, 60, 30)
INVOICE_DUE_REMINDER_DAYS = 7
DEFAULT_APPROVAL_SLA_HOURS = 48


# --------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    event_type: str
    recipients: tuple[str, ...]
    channels: tuple[str, ...]
    template: str
    enabled: bool = True
    description: str = ""


def _rule(event_type: str, recipients: str, channels: str, description: str) -> Rule:
    return Rule(event_type, tuple(recipients.split()), tuple(channels.split()), event_type, True, description)


DEFAULT_RULES: dict[str, Rule] = {
    r.event_type: r
    for r in (
        _rule("approval_requested", "approvers", "inbox email", "an approval is waiting for you"),
        _rule("approval_overdue", "approvers", "inbox email", "an approval waits past its SLA"),
        _rule("approval_approved", "submitter owner", "inbox email", "your request was approved"),
        _rule("approval_rejected", "submitter owner", "inbox email", "your request was rejected"),
        _rule("contract_expiring", "owner contacts", "inbox email", "contract expiring in 90/60/30 days"),
        _rule("contract_renewed", "owner", "inbox email", "a renewal was created"),
        _rule("invoice_issued", "contacts owner", "inbox email", "invoice issued, with its PDF link"),
        _rule("invoice_due_soon", "owner", "inbox email", "an invoice falls due in 7 days"),
        _rule("invoice_overdue", "owner finance", "inbox email", "an invoice is overdue"),
        _rule("payment_received", "owner finance", "inbox", "a payment was received"),
        _rule("stock_low", "warehouse", "inbox email", "stock fell below its reorder point"),
        _rule("stock_dispatched", "owner", "inbox", "goods were dispatched"),
        _rule("dispatch_approved", "warehouse", "inbox email", "a dispatch was approved"),
        _rule("follow_up_due", "owner", "inbox", "a follow-up's next action is due"),
        _rule("customer_birthday", "owner", "inbox", "an A-level customer's birthday"),
        _rule("webhook_disabled", "admins", "inbox", "a webhook was disabled after repeated failures"),
        _rule(
            "service_request_created",
            "owner_or_managers",
            "inbox email",
            "a portal customer asked for a renewal quote or a service call",
        ),
    )
}


def rule_from_row(row: Mapping[str, Any] | None, event_type: str) -> Rule | None:
    """The stored rule (an admin's edit) or the default; None when nothing notifies."""
    if row is None:
        return DEFAULT_RULES.get(event_type)
    return Rule(
        event_type,
        tuple(row.get("recipients") or ()),
        tuple(row.get("channels") or ()),
        row.get("template") or event_type,
        bool(row.get("enabled", True)),
        row.get("description") or "",
    )


def validate_rule(data: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, allowed in (("recipients", RECIPIENTS), ("channels", CHANNELS)):
        value = data.get(name)
        if value is None:
            continue
        bad = [v for v in value if v not in allowed]
        if bad:
            errors[name] = [f"unknown: {', '.join(map(str, bad))}; allowed: {', '.join(allowed)}"]
    templates = data.get("templates")
    if templates:
        for lang, tpl in templates.items():
            if lang not in LANGUAGES:
                errors.setdefault("templates", []).append(f"unknown language {lang!r}")
                continue
            for part in ("subject", "body"):
                text = (tpl or {}).get(part)
                if text is None:
                    continue
                problem = template_syntax_error(text)
                if problem:
                    errors.setdefault(f"templates.{lang}.{part}", []).append(problem)
    return errors


@dataclass
class RecipientSpec:
    """Whom a rule names for one event: user ids and roles to look up, and whether the
    customer's contacts get it."""

    user_ids: list[int] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    customer_id: int | None = None
    contacts: bool = False
    department_head_of: str | None = None  # the head of this department (approval steps)


def recipient_spec(rule: Rule, payload: Mapping[str, Any]) -> RecipientSpec:
    spec = RecipientSpec(customer_id=customer_of(payload))
    for who in rule.recipients:
        if who == "owner":
            owner = owner_of(payload)
            if owner is not None:
                spec.user_ids.append(owner)
        elif who == "approvers":
            users, roles = approver_targets(payload)
            spec.user_ids += users
            spec.roles += roles
            if payload.get("department_head") is True and payload.get("department"):
                spec.department_head_of = str(payload["department"])
        elif who == "submitter":
            spec.user_ids += ints(
                payload.get("submitter_id", payload.get("submitter", payload.get("submitted_by")))
            )
        elif who == "assignee":
            spec.user_ids += ints(payload.get("assignee_id"))
        elif who == "owner_or_managers":
            owner = owner_of(payload)
            if owner is not None:
                spec.user_ids.append(owner)
            else:
                spec.roles.append("sales_manager")
        elif who == "finance":
            spec.roles.append("finance")
        elif who == "warehouse":
            spec.roles.append("warehouse")
        elif who == "admins":
            spec.roles.append("admin")
        elif who == "contacts":
            spec.contacts = True
    spec.user_ids = sorted(set(spec.user_ids))
    spec.roles = sorted(set(spec.roles))
    return spec


# --------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------

# the built-in templates (every language) live in notify.templates
T = builtin.T
DEFAULT_TEMPLATES: T = builtin.DEFAULT_TEMPLATES
DOCUMENT_LABELS = builtin.DOCUMENT_LABELS

_ENV = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
# the loose environment renders the fallback: a missing variable becomes empty, never an error
_LOOSE_ENV = SandboxedEnvironment(autoescape=False)


def template_syntax_error(text: str) -> str | None:
    try:
        _ENV.parse(text)
    except Exception as exc:  # TemplateSyntaxError and friends
        return f"template does not parse: {exc}"
    return None


def choose_language(*candidates: str | None) -> str:
    """The first supported language among the recipient's, the customer's, ..., else English."""
    for lang in candidates:
        if lang:
            code = str(lang).strip().lower()[:2]
            if code in LANGUAGES:
                return code
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str
    template: str
    error: str | None = None  # a template that failed to render: why (the fallback was used)


def render(
    template: str,
    language: str,
    context: Mapping[str, Any],
    overrides: Mapping[str, Mapping[str, str]] | None = None,
    defaults: T | None = None,
) -> Rendered:
    """Render ``template`` in ``language``: an admin's override first, then the built-in
    translation, then English; a template that fails to render falls back to the next
    candidate and the first failure is reported in ``error``. Never raises."""
    defaults = DEFAULT_TEMPLATES if defaults is None else defaults
    candidates: list[tuple[str, Mapping[str, str]]] = []
    for lang in (language, DEFAULT_LANGUAGE):
        if overrides and lang in overrides:
            candidates.append((lang, overrides[lang]))
        if template in defaults and lang in defaults[template]:
            candidates.append((lang, defaults[template][lang]))
    candidates.append((DEFAULT_LANGUAGE, defaults["generic"]["en"]))
    error: str | None = None
    for lang, tpl in candidates:
        ctx = {**context, "document_label": document_label(context.get("document_type"), lang)}
        try:
            subject = _ENV.from_string(tpl.get("subject") or "").render(ctx)
            body = _ENV.from_string(tpl.get("body") or "").render(ctx)
        except Exception as exc:
            if error is None:
                error = f"{template}/{lang}: {type(exc).__name__}: {exc}"
            continue
        return Rendered(subject.strip(), body.strip(), lang, template, error)
    # last resort: the generic template without strict variables
    generic = defaults["generic"]["en"]
    subject = _LOOSE_ENV.from_string(generic["subject"]).render(context)
    body = _LOOSE_ENV.from_string(generic["body"]).render(context)
    return Rendered(subject.strip(), body.strip(), DEFAULT_LANGUAGE, "generic", error)


def document_label(document_type: Any, language: str) -> str:
    """How ``language`` names a document type (``contract`` → 合同 / sözleşme / договор); an
    unknown type as written, underscores as spaces."""
    if not document_type:
        return ""
    labels = DOCUMENT_LABELS.get(str(document_type))
    if labels is None:
        return str(document_type).replace("_", " ")
    return labels.get(language) or labels[DEFAULT_LANGUAGE]


# who reads an e-mail: a customer's contact (links into the customer portal) or a user (console)
CUSTOMER, STAFF = "customer", "staff"


def document_links(payload: Mapping[str, Any], public_url: str | None, audience: str) -> dict[str, str]:
    """Absolute links to the invoice an event is about, from ``CRM_PUBLIC_URL``: ``invoice_url``
    (the customer portal's page ``/portal/invoices/<id>`` for a contact, the console's
    ``/invoices/<id>`` for staff) and ``pdf_url`` (the matching API PDF route), replacing the
    event's relative staff path so no e-mail ever carries a relative or staff link to a
    customer. Empty when the event names no invoice or no public URL is known."""
    invoice = doc_id(payload, "invoice_id")
    if invoice is None and str(payload.get("document_type") or "") == "invoice":
        invoice = doc_id(payload, "document_id")
    if invoice is None or not public_url:
        return {}
    base = public_url.rstrip("/")
    if audience == CUSTOMER:
        return {
            "invoice_url": f"{base}/portal/invoices/{invoice}",
            "pdf_url": f"{base}/api/v1/portal/invoices/{invoice}/pdf",
        }
    return {"invoice_url": f"{base}/invoices/{invoice}", "pdf_url": f"{base}/api/v1/invoices/{invoice}/pdf"}


# documents attached to e-mails, fetched at send time (notify.documents): kind → id field
ATTACHMENT_KINDS = {"invoice_pdf": "invoice_id"}


def email_attachments(event_type: str, payload: Mapping[str, Any], audience: str) -> list[dict[str, Any]]:
    """What an e-mail carries attached (references, resolved when it is sent): the invoice PDF
    in ``invoice_issued`` e-mails to the customer's contacts."""
    if event_type == "invoice_issued" and audience == CUSTOMER:
        invoice = ints(payload.get("invoice_id", payload.get("id")))
        if invoice:
            return [{"kind": "invoice_pdf", "invoice_id": invoice[0]}]
    return []


def template_context(event_type: str, payload: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """Payload fields plus a few defaults every template may use, so a template never fails
    on a field an event lacks."""
    names = (
        "document_type document_id document_number summary submitter_name comment contract_number "
        "contract_id customer_name customer_code recipient_name end_date days renewal_number invoice_number "
        "invoice_id amount amount_due currency due_date pdf_url sku product_name product_id available "
        "reorder_point notes name code subscription_id url failures last_error kind serial_number message "
        "invoice_url pdf_attached"
    ).split()
    ctx: dict[str, Any] = dict.fromkeys(names)
    ctx.update({k: v for k, v in payload.items() if isinstance(k, str)})
    ctx["event_type"] = event_type
    ctx.update(extra)
    return ctx


# --------------------------------------------------------------------------------------
# Webhooks
# --------------------------------------------------------------------------------------

SIGNATURE_HEADER = "X-CRM-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over ``"<timestamp>." + body`` (as Stripe does), hex."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str | Sequence[str], timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex>``; with several secrets (a rotation's grace period: the new
    one first, then the previous) one ``v1=`` per secret: ``t=..,v1=<new>,v1=<old>``."""
    secrets = [secret] if isinstance(secret, str) else list(secret)
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in secrets)])


def verify_signature(
    secret: str, header: str, body: bytes, now: int | None = None, tolerance: int = 300
) -> bool:
    """What a receiver does: parse ``t=...,v1=...[,v1=...]``, recompute, compare each ``v1`` in
    constant time (any one matching is enough: during a secret rotation both are sent) and
    refuse stale timestamps (replays)."""
    pairs = [p.strip().split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in pairs if k == "t"]
    try:
        timestamp = int(stamps[0])
    except (IndexError, ValueError):
        return False
    if now is not None and abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, v) for k, v in pairs if k == "v1")


def backoff_seconds(attempts: int, base: float = 30.0, cap: float = 6 * 3600.0) -> float:
    """Delay before the next try after ``attempts`` failed ones: base × 2^(attempts-1), capped."""
    if attempts < 1:
        return 0.0
    return float(min(base * (2 ** min(attempts - 1, 60)), cap))


# Webhook retries: exponential from 30 s, never more than an hour apart, for 72 hours from the
# first attempt; the last try is at the end of the window, and if it fails the delivery is dead.
WEBHOOK_RETRY_BASE_SECONDS = 30.0
WEBHOOK_RETRY_CAP_SECONDS = 3600.0
WEBHOOK_RETRY_WINDOW_SECONDS = 72 * 3600.0


def webhook_next_attempt(
    first_attempt_at: dt.datetime,
    now: dt.datetime,
    attempts: int,
    base: float = WEBHOOK_RETRY_BASE_SECONDS,
    cap: float = WEBHOOK_RETRY_CAP_SECONDS,
    window: float = WEBHOOK_RETRY_WINDOW_SECONDS,
) -> dt.datetime | None:
    """When to try a webhook delivery again after its ``attempts``-th attempt failed at ``now``:
    ``now`` + the capped backoff, but never later than ``first_attempt_at`` + ``window`` (the
    last try lands on the window's end). ``None``: the window is over, the delivery is dead."""
    deadline = first_attempt_at + dt.timedelta(seconds=window)
    if now >= deadline:
        return None
    return min(now + dt.timedelta(seconds=backoff_seconds(attempts, base, cap)), deadline)


def webhook_retry_schedule(
    base: float = WEBHOOK_RETRY_BASE_SECONDS,
    cap: float = WEBHOOK_RETRY_CAP_SECONDS,
    window: float = WEBHOOK_RETRY_WINDOW_SECONDS,
) -> list[float]:
    """Seconds after the first attempt of every attempt of a delivery that always fails (the
    first is 0), when each attempt takes no time: what :func:`webhook_next_attempt` gives."""
    start = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    now, offsets = start, [0.0]
    while True:
        nxt = webhook_next_attempt(start, now, len(offsets), base, cap, window)
        if nxt is None:
            return offsets
        now = nxt
        offsets.append((now - start).total_seconds())


def webhook_should_disable(
    failing_since: dt.datetime | None, now: dt.datetime, window: float = WEBHOOK_RETRY_WINDOW_SECONDS
) -> bool:
    """A subscription is disabled only when a delivery of it has just died and its deliveries
    have failed for the whole retry window with no success in between (``failing_since``: the
    first failed attempt after its last successful one)."""
    return failing_since is not None and (now - failing_since).total_seconds() >= window


def webhook_url_problem(
    url: Any,
    resolved: Iterable[str] = (),
    allow_private: bool = False,
    allowed_ports: Iterable[int] = targets.DEFAULT_PORTS,
) -> str | None:
    """Why a webhook URL is refused, or None (the rules: :mod:`notify.targets`)."""
    return targets.url_problem(url, resolved, allow_private, allowed_ports)


def expiry_text(value: Any) -> str:
    """How an invitation e-mail names its expiry: ``2026-12-07 10:00 UTC`` (a date alone as is)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------------------
# Reminders
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    key: str  # unique: the reminder fires once, whoever schedules it and however often
    kind: str  # the event type it raises when it fires
    fire_on: dt.date
    payload: dict[str, Any]


def reminders_for(event_type: str, payload: Mapping[str, Any], now: dt.datetime) -> list[Reminder]:
    """Reminders an event schedules (the daily job fires the due ones, catching up missed
    days): invoice due in 7 days, approval past its SLA, contract expiry windows."""
    out: list[Reminder] = []
    data = dict(payload)
    if event_type == "invoice_issued":
        invoice = doc_id(payload, "invoice_id", "id")
        due = as_date(payload.get("due_date"))
        if invoice and due:
            out.append(
                Reminder(
                    f"invoice_due_soon:{invoice}",
                    "invoice_due_soon",
                    due - dt.timedelta(days=INVOICE_DUE_REMINDER_DAYS),
                    data,
                )
            )
    elif event_type == "approval_requested":
        request = doc_id(payload, "request_id", "approval_id", "id")
        due = as_date(payload.get("sla_due_at") or payload.get("due_at"))
        if due is None:
            hours = payload.get("sla_hours") or DEFAULT_APPROVAL_SLA_HOURS
            try:
                due = (now + dt.timedelta(hours=float(hours))).date()
            except (TypeError, ValueError):
                due = (now + dt.timedelta(hours=DEFAULT_APPROVAL_SLA_HOURS)).date()
        if request:
            out.append(Reminder(approval_key(request, step_of(payload)), "approval_overdue", due, data))
    elif event_type in ("contract_activated", "contract_renewed"):
        contract = doc_id(payload, "contract_id", "id")
        end = as_date(payload.get("end_date"))
        if contract and end:
            for days in EXPIRY_WINDOWS:
                out.append(
                    Reminder(
                        expiry_key(contract, days),
                        "contract_expiring",
                        end - dt.timedelta(days=days),
                        {**data, "contract_id": payload.get("contract_id", payload.get("id")), "days": days},
                    )
                )
    return out


def expiry_key(contract_id: Any, days: Any) -> str:
    return f"contract_expiring:{contract_id}:{days}"


def approval_key(request_id: Any, step: Any) -> str:
    return f"approval_overdue:{request_id}:{'' if step is None else step}"


def reminder_key_of(event_type: str, payload: Mapping[str, Any]) -> str | None:
    """Events that are reminders themselves (the producers' own scans) share the key of the
    reminder we schedule, so whichever comes first notifies and the other is a no-op."""
    if event_type == "contract_expiring":
        contract = payload.get("contract_id", payload.get("id"))
        days = expiry_window_of(payload)
        return expiry_key(contract, days) if contract is not None and days is not None else None
    if event_type == "approval_overdue":
        request = doc_id(payload, "request_id", "approval_id", "id")
        return approval_key(request, step_of(payload)) if request else None
    return None


def reminder_cancellations(event_type: str, payload: Mapping[str, Any]) -> list[str]:
    """Keys of reminders an event makes pointless (one ending in ``:`` is a prefix)."""
    if event_type == "invoice_paid":
        invoice = doc_id(payload, "invoice_id", "id")
        return [f"invoice_due_soon:{invoice}"] if invoice else []
    if event_type in ("approval_approved", "approval_rejected", "approval_withdrawn"):
        request = doc_id(payload, "request_id", "approval_id", "id")
        return [f"approval_overdue:{request}:"] if request else []
    if event_type == "approval_step_decided":
        request = doc_id(payload, "request_id", "approval_id", "id")
        step = step_of(payload)
        return [approval_key(request, step)] if request and step is not None else []
    if event_type in ("contract_terminated", "contract_cancelled", "contract_expired"):
        contract = doc_id(payload, "contract_id", "id")
        return [f"contract_expiring:{contract}:"] if contract else []
    return []


def expiry_window_of(payload: Mapping[str, Any]) -> int | None:
    """Which window (90/60/30) a ``contract_expiring`` event is for."""
    for key in ("days", "window_days", "days_left", "days_until_expiry", "window"):
        ids = ints(payload.get(key))
        if ids:
            return ids[0]
    return None


def is_birthday(birthday: dt.date | None, as_of: dt.date) -> bool:
    """29 February birthdays are kept on 28 February in other years."""
    if birthday is None:
        return False
    if (birthday.month, birthday.day) == (as_of.month, as_of.day):
        return True
    if (birthday.month, birthday.day) == (2, 29):
        try:
            dt.date(as_of.year, 2, 29)
        except ValueError:
            return (as_of.month, as_of.day) == (2, 28)
    return False


def page_args(page: Any, page_size: Any) -> tuple[int, int, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    values = []
    for name, value, hi in (("page", page, 10**6), ("page_size", page_size, 500)):
        try:
            v = int(value)
            if isinstance(value, bool) or v < 1 or v > hi:
                raise ValueError
        except (TypeError, ValueError):
            errors[name] = [f"must be an integer from 1 to {hi}"]
            v = 1
        values.append(v)
    return values[0], values[1], errors
