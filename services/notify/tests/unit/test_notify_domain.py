"""The pure rules: templates and their fallbacks, signing, backoff, URL checks, recipients,
tasks and reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from notify import domain, payload_fields, task_rules


def test_every_event_in_the_spec_has_a_default_rule_and_an_english_template():
    spec_events = [
        "approval_requested",
        "approval_approved",
        "approval_rejected",
        "contract_expiring",
        "contract_renewed",
        "invoice_issued",
        "invoice_overdue",
        "payment_received",
        "stock_low",
        "dispatch_approved",
        "follow_up_due",
    ]
    for event_type in spec_events:
        rule = domain.DEFAULT_RULES[event_type]
        assert rule.channels and rule.recipients
        assert "en" in domain.DEFAULT_TEMPLATES[rule.template]


@pytest.mark.parametrize(
    ("lang", "needle"),
    [
        ("en", "expires in 30 days"),
        ("zh", "天后到期"),
        ("tr", "gün içinde sona eriyor"),
        ("bg", "изтича след"),
    ],
)
def test_contract_expiring_is_rendered_in_the_recipients_language(lang, needle):
    ctx = domain.template_context(
        "contract_expiring", {"contract_number": "C-1", "days": 30, "end_date": "2027-03-01"}
    )
    out = domain.render("contract_expiring", lang, ctx)
    assert needle in out.subject
    assert out.language == lang and out.error is None


def test_a_missing_translation_falls_back_to_english_without_error():
    ctx = domain.template_context("stock_low", {"sku": "SKU-9", "available": 2, "reorder_point": 5})
    # every built-in has the four languages: a table with English only shows the fallback
    defaults = {
        "stock_low": {"en": domain.DEFAULT_TEMPLATES["stock_low"]["en"]},
        "generic": domain.DEFAULT_TEMPLATES["generic"],
    }
    out = domain.render("stock_low", "bg", ctx, defaults=defaults)
    assert out.language == "en" and out.error is None
    assert "SKU-9" in out.subject


def test_a_template_that_fails_to_render_falls_back_and_is_reported():
    overrides = {"tr": {"subject": "{{ nope.deeper }}", "body": "x"}}
    ctx = domain.template_context("invoice_issued", {"invoice_number": "INV-7", "amount": "10.00"})
    out = domain.render("invoice_issued", "tr", ctx, overrides)
    assert out.error and "nope" in out.error
    assert "INV-7" in out.subject  # the built-in Turkish template
    assert out.language == "tr"


def test_the_sandbox_refuses_unsafe_templates():
    overrides = {"en": {"subject": "{{ ''.__class__.__mro__ }}", "body": "b"}}
    out = domain.render("stock_low", "en", domain.template_context("stock_low", {"sku": "S"}), overrides)
    assert "class" not in out.subject and out.error


def test_language_choice():
    assert domain.choose_language(None, "ZH-cn") == "zh"
    assert domain.choose_language("fr", None) == "en"


def test_signature_round_trip_and_tamper():
    body = b'{"a":1}'
    header = domain.signature_header("s3cret-key", 1700000000, body)
    assert domain.verify_signature("s3cret-key", header, body, now=1700000010)
    assert not domain.verify_signature("s3cret-key", header, b'{"a":2}', now=1700000010)
    assert not domain.verify_signature("other", header, body, now=1700000010)
    assert not domain.verify_signature("s3cret-key", header, body, now=1700009999)  # replay


def test_backoff_grows_exponentially_and_is_capped():
    assert [domain.backoff_seconds(n, 30) for n in (1, 2, 3)] == [30, 60, 120]
    assert domain.backoff_seconds(50, 30, cap=3600) == 3600


@pytest.mark.parametrize(
    ("url", "allow", "resolved", "bad"),
    [
        ("ftp://example.com/x", True, (), True),
        ("javascript:alert(1)", True, (), True),
        ("http://127.0.0.1:8080/hook", True, (), False),
        ("http://127.0.0.1:8080/hook", False, (), True),
        ("http://10.0.0.5/hook", False, (), True),
        ("http://[::1]/hook", False, (), True),
        ("https://partner.example.com/hook", False, ("93.184.216.34",), False),
        ("https://sneaky.example.com/hook", False, ("192.168.1.10",), True),
        ("http://localhost/hook", False, (), True),
        ("https://user:pw@example.com/", True, (), True),
    ],
)
def test_webhook_url_checks(url, allow, resolved, bad):
    assert (domain.webhook_url_problem(url, resolved, allow_private=allow) is not None) is bad


def test_approval_recipients_in_any_producer_shape():
    assert payload_fields.approver_targets({"approver_ids": [5, "6"], "approver_roles": ["finance"]}) == (
        [5, 6],
        ["finance"],
    )
    assert payload_fields.approver_targets({"approvers": [{"user_id": 7}, {"role": "approver"}]}) == (
        [7],
        ["approver"],
    )
    assert payload_fields.approver_targets(
        {"step": {"approvers": {"user_ids": [3], "roles": ["admin"]}}}
    ) == (
        [3],
        ["admin"],
    )


def test_invoice_overdue_opens_collection_for_owner_and_finance_and_paid_closes_it():
    opens, closes = task_rules.task_actions(
        "invoice_overdue", {"invoice_id": 9, "owner_id": 4}, dt.date(2027, 1, 1)
    )
    assert (
        opens[0].kind == "collection"
        and opens[0].assignee_ids == (4,)
        and opens[0].assignee_roles == ("finance",)
    )
    _, closes = task_rules.task_actions("invoice_paid", {"invoice_id": 9}, dt.date(2027, 1, 2))
    assert closes == [task_rules.TaskClose("collection", "invoice", "9", reason="paid")]


def test_reminders_scheduled_from_events():
    now = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    (r,) = domain.reminders_for("invoice_issued", {"invoice_id": 3, "due_date": "2027-02-10"}, now)
    assert r.fire_on == dt.date(2027, 2, 3) and r.kind == "invoice_due_soon"
    rs = domain.reminders_for("contract_activated", {"contract_id": 8, "end_date": "2027-12-31"}, now)
    assert [x.fire_on for x in rs] == [dt.date(2027, 10, 2), dt.date(2027, 11, 1), dt.date(2027, 12, 1)]
    assert rs[0].key == domain.expiry_key(8, 90)
    (a,) = domain.reminders_for("approval_requested", {"request_id": 2}, now)
    assert a.fire_on == dt.date(2027, 1, 3)


def test_leap_day_birthdays_are_kept_on_28_february():
    assert domain.is_birthday(dt.date(2000, 2, 29), dt.date(2027, 2, 28))
    assert not domain.is_birthday(dt.date(2000, 2, 29), dt.date(2028, 2, 28))
    assert domain.is_birthday(dt.date(1980, 5, 4), dt.date(2027, 5, 4))
