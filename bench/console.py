"""The web console in headless Chromium, served by the gateway (not a test; prints figures).

    .venv/bin/python bench/harness.py --only console.sign_in,console.customers [--mode quick|full]

``console.sign_in``: a first visit to ``/login`` in a fresh browser context (empty cache), as a
person opening the system's address: the compressed JavaScript the page loads (bytes on the
wire, as the gateway gzips them) and the time until the sign-in form can be used (the
Username field visible and enabled), measured from navigation start; then the same after a
reload (hashed assets from the browser's cache).

``console.customers``: the customers table over N customers (10,000 quick, 100,000 full, seeded
into the customers service's SQLite database like a migrated deployment), signed in as the
administrator: the time from typing a filter (a region) to the table showing the filtered page,
and the gateway's own answer time for that request.

Needs Debian's chromium (``CHROMIUM`` or /usr/bin/chromium) and the built console (``make web``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from crm_common.db import DatabaseHandle, fast_insert, utcnow  # noqa: E402
from crm_common.migrations import upgrade  # noqa: E402
from crm_common.text import name_key  # noqa: E402
from customers import models as customers_models  # noqa: E402
from customers.domain import search_key  # noqa: E402
from dashboard_billing import customer_language, customer_name  # noqa: E402
from harness import Context, scenario  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
REGIONS = ("Marmara", "Ege", "Sofia", "Plovdiv", "Shanghai", "Bavaria", "Yorkshire", "Anatolia")


def chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not path:
        raise SystemExit("chromium is needed: apt-get install chromium")
    return path


def require_bundle() -> None:
    if not (ROOT / "web" / "dist" / "index.html").exists():
        raise SystemExit("the console is not built: make web")


def sign_in_figures(browser, base_url: str) -> dict[str, float]:
    """One cold visit and one warm reload of /login."""
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    js_bytes = {"n": 0}

    def on_response(response) -> None:
        if response.request.resource_type == "script":
            size = (
                response.request.sizes()["responseBodySize"] + response.request.sizes()["responseHeadersSize"]
            )
            js_bytes["n"] += size

    page.on("response", on_response)
    start = time.perf_counter()
    page.goto("/login", wait_until="commit")
    field = page.get_by_label("Username")
    field.wait_for(state="visible")
    page.wait_for_function(
        "() => { const e = document.querySelector('#username'); return e && !e.disabled; }"
    )
    cold = time.perf_counter() - start
    page.wait_for_load_state("networkidle")
    start = time.perf_counter()
    page.reload(wait_until="commit")
    page.get_by_label("Username").wait_for(state="visible")
    warm = time.perf_counter() - start
    context.close()
    return {"js_kib": js_bytes["n"] / 1024, "usable_ms": cold * 1000, "reload_usable_ms": warm * 1000}


@scenario(
    "console.sign_in", "the sign-in page: compressed JavaScript loaded and time until usable, cold and warm"
)
def console_sign_in(ctx: Context) -> None:
    from playwright.sync_api import sync_playwright

    require_bundle()
    with ctx.system() as system, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=ARGS)
        sign_in_figures(browser, system.base_url)  # warm the gateway
        samples: dict[str, list[float]] = {}
        for _ in range(ctx.repeat):
            for k, v in sign_in_figures(browser, system.base_url).items():
                samples.setdefault(k, []).append(v)
        browser.close()
    ctx.record("/login, empty cache", samples, {"js_kib": "KiB", "usable_ms": "ms", "reload_usable_ms": "ms"},
               note="JavaScript bytes on the wire (gzip), Username field usable from navigation start")  # fmt: skip


def seed_customers(data_dir: Path, n: int) -> None:
    url = f"sqlite:///{data_dir / 'customers.db'}"
    upgrade(str(ROOT / "services" / "customers"), url)
    db = DatabaseHandle("customers", customers_models.metadata, url)
    now = utcnow()
    with db.transaction() as uow:
        rows = []
        for c in range(1, n + 1):
            name, code = customer_name(c), f"C-{c:06d}"
            rows.append({"id": c, "code": code, "name": name, "kind": "company", "tags": [],
                         "language": customer_language(c), "red_listed": False, "name_key": name_key(name),
                         "tags_key": "", "search_key": search_key(name, code, None, None, None),
                         "region": REGIONS[c % len(REGIONS)], "owner_id": None, "created_at": now, "updated_at": now})  # fmt: skip
        fast_insert(uow.session, customers_models.customers, rows)
    db.dispose()


@scenario(
    "console.customers",
    "the customers table over 10k (quick) / 100k (full) customers: a filter in the browser",
)
def console_customers(ctx: Context) -> None:
    from playwright.sync_api import sync_playwright

    require_bundle()
    n = ctx.size(quick=10_000, full=100_000)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        seed_customers(data_dir, n)
        with ctx.system(data_dir=data_dir) as system, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), headless=True, args=ARGS)
            page = browser.new_context(
                base_url=system.base_url, viewport={"width": 1366, "height": 860}
            ).new_page()
            page.goto("/login")
            page.get_by_label("Username").fill("admin")
            page.get_by_label("Password").fill(system.admin_password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/dashboard")
            page.goto("/customers")
            try:
                page.locator(".ant-table-tbody tr.ant-table-row").first.wait_for()
            except Exception:
                page.screenshot(path=str(ROOT / "var" / "bench" / "console-customers-failed.png"))
                raise
            region = page.get_by_label("Region", exact=True)
            samples: dict[str, list[float]] = {"filter_ms": [], "api_ms": []}
            for i in range(ctx.repeat + 1):
                wanted = REGIONS[i % len(REGIONS)]
                region.fill(wanted)
                start = time.perf_counter()
                with page.expect_response(
                    lambda r, w=wanted: "/api/v1/customers?" in r.url and f"region={w}" in r.url
                ) as info:
                    region.press("Enter")
                response = info.value
                page.locator(".ant-table-tbody tr.ant-table-row").first.wait_for()
                page.wait_for_function(
                    "(r) => [...document.querySelectorAll('.ant-table-tbody tr td')].some(td => td.textContent === r)",
                    arg=wanted,
                )
                elapsed = (time.perf_counter() - start) * 1000
                timing = response.request.timing
                if i:  # the first one warms up
                    samples["filter_ms"].append(elapsed)
                    samples["api_ms"].append(timing["responseEnd"] - timing["requestStart"])
            browser.close()
    ctx.record(f"{n:,} customers, filter by region", samples, {"filter_ms": "ms", "api_ms": "ms"},
               note="typing Enter → the filtered page shown; api_ms: the request alone")  # fmt: skip
