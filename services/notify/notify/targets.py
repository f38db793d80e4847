"""Which webhook targets the notify service may call (pure: the caller resolves host names).

A webhook URL is an admin-supplied address the service connects to from inside the network, so
every address it reaches must be a public one: ``ipaddress``'s ``is_global`` (this refuses
loopback, private, link-local, shared 100.64.0.0/10, documentation, reserved and unspecified
ranges) and not multicast. IPv6 forms that carry an IPv4 address — IPv4-mapped ``::ffff:a.b.c.d``,
6to4 ``2002::/16``, Teredo ``2001::/32`` and NAT64 ``64:ff9b::/96`` / ``64:ff9b:1::/48`` — are
checked on the embedded IPv4 address too (``64:ff9b::7f00:1`` is 127.0.0.1 behind a NAT64
gateway). Ports are limited to 80 and 443 unless configured otherwise.

Only an explicit development switch (``allow_private``) turns the address and port checks off;
the URL shape checks (scheme, host, no credentials) always apply.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS: tuple[int, ...] = (80, 443)
NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if isinstance(ip, ipaddress.IPv4Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in net for net in NAT64_PREFIXES):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def address_problem(address: str) -> str | None:
    """Why the service must not connect to ``address`` (an IP literal), or None."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"is not an IP address ({address})"
    for candidate in (ip, *embedded_ipv4(ip)):
        if not candidate.is_global or candidate.is_multicast:
            return f"points at a non-public address ({candidate})"
    return None


def port_of(url: str) -> int:
    parts = urlsplit(url.strip())
    return parts.port or (443 if parts.scheme == "https" else 80)


def url_problem(
    url: object,
    resolved: Iterable[str] = (),
    allow_private: bool = False,
    allowed_ports: Iterable[int] = DEFAULT_PORTS,
) -> str | None:
    """Why a webhook URL is refused, or None. ``resolved``: the addresses its host resolves to
    (ignored for an IP literal, which is checked itself); no address at all is refused."""
    if not isinstance(url, str) or not url.strip():
        return "required"
    if len(url) > 2000:
        return "longer than 2000 characters"
    try:
        parts = urlsplit(url.strip())
        port = port_of(url)
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "has no host"
    if parts.username or parts.password:
        return "must not carry credentials"
    if allow_private:
        return None
    ports = sorted(set(allowed_ports))
    if port not in ports:
        return f"port {port} is not allowed (allowed: {', '.join(map(str, ports))})"
    host = parts.hostname.lower().rstrip(".")
    if host == "localhost" or host.endswith(INTERNAL_SUFFIXES):
        return "points at an internal host"
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = list(resolved)
    if not addresses:
        return "host does not resolve"
    for address in addresses:
        problem = address_problem(address)
        if problem:
            return problem
    return None
