"""The app factory and its lifespan; ``crm-gateway`` runs it with uvicorn.

crm-gateway                                   # GATEWAY_HOST:GATEWAY_PORT (127.0.0.1:8000)
uvicorn --factory gateway.main:app_factory    # the same app, your uvicorn options
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from crm_common.db import DatabaseHandle
from crm_common.outbox import OutboxRelay
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from . import __version__, metrics, pages, users
from .auth import Passwords
from .console import install_console
from .deps import GatewayState
from .docs import install_docs
from .errors import ErrorLanguageMiddleware, install_error_handlers
from .etag import ETagMiddleware, document_etags
from .location import LocationMiddleware
from .middleware import InputLimitsMiddleware, RequestContextMiddleware, configure_logging
from .models import Base
from .openapi import customize, operation_id
from .routes import api_router, health_router
from .rpc import RpcClient
from .settings import Settings
from .stream import EventHub

log = logging.getLogger("gateway")

DESCRIPTION = """REST gateway of the contract-centred CRM. Authenticate with
`POST /api/v1/auth/token` (form `username`, `password`) and send `Authorization: Bearer <token>`.
Errors: `{"error": {"code", "message", "details"}}`; every response carries `X-Request-ID`.
Creates and money-moving requests accept `Idempotency-Key`: a retry with the same key returns the
first result and does nothing twice (the same key with another body → 422)."""


def gateway_dir() -> Path:
    """The directory holding ``alembic.ini`` and ``migrations/`` (the package's parent in a
    checkout or an image; else the working directory)."""
    for candidate in (Path(__file__).resolve().parent.parent, Path.cwd()):
        if (candidate / "alembic.ini").is_file() and (candidate / "migrations").is_dir():
            return candidate
    raise RuntimeError(
        "cannot find the gateway's alembic.ini and migrations/ (run from the gateway directory)"
    )


def migrate(url: str) -> None:
    from crm_common.migrations import upgrade

    upgrade(str(gateway_dir()), url)


async def bootstrap_admin(state: GatewayState) -> None:
    settings = state.settings
    if await run_in_threadpool(users.admin_exists, state.db):
        return
    password = settings.admin_password_for_bootstrap()  # refuses to start without one
    password_hash = await state.passwords.hash(password)
    await run_in_threadpool(users.bootstrap_admin, state.db, settings.crm_admin_username, password_hash)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    settings.warn_about_development_defaults()
    db = DatabaseHandle("gateway", Base.metadata, settings.database_url)
    relay = None
    warm_up: asyncio.Task | None = None
    rpc = RpcClient(settings.amqp_uri, timeout=settings.crm_rpc_timeout, name="gateway")
    hub = EventHub(settings.amqp_uri)  # the notifications stream's consumer
    metrics.instrument_rpc_client(rpc)
    state = GatewayState(settings=settings, db=db, rpc=rpc, passwords=Passwords())
    try:
        if settings.gateway_migrate_on_start:
            await run_in_threadpool(migrate, settings.database_url)
        await bootstrap_admin(state)
        if settings.gateway_run_outbox_relay:
            relay = OutboxRelay(db, settings.amqp_uri)
            relay.start_thread()
            state.relay = relay
        warm_up = asyncio.create_task(state.passwords.warm_up())
        await rpc.start(wait=5.0)
        await hub.start(wait=5.0 if rpc.connected else 0)  # no broker: do not wait twice
        app.state.event_hub = hub
        app.state.gateway = state
        log.info(
            "gateway %s ready: services %s, database %s",
            __version__,
            ",".join(settings.crm_services),
            "embedded SQLite" if settings.embedded else "external",
        )
        yield
    finally:
        if warm_up is not None and not warm_up.done():
            warm_up.cancel()
        await hub.close()
        await rpc.close()
        if relay is not None:
            await run_in_threadpool(relay.stop)
        db.dispose()
        log.info("gateway stopped")


UNREADABLE_BODY = {
    "description": "The body cannot be parsed (e.g. not UTF-8, or a broken multipart form)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def document_unreadable_bodies(app: FastAPI) -> None:
    """Every operation that takes a body also answers 400 when the body cannot be parsed at all
    (FastAPI's own check, before validation): say so in the OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = generate()
            for operations in document["paths"].values():
                for operation in operations.values():
                    if "requestBody" in operation:
                        operation["responses"].setdefault("400", UNREADABLE_BODY)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="CRM gateway",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # docs.install_docs: Swagger UI and ReDoc with their assets served here
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    install_error_handlers(app)
    # the last added is the outermost: CORS, gzip, metrics, request id, ETag, the routes
    app.add_middleware(LocationMiddleware)  # Location on 201 answers (gateway.location)
    app.add_middleware(ETagMiddleware)
    # body size, JSON depth, NUL, 401 before the body is read
    app.add_middleware(InputLimitsMiddleware, max_body_bytes=settings.crm_max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(ErrorLanguageMiddleware)  # error messages in the caller's language
    app.add_middleware(metrics.MetricsMiddleware)
    app.add_middleware(
        GZipMiddleware,
        minimum_size=settings.crm_gzip_min_bytes,
        compresslevel=6,
        # text/event-stream among the defaults: a stream is never buffered for compression
        exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf"),
    )
    if settings.crm_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.crm_cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "ETag", "Location", "Content-Disposition"],
            max_age=600,
        )
    app.include_router(health_router)
    app.include_router(metrics.router)  # GET /metrics; Traefik does not route it from outside
    app.include_router(api_router)
    app.include_router(pages.router)  # GET /portal/accept: where invitation links land
    install_docs(app, settings.docs_mode)  # GET /docs, /redoc and their assets (CRM_PUBLIC_DOCS)
    install_console(app, settings.crm_console_dir)  # GET / and deep links: the web console
    document_etags(app)  # ETag, If-Match and their 304/412 in the OpenAPI document
    document_unreadable_bodies(app)
    customize(app)  # operation ids, tags, servers, public operations, body examples
    return app


def app_factory() -> FastAPI:
    """For ``uvicorn --factory gateway.main:app_factory``: settings from the environment and
    JSON logging."""
    configure_logging()
    return create_app(Settings())


def run() -> None:
    """``crm-gateway``: serve on GATEWAY_HOST (127.0.0.1) : GATEWAY_PORT (8000)."""
    import uvicorn

    configure_logging()
    settings = Settings()  # fail fast on bad settings, before binding the port
    app = create_app(settings)
    uvicorn.run(
        app,
        host=os.environ.get("GATEWAY_HOST", "127.0.0.1"),
        port=int(os.environ.get("GATEWAY_PORT", "8000")),
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )


if __name__ == "__main__":  # pragma: no cover
    run()
