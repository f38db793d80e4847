"""The gateway's route table as the object-level authorization suite sees it, and the tables
that say, for every route whose path takes an id, which seeded record fills each path
parameter, what body a write sends, who the owner is (positive control), and which routes are
deliberately exempt and why.

Nothing here needs the running system: ``pytest tests/authz -q -p no:nameko -k table`` checks
that every id-taking route of the app is covered, so a new endpoint cannot be forgotten.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

GATEWAY_DIR = Path(__file__).resolve().parents[2] / "gateway"
# From the repository root `gateway/` (no __init__.py) would shadow the installed package as a
# namespace package: put the project directory first (as gateway/tests/conftest.py does).
if str(GATEWAY_DIR) not in sys.path:
    sys.path.insert(0, str(GATEWAY_DIR))
_ns = sys.modules.get("gateway")
if _ns is not None and getattr(_ns, "__file__", None) is None:
    del sys.modules["gateway"]

from fastapi.routing import APIRoute  # noqa: E402
from gateway.main import create_app  # noqa: E402

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PORTAL_PREFIX = "/api/v1/portal/"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the template, e.g. /api/v1/contracts/{contract_id}
    params: tuple[str, ...]  # path parameters in order
    body_required: bool
    body_multipart: bool

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    @property
    def is_portal(self) -> bool:
        return self.path.startswith(PORTAL_PREFIX)


def _walk(routes, prefix: str = ""):
    """Every APIRoute of the app with its full path, through included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # an included router (FastAPI >= 0.16x)
            yield from _walk(route.original_router.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "routes"):  # a mounted app or router
            yield from _walk(route.routes, prefix + getattr(route, "path", ""))


def operations() -> list[Operation]:
    """Every (method, path) of the gateway app, from its route table (schema or not)."""
    app = create_app()
    spec = app.openapi()["paths"]
    found: list[Operation] = []
    for path, route in _walk(app.routes):
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            op = spec.get(path, {}).get(method.lower(), {})
            body = op.get("requestBody") or {}
            found.append(
                Operation(
                    method=method,
                    path=path,
                    params=tuple(p.name for p in route.dependant.path_params),
                    body_required=bool(body.get("required")),
                    body_multipart="multipart/form-data" in body.get("content", {}),
                )
            )
    return sorted(found, key=lambda o: (o.path, o.method))


# -- which seeded record fills a path parameter ------------------------------------------
# (path prefix, parameter) -> seed key; the longest matching prefix wins. Every record is
# owned by sales rep A (department A) or belongs to customer A, made in conftest.seed().
ID_SOURCES: dict[tuple[str, str], str] = {
    ("/api/v1/users/", "user_id"): "rep_a_user",
    ("/api/v1/api-keys/", "key_id"): "api_key",
    ("/api/v1/customers/import/", "job_id"): "customer_import_job",
    ("/api/v1/customers/", "customer_id"): "customer",
    ("/api/v1/billing/customers/", "customer_id"): "customer",
    ("/api/v1/opportunities/", "opportunity_id"): "opportunity",
    ("/api/v1/approval-flows/", "flow_id"): "approval_flow",
    ("/api/v1/approvals/", "approval_id"): "approval",
    ("/api/v1/billing/runs/", "run_id"): "billing_run",
    ("/api/v1/billing/schedules/", "contract_id"): "contract",
    ("/api/v1/billing/tax-rates/", "key"): "tax_key",
    ("/api/v1/contracts/", "contract_id"): "contract",
    ("/api/v1/contracts/", "attachment_id"): "attachment",
    ("/api/v1/contracts/", "milestone_id"): "milestone",
    ("/api/v1/contracts/", "amendment_id"): "amendment",
    ("/api/v1/contracts/", "version"): "version",
    ("/api/v1/contracts/", "a"): "version",
    ("/api/v1/contracts/", "b"): "version",
    ("/api/v1/contracts/price-update-batches/", "batch_id"): "price_batch",
    ("/api/v1/contracts/import/", "job_id"): "contract_import_job",
    ("/api/v1/contract-templates/", "template_id"): "template",
    ("/api/v1/invoices/", "invoice_id"): "invoice",
    ("/api/v1/credit-notes/", "credit_note_id"): "credit_note",
    ("/api/v1/notification-rules/", "event_type"): "rule_event_type",
    ("/api/v1/notifications/", "notification_id"): "notification",
    ("/api/v1/payments/", "payment_id"): "payment",
    ("/api/v1/portal/contracts/", "contract_id"): "contract",
    ("/api/v1/portal/invoices/", "invoice_id"): "invoice",
    ("/api/v1/portal-invitations/", "invitation_id"): "invitation",
    ("/api/v1/price-lists/", "price_list_id"): "price_list",
    ("/api/v1/products/import/", "job_id"): "product_import_job",
    ("/api/v1/products/", "product_id"): "product",
    ("/api/v1/purchase-orders/", "purchase_order_id"): "purchase_order",
    ("/api/v1/stock/reservations/", "contract_id"): "contract",
    ("/api/v1/tasks/", "task_id"): "task",
    ("/api/v1/trade-ins/", "trade_in_id"): "trade_in",
    ("/api/v1/units/", "serial_number"): "serial_number",
    ("/api/v1/warehouses/", "warehouse_id"): "warehouse",
    ("/api/v1/webhooks/", "webhook_id"): "webhook",
    ("/api/v1/webhooks/", "delivery_id"): "webhook_delivery",
}


def id_source(path: str, param: str) -> str | None:
    matches = [
        (len(prefix), key)
        for (prefix, name), key in ID_SOURCES.items()
        if name == param and path.startswith(prefix)
    ]
    return max(matches)[1] if matches else None


# -- exemptions: routes no actor of this suite is refused on, with the reason ----------------
# (method, path) -> why. Exempt routes are not called by the cross-scope tests at all.
EXEMPT: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/event-types/{source}/{event_type}"): (
        "the event catalogue: the path names an event type, not a record; every member of staff reads "
        "the same catalogue (portal users are refused on every non-portal path)"
    ),
    ("GET", "/api/v1/auth/invitations/{token}"): (
        "unauthenticated by design: the one-time token in the path is the secret (a 43-character "
        "random value, stored hashed); there is no caller whose scope could apply"
    ),
    ("POST", "/api/v1/billing/pending-corrections/{correction_id}/apply"): (
        "finance only (admin, finance: they see every billing document); no sales rep, portal or "
        "readonly user reaches it (403 by role), so there is no scope to cross"
    ),
    ("POST", "/api/v1/billing/pending-corrections/{correction_id}/dismiss"): (
        "finance only (admin, finance: they see every billing document); no sales rep, portal or "
        "readonly user reaches it (403 by role), so there is no scope to cross"
    ),
}

# GETs that every member of staff may read whatever their scope: the company's catalogue and
# reference data, owned by no sales rep. Another rep reading them is expected (2xx); portal
# users still get 403 and writes stay checked.
COMPANY_WIDE_READS: dict[str, str] = {
    "/api/v1/products/{product_id}": "the product catalogue is the company's, quoted by every rep",
    "/api/v1/price-lists/{price_list_id}": "price lists are the company's, quoted by every rep",
    "/api/v1/warehouses/{warehouse_id}": "warehouses are company reference data",
    "/api/v1/contract-templates/{template_id}": "templates are shared by every rep who drafts contracts",
    "/api/v1/purchase-orders/{purchase_order_id}": (
        "purchasing is company-wide (reps see what is on order for their quotes); no customer's data"
    ),
    "/api/v1/units/{serial_number}": (
        "serialized stock is the warehouse's, not a rep's: the inventory service knows no owners; a "
        "unit dispatched to another rep's contract shows that contract's id only, which stays 404"
    ),
}

# Write routes a readonly user may call on a record of their own (the notification inbox is
# per user): on another user's record they get 404, like a record that does not exist.
READONLY_OWN_RECORD_WRITES: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/notifications/{notification_id}/read"): (
        "every user reads their own inbox, readonly included; another user's notification is 404"
    ),
    ("PATCH", "/api/v1/tasks/{task_id}"): (
        "every user works the tasks assigned to them (or to their role), readonly included; "
        "another user's task is 404"
    ),
}

# The positive control: who owns the seeded records of a route (a 2xx for them shows the ids
# are real). Default: sales rep A; portal routes: the portal user of customer A; routes whose
# role check excludes sales reps: the administrator.
OWNER_BY_PREFIX: dict[str, str] = {
    PORTAL_PREFIX: "portal_a",
    "/api/v1/users/": "admin",
    "/api/v1/api-keys/": "admin",
    "/api/v1/approval-flows/": "admin",
    "/api/v1/approvals/": "admin",
    "/api/v1/billing/runs/": "admin",
    "/api/v1/contracts/price-update-batches/": "admin",
    "/api/v1/contracts/import/": "admin",
    "/api/v1/products/import/": "admin",
    "/api/v1/purchase-orders/": "admin",
    "/api/v1/webhooks/": "admin",
}


def owner_of(path: str) -> str:
    matches = [(len(p), who) for p, who in OWNER_BY_PREFIX.items() if path.startswith(p)]
    return max(matches)[1] if matches else "rep_a"


# -- bodies of the write routes: valid, so a refusal is the scope's and not a 422 -------------
BODIES: dict[tuple[str, str], dict] = {
    ("PATCH", "/api/v1/users/{user_id}"): {"full_name": "Mallory"},
    ("PATCH", "/api/v1/customers/{customer_id}"): {"name": "Übernommen GmbH"},
    ("POST", "/api/v1/customers/{customer_id}/contacts"): {"name": "Мэллори Иванова"},
    ("POST", "/api/v1/customers/{customer_id}/red-list"): {"reason": "taken over"},
    ("POST", "/api/v1/customers/{customer_id}/follow-ups"): {
        "method": "call",
        "occurred_at": "2032-01-05T10:00:00Z",
        "result": "阅读了别人的客户",
    },
    ("PATCH", "/api/v1/opportunities/{opportunity_id}"): {"title": "taken over"},
    ("PATCH", "/api/v1/approval-flows/{flow_id}"): {"sla_hours": 12},
    ("POST", "/api/v1/approvals/{approval_id}/decision"): {"decision": "approve", "comment": "mine now"},
    ("PUT", "/api/v1/billing/tax-rates/{key}"): {"percent": "1"},
    ("POST", "/api/v1/contracts/{contract_id}/milestones"): {"name": "Aşama", "planned_date": "2032-06-01"},
    ("PATCH", "/api/v1/contracts/{contract_id}/milestones/{milestone_id}"): {"percent_complete": 50},
    ("PATCH", "/api/v1/contracts/{contract_id}"): {"title": "taken over"},
    ("POST", "/api/v1/contracts/{contract_id}/cancel"): {"reason": "not mine"},
    ("POST", "/api/v1/contracts/{contract_id}/terminate"): {
        "reason": "not mine",
        "effective_date": "2032-06-30",
    },
    ("POST", "/api/v1/contracts/{contract_id}/amendments"): {"reason": "not mine"},
    ("PATCH", "/api/v1/invoices/{invoice_id}"): {"notes": "taken over"},
    ("POST", "/api/v1/invoices/{invoice_id}/void"): {"reason": "not mine"},
    ("POST", "/api/v1/invoices/{invoice_id}/credit-notes"): {"reason": "not mine", "amount": "1.00"},
    ("PUT", "/api/v1/notification-rules/{event_type}"): {"channels": ["inbox"]},
    ("PATCH", "/api/v1/notification-rules/{event_type}"): {"channels": ["inbox"]},
    ("POST", "/api/v1/payments/{payment_id}/refunds"): {"amount": "1.00", "reason": "not mine"},
    ("POST", "/api/v1/price-lists/{price_list_id}/items"): {"items": []},
    ("POST", "/api/v1/price-lists/{price_list_id}/bulk-update"): {"percent": "5"},
    ("PATCH", "/api/v1/products/{product_id}"): {"name": "taken over"},
    ("PATCH", "/api/v1/tasks/{task_id}"): {"status": "done"},
    ("POST", "/api/v1/trade-ins/{trade_in_id}/decision"): {"approved": True},
    ("POST", "/api/v1/trade-ins/{trade_in_id}/receive"): {"warehouse_id": "{warehouse}"},
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): {"description": "taken over"},
}
# the write routes without an id (the readonly user must be refused on them too)
BODIES |= {
    ("POST", "/api/v1/users"): {"username": "mallory", "password": "Pa55word-long!", "roles": ["admin"]},
    ("POST", "/api/v1/api-keys"): {"name": "mallory", "roles": ["admin"]},
    ("POST", "/api/v1/customers"): {"name": "Nur Lesen GmbH", "kind": "company"},
    ("POST", "/api/v1/opportunities"): {
        "customer_id": "{customer}",
        "title": "Okuma",
        "amount": "1.00",
        "currency": "EUR",
    },
    ("POST", "/api/v1/admin/jobs/daily"): {"as_of": "2032-01-02"},
    ("POST", "/api/v1/approval-flows"): {
        "name": "Mallory's flow",
        "document_type": "contract",
        "steps": [{"name": "x", "approver_role": "readonly"}],
    },
    ("POST", "/api/v1/billing/runs"): {"as_of": "2032-03-01"},
    ("POST", "/api/v1/contract-templates"): {"name": "Шаблон", "language": "bg", "body": "Член 1."},
    ("POST", "/api/v1/contracts"): {
        "customer_id": "{customer}",
        "title": "Okuma",
        "kind": "maintenance",
        "currency": "EUR",
        "start_date": "2033-01-01",
        "end_date": "2033-12-31",
        "billing": {"frequency": "monthly"},
        "lines": [{"product_id": "{product}", "quantity": 1}],
    },
    ("POST", "/api/v1/contracts/co-terminate"): {"contract_ids": ["{contract}"], "end_date": "2032-06-30"},
    ("POST", "/api/v1/contracts/bulk-price-update"): {
        "percent": "1",
        "product_ids": ["{product}"],
        "effective_date": "2032-11-01",
    },
    ("POST", "/api/v1/contracts/restructure"): {
        "action": "move_lines",
        "line_ids": [1],
        "to_contract_id": "{contract}",
    },
    ("POST", "/api/v1/invoices"): {
        "customer_id": "{customer}",
        "currency": "EUR",
        "lines": [{"description": "Okuma", "quantity": "1", "unit_price": "1.00"}],
    },
    ("POST", "/api/v1/payments"): {
        "customer_id": "{customer}",
        "amount": "1.00",
        "currency": "EUR",
        "method": "bank_transfer",
        "received_at": "2032-01-10T09:00:00Z",
    },
    ("POST", "/api/v1/portal/me/password"): {"old_password": "x" * 12, "new_password": "y" * 12},
    ("POST", "/api/v1/portal/requests"): {
        "kind": "service_call",
        "serial_number": "{serial_number}",
        "message": "?",
    },
    ("POST", "/api/v1/portal-invitations"): {"customer_id": "{customer}", "email": "mallory@example.com"},
    ("POST", "/api/v1/price-lists"): {"name": "Okuma", "channel": "reseller", "currency": "EUR"},
    ("POST", "/api/v1/price-lists/bulk-update"): {"percent": "1"},
    ("POST", "/api/v1/products"): {
        "sku": "RO-1",
        "name": "Okuma",
        "kind": "service",
        "unit_price": "1.00",
        "currency": "EUR",
    },
    ("POST", "/api/v1/categories"): {"name": "Okuma"},
    ("POST", "/api/v1/purchase-orders"): {"product_id": "{product}", "quantity": 1},
    ("POST", "/api/v1/stock/moves"): {
        "warehouse_id": "{warehouse}",
        "product_id": "{product}",
        "quantity": 1,
        "direction": "in",
        "reason": "purchase",
    },
    ("POST", "/api/v1/stock/transfers"): {
        "product_id": "{product}",
        "from_warehouse_id": "{warehouse}",
        "to_warehouse_id": "{warehouse}",
        "quantity": 1,
    },
    ("POST", "/api/v1/stock/reservations"): {
        "contract_id": "{contract}",
        "items": [{"product_id": "{product}", "quantity": 1}],
    },
    ("POST", "/api/v1/trade-ins"): {
        "customer_id": "{customer}",
        "serial_number": "RO-OLD-1",
        "condition": "good",
        "requested_value": "1.00",
        "currency": "EUR",
    },
    ("POST", "/api/v1/warehouses"): {"code": "RO", "name": "Okuma"},
    ("POST", "/api/v1/webhooks"): {
        "url": "https://hooks.example.com/ro",
        "events": ["customer_created"],
        "secret": "s" * 32,
    },
}
CSV = b"name,kind\nNur Lesen AG,company\n"
# multipart uploads: {field: (filename, bytes, content type)}
FILES: dict[tuple[str, str], dict] = {
    ("POST", "/api/v1/contracts/{contract_id}/attachments"): {
        "file": ("fremd.txt", "nicht meine Datei — 不是我的".encode(), "text/plain")
    },
    ("POST", "/api/v1/customers/import"): {"file": ("c.csv", CSV, "text/csv")},
    ("POST", "/api/v1/products/import"): {
        "file": ("p.csv", b"sku,name,kind,unit_price,currency\nRO-2,Okuma,service,1.00,EUR\n", "text/csv")
    },
    ("POST", "/api/v1/contracts/import"): {"file": ("k.csv", b"contract_ref,title\nA,Okuma\n", "text/csv")},
}

# Records of rep A a body may name (placeholders of BODIES), and the fields that name them: a
# write of another rep naming one is refused (403, 404, or 422 naming the field).
OWNED_PLACEHOLDERS = frozenset({"{customer}", "{contract}"})
REFERENCE_FIELDS = frozenset({"customer_id", "contract_id", "contract_ids", "to_contract_id"})
# Batch writes that answer per record instead: another rep's record is reported, not touched.
BATCH_REFUSALS: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/contracts/co-terminate"): (
        "co-terminating is per contract: 200 with the other rep's contract skipped as 'not found' "
        "and nothing changed"
    ),
}

# Write routes without an id that a readonly user may call: they act on the caller alone (or on
# nobody: the public ones), with the reason.
READONLY_SELF_SERVICE: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/token"): "the login itself: public, the credentials are the check",
    ("POST", "/api/v1/auth/invitations/accept"): "public: the one-time invitation token is the check",
    ("POST", "/api/v1/auth/refresh"): "public: the session's refresh token is the check",
    ("POST", "/api/v1/auth/logout"): "every user ends their own session",
    ("POST", "/api/v1/users/me/password"): "every user changes their own password",
    ("PATCH", "/api/v1/users/me"): "every user changes their own name, e-mail and language (no rights)",
    ("POST", "/api/v1/notifications/read-all"): "every user marks their own inbox read",
}


def id_taking() -> list[Operation]:
    return [op for op in operations() if op.params]
