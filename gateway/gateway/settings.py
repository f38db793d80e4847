"""Gateway settings, read from the environment (pydantic-settings).

"Embedded default" = ``GATEWAY_DATABASE_URL`` not set: the gateway keeps its users in the SQLite
file ``$CRM_DATA_DIR/gateway.db`` and may fall back to the development JWT secret and the
``admin``/``admin`` login, with a WARNING in the log. With ``GATEWAY_DATABASE_URL`` set (a real
deployment, PostgreSQL) a missing, short (< 32 characters) or placeholder ``CRM_JWT_SECRET`` is
refused at start, and ``CRM_ADMIN_PASSWORD`` is required while no administrator exists yet.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Annotated

from crm_common import config as crm_config
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = logging.getLogger(__name__)

DEV_JWT_SECRET = "crm-development-secret-do-not-use-in-production"
PLACEHOLDER_SECRETS = frozenset({DEV_JWT_SECRET, "changeme", "change-me", "changethis", "secret"})
MIN_SECRET_LENGTH = 32
DEV_ADMIN_PASSWORD = "admin"


class Settings(BaseSettings):
    """Every field is read from the environment variable of the same name (upper case)."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    amqp_uri: str = crm_config.DEFAULT_AMQP_URI
    gateway_database_url: str | None = None
    crm_jwt_secret: str | None = None
    crm_jwt_ttl_minutes: int = Field(60, ge=1, le=60 * 24 * 30)
    crm_admin_username: str = Field("admin", min_length=1, max_length=100)
    crm_admin_password: str | None = None
    crm_rpc_timeout: float = Field(10.0, gt=0, le=3600)
    # long-running RPCs: each CSV import batch and finish_import, and the daily jobs
    crm_import_timeout: float = Field(300.0, gt=0)
    crm_job_timeout: float = Field(600.0, gt=0)
    crm_services: Annotated[list[str], NoDecode] = ["customers"]
    crm_max_upload_mb: int = Field(50, ge=1)
    crm_user_cache_seconds: float = Field(5.0, ge=0)
    # the page an invitation link opens (its token follows as ``#token=...``); default: the
    # gateway's own page /portal/accept on the host the inviting request came through
    crm_portal_accept_url: str | None = Field(None, pattern=r"^https?://")
    crm_invitation_days: int = Field(7, ge=1, le=90)
    gateway_migrate_on_start: bool = True
    gateway_run_outbox_relay: bool = True

    @field_validator("crm_services", mode="before")
    @classmethod
    def _split_services(cls, value):
        if isinstance(value, str):
            value = value.split(",")
        return [s.strip() for s in value if s and s.strip()]

    @model_validator(mode="after")
    def _refuse_placeholders_outside_development(self) -> "Settings":
        if self.embedded:
            return self
        secret = self.crm_jwt_secret
        if not secret:
            raise ValueError(
                "CRM_JWT_SECRET is required when GATEWAY_DATABASE_URL is set "
                f"(at least {MIN_SECRET_LENGTH} random characters)"
            )
        if secret in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                "CRM_JWT_SECRET is a placeholder or too short: use at least "
                f"{MIN_SECRET_LENGTH} random characters (e.g. `openssl rand -hex 32`)"
            )
        return self

    # -- derived ------------------------------------------------------------------------
    @property
    def embedded(self) -> bool:
        """The embedded default (no GATEWAY_DATABASE_URL): development fallbacks allowed."""
        return not self.gateway_database_url

    @cached_property
    def database_url(self) -> str:
        return self.gateway_database_url or crm_config.database_url("gateway")

    @property
    def jwt_secret(self) -> str:
        return self.crm_jwt_secret or DEV_JWT_SECRET

    @property
    def max_upload_bytes(self) -> int:
        return self.crm_max_upload_mb * 1024 * 1024

    def warn_about_development_defaults(self) -> None:
        if not self.embedded:
            return
        if not self.crm_jwt_secret:
            log.warning(
                "CRM_JWT_SECRET is not set: signing tokens with the development secret "
                "(allowed only for the embedded default; set it in any real deployment)"
            )
        elif self.crm_jwt_secret in PLACEHOLDER_SECRETS or len(self.crm_jwt_secret) < MIN_SECRET_LENGTH:
            log.warning(
                "CRM_JWT_SECRET is weak (placeholder or shorter than %d characters)", MIN_SECRET_LENGTH
            )

    def admin_password_for_bootstrap(self) -> str:
        """The password of the administrator created on a new installation."""
        if self.crm_admin_password:
            return self.crm_admin_password
        if self.embedded:
            log.warning(
                "CRM_ADMIN_PASSWORD is not set: creating administrator %r with the development "
                "password %r (embedded default only; change it at once)",
                self.crm_admin_username,
                DEV_ADMIN_PASSWORD,
            )
            return DEV_ADMIN_PASSWORD
        raise RuntimeError(
            "No administrator exists yet and CRM_ADMIN_PASSWORD is not set: refusing to start "
            "(set CRM_ADMIN_USERNAME / CRM_ADMIN_PASSWORD for the first administrator)"
        )
