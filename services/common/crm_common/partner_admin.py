"""Provisioning of the partner bus: the ``partner`` vhost, its ``crm.public`` exchange, a queue
policy and one user per partner (``crm-partner-bridge setup``; design in
docs/adr/0014-partner-bus.md, partner guide in docs/partners.md).

The broker is administered through its management HTTP API when ``RABBIT_MGMT_URL`` is set
(``http://admin:password@rabbitmq:15672``: compose, Kubernetes, managed brokers), otherwise with
``rabbitmqctl`` on this machine (the local runner, as root or the ``rabbitmq`` user).

Every partner user gets, on the partner vhost only (no permission anywhere else, so it cannot
even open a connection to the internal vhost):

* configure and write ``^partner\\.<name>\\..*`` — it declares, binds and deletes its own queues
  (``partner.<name>.<anything>``) and nothing else;
* read ``^(crm\\.public|partner\\.<name>\\..*)$`` — it binds its queues to ``crm.public`` and
  consumes from them; it can never publish to ``crm.public`` (no write there).

Partner users carry the tag ``crm-partner`` and no management tag. A partner removed from
``CRM_PARTNERS`` loses its permissions on the partner vhost at the next setup, and the user is
deleted when it has no permission left anywhere. A name that is already an ordinary broker user
(``guest``, the services' own user …) is refused, so a partner list can never change the password
of another user.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .keyfile import secret_problem

log = logging.getLogger(__name__)

PUBLIC_EXCHANGE = "crm.public"
PARTNER_TAG = "crm-partner"
PARTNERS_ENV = "CRM_PARTNERS"
MGMT_ENV = "RABBIT_MGMT_URL"
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
POLICY_NAME = "crm-partner-queues"
DEFAULT_MAX_LENGTH = 1_000_000
DEFAULT_TTL_DAYS = 7.0


class PartnerSetupError(RuntimeError):
    """The partner bus cannot be provisioned as configured (nothing half-done is hidden)."""


@dataclass(frozen=True)
class Partner:
    name: str
    password: str = ""

    @property
    def permissions(self) -> tuple[str, str, str]:
        """(configure, write, read) regular expressions on the partner vhost."""
        own = rf"^partner\.{self.name}\..*"
        return own, own, rf"^({re.escape(PUBLIC_EXCHANGE)}|partner\.{self.name}\..*)$"


def _password_env(name: str) -> str:
    return "CRM_PARTNER_PASSWORD_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def parse_partners(spec: str | None = None, *, production: bool = False) -> list[Partner]:
    """``CRM_PARTNERS``: comma-separated ``name:/path/to/password-file`` or ``name`` (password in
    ``CRM_PARTNER_PASSWORD_<NAME>``, ``-`` as ``_``). Names: lower-case letters, digits, ``-``
    and ``_``. Empty: no partner. With ``production`` a weak password is refused."""
    raw = os.environ.get(PARTNERS_ENV, "") if spec is None else spec
    partners: dict[str, Partner] = {}
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        name, sep, path = item.partition(":")
        name = name.strip()
        if not NAME_RE.fullmatch(name):
            raise PartnerSetupError(
                f"{PARTNERS_ENV}: partner name {name!r} must be 1-63 lower-case letters, digits, - or _"
            )
        if sep:
            try:
                password = Path(path.strip()).read_text().strip()
            except OSError as exc:
                raise PartnerSetupError(f"{PARTNERS_ENV}: password file of {name}: {exc}") from exc
        else:
            password = os.environ.get(_password_env(name), "").strip()
        if not password:
            raise PartnerSetupError(
                f"{PARTNERS_ENV}: partner {name} has no password (name:/path/to/file or {_password_env(name)})"
            )
        problem = secret_problem(password)
        if problem and production:
            raise PartnerSetupError(
                f"the password of partner {name} {problem} (use `openssl rand -hex 24` or longer)"
            )
        if problem:
            log.warning("the password of partner %s %s (acceptable only in development)", name, problem)
        partners[name] = Partner(name, password)
    return list(partners.values())


# -- broker administration -------------------------------------------------------------------


class BrokerAdmin(Protocol):
    def add_vhost(self, vhost: str) -> None: ...
    def delete_vhost(self, vhost: str) -> None: ...
    def set_permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None: ...
    def clear_permissions(self, vhost: str, user: str) -> None: ...
    def users(self) -> dict[str, list[str]]: ...
    def put_user(self, user: str, password: str, tags: list[str]) -> None: ...
    def delete_user(self, user: str) -> None: ...
    def vhost_users(self, vhost: str) -> list[str]: ...
    def user_vhosts(self, user: str) -> list[str]: ...
    def set_policy(self, vhost: str, name: str, pattern: str, definition: dict[str, Any]) -> None: ...


def _tags(raw: Any) -> list[str]:
    if isinstance(raw, list):
        return [str(t) for t in raw]
    return [t for t in re.split(r"[,\s]+", str(raw or "").strip("[]")) if t]


class ManagementApi:
    """The RabbitMQ management HTTP API at ``url`` (``http://user:password@host:15672``)."""

    def __init__(self, url: str, timeout: float = 15.0):
        parts = urllib.parse.urlsplit(url.rstrip("/"))
        host = parts.hostname or "127.0.0.1"
        netloc = f"{host}:{parts.port}" if parts.port else host
        self.base = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
        user = urllib.parse.unquote(parts.username or "guest")
        password = urllib.parse.unquote(parts.password or "guest")
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Any = None, missing_ok: bool = False) -> Any:
        req = urllib.request.Request(
            self.base + "/api" + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"content-type": "application/json", "authorization": self.auth},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            if missing_ok and exc.code == 404:
                return None
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise PartnerSetupError(f"management API {method} {path}: HTTP {exc.code} {detail}") from exc
        except OSError as exc:
            raise PartnerSetupError(f"management API at {self.base} unreachable: {exc}") from exc
        return json.loads(raw) if raw else None

    @staticmethod
    def _q(value: str) -> str:
        return urllib.parse.quote(value, safe="")

    def add_vhost(self, vhost: str) -> None:
        self._call("PUT", f"/vhosts/{self._q(vhost)}", {})

    def delete_vhost(self, vhost: str) -> None:
        self._call("DELETE", f"/vhosts/{self._q(vhost)}", missing_ok=True)

    def set_permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None:
        body = {"configure": configure, "write": write, "read": read}
        self._call("PUT", f"/permissions/{self._q(vhost)}/{self._q(user)}", body)

    def clear_permissions(self, vhost: str, user: str) -> None:
        self._call("DELETE", f"/permissions/{self._q(vhost)}/{self._q(user)}", missing_ok=True)

    def users(self) -> dict[str, list[str]]:
        return {u["name"]: _tags(u.get("tags")) for u in self._call("GET", "/users") or []}

    def put_user(self, user: str, password: str, tags: list[str]) -> None:
        self._call("PUT", f"/users/{self._q(user)}", {"password": password, "tags": ",".join(tags)})

    def delete_user(self, user: str) -> None:
        self._call("DELETE", f"/users/{self._q(user)}", missing_ok=True)

    def vhost_users(self, vhost: str) -> list[str]:
        rows = self._call("GET", f"/vhosts/{self._q(vhost)}/permissions", missing_ok=True) or []
        return [r["user"] for r in rows]

    def user_vhosts(self, user: str) -> list[str]:
        rows = self._call("GET", f"/users/{self._q(user)}/permissions", missing_ok=True) or []
        return [r["vhost"] for r in rows]

    def set_policy(self, vhost: str, name: str, pattern: str, definition: dict[str, Any]) -> None:
        body = {"pattern": pattern, "definition": definition, "apply-to": "queues", "priority": 0}
        self._call("PUT", f"/policies/{self._q(vhost)}/{self._q(name)}", body)


class Rabbitmqctl:
    """``rabbitmqctl`` on the broker's machine (the local runner; needs the Erlang cookie, i.e.
    root or the ``rabbitmq`` user). Passwords are passed as arguments: development only."""

    def __init__(self, binary: str = "rabbitmqctl"):
        self.binary = binary

    def _run(self, *args: str, check: bool = True) -> str:
        result = subprocess.run([self.binary, "-q", *args], capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            what = " ".join(a for a in args[:3])
            raise PartnerSetupError(f"rabbitmqctl {what}: {(result.stderr or result.stdout).strip()[:300]}")
        return result.stdout

    def _json(self, *args: str) -> list[dict[str, Any]]:
        out = self._run(*args, "--formatter", "json", check=False).strip()
        try:
            return json.loads(out) if out else []
        except ValueError:
            return []

    def add_vhost(self, vhost: str) -> None:
        result = subprocess.run(
            [self.binary, "-q", "add_vhost", vhost], capture_output=True, text=True, timeout=60
        )
        if result.returncode != 0 and "already exists" not in result.stdout + result.stderr:
            raise PartnerSetupError(
                f"rabbitmqctl add_vhost: {(result.stderr or result.stdout).strip()[:300]}"
            )

    def delete_vhost(self, vhost: str) -> None:
        self._run("delete_vhost", vhost, check=False)

    def set_permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None:
        self._run("set_permissions", "-p", vhost, user, configure, write, read)

    def clear_permissions(self, vhost: str, user: str) -> None:
        self._run("clear_permissions", "-p", vhost, user, check=False)

    def users(self) -> dict[str, list[str]]:
        return {u["user"]: _tags(u.get("tags")) for u in self._json("list_users")}

    def put_user(self, user: str, password: str, tags: list[str]) -> None:
        if user in self.users():
            self._run("change_password", user, password)
        else:
            self._run("add_user", user, password)
        self._run("set_user_tags", user, *tags)

    def delete_user(self, user: str) -> None:
        self._run("delete_user", user, check=False)

    def vhost_users(self, vhost: str) -> list[str]:
        return [r["user"] for r in self._json("list_permissions", "-p", vhost)]

    def user_vhosts(self, user: str) -> list[str]:
        return [r["vhost"] for r in self._json("list_user_permissions", user)]

    def set_policy(self, vhost: str, name: str, pattern: str, definition: dict[str, Any]) -> None:
        self._run("set_policy", "-p", vhost, "--apply-to", "queues", name, pattern, json.dumps(definition))


def broker_admin() -> BrokerAdmin:
    """The management API (``RABBIT_MGMT_URL``) or, without it, ``rabbitmqctl`` here."""
    url = os.environ.get(MGMT_ENV, "").strip()
    if url:
        return ManagementApi(url)
    binary = shutil.which("rabbitmqctl")
    if binary:
        return Rabbitmqctl(binary)
    raise PartnerSetupError(
        f"cannot administer the broker: set {MGMT_ENV} to its management API "
        "(http://admin:password@rabbitmq:15672) or run where rabbitmqctl is installed"
    )


# -- provisioning ----------------------------------------------------------------------------


def queue_policy() -> dict[str, Any]:
    """Limits of every partner queue: ``CRM_PARTNER_QUEUE_MAX_LENGTH`` messages (default one
    million) and ``CRM_PARTNER_MESSAGE_TTL_DAYS`` days (default 7); beyond either the oldest
    messages of that queue are dropped, so a partner that stops consuming cannot fill the
    broker's disk nor hold up the others (the bridge's publishes are never refused)."""
    max_length = int(os.environ.get("CRM_PARTNER_QUEUE_MAX_LENGTH") or DEFAULT_MAX_LENGTH)
    days = float(os.environ.get("CRM_PARTNER_MESSAGE_TTL_DAYS") or DEFAULT_TTL_DAYS)
    return {"max-length": max_length, "overflow": "drop-head", "message-ttl": int(days * 86_400_000)}


def provision(admin: BrokerAdmin, vhost: str, bridge_user: str, partners: list[Partner]) -> dict[str, Any]:
    """Create (or bring up to date) the partner vhost, the bridge's full permissions on it, the
    queue policy and the partner users; revoke partners no longer listed. Idempotent. Returns
    what was done (``partners``, ``revoked``). The ``crm.public`` exchange is declared by the
    caller over AMQP (:func:`crm_common.partner_bridge.declare_public_exchange`)."""
    users = admin.users()
    names = {p.name for p in partners}
    for partner in partners:  # every name checked before anything changes
        if partner.name == bridge_user:
            raise PartnerSetupError(f"partner {partner.name!r} has the name of the bridge's own broker user")
        tags = users.get(partner.name)
        if tags is not None and PARTNER_TAG not in tags:
            raise PartnerSetupError(
                f"partner {partner.name!r}: a broker user of that name exists and is not a partner "
                f"(tags {tags}); choose another partner name"
            )
    admin.add_vhost(vhost)
    admin.set_permissions(vhost, bridge_user, ".*", ".*", ".*")
    admin.set_policy(vhost, POLICY_NAME, r"^partner\.", queue_policy())
    for partner in partners:
        admin.put_user(partner.name, partner.password, [PARTNER_TAG])
        admin.set_permissions(vhost, partner.name, *partner.permissions)
    revoked = []
    for user in admin.vhost_users(vhost):
        if user in names or PARTNER_TAG not in users.get(user, []):
            continue
        admin.clear_permissions(vhost, user)
        if not admin.user_vhosts(user):
            admin.delete_user(user)
        revoked.append(user)
        log.info("partner %s is no longer listed: its access to %s was revoked", user, vhost)
    return {"vhost": vhost, "partners": sorted(names), "revoked": sorted(revoked)}
