"""Gateway settings, read from the environment (pydantic-settings).

"Embedded default" = ``GATEWAY_DATABASE_URL`` not set: the gateway keeps its users in the SQLite
file ``$CRM_DATA_DIR/gateway.db``; without ``CRM_JWT_SECRET`` it signs tokens with a random key
generated on its first start and kept in ``$CRM_DATA_DIR/jwt-secret`` (mode 0600, reused later),
and the first administrator may be ``admin``/``admin``, with a WARNING in the log. With
``GATEWAY_DATABASE_URL`` set (a real deployment, PostgreSQL) a missing, short (< 32 bytes),
low-entropy or published (placeholder) ``CRM_JWT_SECRET`` is refused at start, and
``CRM_ADMIN_PASSWORD`` is required while no administrator exists yet and must pass the password
policy. No secret value is written in the repository.
"""

from __future__ import annotations

import logging
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated

from crm_common import config as crm_config
from crm_common import keyfile
from crm_common.keyfile import MIN_SECRET_BYTES, PLACEHOLDER_WORDS, secret_problem
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from . import password_policy

log = logging.getLogger(__name__)

SECRET_FILE = "jwt-secret"
DEV_ADMIN_PASSWORD = "admin"


def load_or_create_secret(path: Path) -> str:
    """The token signing key kept in ``path``; created (random, mode 0600) when missing
    (:func:`crm_common.keyfile.load_or_create_secret`, shared with the caller-context key)."""
    return keyfile.load_or_create_secret(path, "token signing key", "every issued token and session ends")


class Settings(BaseSettings):
    """Every field is read from the environment variable of the same name (upper case)."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    amqp_uri: str = crm_config.DEFAULT_AMQP_URI
    gateway_database_url: str | None = None
    crm_jwt_secret: str | None = None
    crm_jwt_ttl_minutes: int = Field(15, ge=1, le=60 * 24)
    # the longest a session lasts from its login (its refresh tokens rotate inside it)
    crm_refresh_ttl_hours: float = Field(12, gt=0, le=24 * 90)
    crm_admin_username: str = Field("admin", min_length=1, max_length=100)
    crm_admin_password: str | None = None
    crm_rpc_timeout: float = Field(10.0, gt=0, le=3600)
    # long-running RPCs: each CSV import batch and finish_import, and the daily jobs
    crm_import_timeout: float = Field(300.0, gt=0)
    crm_job_timeout: float = Field(600.0, gt=0)
    crm_services: Annotated[list[str], NoDecode] = ["customers"]
    crm_max_upload_mb: int = Field(50, ge=1)
    # every other request body (JSON): larger → 413 (uploads keep CRM_MAX_UPLOAD_MB)
    crm_max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    crm_user_cache_seconds: float = Field(5.0, ge=0)
    # the page an invitation link opens (its token follows as ``#token=...``); default: the
    # gateway's own page, CRM_PUBLIC_URL + /portal/accept (never the request's Host header)
    crm_portal_accept_url: str | None = Field(None, pattern=r"^https?://")
    crm_invitation_days: int = Field(7, ge=1, le=90)
    # development | production (production: CRM_PUBLIC_URL required, API docs behind login)
    crm_env: str = "development"
    # the address users open (scheme://host[:port][/prefix]); default in development:
    # http://127.0.0.1:GATEWAY_PORT
    crm_public_url: str | None = Field(None, pattern=r"^https?://[^\s?#]+$")
    gateway_port: int = 8000
    # /docs, /redoc, /openapi.json: 1 public | login (a bearer token or API key) | 0 off (404);
    # default 1 in development, login in production
    crm_public_docs: str | None = Field(None, pattern=r"^(1|0|login)$")
    gateway_migrate_on_start: bool = True
    gateway_run_outbox_relay: bool = True
    # -- browser access: the console, CORS, compression, server-sent events ----------------
    # the console's built bundle (index.html, assets/); default: <repo>/web/dist, /app/web/dist
    crm_console_dir: str | None = None
    # origins (scheme://host[:port]) allowed to call the API from a browser; comma-separated
    crm_cors_origins: Annotated[list[str], NoDecode] = []
    crm_gzip_min_bytes: int = Field(1024, ge=0)
    crm_sse_heartbeat_seconds: float = Field(15.0, gt=0, le=300)

    @field_validator("crm_cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value):
        if isinstance(value, str):
            value = value.split(",")
        origins = [o.strip().rstrip("/") for o in value if o and o.strip()]
        for origin in origins:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s?#]+", origin):
                raise ValueError(f"CRM_CORS_ORIGINS: {origin!r} is not scheme://host[:port]")
        return origins

    @field_validator("crm_services", mode="before")
    @classmethod
    def _split_services(cls, value):
        if isinstance(value, str):
            value = value.split(",")
        return [s.strip() for s in value if s and s.strip()]

    @model_validator(mode="after")
    def _refuse_weak_secrets_outside_development(self) -> "Settings":
        if self.embedded:
            return self
        problem = secret_problem(self.crm_jwt_secret)
        if problem:
            raise ValueError(
                f"CRM_JWT_SECRET {problem}: with GATEWAY_DATABASE_URL set it must be at least "
                f"{MIN_SECRET_BYTES} random bytes (e.g. `openssl rand -hex 32`)"
            )
        return self

    @model_validator(mode="after")
    def _public_url_in_production(self) -> "Settings":
        if self.production and not self.crm_public_url:
            raise ValueError(
                "CRM_PUBLIC_URL is not set: with CRM_ENV=production it must be the address users "
                "open (e.g. https://crm.example.com); invitation links are built from it"
            )
        return self

    # -- derived ------------------------------------------------------------------------
    @property
    def production(self) -> bool:
        return self.crm_env.strip().lower() == "production"

    @property
    def public_url(self) -> str:
        """Where users reach the gateway (links in e-mails): configuration only."""
        return (self.crm_public_url or f"http://127.0.0.1:{self.gateway_port}").rstrip("/")

    @property
    def docs_mode(self) -> str:
        return self.crm_public_docs or ("login" if self.production else "1")

    @property
    def embedded(self) -> bool:
        """The embedded default (no GATEWAY_DATABASE_URL): development fallbacks allowed."""
        return not self.gateway_database_url

    @cached_property
    def database_url(self) -> str:
        return self.gateway_database_url or crm_config.database_url("gateway")

    @cached_property
    def jwt_secret(self) -> str:
        """``CRM_JWT_SECRET``, else (embedded default only) the key of this installation kept in
        ``$CRM_DATA_DIR/jwt-secret``, generated on the first start."""
        if self.crm_jwt_secret:
            return self.crm_jwt_secret
        return load_or_create_secret(self.secret_file)

    @property
    def secret_file(self) -> Path:
        return crm_config.data_dir() / SECRET_FILE

    @property
    def refresh_ttl_seconds(self) -> int:
        return int(self.crm_refresh_ttl_hours * 3600)

    @property
    def max_upload_bytes(self) -> int:
        return self.crm_max_upload_mb * 1024 * 1024

    def warn_about_development_defaults(self) -> None:
        """At start: warn about the embedded default's fallbacks, and load (or generate) the
        signing key, so a bad key file stops the start rather than the first login."""
        if not self.embedded:
            return
        if not self.crm_jwt_secret:
            log.warning(
                "CRM_JWT_SECRET is not set: signing tokens with the key generated for this "
                "installation in %s (embedded default only; set CRM_JWT_SECRET in any real "
                "deployment)",
                self.secret_file,
            )
        elif secret_problem(self.crm_jwt_secret):
            log.warning("CRM_JWT_SECRET %s", secret_problem(self.crm_jwt_secret))
        self.jwt_secret  # noqa: B018 - loads or creates the key file now

    def admin_password_for_bootstrap(self) -> str:
        """The password of the administrator created on a new installation: outside the
        embedded default it is required and must pass the password policy."""
        password = self.crm_admin_password
        if self.embedded:
            if password:
                return password
            log.warning(
                "CRM_ADMIN_PASSWORD is not set: creating administrator %r with the development "
                "password %r (embedded default only; change it at once)",
                self.crm_admin_username,
                DEV_ADMIN_PASSWORD,
            )
            return DEV_ADMIN_PASSWORD
        if not password:
            raise RuntimeError(
                "No administrator exists yet and CRM_ADMIN_PASSWORD is not set: refusing to start "
                "(set CRM_ADMIN_USERNAME / CRM_ADMIN_PASSWORD for the first administrator)"
            )
        problems = password_policy.problems(password, self.crm_admin_username)
        if PLACEHOLDER_WORDS.search(password):
            problems.append("is a placeholder from the examples (it is public)")
        if problems:
            raise RuntimeError("CRM_ADMIN_PASSWORD fails the password policy: " + "; ".join(problems))
        return password
