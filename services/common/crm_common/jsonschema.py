"""Marshmallow schemas as JSON Schema (draft 2020-12), for the event catalogue.

:func:`schema_of` turns a marshmallow ``Schema`` (class or instance) into the JSON Schema of
what it dumps: one property per dumped field (its ``data_key`` when it has one; ``load_only``
fields are left out), ``required`` from ``required=True``, ``additionalProperties: false``.
:func:`field_schema` does the same for one field.

Fields:

====================================  ===============================================================
``String``, ``Email``, ``URL``        ``string`` (``format`` ``email`` / ``uri``)
``UUID``, ``IP``, ``IPv4``, ``IPv6``  ``string`` (``format`` ``uuid`` / ``ipv4`` / ``ipv6``)
``Integer``; ``Float``, ``Number``    ``integer``; ``number``
``Decimal``, ``crm_common.money.Money``  ``string`` of a plain decimal (JSON carries decimals as text;
                                      ``Money`` without ``allow_negative`` has no sign)
``Boolean``                           ``boolean``
``Date``, ``DateTime`` (iso)           ``string`` ``format: date`` / ``date-time`` (``crm_common.fields``
                                      too); ``Time``: ``format: time``; ``TimeDelta``: ``number``
``Nested`` (``many``), ``Pluck``      the nested schema inline (an array of it)
``List``, ``Tuple``                   ``array`` of the inner field (``prefixItems`` for a tuple)
``Dict``, ``Mapping``                 ``object``; ``additionalProperties`` from ``values``
``Enum``                              ``enum`` of the member names (values with ``by_value``)
``Constant``                          ``const``
``Raw``, ``Function``, ``Method``     any value (say more with ``metadata={"jsonschema": ...}``)
====================================  ===============================================================

Validators: ``OneOf`` → ``enum``, ``Equal`` → ``const``, ``NoneOf`` → ``not: {enum}``,
``Length`` → ``minLength``/``maxLength`` (``minItems``/``maxItems`` on lists), ``Range`` →
``minimum``/``maximum`` (exclusive when not inclusive), ``Regexp`` → ``pattern``,
``ContainsOnly`` → an ``enum`` of the items. ``allow_none=True`` adds ``null`` to the type.

A field's ``metadata={"description": ...}`` becomes its description, and
``metadata={"jsonschema": {...}}`` is merged over what is derived (a custom field says its type
this way).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any

from marshmallow import Schema, fields, validate

from .money import Money

DIALECT = "https://json-schema.org/draft/2020-12/schema"
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
UNSIGNED_DECIMAL_PATTERN = r"^[0-9]+(\.[0-9]+)?$"

JsonSchema = dict[str, Any]


def schema_of(schema: type[Schema] | Schema, *, dialect: bool = False) -> JsonSchema:
    """The JSON Schema of what ``schema`` dumps (an object with ``additionalProperties: false``);
    ``dialect`` adds ``$schema``."""
    out = _object_schema(_instance(schema), ())
    if dialect:
        out = {"$schema": DIALECT, **out}
    return out


def field_schema(field: fields.Field) -> JsonSchema:
    """The JSON Schema of one marshmallow field's dumped value."""
    return _field(field, ())


# --------------------------------------------------------------------------------------


def _instance(schema: type[Schema] | Schema) -> Schema:
    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, type) and issubclass(schema, Schema):
        return schema()
    raise TypeError(f"not a marshmallow schema: {schema!r}")


def _object_schema(schema: Schema, seen: tuple[type, ...]) -> JsonSchema:
    cls = type(schema)
    if cls in seen:  # a schema nesting itself: described as an object, not unrolled forever
        return {"type": "object", "title": cls.__name__}
    seen = (*seen, cls)
    properties: dict[str, JsonSchema] = {}
    required: list[str] = []
    for name, field in schema.dump_fields.items():
        key = field.data_key or name
        properties[key] = _field(field, seen)
        if field.required:
            required.append(key)
    out: JsonSchema = {
        "type": "object",
        "title": cls.__name__,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        out["required"] = sorted(required)
    return out


def _field(field: fields.Field, seen: tuple[type, ...]) -> JsonSchema:
    out = _base(field, seen)
    for validator in _validators(field):
        _apply_validator(out, validator)
    override = (field.metadata or {}).get("jsonschema")
    if override:
        out.update(override)
    description = (field.metadata or {}).get("description")
    if description and "description" not in out:
        out["description"] = str(description)
    if field.allow_none:
        out = _nullable(out)
    return out


def _base(field: fields.Field, seen: tuple[type, ...]) -> JsonSchema:
    """What the field's class says about its dumped value (validators come later)."""
    if isinstance(field, Money):
        return {
            "type": "string",
            "pattern": DECIMAL_PATTERN if field.allow_negative else UNSIGNED_DECIMAL_PATTERN,
        }
    if isinstance(field, fields.Nested):
        return _nested(field, seen)
    if isinstance(field, fields.List):
        return {"type": "array", "items": _field(field.inner, seen)}
    if isinstance(field, fields.Tuple):
        items = [_field(f, seen) for f in field.tuple_fields]
        return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
    if isinstance(field, fields.Mapping):
        return _mapping(field, seen)
    if isinstance(field, fields.Enum):
        return _enum(field)
    if isinstance(field, fields.Constant):
        return {"const": _json_value(field.constant)}
    return _scalar(field)


def _scalar(field: fields.Field) -> JsonSchema:
    simple: list[tuple[type, JsonSchema]] = [
        (fields.Boolean, {"type": "boolean"}),
        (fields.Integer, {"type": "integer"}),
        (fields.Decimal, {"type": "string", "pattern": DECIMAL_PATTERN}),
        (fields.Number, {"type": "number"}),
        (fields.Email, {"type": "string", "format": "email"}),
        (fields.URL, {"type": "string", "format": "uri"}),
        (fields.UUID, {"type": "string", "format": "uuid"}),
        (fields.IPv4, {"type": "string", "format": "ipv4"}),
        (fields.IPv6, {"type": "string", "format": "ipv6"}),
        (fields.IP, {"type": "string"}),
        (fields.IPInterface, {"type": "string"}),
        (fields.Date, {"type": "string", "format": "date"}),
        (fields.Time, {"type": "string", "format": "time"}),
        (fields.TimeDelta, {"type": "number"}),
        (fields.String, {"type": "string"}),
    ]
    if isinstance(field, fields.DateTime):
        fmt = getattr(field, "format", None)
        if fmt in (None, "iso", "iso8601"):
            return {"type": "string", "format": "date-time"}
        return {"type": "number"} if fmt in ("timestamp", "timestamp_ms") else {"type": "string"}
    for cls, out in simple:
        if isinstance(field, cls):
            return dict(out)
    return {}  # Raw, Function, Method, custom fields: any JSON value


def _nested(field: fields.Nested, seen: tuple[type, ...]) -> JsonSchema:
    inner = field.schema
    if isinstance(field, fields.Pluck):
        one = _field(inner.fields[field.field_name], seen)
    else:
        one = _object_schema(inner, seen)
    return {"type": "array", "items": one} if field.many else one


def _mapping(field: fields.Mapping, seen: tuple[type, ...]) -> JsonSchema:
    out: JsonSchema = {"type": "object"}
    if field.value_field is not None:
        out["additionalProperties"] = _field(field.value_field, seen)
    if field.key_field is not None:
        keys = _field(field.key_field, seen)
        keys.pop("type", None)
        if keys:
            out["propertyNames"] = keys
    return out


def _enum(field: fields.Enum) -> JsonSchema:
    members: list[Any] = [m for n, m in field.enum.__members__.items() if m.name == n]  # no aliases
    if field.by_value:
        values = [_json_value(m.value) for m in members]
        kinds = {_json_type(v) for v in values}
        out: JsonSchema = {"enum": values}
        if len(kinds) == 1 and None not in kinds:
            out = {"type": kinds.pop(), **out}
        return out
    return {"type": "string", "enum": [m.name for m in members]}


def _validators(field: fields.Field) -> list[Any]:
    out: list[Any] = []
    for v in getattr(field, "validators", ()) or ():
        if isinstance(v, validate.And):
            out.extend(v.validators)
        else:
            out.append(v)
    return out


def _apply_validator(out: JsonSchema, v: Any) -> None:
    kind = out.get("type")
    if isinstance(v, validate.ContainsOnly):  # a OneOf too: for each item of a list
        if kind == "array":
            out["items"] = {**out.get("items", {}), "enum": _choices(v.choices)}
    elif isinstance(v, validate.OneOf):
        out["enum"] = _choices(v.choices)
    elif isinstance(v, validate.Equal):
        out["const"] = _json_value(v.comparable)
    elif isinstance(v, validate.NoneOf):
        out["not"] = {"enum": _choices(v.iterable)}
    elif isinstance(v, validate.Length):
        _length(out, v, kind)
    elif isinstance(v, validate.Range) and kind in ("integer", "number"):
        if v.min is not None:
            out["minimum" if v.min_inclusive else "exclusiveMinimum"] = _json_value(v.min)
        if v.max is not None:
            out["maximum" if v.max_inclusive else "exclusiveMaximum"] = _json_value(v.max)
    elif isinstance(v, validate.Regexp):
        out["pattern"] = v.regex.pattern


def _choices(values: Any) -> list[Any]:
    """Choices as JSON values, in their order; a set's sorted (its order changes from one process
    to the next, and the generated files must not)."""
    if isinstance(values, (set, frozenset)):
        values = sorted(values, key=lambda c: (str(type(c)), str(c)))
    return [_json_value(c) for c in values]


def _length(out: JsonSchema, v: validate.Length, kind: Any) -> None:
    prefix = {"array": "Items", "object": "Properties"}.get(kind, "Length")
    low = v.equal if v.equal is not None else v.min
    high = v.equal if v.equal is not None else v.max
    if low:
        out[f"min{prefix}"] = low
    if high is not None:
        out[f"max{prefix}"] = high


def _nullable(out: JsonSchema) -> JsonSchema:
    """``out`` that also accepts ``null``."""
    if not out:
        return out  # any value already includes null
    out = dict(out)
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    elif isinstance(kind, list):
        if "null" not in kind:
            out["type"] = [*kind, "null"]
    elif "enum" not in out:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _json_value(value: Any) -> Any:
    """A choice or bound as JSON writes it (decimals and dates as text, enum members by value)."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return _choices(value)
    if isinstance(value, (tuple, list)):
        return [_json_value(v) for v in value]
    return value


def _json_type(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


__all__ = ["DIALECT", "field_schema", "schema_of"]
