"""Configuration read from the environment, the same way in every service."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def data_dir() -> Path:
    path = Path(os.environ.get("CRM_DATA_DIR", "./var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(service: str) -> str:
    """``<SERVICE>_DATABASE_URL`` if set (PostgreSQL), else an SQLite file of the service's own."""
    env = f"{service.upper()}_DATABASE_URL"
    url = os.environ.get(env)
    if url:
        return url
    return f"sqlite:///{data_dir() / (service + '.db')}"


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def queue_arguments() -> dict:
    """Arguments of every durable queue the CRM declares: ``CRM_QUEUE_TYPE=quorum`` makes them
    quorum queues (RabbitMQ cluster). Every declaration of one queue must use the same ones."""
    qtype = os.environ.get("CRM_QUEUE_TYPE", "classic")
    return {"x-queue-type": qtype} if qtype == "quorum" else {}


def durable_queue(name: str):
    """A durable queue declared with :func:`queue_arguments` (DLQs, ``crm.malformed``)."""
    from kombu import Queue

    return Queue(name, durable=True, queue_arguments=queue_arguments() or None)


def public_url() -> str:
    """The address users and customers reach the CRM at, for absolute links in e-mails
    (``CRM_PUBLIC_URL``, e.g. ``https://crm.example.com``; no trailing slash). Unset: the local
    gateway, ``http://127.0.0.1:$GATEWAY_PORT`` (default 8000) — right for development only."""
    url = os.environ.get("CRM_PUBLIC_URL", "").strip()
    if url:
        return url.rstrip("/")
    return f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT') or '8000'}"
