"""The OpenAPI document as a typed client (openapi-typescript) sees it: every operation has a
unique camelCase id, every JSON success answer a schema, files their media type, every tag a
description, public operations ``security: []``, and the main create bodies examples.

Built from ``create_app().openapi()`` alone: no service needs to run."""

from __future__ import annotations

import re
from typing import Any

import pytest
from gateway.main import create_app

CAMEL_CASE = re.compile(r"^[a-z][a-zA-Z0-9]*$")
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/auth/invitations/{token}"),
    ("POST", "/api/v1/auth/invitations/accept"),
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in ("get", "put", "post", "patch", "delete", "head", "options")
    ]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def untyped(document: dict[str, Any], schema: dict[str, Any] | None) -> bool:
    """No schema, ``{}`` (only a title or description), or a bare object without properties:
    a generated client would type the answer as ``unknown`` / ``Record<string, unknown>``."""
    if not schema:
        return True
    schema = resolve(document, schema)
    if not set(schema) - {"title", "description"}:
        return True
    if any(key in schema for key in ("anyOf", "oneOf", "allOf", "items", "properties")):
        return False
    extra = schema.get("additionalProperties")
    return schema.get("type") == "object" and (extra is None or extra is True or extra == {})


def test_operation_ids_are_unique_and_camel_case(document):
    ids = [op.get("operationId") for _, _, op in operations(document)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    not_camel = sorted(str(i) for i in ids if i is None or not CAMEL_CASE.match(i))
    assert not duplicates, f"duplicate operation ids: {duplicates}"
    assert not not_camel, f"operation ids not in camelCase: {not_camel}"


def test_every_json_success_answer_has_a_schema(document):
    offenders = []
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                continue
            content = response.get("content", {})
            if "application/json" in content and untyped(document, content["application/json"].get("schema")):
                offenders.append(f"{method} {path} {status} ({op.get('operationId')})")
    assert not offenders, f"{len(offenders)} JSON success answers without a schema:\n" + "\n".join(offenders)


def test_files_declare_their_media_type_and_no_content_has_no_body(document):
    offenders = []
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            content = response.get("content", {})
            if status == "204" and content:
                offenders.append(f"{method} {path} 204 declares a body")
            for media_type, entry in content.items():
                if status.startswith("2") and "json" not in media_type and not entry.get("schema"):
                    offenders.append(f"{method} {path} {status} {media_type} has no schema")
    assert not offenders, "\n".join(offenders)


def test_pdfs_are_binary(document):
    pdf = [
        (path, status, response["content"]["application/pdf"])
        for _, path, op in operations(document)
        for status, response in op["responses"].items()
        if "application/pdf" in response.get("content", {})
    ]
    assert pdf, "no operation answers a PDF"
    for path, status, entry in pdf:
        assert entry.get("schema") == {"type": "string", "format": "binary"}, (path, status)


def test_tags_have_descriptions_and_servers_are_relative(document):
    declared = {tag["name"]: tag.get("description") for tag in document["tags"]}
    used = {tag for _, _, op in operations(document) for tag in op.get("tags", [])}
    assert used <= set(declared), f"tags without a declaration: {sorted(used - set(declared))}"
    assert all(declared[tag] for tag in used), [tag for tag in used if not declared[tag]]
    assert document["servers"] == [{"url": "/"}]


def test_public_operations_say_so_and_the_others_need_a_token(document):
    public = {(method, path) for method, path, op in operations(document) if op.get("security") == []}
    assert PUBLIC <= public, f"not marked public: {sorted(PUBLIC - public)}"
    for method, path, op in operations(document):
        if (method, path) in public:
            continue
        assert op.get("security"), f"{method} {path} has no security requirement"
    assert ("GET", "/api/v1/users/me") not in public
    assert ("GET", "/api/v1/customers") not in public


@pytest.mark.parametrize("operation_id", ["createCustomer", "createContract", "recordPayment"])
def test_the_main_create_bodies_have_examples(document, operation_id):
    op = next(op for _, _, op in operations(document) if op.get("operationId") == operation_id)
    examples = op["requestBody"]["content"]["application/json"]["examples"]
    assert examples and all("value" in example for example in examples.values())


def test_documented_answers_are_documentation_only(document):
    """The models are declared in ``responses``: the routes still answer the service's JSON as
    it is (a ``response_model`` would drop the fields it does not name)."""
    from gateway.routes import approvals, contracts, customers, dashboard

    for module, path, url in (
        (customers, "/customers/{customer_id}", "/api/v1/customers/{customer_id}"),
        (contracts, "/contracts/{contract_id}", "/api/v1/contracts/{contract_id}"),
        (approvals, "/approvals/{approval_id}", "/api/v1/approvals/{approval_id}"),
        (dashboard, "/dashboard", "/api/v1/dashboard"),
    ):
        route = next(r for r in module.router.routes if r.path == path and "GET" in r.methods)
        assert route.response_model in (None, Any), path  # Any: the JSON as it is
        schema = document["paths"][url]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert not untyped(document, schema), url
