"""The gateway's request models state enums and limits that the services validate again (issue
19 §1): this test fails when the two drift apart.

For every pair in ``PAIRS`` (a gateway request model and the service's marshmallow input schema
the route hands its body to), every field both declare is compared:

* **enums**: the gateway's ``Literal`` choices (``enum`` in its JSON Schema) against the
  service's ``OneOf`` choices; a service field without a ``OneOf`` must still refuse a value
  outside the gateway's choices;
* **string lengths**: the gateway's ``maxLength`` against the longest string the service schema
  accepts (probed by loading the field: the customers service checks lengths in rule functions,
  not ``Length`` validators);
* **list sizes**: ``maxItems`` against the longest list the service accepts; the values of
  objects (``manufacturing_numbers``) like strings;
* **integer ranges**: ``minimum`` / ``maximum`` against the service's ``Range`` (or, without one,
  whether it accepts the gateway's bounds and refuses one past them).

A failure names both places, e.g. ``gateway schemas.CustomerCreate.industry: maxLength 200 ≠
customers.schemas.CustomerCreateSchema.industry: 100``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import approvals.schemas as aps
import billing.schemas as bis
import contracts.schemas as cos
import customers.schemas as cus
import inventory.schemas as ins
import pytest
from marshmallow import Schema, ValidationError, fields, validate
from pydantic import BaseModel

from gateway import schemas as g
from gateway import schemas_approvals as ga
from gateway import schemas_billing as gb
from gateway import schemas_contracts as gc
from gateway import schemas_inventory as gi

PROBE_CAP = 1 << 17  # "no limit": the service accepts a string / list this long


@dataclass(frozen=True)
class Pair:
    gateway: type[BaseModel]
    service: type[Schema]
    # gateway field -> service field where the names differ
    renamed: tuple[tuple[str, str], ...] = ()
    # fields both have but compared elsewhere or deliberately different (with the reason)
    skip: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.gateway.__name__}->{self.service.__name__}"


# gateway request model -> the service input schema its body is loaded with
PAIRS: tuple[Pair, ...] = (
    # customers
    Pair(g.ContactCreate, cus.ContactCreateSchema),
    Pair(g.CustomerCreate, cus.CustomerCreateSchema),
    Pair(g.CustomerUpdate, cus.CustomerUpdateSchema),
    Pair(g.FollowUpCreate, cus.FollowUpCreateSchema),
    Pair(g.OpportunityCreate, cus.OpportunityCreateSchema),
    Pair(g.OpportunityUpdate, cus.OpportunityUpdateSchema),
    # contracts
    Pair(gc.ContractCreate, cos.ContractCreateSchema),
    Pair(gc.ContractUpdate, cos.ContractFieldsSchema),
    Pair(gc.Billing, cos.BillingSchema),
    Pair(gc.LineCreate, cos.LineSchema),
    Pair(gc.LineChange, cos.LineChangeSchema),
    Pair(gc.Terminate, cos.TerminateSchema),
    Pair(gc.Cancel, cos.CancelSchema),
    Pair(gc.Renew, cos.RenewSchema),
    Pair(gc.AmendmentCreate, cos.AmendmentSchema),
    # billing: invoices, credit notes, payments
    Pair(gb.InvoiceLine, bis.OneOffLineIn),
    Pair(gb.InvoiceCreate, bis.InvoiceIn),
    Pair(gb.InvoiceUpdate, bis.InvoiceUpdateIn),
    Pair(gb.CreditNoteLine, bis.CreditLineIn),
    Pair(gb.CreditNoteCreate, bis.CreditNoteIn),
    Pair(gb.Allocation, bis.AllocationIn),
    Pair(gb.PaymentCreate, bis.PaymentIn),
    Pair(gb.PaymentAllocate, bis.AllocateIn),
    Pair(gb.RefundCreate, bis.RefundIn),
    Pair(gb.BillingRunCreate, bis.RunIn),
    # inventory: products, prices, stock, trade-ins
    Pair(gi.ProductCreate, ins.ProductCreateSchema),
    Pair(gi.ProductUpdate, ins.ProductUpdateSchema),
    Pair(gi.CategoryCreate, ins.CategoryCreateSchema),
    Pair(gi.PriceItem, ins.PriceItemSchema),
    Pair(gi.PriceListCreate, ins.PriceListCreateSchema),
    Pair(gi.BulkPriceUpdate, ins.BulkUpdateSchema),
    Pair(gi.WarehouseCreate, ins.WarehouseCreateSchema),
    Pair(gi.StockMove, ins.MoveSchema),
    Pair(gi.StockTransfer, ins.TransferSchema),
    Pair(gi.ReserveItem, ins.ReserveItemSchema),
    Pair(gi.Reserve, ins.ReserveSchema),
    Pair(gi.PurchaseOrderCreate, ins.PurchaseOrderCreateSchema),
    Pair(gi.TradeInCreate, ins.TradeInCreateSchema),
    Pair(gi.TradeInReceive, ins.TradeInReceiveSchema),
    # approvals
    Pair(ga.FlowConditions, aps.ConditionsSchema),
    Pair(ga.FlowStep, aps.StepSchema),
    Pair(ga.ApprovalFlowCreate, aps.FlowCreateSchema),
    Pair(ga.ApprovalFlowUpdate, aps.FlowUpdateSchema),
    Pair(ga.ApprovalDecision, aps.DecisionSchema),
)


# Drift found when this test was written (issue 19) and left for a decision (the gateway's limits
# that were simply looser than the service's were aligned then): the test fails on any OTHER
# drift, and on an entry here that no longer drifts (take it off). Gateway model.field -> why.
_STRICTER = "the gateway refuses what the service accepts (the service's limit is the product's?)"
KNOWN_DRIFT: dict[str, str] = {
    "ContactCreate.notes": _STRICTER,  # 2000 vs 10000
    **{
        f"{model}.{name}": _STRICTER
        for model in ("CustomerCreate", "CustomerUpdate")
        for name in ("name", "notes")
    },
    "FollowUpCreate.notes": _STRICTER,  # 2000 vs 10000
    **{
        f"{model}.{name}": _STRICTER  # title 200 vs 300, the texts 2000 vs 10000
        for model in ("OpportunityCreate", "OpportunityUpdate")
        for name in ("title", "needs", "competitors", "notes")
    },
    "TradeInCreate.notes": _STRICTER,  # 2000 vs 4000
}


# -- the gateway's side: what its JSON Schema (the OpenAPI document) states -----------------


def _variants(prop: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a property (``X | None`` is ``anyOf [X, null]``)."""
    if "$ref" in prop:
        return _variants(defs[prop["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in prop or "oneOf" in prop:
        out: list[dict[str, Any]] = []
        for alt in prop.get("anyOf") or prop.get("oneOf") or []:
            out.extend(_variants(alt, defs))
        return out
    if prop.get("type") == "null":
        return []
    return [prop]


def gateway_props(model: type[BaseModel]) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = model.model_json_schema()
    return schema.get("properties", {}), schema.get("$defs", {})


def _of_type(variants: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    for v in variants:
        if v.get("type") == kind or (kind == "string" and "enum" in v and "type" not in v):
            return v
    return None


# -- the service's side: what its marshmallow field accepts --------------------------------


def _validators(field: fields.Field) -> list[Any]:
    return list(getattr(field, "validators", []) or [])


def service_choices(field: fields.Field) -> tuple[str, ...] | None:
    for v in _validators(field):
        if isinstance(v, validate.OneOf):
            return tuple(v.choices)
    return None


def service_range(field: fields.Field) -> tuple[Any, Any] | None:
    for v in _validators(field):
        if isinstance(v, validate.Range):
            lo = v.min if v.min is None or v.min_inclusive else v.min + 1
            hi = v.max if v.max is None or v.max_inclusive else v.max - 1
            return lo, hi
    return None


def accepts(schema: Schema, name: str, value: Any) -> bool:
    """Whether the service schema accepts ``value`` for field ``name`` (the other fields absent)."""
    data_key = schema.fields[name].data_key or name
    try:
        schema.load({data_key: value}, partial=True)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {}
        return data_key not in messages
    return True


def longest(ok: Callable[[int], bool], start: int) -> int | None:
    """The largest n with ``ok(n)`` (``ok`` monotone, true at ``start``); None past PROBE_CAP."""
    lo, hi = start, max(start * 2, 2)
    while ok(hi):  # double until refused: no probe is much longer than the limit
        if hi >= PROBE_CAP:
            return None
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def sample_string(name: str, n: int) -> str:
    """A string of length ``n`` that the field's other rules accept."""
    if "email" in name:
        domain = "@example.com"
        return "a" * max(n - len(domain), 1) + domain
    if "phone" in name:
        return "1" * n
    if "currency" in name:
        return "EUR"[:n].ljust(n, "R")
    return "x" * n


def sample_item(items: dict[str, Any], i: int) -> Any:
    if items.get("type") == "integer":
        return i + 1
    if "enum" in items:
        return items["enum"][0]
    if items.get("type") == "string":
        return f"t{i}"
    return None


# -- the comparison -------------------------------------------------------------------------


def _where(pair: Pair, gw_field: str, svc_field: str) -> tuple[str, str]:
    gw = f"gateway {pair.gateway.__module__}.{pair.gateway.__name__}.{gw_field}"
    svc = f"{pair.service.__module__}.{pair.service.__name__}.{svc_field}"
    return gw, svc


def compare_field(pair: Pair, gw_field: str, svc_field: str) -> list[str]:
    props, defs = gateway_props(pair.gateway)
    variants = _variants(props[gw_field], defs)
    schema = pair.service()
    field = schema.fields[svc_field]
    gw, svc = _where(pair, gw_field, svc_field)
    problems: list[str] = []

    enum_v = next((v for v in variants if "enum" in v), None)
    if enum_v is not None:
        gw_choices = set(enum_v["enum"])
        svc_choices = service_choices(field)
        if svc_choices is not None and set(svc_choices) != gw_choices:
            problems.append(
                f"{gw}: enum {sorted(gw_choices)} ≠ {svc}: OneOf {sorted(svc_choices)}"
                f" (only in the gateway: {sorted(gw_choices - set(svc_choices))},"
                f" only in the service: {sorted(set(svc_choices) - gw_choices)})"
            )
        elif svc_choices is None:
            refused = [c for c in sorted(gw_choices) if not accepts(schema, svc_field, c)]
            if refused:
                problems.append(f"{gw}: enum {sorted(gw_choices)} but {svc} refuses {refused}")
            if accepts(schema, svc_field, "zz-not-a-choice"):
                problems.append(f"{gw}: enum {sorted(gw_choices)} but {svc} accepts any value")

    str_v = _of_type(variants, "string")
    if str_v is not None and "maxLength" in str_v and "enum" not in str_v and "pattern" not in str_v:
        gw_max = str_v["maxLength"]
        start = max(str_v.get("minLength", 1), 1)
        if accepts(schema, svc_field, sample_string(svc_field, start)):
            svc_max = longest(lambda n: accepts(schema, svc_field, sample_string(svc_field, n)), start)
            if svc_max != gw_max:
                problems.append(f"{gw}: maxLength {gw_max} ≠ {svc}: {svc_max or 'no limit'}")

    arr_v = _of_type(variants, "array")
    if arr_v is not None and "maxItems" in arr_v:
        items = _variants(arr_v.get("items", {}), defs)
        item = sample_item(items[0], 0) if items else None
        if item is not None and accepts(schema, svc_field, [item]):
            gw_max = arr_v["maxItems"]
            svc_max = longest(
                lambda n: accepts(schema, svc_field, [sample_item(items[0], i) for i in range(n)]), 1
            )
            if svc_max != gw_max:
                problems.append(f"{gw}: maxItems {gw_max} ≠ {svc}: {svc_max or 'no limit'}")

    obj_v = _of_type(variants, "object")
    values_v = obj_v.get("additionalProperties") if obj_v is not None else None
    if isinstance(values_v, dict) and values_v.get("type") == "string" and "maxLength" in values_v:
        gw_max = values_v["maxLength"]
        if accepts(schema, svc_field, {"k": "x"}):
            svc_max = longest(lambda n: accepts(schema, svc_field, {"k": "x" * n}), 1)
            if svc_max != gw_max:
                problems.append(f"{gw}: values maxLength {gw_max} ≠ {svc}: {svc_max or 'no limit'}")

    int_v = _of_type(variants, "integer")
    if int_v is not None and ("minimum" in int_v or "maximum" in int_v):
        gw_lo, gw_hi = int_v.get("minimum"), int_v.get("maximum")
        rng = service_range(field)
        if gw_hi == g.MAX_ID and (rng is None or rng[1] is None):
            gw_hi = None  # the gateway's rule for every id: 64-bit (nothing larger names a record)
        if rng is not None:
            if (gw_lo, gw_hi) != rng:
                problems.append(f"{gw}: range [{gw_lo}, {gw_hi}] ≠ {svc}: Range [{rng[0]}, {rng[1]}]")
        else:
            for bound in (gw_lo, gw_hi):
                if bound is not None and not accepts(schema, svc_field, bound):
                    problems.append(f"{gw}: range [{gw_lo}, {gw_hi}] but {svc} refuses {bound}")
            for outside in (
                gw_lo - 1 if gw_lo is not None else None,
                gw_hi + 1 if gw_hi is not None else None,
            ):
                if outside is not None and accepts(schema, svc_field, outside):
                    problems.append(f"{gw}: range [{gw_lo}, {gw_hi}] but {svc} accepts {outside}")
    return problems


def shared_fields(pair: Pair) -> list[tuple[str, str]]:
    renamed = dict(pair.renamed)
    svc_fields = pair.service().fields
    out = []
    for name in pair.gateway.model_fields:
        target = renamed.get(name, name)
        if name in pair.skip or target not in svc_fields or svc_fields[target].dump_only:
            continue
        out.append((name, target))
    return out


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.label)
def test_gateway_limits_match_the_service(pair: Pair) -> None:
    shared = shared_fields(pair)
    assert shared, f"{pair.label}: no field in common — is the pairing right?"
    new, still_known = [], set()
    for gw_field, svc_field in shared:
        problems = compare_field(pair, gw_field, svc_field)
        key = f"{pair.gateway.__name__}.{gw_field}"
        if problems and key in KNOWN_DRIFT:
            still_known.add(key)
        else:
            new.extend(problems)
    assert not new, "the gateway and the service disagree:\n  " + "\n  ".join(new)
    fixed = {k for k in KNOWN_DRIFT if k.split(".")[0] == pair.gateway.__name__} - still_known
    assert not fixed, f"no longer drifting, take them off KNOWN_DRIFT: {sorted(fixed)}"


def test_the_probe_finds_a_limit_and_a_drift() -> None:
    """The comparison itself: a drifted pair is reported, naming both places."""

    class Svc(Schema):
        name = fields.String(validate=validate.Length(max=10))
        kind = fields.String(validate=validate.OneOf(("a", "b")))
        size = fields.Integer(validate=validate.Range(0, 5))

    from typing import Annotated, Literal

    from pydantic import Field, StringConstraints

    class Gw(BaseModel):
        name: Annotated[str, StringConstraints(max_length=12)] | None = None
        kind: Literal["a", "c"] | None = None
        size: Annotated[int, Field(ge=0, le=5)] | None = None

    pair = Pair(Gw, Svc)
    problems = [p for a, b in shared_fields(pair) for p in compare_field(pair, a, b)]
    assert len(problems) == 2, problems
    assert "Gw.name: maxLength 12" in problems[0] and "Svc.name: 10" in problems[0]
    assert "only in the gateway: ['c']" in problems[1] and "only in the service: ['b']" in problems[1]
