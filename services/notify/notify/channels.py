"""Senders of the notify service: e-mail over SMTP, SMS through a provider, signed webhooks.

They use blocking stdlib I/O (``smtplib``, ``http.client``), which is green under eventlet's monkey
patching: a slow server blocks only the green thread of its own delivery. Settings come from the
service config first, then the environment:

==============================  ==========================================================
``SMTP_HOST`` / ``SMTP_PORT``   server (port default 25, 465 for ssl); no host = e-mail off
``SMTP_USER`` / ``SMTP_PASSWORD``  credentials (login only when a user is set)
``SMTP_TLS``                    ``starttls`` | ``ssl`` | ``none`` (default ``none``)
``SMTP_FROM``                   sender (default ``crm@localhost``)
``SMTP_TIMEOUT``                seconds (default 15)
``NOTIFY_SMS_PROVIDER``         ``logging`` (default) or ``package.module:Class``
``WEBHOOK_TIMEOUT``             seconds per call (default 10); targets: :mod:`notify.webhook_guard`
==============================  ==========================================================
"""

from __future__ import annotations

import http.client
import importlib
import json
import logging
import os
import smtplib
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Protocol
from urllib.parse import urlsplit

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


@dataclass(frozen=True)
class Attachment:
    """A file an e-mail carries (the invoice PDF of an ``invoice_issued`` e-mail)."""

    filename: str
    content_type: str
    data: bytes


def build_email(
    sender: str,
    to: str,
    subject: str,
    body: str,
    name: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((name, to)) if name else to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="crm.local")
    msg.set_content(body, charset="utf-8")
    for item in attachments:  # the body becomes the first part of a multipart/mixed message
        maintype, _, subtype = item.content_type.partition("/")
        msg.add_attachment(
            item.data, maintype=maintype, subtype=subtype or "octet-stream", filename=item.filename
        )
    return msg


def send_email(
    settings: SmtpSettings,
    to: str,
    subject: str,
    body: str,
    language: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> Outcome:
    if not settings.host:
        return Outcome(False, error="SMTP_HOST is not set", permanent=True)
    msg = build_email(settings.sender, to, subject, body, attachments=attachments)
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
    url: str,
    secret: str | Sequence[str],
    body: bytes,
    event_type: str,
    delivery_id: int,
    timeout: float = 10.0,
    addresses: list[str] | None = None,
) -> Outcome:
    """POST the signed body (one ``v1`` signature per secret: the current one, then the previous
    one during a rotation's grace period). ``addresses``: the checked addresses of the URL's host — the
    connection goes to one of them (never to a fresh DNS answer), with the host name kept for
    the ``Host`` header and TLS (SNI and certificate check). No redirect is followed, no proxy
    is used."""
    timestamp = int(time.time())  # the receiver's replay check compares it with its own clock
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "crm-notify-webhooks/1",
        domain.SIGNATURE_HEADER: domain.signature_header(secret, timestamp, body),
        "X-CRM-Event": event_type,
        "X-CRM-Delivery": str(delivery_id),
    }
    last_error: str | None = None
    for address in addresses or [host]:
        conn = _pinned_connection(https, host, port, address, timeout)
        try:
            try:
                conn.connect()
            except OSError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                continue  # the next checked address of the same host
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            code = response.status
            response.read(65536)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()
        if 200 <= code < 300:
            return Outcome(True, status_code=code)
        return Outcome(False, status_code=code, error=f"HTTP {code}")
    return Outcome(False, error=last_error or "no address to connect to")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to ``address`` for the host ``host`` (``Host`` header)."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to ``address``; TLS verifies the certificate for ``host``."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _pinned_connection(https: bool, host: str, port: int, address: str, timeout: float):
    cls = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    return cls(host, port, address, timeout)
