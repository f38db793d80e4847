"""Senders of the notify service: e-mail over SMTP, SMS through a provider, signed webhooks.

They use blocking stdlib I/O (``smtplib``, ``urllib``), which is green under eventlet's monkey
patching: a slow server blocks only the green thread of its own delivery. Settings come from the
service config first, then the environment:

==============================  ==========================================================
``SMTP_HOST`` / ``SMTP_PORT``   server (port default 25, 465 for ssl); no host = e-mail off
``SMTP_USER`` / ``SMTP_PASSWORD``  credentials (login only when a user is set)
``SMTP_TLS``                    ``starttls`` | ``ssl`` | ``none`` (default ``none``)
``SMTP_FROM``                   sender (default ``crm@localhost``)
``SMTP_TIMEOUT``                seconds (default 15)
``NOTIFY_SMS_PROVIDER``         ``logging`` (default) or ``package.module:Class``
``WEBHOOK_TIMEOUT``             seconds per call (default 10)
==============================  ==========================================================
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Protocol

from . import domain

log = logging.getLogger(__name__)


def setting(config: Mapping[str, Any], name: str, default: Any = None) -> Any:
    value = config.get(name)
    if value is None or value == "":
        value = os.environ.get(name)
    return default if value is None or value == "" else value


def flag(value: Any, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    permanent: bool = False  # no point retrying (e.g. a channel that is not configured)


# -- e-mail ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    user: str | None
    password: str | None
    tls: str
    sender: str
    timeout: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "SmtpSettings":
        tls = str(setting(config, "SMTP_TLS", "none")).lower()
        if tls in ("true", "1", "yes"):
            tls = "starttls"
        return cls(
            host=setting(config, "SMTP_HOST"),
            port=int(setting(config, "SMTP_PORT", 465 if tls == "ssl" else 25)),
            user=setting(config, "SMTP_USER"),
            password=setting(config, "SMTP_PASSWORD"),
            tls=tls,
            sender=setting(config, "SMTP_FROM", "crm@localhost"),
            timeout=float(setting(config, "SMTP_TIMEOUT", 15)),
        )


def build_email(sender: str, to: str, subject: str, body: str, name: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((name, to)) if name else to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="crm.local")
    msg.set_content(body, charset="utf-8")
    return msg


def send_email(
    settings: SmtpSettings, to: str, subject: str, body: str, language: str | None = None
) -> Outcome:
    if not settings.host:
        return Outcome(False, error="SMTP_HOST is not set", permanent=True)
    msg = build_email(settings.sender, to, subject, body)
    if language:
        msg["Content-Language"] = language
    try:
        if settings.tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            refused = smtp.send_message(msg)
        if refused:
            return Outcome(False, error=f"refused: {refused}")
        return Outcome(True, status_code=250)
    except smtplib.SMTPResponseException as exc:
        permanent = 500 <= exc.smtp_code < 600
        return Outcome(
            False,
            status_code=exc.smtp_code,
            error=f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
            permanent=permanent,
        )
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome(False, error=f"{type(exc).__name__}: {exc}")


# -- SMS -----------------------------------------------------------------------------------


class SmsProvider(Protocol):
    def send(self, to: str, text: str) -> Outcome: ...


class LoggingSmsProvider:
    """The default provider: writes the message to the log (and keeps the last ones, for
    tests and for a development setup without an SMS gateway)."""

    sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> Outcome:
        log.info("SMS to %s: %s", to, text)
        LoggingSmsProvider.sent = [*LoggingSmsProvider.sent[-99:], (to, text)]
        return Outcome(True)


def sms_provider(config: Mapping[str, Any]) -> SmsProvider:
    name = setting(config, "NOTIFY_SMS_PROVIDER", "logging")
    if name == "logging":
        return LoggingSmsProvider()
    module, _, attr = str(name).partition(":")
    return getattr(importlib.import_module(module), attr)()


# -- webhooks --------------------------------------------------------------------------------


def webhook_body(delivery_id: int, envelope: Mapping[str, Any]) -> bytes:
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def post_webhook(
    url: str, secret: str, body: bytes, event_type: str, delivery_id: int, timeout: float = 10.0
) -> Outcome:
    timestamp = int(time.time())
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "crm-notify-webhooks/1",
            domain.SIGNATURE_HEADER: domain.signature_header(secret, timestamp, body),
            "X-CRM-Event": event_type,
            "X-CRM-Delivery": str(delivery_id),
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            code = response.status
            response.read(65536)
    except urllib.error.HTTPError as exc:
        return Outcome(False, status_code=exc.code, error=f"HTTP {exc.code}")
    except (OSError, ValueError) as exc:
        return Outcome(False, error=f"{type(exc).__name__}: {exc}")
    if 200 <= code < 300:
        return Outcome(True, status_code=code)
    return Outcome(False, status_code=code, error=f"HTTP {code}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed delivery: following it could reach an address we refused."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


_opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))
