"""The pure rules of customers.domain, without database or framework."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from crm_common.context import CallerContext
from crm_common.errors import Conflict, PermissionDenied, ValidationFailed
from customers import domain

TODAY = dt.date(2026, 6, 1)


def caller(*roles, user_id=None):
    return CallerContext(user_id=user_id, roles=tuple(roles))


# -- duplicate keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b",
    [
        ("İstanbul Enerji A.Ş.", "istanbul enerji a.ş."),
        ("İSTANBUL ENERJİ", "Istanbul Enerji"),
        ("Ｓｏｆｉａ　Ｔｒａｄｅ", "Sofia Trade"),  # full-width letters and space
        ("ACME-Corp.", "acme corp"),
        ("北京机械有限公司", "北京机械 有限公司"),
        ("Café Ünal", "CAFÉ ÜNAL"),
        ("Café", "Cafe\u0301"),  # composed and decomposed é
    ],
)
def test_names_that_only_differ_in_case_width_spaces_or_punctuation_are_one_key(a, b):
    assert domain.customer_keys(name=a).name == domain.customer_keys(name=b).name != ""


def test_different_names_have_different_keys():
    assert domain.customer_keys(name="Ankara Yapı").name != domain.customer_keys(name="Ankara Yapım").name
    assert domain.customer_keys(name="Мария").name != domain.customer_keys(name="Марина").name


def test_tax_email_and_phone_keys_ignore_formatting():
    assert domain.tax_key("TR-123.456 789") == domain.tax_key("tr123456789")
    assert (
        domain.customer_keys(email="Info@Firma.COM.TR").email
        == domain.customer_keys(email="info@firma.com.tr").email
    )
    assert (
        domain.customer_keys(phone="+90 (212) 555-01 01").phone
        == domain.customer_keys(phone="0090 212 555 0101").phone
        == "902125550101"
    )
    # full-width and Arabic-Indic digits are digits too
    assert (
        domain.customer_keys(phone="０２１２５５５").phone
        == domain.customer_keys(phone="٠٢١٢٥٥٥").phone
        == "0212555"
    )


def test_duplicate_reasons_name_every_matching_key():
    new = domain.customer_keys("Acme", "TR1", "a@b.co", "+359 2 123 4567")
    same_tax_and_phone = domain.customer_keys("Other", "tr-1", "x@y.co", "00359 2 1234567")
    assert domain.duplicate_reasons(new, same_tax_and_phone) == ["tax_id", "phone"]
    assert domain.duplicate_reasons(new, domain.customer_keys("Zeta")) == []
    # empty keys never match each other
    assert domain.duplicate_reasons(domain.customer_keys("A"), domain.customer_keys("B")) == []


def test_changed_keys_keep_only_what_changed():
    old = domain.customer_keys("Acme", "T1", "a@b.co", "123456")
    new = domain.customer_keys("ACME", "T2", "a@b.co", "654321")
    assert domain.changed_keys(old, new) == domain.CustomerKeys(tax="t2", phone="654321")


def test_search_patterns_find_phone_digits_and_folded_text():
    assert "2125550101" in domain.search_patterns("212 555 0101")
    assert domain.search_patterns("İSTANBUL")[0] == "istanbul"
    key = domain.search_key("İstanbul Enerji", "C-000007", "TR-99", "info@ist.tr", "+90 212 555 0101")
    for q in (
        "istanbul",
        "ISTANBUL ENER",
        "ｉｓｔａｎｂｕｌ",
        "c-000007",
        "tr99",
        "INFO@IST",
        "212 555 0101",
    ):
        assert any(p in key for p in domain.search_patterns(q)), q
    assert not any(p in key for p in domain.search_patterns("ankara"))


def test_tags_are_deduplicated_case_insensitively_and_split_on_semicolon_or_bar():
    assert domain.split_tags(" vip; VIP |energy||Énergie ") == ["vip", "energy", "Énergie"]
    assert domain.tags_key(["VIP", "İzmir"]) == "|vip|izmir|"
    assert domain.tag_pattern("Vip") in domain.tags_key(["VIP", "İzmir"])


# -- codes -------------------------------------------------------------------------------


def test_customer_codes_are_prefixed_zero_padded_and_grow():
    assert domain.customer_code(123) == "C-000123"
    assert domain.customer_code(1_234_567) == "C-1234567"
    with pytest.raises(ValueError):
        domain.customer_code(0)
    assert domain.normalise_code("c-123") == domain.normalise_code("Ｃ－０００１２３") == "C-000123"


# -- field rules -------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["+90 212 555 01 01", "(02) 9876-5432", "١٢٣٤٥٦٧"])
def test_valid_phones(phone):
    assert domain.phone_problem(phone) is None


@pytest.mark.parametrize("phone, reason", [("12", "fewer than"), ("call me", "unexpected character")])
def test_invalid_phones(phone, reason):
    assert reason in domain.phone_problem(phone)


def test_email_and_name_rules():
    assert domain.email_problem("müller@beispiel.de") is None
    assert domain.email_problem("not-an-email") == "not a valid e-mail address"
    assert domain.name_problem("  ") == "must not be blank"
    assert domain.name_problem("...") == "must contain letters or digits"
    assert domain.name_problem("x" * 301) == "must be at most 300 characters"


def test_amounts_are_non_negative_with_at_most_six_decimals():
    assert domain.amount_problem(Decimal("0.000001")) is None
    assert domain.amount_problem(Decimal("-1")) == "must not be negative"
    assert domain.amount_problem(Decimal("1.0000001")) == "at most 6 decimal places"


def test_page_arguments():
    assert domain.page_args(None, None) == (1, 50, {})
    assert domain.page_args("2", 500)[:2] == (2, 500)
    assert domain.page_args(0, 501)[2] == {
        "page": ["must be at least 1"],
        "page_size": ["must be between 1 and 500"],
    }
    assert domain.page_args("x", True)[2] == {"page": ["not an integer"], "page_size": ["not an integer"]}


def test_ids():
    assert domain.parse_id(7, "customer_id") == domain.parse_id("7", "customer_id") == 7
    for bad in (0, -1, True, "x", 1.5, None):
        with pytest.raises(ValidationFailed) as err:
            domain.parse_id(bad, "customer_id")
        assert "customer_id" in err.value.details


# -- scopes ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "sales_manager", "readonly", "finance", "approver", "warehouse"])
def test_these_roles_read_every_customer(role):
    access = domain.read_access(caller(role, user_id=5))
    assert not access.restricted and access.allows(99)


def test_a_sales_rep_reads_and_writes_only_own_customers():
    for access in (
        domain.read_access(caller("sales_rep", user_id=5)),
        domain.write_access(caller("sales_rep", user_id=5)),
    ):
        assert access.allows(5) and not access.allows(6) and not access.allows(None)


@pytest.mark.parametrize("role", ["readonly", "finance", "approver", "warehouse"])
def test_read_only_roles_cannot_write(role):
    with pytest.raises(PermissionDenied):
        domain.write_access(caller(role, user_id=5))


@pytest.mark.parametrize(
    "ctx",
    [CallerContext(), caller("portal", user_id=9), caller("sales_rep"), caller("astronaut", user_id=1), None],
)
def test_nobody_else_gets_in(ctx):
    with pytest.raises(PermissionDenied):
        domain.read_access(ctx)
    with pytest.raises(PermissionDenied):
        domain.write_access(ctx)


def test_system_callers_and_managers_write_everything():
    assert not domain.write_access(CallerContext.system("customers")).restricted
    assert not domain.write_access(caller("sales_rep", "sales_manager", user_id=5)).restricted


def test_a_rep_who_is_also_readonly_reads_all_but_writes_own():
    c = caller("sales_rep", "readonly", user_id=5)
    assert not domain.read_access(c).restricted
    write = domain.write_access(c)
    domain.check_can_write(write, 5)
    with pytest.raises(PermissionDenied):
        domain.check_can_write(write, 6)


def test_a_sales_rep_can_only_assign_to_themselves():
    rep = domain.write_access(caller("sales_rep", user_id=5))
    domain.check_owner_assignment(rep, 5)
    with pytest.raises(PermissionDenied) as err:
        domain.check_owner_assignment(rep, 6)
    assert "owner_id" in err.value.details
    domain.check_owner_assignment(domain.write_access(caller("sales_manager", user_id=1)), 6)


def test_owner_must_be_a_known_active_user_once_the_directory_has_users():
    assert domain.owner_problem(42, {}, directory_empty=True) is None
    assert domain.owner_problem(42, {1: True}, directory_empty=False) == "unknown user"
    assert domain.owner_problem(1, {1: False}, directory_empty=False) == "user is inactive"
    assert domain.owner_problem(1, {1: True}, directory_empty=False) is None


# -- opportunity stages ------------------------------------------------------------------


@pytest.mark.parametrize("old", domain.OPEN_STAGES)
@pytest.mark.parametrize("new", domain.STAGES)
def test_open_stages_move_anywhere(old, new):
    domain.check_stage_change(old, new)


@pytest.mark.parametrize("old", domain.CLOSED_STAGES)
@pytest.mark.parametrize("new", [s for s in domain.STAGES])
def test_won_and_lost_are_final(old, new):
    if old == new:
        domain.check_stage_change(old, new)
        return
    with pytest.raises(Conflict) as err:
        domain.check_stage_change(old, new)
    assert err.value.details["from"] == old and err.value.details["to"] == new


def test_closed_opportunities_keep_their_amount_and_probability_follows_the_outcome():
    domain.check_closed_edit("negotiation", {"amount": ["1", "2"]})
    domain.check_closed_edit("won", {"needs": ["a", "b"]})
    with pytest.raises(Conflict) as err:
        domain.check_closed_edit("won", {"amount": ["1", "2"]})
    assert "amount" in err.value.details
    assert domain.closing_probability("won", 40) == 100
    assert domain.closing_probability("lost", 40) == 0
    assert domain.closing_probability("proposal", 40) == 40


def test_follow_up_due_window_is_the_utc_day():
    start, end = domain.due_window(dt.date(2027, 1, 31))
    assert start.isoformat() == "2027-01-31T00:00:00+00:00" and (end - start).days == 1
    occurred = dt.datetime(2027, 1, 31, 10, tzinfo=dt.UTC)
    assert domain.follow_up_problems(occurred, occurred - dt.timedelta(minutes=1)) == {
        "next_action_at": ["must not be before occurred_at"]
    }


# -- CSV rows ----------------------------------------------------------------------------


def test_a_good_row_is_parsed_into_typed_values():
    row = domain.parse_import_row(
        2,
        {
            "\ufeffName": " Sofia Trade ",
            "Kind": "Company",
            "tax-id": "BG123",
            "level": "a",
            "tags": "vip;bg|vip",
            "owner_id": "７",
            "birthday": "1980-02-29",
            "red_listed": "yes",
            "language": "BG",
            "email": "",
        },
        TODAY,
    )
    assert row.ok, row.errors
    assert row.values == {
        "name": "Sofia Trade",
        "kind": "company",
        "tax_id": "BG123",
        "level": "A",
        "tags": ["vip", "bg"],
        "owner_id": 7,
        "birthday": "1980-02-29",
        "red_listed": True,
        "language": "bg",
    }


def test_every_bad_cell_is_reported_with_its_column():
    row = domain.parse_import_row(
        9,
        {
            "name": "X",
            "kind": "alien",
            "level": "Q",
            "email": "nope",
            "phone": "12",
            "owner_id": "abc",
            "birthday": "2099-01-01",
            "red_listed": "maybe",
            "_extra": ["surplus"],
        },
        TODAY,
    )
    fields = [f for f, _ in row.errors]
    assert fields == ["kind", "level", "email", "phone", "owner_id", "birthday", "red_listed", None]
    assert dict(row.errors)["birthday"] == "must not be in the future"
    assert dict(row.errors)[None] == "more cells than header columns"


def test_a_row_without_name_code_or_tax_id_needs_a_name():
    row = domain.parse_import_row(4, {"name": "", "kind": "company", "email": "a@b.co"}, TODAY)
    assert row.errors == [("name", "required (or a code or tax_id of an existing customer)")]


def test_unknown_columns():
    assert domain.unknown_columns(["Name", "Tax ID", "_extra", "colour"]) == ["colour"]


def _known(id, code, name, owner, tax=None, email=None):
    return domain.KnownCustomer(id, code, name, owner, domain.customer_keys(name, tax, email))


def test_planner_creates_updates_and_rejects_duplicates_in_file_order():
    existing = [
        _known(1, "C-000001", "Anadolu Makina", 5, tax="TR1", email="info@anadolu.tr"),
        _known(2, "C-000002", "Balkan Trade", 6, tax="BG2"),
    ]
    planner = domain.ImportPlanner(
        existing, domain.write_access(caller("admin", user_id=1)), {5: True, 6: True}
    )
    plan = planner.plan
    assert plan(2, {"name": "New Co"}).action == "create"
    updated = plan(3, {"tax_id": "tr-1", "level": "A"})
    assert updated.action == "update" and updated.target.id == 1
    assert plan(4, {"code": "C-000002", "level": "B"}).target.id == 2
    assert plan(5, {"name": "NEW CO."}).errors == [("name", "same name as line 2")]
    assert plan(6, {"name": "Other", "email": "INFO@anadolu.tr"}).errors == [
        ("email", "likely duplicate of existing customer Anadolu Makina (#1)")
    ]
    assert plan(7, {"code": "C-000099"}).errors[0] == (
        "code",
        "no customer has this code (leave it empty to create one)",
    )
    assert plan(8, {"tax_id": "TR1", "name": "x"}).errors[0] == ("tax_id", "same tax id as line 3")
    assert plan(9, {"code": "C-000001", "tax_id": "BG2"}).errors[0] == (
        "tax_id",
        "belongs to another customer (Balkan Trade, #2)",
    )
    assert plan(10, {"name": "Owner Co", "owner_id": 77}).errors == [("owner_id", "unknown user")]
    # updating a customer with its own unchanged name is no duplicate
    assert plan(11, {"code": "C-000002", "name": "Balkan Trade"}).errors == [
        ("code", "updates the same customer as line 4")
    ]


def test_planner_keeps_a_sales_rep_to_own_customers():
    existing = [_known(1, "C-000001", "Mine", 5, tax="T1"), _known(2, "C-000002", "Theirs", 6, tax="T2")]
    planner = domain.ImportPlanner(existing, domain.write_access(caller("sales_rep", user_id=5)))
    assert planner.plan(2, {"tax_id": "T1", "level": "A"}).action == "update"
    assert planner.plan(3, {"tax_id": "T2", "level": "A"}).errors == [
        ("tax_id", "matches a customer you may not change")
    ]
    assert planner.plan(4, {"name": "New", "owner_id": 6}).errors == [
        ("owner_id", "must be your own user id")
    ]
