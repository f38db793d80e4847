"""The outbound-request guard of the webhooks (issue 18 §5): only public addresses on ports 80
and 443, refused at registration and again after DNS resolution at send time, the connection
pinned to the checked address (DNS rebinding), in every mode but an explicit
``CRM_WEBHOOKS_ALLOW_PRIVATE=1``; and the invitation e-mail's link is not kept once sent."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from crm_common.context import CallerContext
from crm_common.errors import ValidationFailed
from notify import channels, targets, webhook_guard
from notify import models as m
from notify.delivery import DeliverySettings, DeliveryWorker
from sqlalchemy import select

PUBLIC = "93.184.216.34"
HOOK = {"events": ["*"], "secret": "0123456789"}


def rows(db, table):
    with db.read() as s:
        return [dict(r) for r in s.execute(select(table)).mappings()]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/h",
        "http://10.0.0.5/h",
        "http://100.64.0.1/h",  # shared address space (carrier-grade NAT)
        "http://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://0.0.0.0/h",
        "http://224.0.0.1/h",
        "http://[::1]/h",
        "http://[fd00::1]/h",
        "http://[fe80::1]/h",
        "http://[::ffff:127.0.0.1]/h",  # IPv4-mapped
        "http://[::ffff:a9fe:a9fe]/h",
        "http://[2002:7f00:1::]/h",  # 6to4 of 127.0.0.1
        "http://[2002:a00:5::1]/h",  # 6to4 of 10.0.0.5
        "http://[64:ff9b::7f00:1]/h",  # NAT64 of 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/h",  # NAT64 of 169.254.169.254
        "http://[64:ff9b:1::a00:1]/h",  # local-use NAT64 of 10.0.0.1
        "http://localhost/h",
        "http://api.localhost/h",
        "http://db.internal/h",
        "https://93.184.216.34:8443/h",  # a public address on another port
        "http://93.184.216.34:22/h",
        "ftp://93.184.216.34/h",
        "https://user:pw@93.184.216.34/h",
    ],
)
def test_non_public_targets_and_other_ports_are_refused(url):
    assert targets.url_problem(url, ()) is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://93.184.216.34/h",
        "http://93.184.216.34:80/h",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/h",
        "https://[2002:5db8:d822::1]/h",  # 6to4 of a public address
        "https://[64:ff9b::5db8:d822]/h",  # NAT64 of a public address
    ],
)
def test_public_addresses_on_80_and_443_pass(url):
    assert targets.url_problem(url, ()) is None


def test_a_name_is_judged_by_every_address_it_resolves_to():
    assert targets.url_problem("https://partner.example.com/h", (PUBLIC,)) is None
    assert targets.url_problem("https://partner.example.com/h", (PUBLIC, "100.64.1.1")) is not None
    assert targets.url_problem("https://partner.example.com/h", ("::ffff:10.0.0.1",)) is not None
    assert targets.url_problem("https://partner.example.com/h", ()) == "host does not resolve"
    # development switch: anything of the right shape
    assert targets.url_problem("http://127.0.0.1:9/h", (), allow_private=True) is None
    assert targets.url_problem("file:///etc/passwd", (), allow_private=True) is not None
    # other ports when configured
    assert targets.url_problem("https://93.184.216.34:8443/h", (), False, (443, 8443)) is None


def test_the_settings_default_to_refusing_in_every_mode(monkeypatch):
    for name in ("CRM_WEBHOOKS_ALLOW_PRIVATE", "NOTIFY_ALLOW_PRIVATE_WEBHOOKS", "CRM_ENV"):
        monkeypatch.delenv(name, raising=False)
    assert not webhook_guard.allow_private({})
    assert not webhook_guard.allow_private({"CRM_ENV": "development"})
    assert webhook_guard.allow_private({"CRM_WEBHOOKS_ALLOW_PRIVATE": "1"})
    assert webhook_guard.allow_private({"NOTIFY_ALLOW_PRIVATE_WEBHOOKS": "true"})  # the old name
    assert not webhook_guard.allow_private(
        {"CRM_WEBHOOKS_ALLOW_PRIVATE": "0", "NOTIFY_ALLOW_PRIVATE_WEBHOOKS": "1"}
    )
    monkeypatch.setenv("CRM_WEBHOOKS_ALLOW_PRIVATE", "1")
    assert webhook_guard.allow_private({})
    assert webhook_guard.allowed_ports({}) == (80, 443)
    assert webhook_guard.allowed_ports({"CRM_WEBHOOKS_ALLOWED_PORTS": "443, 8443"}) == (443, 8443)
    with pytest.raises(ValueError):
        webhook_guard.allowed_ports({"CRM_WEBHOOKS_ALLOWED_PORTS": "443,70000"})


def test_registration_refuses_internal_targets_and_writes_nothing(service, make_caller, db, monkeypatch):
    monkeypatch.delenv("CRM_WEBHOOKS_ALLOW_PRIVATE", raising=False)
    monkeypatch.delenv("NOTIFY_ALLOW_PRIVATE_WEBHOOKS", raising=False)
    monkeypatch.setattr(webhook_guard, "resolve", lambda url: ["10.1.2.3"])  # an internal DNS name
    admin = service(make_caller("admin", user_id=1), {"CRM_ENV": "development"})
    for url in (
        "http://127.0.0.1:9/h",
        "http://[64:ff9b::7f00:1]/h",
        "http://100.64.0.1/h",
        "https://intranet.example.com/h",
        "https://93.184.216.34:8080/h",
    ):
        with pytest.raises(ValidationFailed) as err:
            admin.create_webhook({"url": url, **HOOK})
        assert "url" in err.value.details, url
    assert rows(db, m.webhooks) == []
    monkeypatch.setattr(webhook_guard, "resolve", lambda url: [PUBLIC])
    hook = admin.create_webhook({"url": "https://partner.example.com/h", **HOOK})
    with pytest.raises(ValidationFailed):
        admin.update_webhook(hook["id"], {"url": "http://[::ffff:7f00:1]/h"})
    assert [r["url"] for r in rows(db, m.webhooks)] == ["https://partner.example.com/h"]
    allowed = service(make_caller("admin", user_id=1), {"CRM_WEBHOOKS_ALLOW_PRIVATE": "1"})
    assert allowed.create_webhook({"url": "http://127.0.0.1:9/h", **HOOK})["active"]


class Receiver:
    """A local HTTP server recording what reaches it."""

    def __init__(self):
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append({"host": self.headers.get("Host"), "path": self.path})
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_a_name_that_rebinds_to_an_internal_address_is_refused_at_send_time(
    service, make_caller, deliver, db, monkeypatch, receiver
):
    monkeypatch.delenv("CRM_WEBHOOKS_ALLOW_PRIVATE", raising=False)
    monkeypatch.delenv("NOTIFY_ALLOW_PRIVATE_WEBHOOKS", raising=False)
    monkeypatch.setattr(webhook_guard, "resolve", lambda u: [PUBLIC])  # at registration
    admin = service(make_caller("admin", user_id=1))
    admin.create_webhook({"url": "http://rebind.example.com/h", **HOOK})
    deliver("customers", "customer_created", {"id": 1, "name": "Rebind GmbH"})
    monkeypatch.setattr(webhook_guard, "resolve", lambda u: ["127.0.0.1"])  # the attacker's DNS
    worker = DeliveryWorker(db, DeliverySettings({}))
    assert worker.run_once() == 1
    worker.pool.waitall()
    (delivery,) = rows(db, m.deliveries)
    assert delivery["status"] == "failed" and "non-public address (127.0.0.1)" in delivery["last_error"]
    assert receiver.received == []


def test_the_connection_goes_to_the_checked_address_not_to_a_second_dns_answer(
    service, make_caller, deliver, db, monkeypatch
):
    monkeypatch.delenv("CRM_WEBHOOKS_ALLOW_PRIVATE", raising=False)
    monkeypatch.setattr(webhook_guard, "resolve", lambda u: [PUBLIC])
    admin = service(make_caller("admin", user_id=1))
    admin.create_webhook({"url": "https://pinned.example.com/h", **HOOK})
    deliver("customers", "customer_created", {"id": 1, "name": "Pinned GmbH"})
    connected: list[tuple] = []

    def create_connection(address, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError("stand-in: no network")

    monkeypatch.setattr(channels.socket, "create_connection", create_connection)
    monkeypatch.setattr(  # a resolver asked again would say 127.0.0.1: it must not be asked
        channels.socket, "getaddrinfo", lambda *a, **k: pytest.fail("resolved again at connect time")
    )
    worker = DeliveryWorker(db, DeliverySettings({}))
    assert worker.run_once() == 1
    worker.pool.waitall()
    assert connected == [(PUBLIC, 443)]
    (delivery,) = rows(db, m.deliveries)
    assert delivery["status"] == "pending" and "ConnectionRefused" in delivery["last_error"]


def test_the_pinned_connection_keeps_the_host_name_for_the_request(receiver):
    url = f"http://hooks.example.invalid:{receiver.port}/in?x=1"  # a name no resolver knows
    outcome = channels.post_webhook(url, "s" * 10, b"{}", "customer_created", 7, 5.0, ["127.0.0.1"])
    assert outcome.ok and outcome.status_code == 204
    assert receiver.received == [{"host": f"hooks.example.invalid:{receiver.port}", "path": "/in?x=1"}]


def test_an_invitation_link_is_not_kept_once_the_mail_is_sent_or_failed(service, db, monkeypatch):
    gateway = service(CallerContext.system("gateway"))
    link = "https://crm.example.com/portal/accept#token=s3cr3t-t0ken-value"
    data = {
        "email": "ivan@sofia.example",
        "full_name": "Ivan",
        "language": "en",
        "accept_url": link,
        "expires_at": "2031-12-07T10:00:00+00:00",
    }
    sent = gateway.send_portal_invitation(data)
    (queued,) = rows(db, m.deliveries)
    assert "s3cr3t-t0ken-value" in queued["body"]  # needed until it is sent
    mails: list[str] = []

    def send_email(settings, to, subject, body, *args, **kwargs):
        mails.append(body)
        return channels.Outcome(True, status_code=250)

    monkeypatch.setattr(channels, "send_email", send_email)
    worker = DeliveryWorker(db, DeliverySettings({"SMTP_HOST": "smtp.example.com"}))
    assert worker.run_once() == 1
    worker.pool.waitall()
    assert "s3cr3t-t0ken-value" in mails[0]
    (kept,) = rows(db, m.deliveries)
    assert kept["id"] == sent["delivery_id"] and kept["status"] == "sent"
    assert "s3cr3t-t0ken-value" not in kept["body"]
    assert "https://crm.example.com/portal/accept#token=[redacted]" in kept["body"]

    # a mail that finally fails keeps no link either
    monkeypatch.setattr(
        channels, "send_email", lambda *a, **k: channels.Outcome(False, error="550", permanent=True)
    )
    gateway.send_portal_invitation({**data, "accept_url": link.replace("s3cr3t", "0ther")})
    assert worker.run_once() == 1
    worker.pool.waitall()
    assert not any("0ther-t0ken" in (r["body"] or "") for r in rows(db, m.deliveries))
