"""The first minutes of a new user: the sign-in page, the navigation of their role, and a sales
rep's first customer (with the duplicate warning on the second try), in the browser."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from .conftest import no_horizontal_scroll

LOGIN_LABELS = {
    "en": {"username": "Username", "password": "Password", "submit": "Sign in"},
    "zh": {"username": "用户名", "password": "密码", "submit": "登录"},
    "tr": {"username": "Kullanıcı adı", "password": "Şifre", "submit": "Giriş yap"},
    "bg": {"username": "Потребителско име", "password": "Парола", "submit": "Вход"},
}


def test_sign_in_page_refuses_a_wrong_password_and_keeps_the_deep_link(console, system):
    page = console.new_page()
    page.goto("/customers?level=A")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    console.shot(page, "sign-in")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Incorrect username or password")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Password").fill(system.admin_password)
    page.get_by_role("button", name="Sign in").click()
    # back where the link pointed, with its filter
    expect(page).to_have_url(re.compile(r"/customers\?level=A$"))
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()


def test_sign_in_in_every_language_and_on_a_phone(console):
    for lang, labels in LOGIN_LABELS.items():
        page = console.new_page(lang=lang, phone=True)
        page.goto("/login")
        expect(page.get_by_label(labels["username"])).to_be_visible()
        expect(page.get_by_label(labels["password"])).to_be_visible()
        expect(page.get_by_role("button", name=labels["submit"])).to_be_visible()
        assert no_horizontal_scroll(page), lang
        console.shot(page, f"sign-in-phone-{lang}")


def test_a_sales_rep_creates_a_customer_and_is_warned_of_a_duplicate(console, system):
    rep = system.create_user(["sales_rep"], full_name="Ayşe Yılmaz")
    page = console.sign_in(rep["username"], rep["password"])
    nav = page.get_by_role("navigation")
    # a rep's navigation: no Admin
    expect(nav.get_by_role("link", name="Customers")).to_be_visible()
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)

    name = f"Ankara Baskı {uuid.uuid4().hex[:6]} Ltd. Şti."
    tax_id = str(uuid.uuid4().int)[:10]
    page.get_by_role("link", name="Customers").first.click()
    page.get_by_role("link", name="New customer").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Tax id").fill(tax_id)
    page.get_by_label("E-mail", exact=True).fill("not-an-email")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("Not a valid e-mail address")).to_be_visible()
    page.get_by_label("E-mail", exact=True).fill("info@ankarabaski.example")
    console.shot(page, "customer-new")
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    customer_url = page.url
    console.shot(page, "customer-overview")

    # the same tax id again: the duplicate warning names the first customer
    page.goto("/customers/new")
    page.get_by_label("Name", exact=True).fill("Ankara Baski (another spelling)")
    page.get_by_label("Tax id").fill(tax_id)
    page.get_by_role("button", name="Create").click()
    warning = page.get_by_role("alert").filter(has_text="This customer may already exist")
    expect(warning).to_be_visible()
    expect(warning.get_by_role("link", name=re.compile(re.escape(name)))).to_be_visible()
    console.shot(page, "customer-duplicate-warning")
    warning.get_by_role("link", name=re.compile(re.escape(name))).click()
    expect(page).to_have_url(customer_url)

    # log a call with the next action; it shows in the follow-ups tab and the timeline
    page.get_by_role("tab", name="Follow-ups").click()
    page.get_by_role("button", name="Log a visit or call").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Result").fill("Wants a maintenance offer for 3 presses")
    dialog.get_by_label("Next action", exact=True).fill("Send the offer")
    dialog.get_by_role("button", name="OK").click()
    expect(page.get_by_role("cell", name="Wants a maintenance offer for 3 presses")).to_be_visible()
    page.get_by_role("tab", name="Timeline").click()
    expect(page.get_by_text("Call — Wants a maintenance offer for 3 presses")).to_be_visible()
    console.shot(page, "customer-timeline")

    # the back button returns to the list, which shows the new customer
    page.goto("/customers")
    page.get_by_role("searchbox", name="Search customers").fill(tax_id)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"q={tax_id}"))
    expect(page.get_by_role("cell", name=name)).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/customers$"))

    # at a phone's size the list stays within the screen
    phone = console.sign_in(rep["username"], rep["password"], phone=True)
    phone.goto("/customers")
    expect(phone.get_by_role("heading", name="Customers")).to_be_visible()
    assert no_horizontal_scroll(phone)
    console.shot(phone, "customers-phone")
