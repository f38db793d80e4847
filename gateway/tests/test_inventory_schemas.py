"""The inventory request shapes refuse what the service must never see: floats for money,
quantities that are not whole positive numbers, unknown fields."""

from __future__ import annotations

import json

import pytest
from gateway.schemas_inventory import BulkPriceUpdate, ProductCreate, StockMove, TradeInDecision
from pydantic import ValidationError

MOVE = {"warehouse_id": 1, "product_id": "2", "quantity": 3, "direction": "in", "reason": "purchase"}


def test_a_valid_move_reaches_the_service_with_only_the_fields_sent():
    data = StockMove.model_validate(MOVE).data()
    assert data == {**MOVE, "product_id": 2}


@pytest.mark.parametrize("quantity", [0, -1, 1.0, 1.5, "2", True, 10**7, None])
def test_quantities_must_be_whole_positive_numbers(quantity):
    with pytest.raises(ValidationError) as err:
        StockMove.model_validate({**MOVE, "quantity": quantity})
    assert [e["loc"][0] for e in err.value.errors()] == ["quantity"]


@pytest.mark.parametrize("raw", ['{"quantity": NaN}', '{"quantity": Infinity}'])
def test_nan_and_infinity_in_json_are_refused(raw):
    with pytest.raises(ValidationError):
        StockMove.model_validate_json(json.dumps(MOVE)[:-1] + ", " + raw[1:])


def test_money_is_never_a_float_and_unknown_fields_are_refused():
    product = {"sku": "A", "name": "A", "kind": "device", "unit_price": "10.00", "currency": "EUR"}
    assert ProductCreate.model_validate(product).data()["unit_price"] == "10.00"
    for bad in ({"unit_price": 10.5}, {"kind": "robot"}, {"colour": "red"}, {"currency": "eur"}):
        with pytest.raises(ValidationError):
            ProductCreate.model_validate({**product, **bad})
    with pytest.raises(ValidationError):
        BulkPriceUpdate.model_validate({"percent": 7.5})
    assert BulkPriceUpdate.model_validate({"percent": "-7.5"}).data() == {"percent": "-7.5"}
    with pytest.raises(ValidationError):
        TradeInDecision.model_validate({"approved": True, "approved_value": 1.5})
    with pytest.raises(ValidationError):
        StockMove.model_validate({**MOVE, "direction": "sideways"})
