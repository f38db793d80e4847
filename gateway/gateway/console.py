"""The web console (``web/``, a single-page app) served at ``/`` from its built bundle, on the
same origin as ``/api/v1``.

* The bundle: ``CRM_CONSOLE_DIR``, else ``<repo>/web/dist`` next to this package in a checkout,
  else ``/app/web/dist`` (the image), else the working directory's ``../web/dist``.
* ``GET /`` and every deep link (``/contracts/17``, ``/portal/...``) → ``index.html``, with
  ``Cache-Control: no-cache`` and a Content-Security-Policy that allows only the bundle's own
  scripts and styles (plus inline styles, which Ant Design injects).
* An existing file of the bundle → that file; under ``assets/`` (hashed names) cached for a year.
* Never for the gateway's own paths (:data:`RESERVED`): an unknown ``/api/...`` stays a JSON 404,
  and so does an unknown ``/assets/...`` (a stale chunk must fail, not load HTML as JavaScript).
* No bundle: ``/`` answers a short page saying how to build it.

It runs only where no route matched (the router's default handler), so it can never shadow an
API route, and methods other than GET and HEAD keep their 404/405.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

# the gateway's own paths: never the console's (a path equal to one or below it)
RESERVED = (
    "/api",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/readyz",
    "/metrics",
    "/portal/accept",
)
ASSETS = "assets"
INDEX = "index.html"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
INDEX_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
}
ASSET_CACHE = "public, max-age=31536000, immutable"
# files at the bundle's root (favicon.ico, robots.txt): revalidated like index.html
ROOT_FILE_CACHE = "no-cache"

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CRM console not built</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}}
code{{background:#f3f3f3;padding:.1rem .3rem}}</style></head><body>
<h1>The CRM console is not built</h1>
<p>The gateway serves the web console from <code>{directory}</code>, which has no
<code>index.html</code>.</p>
<p><code>make run</code> builds it. By hand: <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>,
or point <code>CRM_CONSOLE_DIR</code> at a built bundle.</p>
<p>The API is running: <a href="/docs">/docs</a> (Swagger UI), <a href="/redoc">/redoc</a>,
<a href="/openapi.json">/openapi.json</a>.</p>
</body></html>
"""


def default_dirs() -> list[Path]:
    """Where the bundle is looked for when ``CRM_CONSOLE_DIR`` is not set, in order."""
    package = Path(__file__).resolve().parent
    return [
        package.parent.parent / "web" / "dist",  # a checkout: <repo>/gateway/gateway/
        Path("/app/web/dist"),  # the image: copied next to /app/gateway
        Path.cwd().parent / "web" / "dist",  # run from the gateway directory of a copy
    ]


def console_dir(configured: str | None = None) -> Path:
    """The bundle's directory: the configured one, else the first default holding index.html
    (else the first default, reported by the not-built page)."""
    if configured:
        return Path(configured).expanduser().resolve()
    candidates = default_dirs()
    for candidate in candidates:
        if (candidate / INDEX).is_file():
            return candidate
    return candidates[0]


def is_reserved(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in RESERVED)


class Console:
    """The router's fallback: serves the bundle for GET/HEAD outside :data:`RESERVED`, else
    hands the request to ``fallback`` (the router's own not-found)."""

    def __init__(self, directory: Path, fallback: ASGIApp):
        self.directory = directory
        self.fallback = fallback
        self.files = StaticFiles(directory=directory, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or is_reserved(path):
            await self.fallback(scope, receive, send)
            return
        response = self.respond(path, scope)
        if response is None:
            await self.fallback(scope, receive, send)
            return
        await response(scope, receive, send)

    def respond(self, path: str, scope: Scope) -> Response | None:
        relative = path.lstrip("/")
        index = self.directory / INDEX
        if not index.is_file():
            if relative.startswith(ASSETS + "/"):
                return None
            page = NOT_BUILT.format(directory=html.escape(str(self.directory)))
            status = 200 if not relative else 404  # a deep link of a console that is not there
            return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-cache"})
        if relative and relative != INDEX:
            found, stat = self.files.lookup_path(relative)
            if stat is not None and found and os.path.isfile(found):
                response = self.files.file_response(found, stat, scope)
                cache = ASSET_CACHE if relative.startswith(ASSETS + "/") else ROOT_FILE_CACHE
                response.headers["Cache-Control"] = cache
                response.headers["X-Content-Type-Options"] = "nosniff"
                return response
            if relative.startswith(ASSETS + "/"):
                return None  # a missing chunk: 404, never index.html
        response = self.files.file_response(str(index), os.stat(index), scope)
        response.headers.update(INDEX_HEADERS)
        return response


def install_console(app: FastAPI, directory: str | None = None) -> Path:
    """Serve the console from the bundle (``CRM_CONSOLE_DIR`` or the defaults) where no route
    matched; returns the directory used."""
    where = console_dir(directory)
    app.router.default = Console(where, app.router.default)  # type: ignore[method-assign]
    return where
