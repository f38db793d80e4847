"""Browser fixtures: the console in headless Chromium (Debian's ``chromium`` driven by Playwright
through its executable path; no browser download) against the system the end-to-end fixtures
start with the same runner as ``make run``. Every screen a test visits is saved under
``var/screens/`` (``Console.shot``), to be looked at as a user would."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "var" / "screens"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}

expect.set_options(timeout=20_000)


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        pytest.fail(
            "Chromium is needed for the browser tests: apt-get install chromium (make test-browser does it)"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Console:
    """Opens signed-in pages of the console served by the system's gateway."""

    def __init__(self, system, browser: Browser):
        self.system = system
        self.browser = browser
        self.base_url = system.base_url
        self._contexts: list[BrowserContext] = []
        SCREENS.mkdir(parents=True, exist_ok=True)

    def new_page(self, lang: str = "en", phone: bool = False) -> Page:
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport=PHONE if phone else DESKTOP,
            is_mobile=phone,
            has_touch=phone,
            accept_downloads=True,
            locale={"en": "en-GB", "zh": "zh-CN", "tr": "tr-TR", "bg": "bg-BG"}[lang],
        )
        context.add_init_script(f"localStorage.setItem('crm.language', '{lang}')")
        context.set_default_timeout(20_000)
        self._contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors  # type: ignore[attr-defined]
        return page

    def sign_in(
        self, username: str, password: str, lang: str = "en", phone: bool = False, labels=None
    ) -> Page:
        """Signs in through the sign-in page as a person would; answers the page on the first screen
        of the user's role (the dashboard for most)."""
        labels = labels or {"username": "Username", "password": "Password", "submit": "Sign in"}
        page = self.new_page(lang, phone)
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/login"))
        page.get_by_label(labels["username"]).fill(username)
        page.get_by_label(labels["password"]).fill(password)
        page.get_by_role("button", name=labels["submit"]).click()
        expect(page).not_to_have_url(re.compile(r"/login"))
        expect(page.locator(".ant-layout-header")).to_be_visible()
        return page

    def shot(self, page: Page, name: str, full_page: bool = True) -> Path:
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)  # let charts and transitions settle
        path = SCREENS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        for context in self._contexts:
            context.close()


@pytest.fixture(scope="session")
def console(system, browser) -> Iterator[Console]:
    c = Console(system, browser)
    yield c
    c.close()


def no_horizontal_scroll(page: Page) -> bool:
    """True when the page is no wider than the screen (tables scroll inside themselves)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
