"""Sign in to the console in headless Chromium and save a screenshot of a page, as a user sees it.

    .venv/bin/python web/scripts/shoot.py /customers var/screens/customers.png \
        [--base http://127.0.0.1:5173] [--user admin --password admin] [--phone] [--lang zh] [--full]

Uses Debian's chromium (CHROMIUM or /usr/bin/chromium) through Playwright; no browser download."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    return os.environ.get("CHROMIUM", "/usr/bin/chromium")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("out")
    parser.add_argument("--base", default="http://127.0.0.1:5173")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--phone", action="store_true", help="390 x 844")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--full", action="store_true", help="the whole page, not the viewport")
    parser.add_argument("--wait", type=float, default=1.5, help="seconds to let the page settle")
    args = parser.parse_args()

    viewport = {"width": 390, "height": 844} if args.phone else {"width": 1366, "height": 860}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=viewport, is_mobile=args.phone, has_touch=args.phone)
        context.add_init_script(f"localStorage.setItem('crm.language', '{args.lang}')")
        page = context.new_page()
        page.goto(f"{args.base}/login")
        page.get_by_label("Username").or_(page.locator("#username")).first.fill(args.user)
        page.locator("input[type=password]").first.fill(args.password)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login" not in url, timeout=15_000)
        page.goto(f"{args.base}{args.path}")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(int(args.wait * 1000))
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=args.out, full_page=args.full)
        browser.close()


if __name__ == "__main__":
    main()
