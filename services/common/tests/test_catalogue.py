"""The event catalogue: marshmallow → JSON Schema, the check every publish makes, the build
(generated files up to date, its refusals) and the AsyncAPI document's shape."""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import types
from decimal import Decimal

import pytest
import yaml
from crm_common import catalogue, catalogue_build
from crm_common.catalogue import (
    ENVELOPE_KEYS,
    EventInfo,
    EventPayloadMismatch,
    EventSpec,
    UndeclaredEvent,
)
from crm_common.db import DatabaseHandle, make_envelope
from crm_common.fields import AwareDateTime, Date
from crm_common.jsonschema import schema_of
from crm_common.money import Money
from jsonschema import Draft202012Validator
from marshmallow import Schema, fields, validate
from sqlalchemy import func, insert, select

from .sample_service import items, metadata

# -- marshmallow → JSON Schema ----------------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Line(Schema):
    sku = fields.String(required=True, validate=validate.Length(max=20))
    quantity = Money(kind="quantity", required=True)


class Everything(Schema):
    id = fields.Integer(required=True, validate=validate.Range(min=1))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    status = fields.String(required=True, validate=validate.OneOf(["draft", "active"]))
    amount = Money(required=True)
    balance = Money(allow_negative=True, allow_none=True)
    ratio = fields.Float()
    price = fields.Decimal()
    active = fields.Boolean()
    start = Date(allow_none=True)
    at = AwareDateTime()
    email = fields.Email()
    website = fields.URL()
    token = fields.UUID()
    colour = fields.Enum(Colour)
    colour_value = fields.Enum(Colour, by_value=True, allow_none=True)
    lines = fields.List(fields.Nested(Line), validate=validate.Length(max=3))
    main_line = fields.Nested(Line, allow_none=True)
    more_lines = fields.Nested(Line, many=True)
    skus = fields.Pluck(Line, "sku", many=True)
    totals = fields.Dict(keys=fields.String(), values=Money())
    pair = fields.Tuple((fields.Integer(), fields.String()))
    anything = fields.Raw()
    kind = fields.Constant("order")
    code = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"), metadata={"description": "three letters"})
    custom = fields.Field(metadata={"jsonschema": {"type": ["integer", "string"]}})
    fields_changed = fields.List(fields.String(), data_key="fields")
    secret = fields.String(load_only=True)


def test_every_field_kind_becomes_its_json_schema():
    s = schema_of(Everything)
    p = s["properties"]
    assert s["type"] == "object" and s["additionalProperties"] is False
    assert s["required"] == ["amount", "id", "name", "status"]
    assert p["id"] == {"type": "integer", "minimum": 1}
    assert p["name"] == {"type": "string", "minLength": 1, "maxLength": 200}
    assert p["status"] == {"type": "string", "enum": ["draft", "active"]}
    assert p["amount"] == {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}
    assert p["balance"] == {"type": ["string", "null"], "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
    assert p["ratio"] == {"type": "number"}
    assert p["price"]["type"] == "string"
    assert p["active"] == {"type": "boolean"}
    assert p["start"] == {"type": ["string", "null"], "format": "date"}
    assert p["at"] == {"type": "string", "format": "date-time"}
    assert (
        p["email"]["format"] == "email" and p["website"]["format"] == "uri" and p["token"]["format"] == "uuid"
    )
    assert p["colour"] == {"type": "string", "enum": ["RED", "BLUE"]}
    assert p["colour_value"] == {"type": ["string", "null"], "enum": ["red", "blue", None]}
    assert p["lines"]["type"] == "array" and p["lines"]["maxItems"] == 3
    line = p["lines"]["items"]
    assert line["properties"]["sku"] == {"type": "string", "maxLength": 20}
    assert line["required"] == ["quantity", "sku"] and line["additionalProperties"] is False
    assert p["main_line"]["type"] == ["object", "null"]
    assert p["more_lines"] == {"type": "array", "items": line}
    assert p["skus"] == {"type": "array", "items": {"type": "string", "maxLength": 20}}
    assert p["totals"]["type"] == "object" and p["totals"]["additionalProperties"]["type"] == "string"
    assert p["pair"]["prefixItems"] == [{"type": "integer"}, {"type": "string"}]
    assert p["anything"] == {}
    assert p["kind"] == {"const": "order"}
    assert p["code"] == {"type": "string", "pattern": "^[A-Z]{3}$", "description": "three letters"}
    assert p["custom"] == {"type": ["integer", "string"]}
    assert "fields" in p and "fields_changed" not in p  # the key as dumped
    assert "secret" not in p  # load_only: never in a payload
    Draft202012Validator.check_schema(s)


def test_choices_from_a_set_come_out_in_one_order():
    """A set's order changes with the process's hash seed; the generated files must not."""

    class Kinds(Schema):
        kind = fields.String(validate=validate.OneOf(frozenset({"person", "company", "agency"})))
        kinds = fields.List(fields.String(), validate=validate.ContainsOnly({"b", "a"}))

    s = schema_of(Kinds)
    assert s["properties"]["kind"]["enum"] == ["agency", "company", "person"]
    assert s["properties"]["kinds"]["items"]["enum"] == ["a", "b"]


def test_a_dumped_payload_matches_and_a_wrong_one_does_not():
    validator = Draft202012Validator(
        schema_of(Everything), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    good = {
        "id": 3,
        "name": "Order",
        "status": "active",
        "amount": "12.50",
        "balance": None,
        "start": "2026-01-31",
        "at": "2026-01-31T10:00:00+00:00",
        "colour": "RED",
        "lines": [{"sku": "A-1", "quantity": "2"}],
        "main_line": None,
        "totals": {"EUR": "10.00"},
        "pair": [1, "x"],
        "anything": {"free": [1, 2]},
        "kind": "order",
        "custom": "CN-9",
        "fields": ["name"],
    }
    assert list(validator.iter_errors(good)) == []
    for key, bad in [
        ("amount", "-1"),
        ("amount", 12.5),
        ("status", "gone"),
        ("start", "31/01/2026"),
        ("lines", [{"sku": "A-1"}]),
        ("unexpected", 1),
        ("id", 0),
    ]:
        assert list(validator.iter_errors({**good, key: bad})), (key, bad)


# -- the check on publish ---------------------------------------------------------------------


@pytest.fixture
def sample_db(sqlite_url):
    handle = DatabaseHandle("sample", metadata, sqlite_url)
    handle.create_all()
    yield handle
    handle.dispose()


def outbox_count(handle):
    with handle.read() as s:
        return s.execute(select(func.count()).select_from(handle.infra.outbox)).scalar()


def test_validation_is_on_in_the_test_suites():
    assert catalogue.validating()


def test_a_declared_event_with_a_matching_payload_is_published(sample_db):
    with sample_db.transaction() as uow:
        uow.publish("item_created", {"id": 1, "name": "Çay"})
    assert outbox_count(sample_db) == 1


def test_an_undeclared_type_is_refused_and_nothing_commits(sample_db, monkeypatch):
    monkeypatch.setenv("CRM_VALIDATE_EVENTS", "1")
    with pytest.raises(UndeclaredEvent) as info:
        with sample_db.transaction() as uow:
            uow.session.execute(insert(items).values(name="x"))
            uow.publish("item_creatd", {"id": 1, "name": "x"})
    assert "item_creatd" in str(info.value)
    assert outbox_count(sample_db) == 0
    with pytest.raises(UndeclaredEvent):  # a version nobody declared
        with sample_db.transaction() as uow:
            uow.publish("item_created", {"id": 1, "name": "x"}, version=2)


def test_a_payload_that_does_not_match_names_where(sample_db, monkeypatch):
    monkeypatch.setenv("CRM_VALIDATE_EVENTS", "1")
    cases = [
        ({"id": "1", "name": "x"}, "payload.id"),
        ({"id": 1}, "payload"),  # name missing
        ({"id": 1, "name": "x", "extra": True}, "payload"),
    ]
    for payload, path in cases:
        with pytest.raises(EventPayloadMismatch) as info:
            with sample_db.transaction() as uow:
                uow.publish_many("item_created", [{"id": 2, "name": "fine"}, payload])
        assert info.value.path == path, payload
    assert outbox_count(sample_db) == 0


def test_a_payload_is_checked_as_json_carries_it(sample_db, monkeypatch):
    """Decimals and dates become text before the check, as in the outbox."""
    monkeypatch.setenv("CRM_VALIDATE_EVENTS", "1")

    class Priced(Schema):
        price = Money(required=True)
        day = Date(required=True)

    catalogue.register(
        EventSpec(source="sample", type="priced", payload=Priced, summary="Priced.", public=False)
    )
    with sample_db.transaction() as uow:
        uow.publish("priced", {"price": Decimal("9.990"), "day": dt.date(2026, 2, 1)})
    with pytest.raises(EventPayloadMismatch) as info:
        with sample_db.transaction() as uow:
            uow.publish("priced", {"price": Decimal("-1"), "day": dt.date(2026, 2, 1)})
    assert info.value.path == "payload.price"


def test_a_later_version_has_its_own_routing_key(sample_db, monkeypatch):
    """Both versions of a type can be published side by side: a consumer of one never gets the
    other (its handler binds the routing key ``<type>.v<N>``)."""
    monkeypatch.setenv("CRM_VALIDATE_EVENTS", "1")

    class ItemV2(Schema):
        id = fields.Integer(required=True)
        title = fields.String(required=True)

    catalogue.register(
        EventSpec(
            source="sample", type="item_renamed", payload=ItemV2, summary="Renamed.", version=2, public=False
        )
    )
    with sample_db.transaction() as uow:
        uow.publish("item_renamed", {"id": 1, "title": "new"}, version=2)
    with sample_db.read() as s:
        row = s.execute(select(sample_db.infra.outbox.c.type, sample_db.infra.outbox.c.body)).one()
    assert row.type == "item_renamed.v2" == catalogue.routing_key("item_renamed", 2)
    envelope = json.loads(row.body)
    assert (envelope["type"], envelope["version"]) == ("item_renamed", 2)
    assert catalogue.routing_key("item_created") == "item_created"


def test_without_validation_an_undeclared_type_is_logged_once_counted_and_committed(
    sample_db, monkeypatch, caplog
):
    monkeypatch.delenv("CRM_VALIDATE_EVENTS", raising=False)
    before = dict(catalogue.UNDECLARED_EVENTS._values).get(("sample", "never_declared"), 0.0)
    with caplog.at_level(logging.ERROR, logger="crm_common.catalogue"):
        for _ in range(3):
            with sample_db.transaction() as uow:
                uow.publish("never_declared", {"anything": "goes"})
                uow.publish("item_created", {"id": "not checked", "name": 1})  # payloads unchecked
    assert outbox_count(sample_db) == 6
    logged = [r for r in caplog.records if "never_declared" in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.ERROR
    assert catalogue.UNDECLARED_EVENTS._values[("sample", "never_declared")] == before + 3
    assert 'crm_undeclared_events_total{service="sample",event_type="never_declared"}' in "\n".join(
        catalogue.UNDECLARED_EVENTS.render()
    )


def test_every_envelope_carries_its_identity():
    envelope = make_envelope("customers", "customer_created", {"id": 1})
    assert list(envelope) == list(ENVELOPE_KEYS)
    assert all(envelope[k] is not None for k in ("event_id", "type", "version", "occurred_at", "source"))
    validator = Draft202012Validator(
        catalogue.ENVELOPE_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    assert list(validator.iter_errors(envelope)) == []


# -- the loaded catalogue ---------------------------------------------------------------------


def test_the_loaded_catalogue_answers_lookups():
    loaded = catalogue.load()
    created = loaded.get("customers", "customer_created")
    assert created is not None and created.version == 1 and created.public
    assert "email" in created.personal and "email" in created.schema["properties"]
    assert "billing.handle_customer_created" in created.consumers
    assert loaded.find("customer_created") == [created]
    assert "customer_created" in loaded.types(public_only=True)
    assert "user_created" in loaded.types() and "user_created" not in loaded.types(public_only=True)
    assert all(e.public for e in loaded.public())
    assert loaded.get("sample", "item_created") is not None  # registered by the sample service
    assert loaded.get("customers", "custmer_created") is None
    assert {"approvals", "billing", "contracts", "customers", "gateway", "inventory", "notify"} <= set(
        loaded.sources()
    )
    assert EventInfo.from_dict(created.to_dict()) == created


# -- the build ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def build():
    return catalogue_build.collect()


def test_the_declarations_are_consistent(build):
    assert build.problems == []


def test_the_generated_files_are_up_to_date(build):
    """What `make lint` checks: `make events` was run after the last change to a declaration."""
    files = catalogue_build.render(build)
    assert catalogue_build.stale(files) == []
    assert catalogue_build.render(build) == files  # deterministic
    some = next(p for p in files if p.suffix == ".json" and p.name.startswith("customers."))
    altered = {**files, some: files[some] + " "}
    assert catalogue_build.stale(altered) == [f"{catalogue_build.relative(some)} is out of date"]


def test_every_generated_schema_is_valid_json_schema():
    for path in sorted(catalogue_build.SCHEMAS_DIR.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == path.name


def test_the_build_refuses_undeclared_and_inconsistent_declarations(monkeypatch):
    class Payload(Schema):
        id = fields.Integer(required=True)

    b = catalogue_build.Build()
    module = types.SimpleNamespace(
        __name__="shop.events",
        PUBLISHED=("order_placed", "order_lost"),
        CATALOGUE=(
            EventSpec("shop", "order_placed", Payload, "An order was placed.", personal=("name",)),
            EventSpec("shop", "order_placed", Payload, "Again."),
            EventSpec("elsewhere", "stolen", Payload, "Not ours."),
            EventSpec("shop", "order_shipped", Payload, "Shipped.", examples=({"id": "x"},)),
        ),
    )
    catalogue_build.declarations(module, "shop", b)
    b.consumers[("shop", "order_refunded")] = {"billing.handle_order_refunded"}
    catalogue_build.check(b)
    text = "\n".join(b.problems)
    assert "'order_lost' (PUBLISHED) but CATALOGUE does not declare it" in text
    assert "shop.order_placed v1 is declared twice" in text
    assert "declares elsewhere.stolen" in text
    assert "personal field 'name' is not in its payload" in text
    assert "shop.order_shipped v1: example 1 does not match" in text
    assert (
        "billing.handle_order_refunded consume(s) shop.order_refunded, which no catalogue entry publishes"
        in text
    )

    monkeypatch.setattr(
        catalogue_build, "UNPUBLISHED_ALLOWED", {("shop", "order_refunded"): "published by the shop"}
    )
    allowed = catalogue_build.Build(specs=[EventSpec("shop", "order_placed", Payload, "Placed.")])
    allowed.consumers[("shop", "order_refunded")] = {"billing.handle_order_refunded"}
    catalogue_build.check(allowed)
    assert allowed.problems == []
    assert catalogue_build.catalogue_document(allowed)["unpublished"] == [
        {
            "source": "shop",
            "type": "order_refunded",
            "consumers": ["billing.handle_order_refunded"],
            "reason": "published by the shop",
        }
    ]
    stale_allowance = catalogue_build.Build(specs=[EventSpec("shop", "order_refunded", Payload, "Refunded.")])
    catalogue_build.check(stale_allowance)
    assert any("UNPUBLISHED_ALLOWED names shop.order_refunded" in p for p in stale_allowance.problems)


def test_personal_paths_reach_into_nested_objects_and_lists():
    schema = schema_of(Everything)
    assert catalogue_build.has_path(schema, "lines.sku")
    assert catalogue_build.has_path(schema, "main_line.quantity")
    assert not catalogue_build.has_path(schema, "lines.colour")


# -- the AsyncAPI document ------------------------------------------------------------------------


def resolve(document, ref):
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def test_the_asyncapi_document_is_well_formed():
    text = catalogue_build.ASYNCAPI_FILE.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    assert doc["asyncapi"] == "3.0.0"
    assert {"title", "version", "description"} <= set(doc["info"])
    assert {"servers", "channels", "operations", "components"} <= set(doc)
    assert doc["servers"]["broker"]["protocol"] == "amqp"
    for ref in refs(doc):
        resolve(doc, ref)
    loaded = catalogue.load()
    assert len(doc["components"]["messages"]) == len([e for e in loaded if e.source != "sample"])
    for info in loaded:
        if info.source == "sample":
            continue
        channel = doc["channels"][f"{info.source}.{info.routing_key}"]
        assert (
            channel["address"]
            == info.routing_key
            == (info.type if info.version == 1 else f"{info.type}.v{info.version}")
        )
        assert channel["bindings"]["amqp"]["exchange"]["name"] == f"{info.source}.events"
        message = resolve(doc, channel["messages"][f"v{info.version}"]["$ref"])
        assert message["x-public"] is info.public and message["x-personal-data"] == list(info.personal)
        payload = message["payload"]
        assert payload["required"] == list(ENVELOPE_KEYS)
        assert resolve(doc, payload["properties"]["payload"]["$ref"]) == info.schema
        send = doc["operations"][f"send.{info.source}.{info.routing_key}"]
        assert send["action"] == "send" and resolve(doc, send["channel"]["$ref"]) is channel
        for consumer in info.consumers:
            receive = doc["operations"][f"receive.{info.source}.{info.routing_key}.{consumer}"]
            assert receive["action"] == "receive"
    for op in doc["operations"].values():
        channel_ref = op["channel"]["$ref"]
        for m in op["messages"]:  # an operation's messages are its channel's
            assert m["$ref"].startswith(channel_ref + "/messages/")
