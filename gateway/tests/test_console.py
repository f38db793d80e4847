"""The web console at ``/`` from its built bundle (a stand-in bundle written per test), as a
browser meets it: deep links reload into index.html, hashed assets cached for a year and
index.html never, the gateway's own paths untouched; and ``/docs``, ``/redoc`` with every asset
served by the gateway itself (no CDN)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import httpx
import pytest
from conftest import make_settings
from gateway.console import console_dir, default_dirs
from gateway.main import create_app

pytestmark = pytest.mark.asyncio

INDEX = (
    '<!doctype html><html><head><script type="module" src="/assets/index-3f9a1c.js"></script>'
    '<link rel="stylesheet" href="/assets/index-77b2e0.css"></head><body><div id="root"></div>'
    "</body></html>"
)
SCRIPT = "console.log('the console');\n" * 10


def write_bundle(dist: Path) -> Path:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-3f9a1c.js").write_text(SCRIPT)
    (dist / "assets" / "index-77b2e0.css").write_text("body{margin:0}")
    (dist / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    return dist


@contextlib.asynccontextmanager
async def browser(tmp_path: Path, console_dir: Path):
    """The app as a browser reaches it; no broker or database is needed for these pages."""
    app = create_app(
        make_settings("amqp://unused", tmp_path / "gateway.db", crm_console_dir=str(console_dir))
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        yield client


@pytest.fixture
def dist(tmp_path):
    return write_bundle(tmp_path / "dist")


def assert_index(r: httpx.Response) -> None:
    assert r.status_code == 200, (r.request.url, r.text[:200])
    assert r.text == INDEX
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "style-src 'self' 'unsafe-inline'" in csp
    assert "img-src 'self' data: blob:" in csp and "connect-src 'self'" in csp
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp


async def test_root_and_deep_links_load_the_console(tmp_path, dist):
    async with browser(tmp_path, dist) as b:
        for path in (
            "/",
            "/index.html",
            "/contracts/17",
            "/customers?level=A&page=2",
            "/portal",
            "/portal/contracts/3",
            "/approvals/mine/",
            "/reports/cash-flow",
        ):
            assert_index(await b.get(path))
        head = await b.head("/contracts/17")
        assert head.status_code == 200 and head.content == b""


async def test_hashed_assets_are_cached_for_a_year_and_unknown_ones_are_404(tmp_path, dist):
    async with browser(tmp_path, dist) as b:
        js = await b.get("/assets/index-3f9a1c.js")
        assert js.status_code == 200 and js.text == SCRIPT
        assert js.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
        assert js.headers["cache-control"] == "public, max-age=31536000, immutable"
        css = await b.get("/assets/index-77b2e0.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        # the browser revalidates with the ETag it was given
        again = await b.get("/assets/index-3f9a1c.js", headers={"If-None-Match": js.headers["etag"]})
        assert again.status_code == 304

        # a chunk of an older build: an error, never index.html served as JavaScript
        gone = await b.get("/assets/index-0000.js")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "NOT_FOUND"
        assert (await b.get("/assets/")).status_code == 404

        icon = await b.get("/favicon.ico")
        assert icon.status_code == 200 and icon.content == b"\x00\x00\x01\x00"
        assert icon.headers["cache-control"] == "no-cache"


async def test_the_gateways_own_paths_are_never_the_console(tmp_path, dist):
    async with browser(tmp_path, dist) as b:
        r = await b.get("/api/v1/nothing-here")
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
        assert (await b.get("/api")).status_code == 404
        assert (await b.get("/docs/nothing")).status_code == 404
        assert (await b.get("/redoc/x")).status_code == 404
        assert (await b.get("/metrics/x")).status_code == 404
        assert (await b.get("/openapi.json")).json()["openapi"].startswith("3.")
        accept = await b.get("/portal/accept")
        assert accept.status_code == 200 and "Customer portal" in accept.text and accept.text != INDEX
        # other methods keep their answers: no index.html for a POST to a deep link
        r = await b.post("/contracts/17", json={})
        assert r.status_code in (404, 405) and r.json()["error"]["code"] in (
            "NOT_FOUND",
            "METHOD_NOT_ALLOWED",
        )
        # nothing outside the bundle's directory is served
        (tmp_path / "secret.txt").write_text("do not serve")
        r = await b.get("/..%2Fsecret.txt")
        assert "do not serve" not in r.text
        r = await b.get("/assets/..%2F..%2Fsecret.txt")
        assert "do not serve" not in r.text


async def test_without_a_bundle_the_root_says_how_to_build_it(tmp_path):
    async with browser(tmp_path, tmp_path / "not-built") as b:
        r = await b.get("/")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "not built" in r.text and "make run" in r.text
        assert "npm ci" in r.text and "npm run build" in r.text
        assert str(tmp_path / "not-built") in r.text
        deep = await b.get("/contracts/17")
        assert deep.status_code == 404 and "not built" in deep.text
        assert (await b.get("/assets/index-1.js")).status_code == 404
        assert (await b.get("/api/v1/nothing-here")).json()["error"]["code"] == "NOT_FOUND"


async def test_a_bundle_built_after_the_start_is_served(tmp_path):
    dist = tmp_path / "later"
    async with browser(tmp_path, dist) as b:
        assert "not built" in (await b.get("/")).text
        write_bundle(dist)
        assert_index(await b.get("/customers/5"))
        assert (await b.get("/assets/index-3f9a1c.js")).text == SCRIPT


async def test_the_default_bundle_is_the_checkouts_web_dist_then_the_images():
    repo = Path(__file__).resolve().parents[2]
    defaults = default_dirs()
    assert defaults[0] == repo / "web" / "dist"
    assert Path("/app/web/dist") in defaults
    assert console_dir("/srv/console") == Path("/srv/console")
    assert console_dir(None) in defaults


async def test_docs_and_redoc_load_everything_from_the_gateway(tmp_path, dist):
    async with browser(tmp_path, dist) as b:
        for page, assets in (
            ("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")),
            ("/redoc", ("redoc.standalone.js",)),
        ):
            r = await b.get(page)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
            sources = re.findall(r'(?:src|href)=["\']([^"\']+)', r.text)
            sources += re.findall(r"url: ?['\"]([^'\"]+)", r.text)
            assert sources, r.text
            # every script, style sheet and icon is the gateway's own: nothing from a CDN
            assert not [s for s in sources if "//" in s], sources
            assert "/openapi.json" in r.text
            for name in assets:
                assert f"/docs/assets/{name}" in r.text
                asset = await b.get(f"/docs/assets/{name}")
                assert asset.status_code == 200 and len(asset.content) > 100_000, name
                assert asset.headers["cache-control"] == "public, max-age=86400"
        swagger = (await b.get("/docs/assets/swagger-ui-bundle.js")).text
        assert "SwaggerUIBundle" in swagger
        assert "Redoc" in (await b.get("/docs/assets/redoc.standalone.js")).text
        assert (await b.get("/docs/assets/favicon.png")).headers["content-type"] == "image/png"
        assert (await b.get("/docs/assets/evil.js")).status_code == 404
        assert (await b.get("/docs/oauth2-redirect")).status_code == 200
        # the documentation pages are not operations of the API
        paths = (await b.get("/openapi.json")).json()["paths"]
        assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]
