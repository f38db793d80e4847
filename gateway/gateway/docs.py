"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) with their JavaScript and CSS served by the
gateway itself (``/docs/assets/...``, the files shipped by the ``fastapi-offline`` package), so the
API documentation works on a private network with no CDN reachable.

Who sees them: ``CRM_PUBLIC_DOCS`` — ``1`` everyone (default in development), ``login`` only a
request with a valid bearer token or API key of a staff user (default with ``CRM_ENV=production``;
401 otherwise), ``0`` nobody (404, as for any unknown path). This covers ``/openapi.json`` too.
The console does not read ``/openapi.json`` at run time (its client is generated at build time)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.responses import FileResponse, HTMLResponse, JSONResponse

from .deps import get_current_user

DOCS = "/docs"
REDOC = "/redoc"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
ASSETS = "/docs/assets"
ASSET_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
ASSET_CACHE = "public, max-age=86400"


def assets_dir() -> Path:
    return Path(str(resources.files("fastapi_offline") / "static"))


def asset_endpoint(path: Path, media_type: str):
    async def docs_asset() -> FileResponse:
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": ASSET_CACHE})

    docs_asset.__name__ = "docs_asset_" + path.name.replace("-", "_").replace(".", "_")
    return docs_asset


def install_docs(app: FastAPI, mode: str = "1") -> None:
    """Add the two documentation pages and their assets (create the app with ``docs_url`` and
    ``redoc_url`` None, so FastAPI's CDN-based pages are not registered), as ``mode`` says
    (``CRM_PUBLIC_DOCS``: ``1``, ``login`` or ``0``)."""
    if mode not in ("1", "login", "0"):
        raise ValueError(f"CRM_PUBLIC_DOCS must be 1, login or 0, not {mode!r}")
    if mode != "1":
        # FastAPI's own /openapi.json route is public: replaced (login) or removed (0)
        spec_path = app.openapi_url or "/openapi.json"
        app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != spec_path]
        if mode == "0":
            return
    directory = assets_dir()
    dependencies = [Depends(get_current_user)] if mode == "login" else []
    router = APIRouter(include_in_schema=False, dependencies=dependencies)
    if mode == "login":

        @router.get(app.openapi_url or "/openapi.json")
        async def openapi_json() -> JSONResponse:
            return JSONResponse(app.openapi())

    def openapi_url(request: Request) -> str:
        return request.scope.get("root_path", "") + (app.openapi_url or "/openapi.json")

    @router.get(DOCS)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=root + OAUTH2_REDIRECT,
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
            init_oauth=app.swagger_ui_init_oauth,
        )

    @router.get(OAUTH2_REDIRECT)
    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @router.get(REDOC)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    app.include_router(router)
    # one route per file (no path parameter: nothing to guess; any other name is a 404); the
    # published Swagger UI and ReDoc files themselves, public in every mode but 0
    assets = APIRouter(include_in_schema=False)
    for name, media_type in ASSET_FILES.items():
        assets.add_api_route(
            f"{ASSETS}/{name}", asset_endpoint(directory / name, media_type), methods=["GET"]
        )
    app.include_router(assets)
