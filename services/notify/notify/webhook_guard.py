"""The outbound-request guard of the webhooks: the settings, host name resolution, and the check
at registration and again at send time (rules: :mod:`notify.targets`).

==================================  =========================================================
``CRM_WEBHOOKS_ALLOW_PRIVATE``      ``1``: development only — loopback/private targets and any
                                    port are allowed (old name ``NOTIFY_ALLOW_PRIVATE_WEBHOOKS``
                                    still read). Default: refused, in every ``CRM_ENV``.
``CRM_WEBHOOKS_ALLOWED_PORTS``      comma-separated ports a webhook may use (default ``80,443``)
==================================  =========================================================

At send time the host is resolved once, every address is checked, and the connection goes to a
checked address (:func:`notify.channels.post_webhook` pins it), so a DNS answer that changes
between the check and the connection (DNS rebinding) cannot redirect the request.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import targets
from .channels import flag, setting


def allow_private(config: Mapping[str, Any]) -> bool:
    value = setting(config, "CRM_WEBHOOKS_ALLOW_PRIVATE")
    if value is None:
        value = setting(config, "NOTIFY_ALLOW_PRIVATE_WEBHOOKS")
    return flag(value)


def allowed_ports(config: Mapping[str, Any]) -> tuple[int, ...]:
    value = setting(config, "CRM_WEBHOOKS_ALLOWED_PORTS")
    if value is None:
        return targets.DEFAULT_PORTS
    if isinstance(value, int):
        return (value,)
    ports = []
    for part in str(value).replace(";", ",").split(","):
        if part.strip():
            port = int(part.strip())  # a bad setting stops the check loudly, never opens it
            if not 0 < port < 65536:
                raise ValueError(f"CRM_WEBHOOKS_ALLOWED_PORTS: {port} is not a port")
            ports.append(port)
    return tuple(ports) or targets.DEFAULT_PORTS


def resolve(url: str) -> list[str]:
    """Every address the URL's host resolves to (empty when it does not), in resolver order."""
    try:
        parts = urlsplit(url.strip())
        if not parts.hostname:
            return []
        infos = socket.getaddrinfo(parts.hostname, targets.port_of(url), type=socket.SOCK_STREAM)
    except (OSError, ValueError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_webhook_url(url: Any, config: Mapping[str, Any]) -> str | None:
    """Registration: why the URL is refused, or None."""
    allow = allow_private(config)
    problem = targets.url_problem(url, (), allow_private=True)
    if problem or allow:
        return problem
    return targets.url_problem(url, resolve(url), False, allowed_ports(config))


@dataclass
class Target:
    """What a send may connect to: ``addresses`` (checked; empty = let the resolver decide, in
    development only), or ``problem`` (``transient``: the host did not resolve, try later)."""

    problem: str | None = None
    transient: bool = False
    addresses: list[str] = field(default_factory=list)


def send_target(url: str, config: Mapping[str, Any]) -> Target:
    """Send time: resolve once, check every address, hand the checked ones to the sender."""
    problem = targets.url_problem(url, (), allow_private=True)
    if problem:
        return Target(problem)
    addresses = resolve(url)
    if allow_private(config):
        return Target(addresses=addresses)
    host = urlsplit(url.strip()).hostname or ""
    try:
        literal = [str(ipaddress.ip_address(host))]
    except ValueError:
        literal = []
    if not addresses and not literal:
        return Target("host does not resolve", transient=True)
    problem = targets.url_problem(url, addresses, False, allowed_ports(config))
    if problem:
        return Target(problem)
    return Target(addresses=literal or addresses)
