"""Input limits shared by every service (crm_common.limits, .fields, .money) and long text in
PDFs (crm_common.pdf): bounded on the text before parsing, never rounded to 0 behind the
caller's back, dates inside 1900..2199, identifiers without invisible characters."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from crm_common.fields import AwareDateTime, Date
from crm_common.limits import (
    AMOUNT,
    PERCENT,
    QUANTITY,
    check_date,
    clean_identifier,
    clean_text,
    parse_decimal,
)
from crm_common.money import Money, line_too_large, to_decimal
from marshmallow import Schema, ValidationError


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1E-999999", "exponent"),
        ("1E-3000000", "exponent"),
        ("1e99999999999999999999", "exponent"),
        ("9" * 65, "too many digits"),
        ("0.0000001", "6 decimal places"),  # not rounded to 0 (it would pass "> 0")
        ("10000000000000", "below"),
        (10**13, "below"),
        (10**4000, "below"),
        ("1E+13", "below"),
        ("NaN", "not a decimal"),
        ("Infinity", "not a decimal"),
        ("1,5", "not a decimal"),
        (0.1, "never a float"),
        (True, "never a float"),
        (None, "not a decimal"),
    ],
)
def test_decimals_out_of_bounds_are_refused_quickly(value, reason):
    started = time.perf_counter()
    with pytest.raises(ValueError, match=reason):
        parse_decimal(value, AMOUNT)
    assert time.perf_counter() - started < 0.05


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        ("1250.00", AMOUNT, "1250.00"),
        ("  42 ", AMOUNT, "42"),
        ("-0.000001", AMOUNT, "-0.000001"),
        ("1.500000000", AMOUNT, "1.500000"),  # zeros past the places dropped, then checked
        ("0E-30", AMOUNT, "0.000000"),
        ("1e5", AMOUNT, "100000"),  # plain notation
        ("9999999999999.999999", AMOUNT, "9999999999999.999999"),
        ("2.5000", QUANTITY, "2.5000"),
        ("9999999", QUANTITY, "9999999"),
        ("7.5", PERCENT, "7.5"),
        (12, AMOUNT, "12"),
    ],
)
def test_decimals_inside_the_bounds_are_kept_exactly(value, limit, expected):
    assert format(parse_decimal(value, limit), "f") == expected


def test_quantity_and_percent_limits():
    with pytest.raises(ValueError, match="4 decimal places"):
        parse_decimal("0.00001", QUANTITY)
    with pytest.raises(ValueError, match="below"):
        parse_decimal("10000000", QUANTITY)
    with pytest.raises(ValueError, match="below"):
        parse_decimal("10000", PERCENT)
    assert to_decimal("1e-6") == Decimal("0.000001")
    assert line_too_large(Decimal("9999999"), Decimal("9999999999999"))
    assert not line_too_large(Decimal("1000"), Decimal("1000000"))


class _Line(Schema):
    quantity = Money(kind="quantity", required=True)
    amount = Money(allow_negative=True)
    percent = Money(kind="percent")


def test_the_money_field_names_the_limit():
    with pytest.raises(ValidationError) as info:
        _Line().load({"quantity": "1E-999999", "amount": "1" * 20, "percent": "1e9"})
    messages = info.value.messages
    assert "exponent" in messages["quantity"][0] and "quantity" in messages["quantity"][0]
    assert "too many digits" in messages["amount"][0] or "below" in messages["amount"][0]
    assert "below 10 000" in messages["percent"][0]
    assert _Line().load({"quantity": "2.5", "amount": "-3.10", "percent": "20"}) == {
        "quantity": Decimal("2.5"),
        "amount": Decimal("-3.10"),
        "percent": Decimal("20"),
    }


class _Dates(Schema):
    day = Date()
    at = AwareDateTime(default_timezone=dt.UTC)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("day", "9999-12-31"),
        ("day", "0001-01-01"),
        ("day", "1899-12-31"),
        ("day", "2200-01-01"),
        ("at", "9999-12-31T23:59:59-14:00"),  # past year 9999 in UTC
        ("at", "0001-01-01T00:00:00+14:00"),  # before year 1 in UTC
        ("at", "2199-12-31T23:00:00-05:00"),  # 2200 in UTC
    ],
)
def test_dates_and_timestamps_outside_the_window_are_refused(field, value):
    with pytest.raises(ValidationError) as info:
        _Dates().load({field: value})
    assert field in info.value.messages


def test_dates_inside_the_window_pass():
    loaded = _Dates().load({"day": "1900-01-01", "at": "2199-12-31T10:00:00+02:00"})
    assert loaded["day"] == dt.date(1900, 1, 1)
    assert check_date(dt.date(2199, 12, 31)) == dt.date(2199, 12, 31)


@pytest.mark.parametrize(
    "value", ["a\x00b", "ev\u202eil", "zero\u200bwidth", "bom\ufeff", "line\u2028sep", "soft\u00adhyphen"]
)
def test_identifiers_refuse_control_and_format_characters(value):
    with pytest.raises(ValueError, match="control or invisible"):
        clean_identifier(value)


def test_identifiers_are_nfkc():
    assert clean_identifier(" Ａｌｉｃｅ ") == "Alice"
    assert clean_identifier("İstanbul") == "İstanbul"


@pytest.mark.parametrize(
    "value", ["张伟", "Мария Иванова", "İsmail Şahin", "محمد عبد الله", "👩‍💻", "a\nb\tc"]
)
def test_text_keeps_every_script(value):
    assert clean_text(value) == value


@pytest.mark.parametrize("value", ["a\x00b", "a\x07b", "Admin\u202egnp.exe", "x\u2066y"])
def test_text_refuses_controls_and_bidi_overrides(value):
    with pytest.raises(ValueError, match="control"):
        clean_text(value)


def test_long_texts_and_unbroken_words_wrap_in_tables():
    """A row taller than a page (a ~1,900-character comment in a narrow column) is continued
    over the following rows instead of failing the whole document."""
    from crm_common import pdf

    doc = pdf.Document(title="wrap")
    doc.table(
        ["Step", "By", "Decision", "When", "Comment"],
        [
            ["1", "approver", "approved", "2031-01-01", "Lorem ipsum dolor sit amet " * 70],
            ["2", "x" * 300, "rejected", "2031-01-02", "y" * 5000],
            ["3", "Иван", "批准", "2031-01-03", "Kısa yorum"],
        ],
    )
    doc.key_values([("Comment", "z" * 8000)])
    doc.paragraph("w" * 5000)
    out = doc.output()
    assert out.startswith(b"%PDF")
