"""The OpenAPI document as front ends generate clients from it: short, stable operation ids
(the route function's name in camelCase: ``listCustomers``, ``getContract``), tags with
descriptions, ``servers`` and ``security: []`` on public operations, and examples on the main
create bodies.

``operation_id`` is FastAPI's ``generate_unique_id_function``; :func:`customize` wraps
``app.openapi`` and post-processes the generated document once (it is cached)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from .location import document_locations


def operation_id(route: APIRoute) -> str:
    """``list_customers`` → ``listCustomers``: the route function's name, which follows the RPC
    method it calls (CONVENTIONS: gateway route functions are named after their RPC method)."""
    head, *rest = route.name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# One entry per router tag, in the order a reader meets them.
TAGS: dict[str, str] = {
    "health": "Liveness (`/healthz`) and readiness (`/readyz`: the broker and every service answer). No token.",
    "auth": "Sign-in (OAuth2 password flow), session refresh and logout, and the invitation links of portal users.",
    "users": "Users of the gateway: admins manage them; everyone reads themselves and changes their own password.",
    "api-keys": "API keys of integrations (admin): named, scoped to roles, revocable; sent as `X-API-Key` or Bearer.",
    "customers": "Customers with their contacts and follow-ups, and the CSV import.",
    "events": "The event log: the public events of the last 30 days, for a partner catching up after an outage.",
    "event types": "The event catalogue: every event type with its payload schema, public flag, personal data and consumers.",
    "opportunities": "The sales funnel: opportunities per customer, stage by stage to won or lost.",
    "admin": "Administration: run every service's daily jobs for a date.",
    "approvals": "Approval requests (decide, withdraw, the approval sheet) and the flows that route them.",
    "billing": "Billing runs, billing schedules of contracts, tax rates and customer balances.",
    "contract attachments": "Files attached to a contract: streamed upload and download.",
    "contract progress": "Delivery milestones of contracts and their progress against plan and billing.",
    "contract templates": "Versioned contract templates and the contract document (PDF).",
    "contracts": "Contracts: lifecycle, amendments, versions, the contract 360, bulk changes and the import.",
    "dashboard": "Company KPIs for a year in the caller's scope, amounts per currency.",
    "invoices": "Invoices (one-off and billed), their PDFs, locks and credit notes.",
    "notifications": "The caller's inbox and the notification rules per event type.",
    "payments": "Incoming payments, their allocation to invoices, refunds and locks.",
    "portal": "The customer portal (role `portal`, one customer) and its invitations.",
    "price lists": "Price lists per channel and their bulk updates.",
    "products": "The product catalogue, categories and the CSV import.",
    "reports": "Receivables aging, cash flow, revenue and recurring revenue.",
    "stock": "Warehouses, stock levels, moves, transfers, reservations, units and purchase orders.",
    "tasks": "Work items (collection, follow-up, approval, renewal) and their status.",
    "trade-ins": "Devices taken back from customers: valuation, decision and receipt.",
    "webhooks": "Outgoing webhooks and their delivery log.",
}

# Request body examples of the main create operations (by operation id).
EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "createCustomer": {
        "company": {
            "summary": "A company with a contact",
            "value": {
                "name": "Бургас Инженеринг ООД",
                "kind": "company",
                "tax_id": "BG204567890",
                "email": "office@burgas-eng.example",
                "phone": "+359 56 800 100",
                "industry": "engineering",
                "region": "Burgas",
                "level": "A",
                "tags": ["key-account"],
                "language": "bg",
                "contacts": [{"name": "Мария Иванова", "email": "m.ivanova@burgas-eng.example"}],
            },
        },
        "person": {
            "summary": "A private person",
            "value": {"name": "Zhang Wei", "kind": "person", "language": "zh"},
        },
    },
    "createContract": {
        "maintenance": {
            "summary": "A yearly maintenance contract billed monthly in advance",
            "value": {
                "customer_id": 42,
                "title": "Maintenance 2027",
                "kind": "maintenance",
                "currency": "EUR",
                "start_date": "2027-01-01",
                "end_date": "2027-12-31",
                "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
                "auto_renew": True,
                "renewal_uplift_percent": "3",
                "lines": [{"product_id": 7, "quantity": "2", "unit_price": "120.00"}],
            },
        }
    },
    "recordPayment": {
        "allocated": {
            "summary": "A bank transfer paying one invoice",
            "value": {
                "customer_id": 42,
                "amount": "1250.00",
                "currency": "EUR",
                "method": "bank_transfer",
                "received_at": "2027-02-01T10:00:00Z",
                "reference": "INV-2027-000123",
                "allocations": [{"invoice_id": 123, "amount": "1250.00"}],
            },
        },
        "oldest_first": {
            "summary": "No allocations: the oldest open invoices first",
            "value": {
                "customer_id": 42,
                "amount": "300.00",
                "currency": "EUR",
                "method": "cash",
                "received_at": "2027-02-01T10:00:00Z",
            },
        },
    },
}


# The gateway's code is not published under an open licence.
LICENSE = {"name": "Proprietary: all rights reserved", "identifier": "LicenseRef-Proprietary"}

# Every request's path and query are checked before any route (middleware.InputLimitsMiddleware):
# the one 4xx an operation without its own (health, readiness) can still answer.
QUERY_REFUSED = {
    "description": "The path or query cannot be valid input (it contains a NUL character)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in document.get("paths", {}).values() for op in item.values() if isinstance(op, dict)]


def _admits_null(schema: dict[str, Any]) -> bool:
    kinds = schema.get("type")
    return (
        kinds == "null"
        or (isinstance(kinds, list) and "null" in kinds)
        or any(option.get("type") == "null" for option in schema.get("anyOf", ()) if isinstance(option, dict))
    )


def restore_example_nulls(document: dict[str, Any]) -> None:
    """Put back the ``null`` values FastAPI drops from examples (it encodes the document with
    ``exclude_none``): an example of a body or answer whose schema requires a nullable property
    it lacks gets that property as ``null``, as the route wrote it."""
    schemas = document.get("components", {}).get("schemas", {})
    for op in _operations(document):
        bodies = [op.get("requestBody", {})] + list(op.get("responses", {}).values())
        for media in (m for body in bodies for m in body.get("content", {}).values()):
            ref = media.get("schema", {}).get("$ref", "")
            target = schemas.get(ref.rsplit("/", 1)[-1]) if ref.startswith("#/components/schemas/") else None
            if not target:
                continue
            nullable = [
                name
                for name in target.get("required", ())
                if _admits_null(target.get("properties", {}).get(name, {}))
            ]
            samples = [media.get("example")] + [e.get("value") for e in media.get("examples", {}).values()]
            for sample in samples:
                if isinstance(sample, dict):
                    for name in nullable:
                        sample.setdefault(name, None)


def postprocess(document: dict[str, Any]) -> dict[str, Any]:
    """Add ``info.license``, ``servers``, the tag descriptions, ``security: []`` on every
    operation that needs no token (no dependency on the current user, so FastAPI gave it no
    security requirement), a 422 on operations that declare no 4xx answer and the create body
    examples. Changes ``document`` in place and returns it."""
    document["info"].setdefault("license", LICENSE)
    document["servers"] = [{"url": "/"}]
    used = {tag for op in _operations(document) for tag in op.get("tags", [])}
    document["tags"] = [{"name": name, "description": text} for name, text in TAGS.items() if name in used]
    document["tags"] += [{"name": name} for name in sorted(used - set(TAGS))]
    for op in _operations(document):
        op.setdefault("security", [])
        responses = op.setdefault("responses", {})
        if not any(str(status).startswith("4") for status in responses):
            responses["422"] = QUERY_REFUSED
        examples = EXAMPLES.get(op.get("operationId", ""))
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        if examples and content is not None:
            content["examples"] = copy.deepcopy(examples)
    restore_example_nulls(document)
    return document


def customize(app: FastAPI) -> None:
    """Post-process the document ``app.openapi()`` generates (once: FastAPI caches it)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = postprocess(generate())
            document_locations(app, app.openapi_schema)  # Location on 201 answers
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
