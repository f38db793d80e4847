"""Pure helpers of the common package: Unicode keys, money, errors, caller context."""

from decimal import Decimal

import pytest
from crm_common.context import CallerContext
from crm_common.errors import NotFound, PermissionDenied, ValidationFailed, load_or_raise
from crm_common.money import Currency, Money, fmt, quantize, to_decimal
from crm_common.text import email_key, fold, name_key, phone_key
from marshmallow import Schema, ValidationError, fields


@pytest.mark.parametrize(
    "a,b",
    [
        ("İstanbul", "istanbul"),
        ("ISTANBUL", "istanbul"),
        ("ＡＢＣ商事", "ABC商事"),  # full-width and half-width
        ("Café", "Cafe\u0301"),  # composed and decomposed accents
        ("Ivanov  Ltd.", "ivanov ltd"),
    ],
)
def test_name_keys_match_across_case_width_and_composition(a, b):
    assert name_key(a) == name_key(b)


def test_name_keys_keep_different_names_apart():
    assert name_key("Ivanov") != name_key("Ivanova")
    assert name_key("北京") != name_key("南京")
    assert fold("Ğüşçö") == "ğüşçö"


def test_email_and_phone_keys():
    assert email_key(" Sales@Example.COM ") == "sales@example.com"
    assert phone_key("+90 (212) 555-01-02") == phone_key("0090 212 5550102") == "902125550102"
    assert phone_key("٠١٢٣") == "0123"  # Arabic-Indic digits read as digits


def test_money_is_exact_and_rounds_half_up_only_when_asked():
    assert to_decimal("0.1") + to_decimal("0.2") == Decimal("0.3")
    assert quantize(Decimal("2.675"), "EUR") == Decimal("2.68")
    assert quantize(Decimal("1234.5"), "JPY") == Decimal("1235")
    assert quantize(Decimal("1.0005"), "KWD") == Decimal("1.001")
    assert fmt(Decimal("1E+3")) == "1000"
    for bad in (0.1, "NaN", "Infinity", "abc", "1e20"):
        with pytest.raises(ValueError):
            to_decimal(bad)


def test_amounts_show_the_same_on_every_database():
    from crm_common.money import fmt_amount

    assert fmt_amount(Decimal("420.500000"), "EUR") == fmt_amount(Decimal("420.50"), "EUR") == "420.50"
    assert fmt_amount(Decimal("1.234500"), "USD") == "1.2345"  # never rounded away
    assert fmt_amount(Decimal("1000"), "JPY") == "1000"
    assert fmt_amount(Decimal("5"), "KWD") == "5.000"
    assert fmt_amount(Decimal("1E+3")) == "1000.00"
    assert _PriceSchema().dump({"amount": Decimal("12.500000"), "currency": "TRY"})["amount"] == "12.50"


def test_exact_decimal_column_round_trips_on_sqlite(sqlite_url):
    from crm_common.db import DatabaseHandle, ExactDecimal
    from sqlalchemy import Column, Integer, MetaData, Table, insert, select

    md = MetaData()
    t = Table("t", md, Column("id", Integer, primary_key=True), Column("amount", ExactDecimal()))
    handle = DatabaseHandle("t", md, sqlite_url)
    handle.create_all()
    big = Decimal("123456789012345.678901")  # beyond a float's precision
    with handle.transaction() as uow:
        uow.session.execute(insert(t).values(amount=big))
    with handle.read() as s:
        assert s.execute(select(t.c.amount)).scalar() == big


class _PriceSchema(Schema):
    amount = Money(required=True)
    currency = Currency(required=True)
    note = fields.String()


def test_money_fields_refuse_floats_nan_and_unknown_currencies():
    assert _PriceSchema().load({"amount": "12.50", "currency": "try"}) == {
        "amount": Decimal("12.50"),
        "currency": "TRY",
    }
    with pytest.raises(ValidationError) as err:
        _PriceSchema().load({"amount": 1.5, "currency": "XXX"})
    assert set(err.value.messages) == {"amount", "currency"}
    with pytest.raises(ValidationError):
        _PriceSchema().load({"amount": "-1", "currency": "EUR"})


def test_load_or_raise_names_every_bad_field():
    with pytest.raises(ValidationFailed) as err:
        load_or_raise(_PriceSchema(), {"amount": "NaN", "unknown": 1})
    assert set(err.value.details) == {"amount", "currency", "unknown"}
    with pytest.raises(ValidationFailed):
        load_or_raise(_PriceSchema(), ["not", "an", "object"])


def test_errors_carry_message_and_details_as_args():
    exc = NotFound("Customer 5 not found", {"id": 5})
    assert exc.args == ("Customer 5 not found", {"id": 5})
    assert exc.details == {"id": 5}
    assert str(exc) == "Customer 5 not found"
    assert ValidationFailed.field("name", "required").details == {"name": ["required"]}


def test_caller_context_round_trips_through_context_data():
    caller = CallerContext(
        user_id=3, username="ayşe", roles=("sales_rep",), department="İzmir", request_id="r1"
    )
    back = CallerContext.from_context_data(caller.to_context_data())
    assert back == caller
    assert back.actor == "user:3"


def test_caller_without_context_is_refused():
    anonymous = CallerContext.from_context_data({})
    with pytest.raises(PermissionDenied):
        anonymous.require_any(("admin",))
    rep = CallerContext(user_id=1, roles=("sales_rep",))
    with pytest.raises(PermissionDenied):
        rep.require_any(("admin", "sales_manager"))
    CallerContext.system("billing").require_any(("admin",))  # the system may


def test_read_copy_ignores_an_event_older_than_the_one_applied(sqlite_url):
    import datetime as dt

    from crm_common.db import DatabaseHandle, UTCDateTime
    from crm_common.readcopy import USER_DEFAULTS, apply_newer, event_time, user_values
    from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, select

    md = MetaData()
    users = Table(
        "users", md, Column("id", Integer, primary_key=True), Column("username", String(50)),
        Column("roles", JSON), Column("active", Integer), Column("is_department_head", Integer),
        Column("event_at", UTCDateTime()),
    )  # fmt: skip
    handle = DatabaseHandle("t", md, sqlite_url)
    handle.create_all()
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    newer = {"occurred_at": (t0 + dt.timedelta(seconds=5)).isoformat()}
    older = {"occurred_at": t0.isoformat()}
    with handle.transaction() as uow:
        values = user_values(
            {"username": "ayşe", "roles": ["sales_rep"], "active": None}, ["username", "roles", "active"]
        )
        assert values == {"username": "ayşe", "roles": ["sales_rep"]}  # None flags are not copied
        assert apply_newer(uow.session, users, 7, values, event_time(newer), USER_DEFAULTS) == "created"
        late = apply_newer(uow.session, users, 7, {"username": "old"}, event_time(older), USER_DEFAULTS)
        assert late == "stale"
    with handle.read() as s:
        row = s.execute(select(users)).mappings().one()
    assert (row["username"], row["roles"], row["active"]) == ("ayşe", ["sales_rep"], 1)
    assert event_time({}).tzinfo is not None and event_time({"occurred_at": "garbage"}).tzinfo is not None


def test_a_users_copy_keeps_what_a_department_scope_needs(sqlite_url):
    import pytest
    from crm_common.db import DatabaseHandle, UTCDateTime
    from crm_common.readcopy import apply_user_event
    from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, String, Table, select

    md = MetaData()
    users = Table(
        "users", md, Column("id", Integer, primary_key=True), Column("department", String(100)),
        Column("roles", JSON), Column("active", Boolean), Column("event_at", UTCDateTime()),
    )  # fmt: skip
    handle = DatabaseHandle("t", md, sqlite_url)
    handle.create_all()
    created = {"occurred_at": "2026-01-01T00:00:05+00:00",
               "payload": {"id": 7, "username": "x", "roles": ["sales_rep"], "department": " Nord "}}  # fmt: skip
    older = {"occurred_at": "2026-01-01T00:00:00+00:00", "payload": {"id": 7, "department": "Süd"}}
    blank = {"occurred_at": "2026-01-01T00:00:09+00:00", "payload": {"id": 8, "department": "  "}}
    with handle.transaction() as uow:
        assert apply_user_event(uow.session, users, created) == "created"
        assert apply_user_event(uow.session, users, created) == "updated"  # a redelivery: same values
        assert apply_user_event(uow.session, users, older) == "stale"
        assert apply_user_event(uow.session, users, blank) == "created"
        with pytest.raises(ValueError):
            apply_user_event(uow.session, users, {"payload": {"id": "7"}})
    with handle.read() as s:
        rows = {r["id"]: r for r in s.execute(select(users)).mappings()}
    assert (rows[7]["department"], rows[7]["roles"], rows[7]["active"]) == ("Nord", ["sales_rep"], True)
    assert rows[8]["department"] is None and rows[8]["roles"] == [] and rows[8]["active"] is True


def test_money_sums_by_group_are_exact_on_both_databases(any_db_url):
    from decimal import Decimal

    from crm_common.db import DatabaseHandle, ExactDecimal, sum_by
    from crm_common.money import per_currency
    from sqlalchemy import Column, Integer, MetaData, String, Table

    md = MetaData()
    amounts = Table(
        "amounts", md, Column("id", Integer, primary_key=True), Column("currency", String(3)),
        Column("kind", String(10)), Column("amount", ExactDecimal()),
    )  # fmt: skip
    handle = DatabaseHandle("t", md, any_db_url)
    handle.create_all()
    rows = [("EUR", "a", "0.1"), ("EUR", "a", "0.2"), ("EUR", "a", "123456789012345.123456"),
            ("EUR", "b", "5"), ("EUR", "b", "1000000.000001"), ("JPY", "a", "7")]  # fmt: skip
    try:
        with handle.transaction() as uow:
            uow.session.execute(
                amounts.insert(), [{"currency": c, "kind": k, "amount": Decimal(a)} for c, k, a in rows]
            )
        c = amounts.c
        with handle.read() as s:
            by_kind = {
                (cur, kind): (n, total) for cur, kind, n, total in sum_by(s, [c.currency, c.kind], c.amount)
            }
            only_b = sum_by(s, [c.currency], c.amount, [c.kind == "b"])
        # never through a float: 0.1 + 0.2 + a 21-digit amount to the last digit
        assert by_kind[("EUR", "a")] == (3, Decimal("123456789012345.423456"))
        assert by_kind[("EUR", "b")] == (2, Decimal("1000005.000001"))
        assert all(isinstance(total, Decimal) for _, total in by_kind.values())
        assert only_b == [("EUR", 2, Decimal("1000005.000001"))]
        assert per_currency({"EUR": Decimal("0.3"), "JPY": Decimal("7")}) == {"EUR": "0.30", "JPY": "7"}
    finally:
        handle.dispose()
