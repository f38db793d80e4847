"""Template rules without a database: placeholders, template checks, typed field values and
rendering (what a user sees in the contract's clauses)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from contracts import templating as t

FIELDS = [
    {"name": "site", "type": "text", "required": True},
    {"name": "fee", "type": "money", "required": True},
    {"name": "visits", "type": "number", "required": False},
    {"name": "first_visit", "type": "date", "required": False},
]


def test_contracts_placeholders_are_found_once_in_order_with_optional_spaces():
    body = "A {{site}} B {{ fee }} C {{  site  }} D {{ 1bad }} E {{ a b }} F {{_x9}}"
    assert t.placeholders(body) == ["site", "fee", "_x9"]
    assert t.placeholders("no placeholders here { not } {{}}") == []
    assert t.placeholders("{{ " + "a" * 64 + " }} {{ " + "b" * 65 + " }}") == ["a" * 64]


def test_contracts_a_sound_template_has_no_problems():
    body = "Service at {{ site }} for {{ fee }}; {{visits}} visits from {{ first_visit }}."
    assert t.template_problems(body, FIELDS) == {}
    # a declared field the body does not use is allowed (the clauses may change in a later version)
    assert t.template_problems("Fixed clause only.", FIELDS) == {}


def test_contracts_template_problems_name_each_field_and_reason():
    body = "{{ site }} {{ undeclared }} {{ 9lives }} {{ unclosed"
    fields = [
        {"name": "site", "type": "text", "required": True},
        {"name": "Site", "type": "text"},
        {"name": "bad name", "type": "text"},
        {"name": "amount", "type": "float"},
        {"name": "flag", "type": "text", "required": "yes", "colour": "red"},
        "not an object",
    ]
    problems = t.template_problems(body, fields)
    assert any("same as fields.0.name" in r for r in problems["fields.1.name"])
    assert "fields.2.name" in problems
    assert problems["fields.3.type"] == ["must be one of text, number, date, money"]
    assert problems["fields.4.required"] == ["must be true or false"]
    assert "fields.4.colour" in problems
    assert "fields.5" in problems
    body_problems = " | ".join(problems["body"])
    assert "{{ undeclared }} is not declared" in body_problems
    assert "{{ 9lives }} is not a valid placeholder" in body_problems
    assert "unmatched" in body_problems


def test_contracts_template_body_must_be_non_empty_text_within_limits():
    assert t.template_problems("   \n ", []) == {"body": ["must not be empty"]}
    assert t.template_problems(None, []) == {"body": ["must be text"]}
    too_long = "x" * (t.MAX_BODY_CHARS + 1)
    assert t.template_problems(too_long, [])["body"][0].startswith("must be at most")
    many = [{"name": f"f{i}", "type": "text"} for i in range(t.MAX_FIELDS + 1)]
    assert t.template_problems("x", many)["fields"] == [f"at most {t.MAX_FIELDS} fields"]
    assert t.template_problems("x", {"name": "a"})["fields"] == ["must be a list of fields"]


def test_contracts_values_are_normalised_exactly():
    values = {
        "site": "  Kadıköy şubesi / 北京办事处  ",
        "fee": {"amount": "1250.5", "currency": "eur"},
        "visits": "12.50",
        "first_visit": "2026-03-01",
    }
    out, errors = t.check_values(FIELDS, values, "EUR")
    assert errors == {}
    assert out == {
        "site": "Kadıköy şubesi / 北京办事处",
        "fee": "1250.50",
        "visits": "12.50",
        "first_visit": "2026-03-01",
    }
    out, errors = t.check_values(
        FIELDS, {"site": "x", "fee": 1250, "visits": 4, "first_visit": dt.date(2026, 1, 2)}, "JPY"
    )
    assert errors == {}
    assert out == {"site": "x", "fee": "1250", "visits": "4", "first_visit": "2026-01-02"}
    out, _ = t.check_values(FIELDS, {"site": "x", "fee": Decimal("0.123456")}, "EUR")
    assert out["fee"] == "0.123456"  # never rounded when stored


def test_contracts_optional_values_may_be_left_out_and_required_ones_may_not():
    out, errors = t.check_values(
        FIELDS, {"site": "x", "fee": "1", "visits": None, "first_visit": "  "}, "EUR"
    )
    assert errors == {} and out == {"site": "x", "fee": "1.00"}
    out, errors = t.check_values(FIELDS, None, "EUR")
    assert errors == {"field_values.site": ["required"], "field_values.fee": ["required"]}
    _, errors = t.check_values(FIELDS, {"site": "   ", "fee": ""}, "EUR")
    assert errors == {"field_values.site": ["required"], "field_values.fee": ["required"]}


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("visits", 1.5, "floats are not accepted"),
        ("visits", "NaN", "finite"),
        ("visits", "Infinity", "finite"),
        ("visits", "twelve", "must be a number"),
        ("visits", True, "must be a number"),
        ("visits", "1e20", "must be less than"),
        ("fee", 99.99, "floats are not accepted"),
        ("fee", "-5", "must not be negative"),
        ("fee", "abc", "must be an amount"),
        ("fee", {"amount": "10", "currency": "USD"}, "must be in EUR"),
        ("fee", {"amount": "10"}, "must be in EUR"),
        ("fee", {"currency": "EUR"}, "amount missing"),
        ("fee", {"amount": "1", "currency": "EUR", "rate": "x"}, "unknown keys rate"),
        ("first_visit", "2026-02-30", "not a calendar date"),
        ("first_visit", "01.03.2026", "YYYY-MM-DD"),
        ("first_visit", dt.datetime(2026, 1, 1, 12, 0), "without a time"),
        ("site", 42, "must be text"),
        ("site", "x" * 5001, "at most 5000 characters"),
    ],
)
def test_contracts_bad_values_are_refused_naming_the_field(name, value, reason):
    values = {"site": "Ankara", "fee": "10", name: value}
    out, errors = t.check_values(FIELDS, values, "EUR")
    assert list(errors) == [f"field_values.{name}"]
    assert reason in errors[f"field_values.{name}"][0]
    assert name not in out or name == "site" and value == "Ankara"


def test_contracts_unknown_field_names_and_non_objects_are_refused():
    _, errors = t.check_values(FIELDS, {"site": "x", "fee": "1", "colour": "red"}, "EUR")
    assert errors == {"field_values.colour": ["not a field of the template"]}
    assert t.check_values(FIELDS, ["x"], "EUR") == (
        {},
        {"field_values": ["must be an object of field name → value"]},
    )


def test_contracts_render_fills_placeholders_in_the_languages_number_style():
    body = "Site: {{ site }}. Fee: {{fee}}. Visits: {{ visits }}. From {{ first_visit }}."
    values = {"site": "Kadıköy", "fee": "1234567.555", "visits": "1250.5", "first_visit": "2026-03-01"}
    assert t.render(body, FIELDS, values, "en", "EUR") == (
        "Site: Kadıköy. Fee: 1,234,567.56 EUR. Visits: 1,250.5. From 2026-03-01."
    )
    assert t.render(body, FIELDS, values, "tr", "EUR") == (
        "Site: Kadıköy. Fee: 1.234.567,56 EUR. Visits: 1.250,5. From 2026-03-01."
    )
    assert "Fee: 1\u00a0234\u00a0567,56 EUR" in t.render(body, FIELDS, values, "bg", "EUR")
    assert "Fee: 1,234,568 JPY" in t.render(body, FIELDS, {"fee": "1234567.5"}, "zh", "JPY")


def test_contracts_render_leaves_a_blank_for_missing_values_and_never_rereads_values():
    body = "Site {{ site }}, visits {{ visits }}, {{ not_declared }}, {{ bad name }} stays."
    out = t.render(body, FIELDS, {"site": "{{ visits }}"}, "en", "EUR")
    assert out == "Site {{ visits }}, visits ________, ________, {{ bad name }} stays."
