"""The real notify service in a Nameko container on a throwaway RabbitMQ vhost, on SQLite and
PostgreSQL (migrated with Alembic), fed stand-in events published to the producers'
``<source>.events`` exchanges; e-mail goes to a real SMTP server (aiosmtpd, its own process)
and webhooks to a local HTTP receiver that verifies the signature."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from crm_common.context import CallerContext
from crm_common.db import make_envelope
from crm_common.errors import PermissionDenied
from crm_common.migrations import upgrade
from crm_common.outbox import event_exchange
from crm_common.rpc import ClusterRpcProxy  # signs the caller context, as the gateway does
from crm_common.testing import free_port, publish_event
from kombu import Connection
from notify import domain
from notify.service import NotifyService

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICE_DIR = os.path.dirname(os.path.dirname(HERE))
SECRET = "whsec-test-0123456789"


def wait_for(predicate, timeout=20.0, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} not met within {timeout}s (last: {last!r})")


def person(*roles, user_id=None):
    return CallerContext(
        user_id=user_id, username=f"u{user_id}", roles=tuple(roles), request_id=uuid.uuid4().hex
    )


ADMIN = person("admin", user_id=1)


class SmtpSink:
    def __init__(self, tmp_path, delay: float = 0.0):
        self.dir = tmp_path / f"mail-{uuid.uuid4().hex[:6]}"
        self.dir.mkdir()
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "smtp_sink.py"), str(self.port), str(self.dir), str(delay)]
        )
        wait_for(lambda: (self.dir / ".ready").exists(), message="SMTP server up")

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(self.dir.glob("*.eml"), key=lambda p: int(p.stem))
        ]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def smtp(tmp_path):
    sink = SmtpSink(tmp_path)
    yield sink
    sink.close()


class Receiver:
    """A partner's webhook endpoint: answers with the scripted status codes (then 200) and
    keeps what arrived with whether its signature verified."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                signature = self.headers.get(domain.SIGNATURE_HEADER, "")
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.received.append(
                    {
                        "status": status,
                        "event": self.headers.get("X-CRM-Event"),
                        "verified": domain.verify_signature(SECRET, signature, body, now=int(time.time())),
                        "body": json.loads(body),
                    }
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/crm"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def start(container_factory, crm_amqp_uri, any_db_url):
    """``start(smtp=..., **config)`` → the notify service running on a migrated database
    (call it twice for two replicas)."""
    upgrade(SERVICE_DIR, any_db_url)
    containers = []

    def run(smtp: SmtpSink | None = None, **extra):
        config = {
            "AMQP_URI": crm_amqp_uri,
            "DATABASE_URL": any_db_url,
            "max_workers": 10,
            "DELIVERY_POLL_SECONDS": 0.1,
            "NOTIFY_RETRY_BASE_SECONDS": 0.3,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp.port if smtp else free_port(),
            "SMTP_TIMEOUT": 30,
            "CRM_WEBHOOKS_ALLOW_PRIVATE": "1",  # the receivers listen on 127.0.0.1
            **extra,
        }
        container = container_factory(NotifyService, config)
        container.start()
        containers.append(container)
        return container

    yield run
    for container in containers:  # before the database fixture drops the database
        container.kill()


def rpc(amqp_uri, caller):
    return ClusterRpcProxy({"AMQP_URI": amqp_uri}, context_data=caller.to_context_data(), timeout=30)


def publish(amqp_uri, source, event_type, payload, event_id=None) -> dict:
    envelope = make_envelope(source, event_type, payload, event_id=event_id)
    return publish_event(amqp_uri, source, envelope, event_type=event_type)  # signed, as a relay does


def user(amqp_uri, user_id, roles, language="en", email_addr=None):
    publish(
        amqp_uri,
        "gateway",
        "user_created",
        {
            "id": user_id,
            "username": f"u{user_id}",
            "roles": roles,
            "full_name": f"User {user_id}",
            "email": email_addr,
            "department": None,
            "is_department_head": False,
            "customer_id": None,
            "active": True,
            "language": language,
        },
    )


def test_approval_request_reaches_the_approvers_inbox_once(start, smtp, crm_amqp_uri):
    start(smtp)
    user(crm_amqp_uri, 10, ["approver"], "bg", "approver10@example.com")
    wait_for(lambda: True)
    time.sleep(0.5)
    payload = {
        "request_id": 501,
        "document_type": "contract",
        "document_id": 31,
        "document_number": "C-31",
        "approver_ids": [10],
        "summary": "Maintenance 2027",
    }
    envelope = publish(crm_amqp_uri, "approvals", "approval_requested", payload)
    publish(crm_amqp_uri, "approvals", "approval_requested", payload, event_id=envelope["event_id"])
    with rpc(crm_amqp_uri, person("approver", user_id=10)) as r:
        inbox = wait_for(lambda: r.notify.list_notifications()["items"], message="inbox entry")
        time.sleep(1.0)  # the duplicate has had its chance
        inbox = r.notify.list_notifications()
        assert inbox["total"] == 1 and inbox["unread"] == 1
        assert (
            inbox["items"][0]["title"].startswith("Очаква вашето одобрение")
            and "C-31" in inbox["items"][0]["title"]
        )
        r.notify.mark_notification_read(inbox["items"][0]["id"])
        assert r.notify.list_notifications(True)["total"] == 0
        tasks = r.notify.list_tasks({"kind": "approval"})
        assert tasks["items"][0]["status"] == "open"
    mail = wait_for(smtp.messages, message="approval e-mail")
    assert len(mail) == 1 and mail[0]["To"] == "approver10@example.com"
    publish(
        crm_amqp_uri,
        "approvals",
        "approval_approved",
        {"request_id": 501, "document_type": "contract", "document_id": 31, "submitter_id": 3},
    )
    with rpc(crm_amqp_uri, person("approver", user_id=10)) as r:
        wait_for(
            lambda: r.notify.list_tasks({"kind": "approval"})["items"][0]["status"] == "done",
            message="approval task closed",
        )


def test_overdue_invoice_opens_collection_task_that_closes_when_paid(start, crm_amqp_uri):
    start()
    publish(
        crm_amqp_uri,
        "billing",
        "invoice_overdue",
        {
            "invoice_id": 7001,
            "invoice_number": "INV-2027-0001",
            "owner_id": 40,
            "customer_id": 3,
            "amount_due": "150.00",
            "currency": "EUR",
            "due_date": "2027-02-01",
        },
    )
    with (
        rpc(crm_amqp_uri, person("sales_rep", user_id=40)) as rep,
        rpc(crm_amqp_uri, person("finance", user_id=41)) as fin,
    ):
        mine = wait_for(lambda: rep.notify.list_tasks({"status": "open", "kind": "collection"})["items"])
        assert mine[0]["document_id"] == "7001" and mine[0]["assignee_id"] == 40
        assert fin.notify.list_tasks({"status": "open"})["items"][0]["assignee_role"] == "finance"
        publish(
            crm_amqp_uri, "billing", "invoice_paid", {"invoice_id": 7001, "invoice_number": "INV-2027-0001"}
        )
        wait_for(lambda: rep.notify.list_tasks({"status": "open"})["total"] == 0, message="task closed")
        assert rep.notify.list_tasks({"status": "done"})["items"][0]["closed_by_event"] == "invoice_paid"
        assert fin.notify.list_tasks({"status": "open"})["total"] == 0


def test_expiring_contract_mail_arrives_in_each_customers_language(start, smtp, crm_amqp_uri):
    start(smtp)
    customers = [
        (1, "zh", "北京机械有限公司", "wang@bj.example", "天后到期"),
        (2, "tr", "Ankara Makina A.Ş.", "ayse@ankara.example", "gün içinde sona eriyor"),
        (3, "bg", "София ООД", "ivan@sofia.example", "изтича след"),
    ]
    for cid, lang, name, mail, _ in customers:
        publish(
            crm_amqp_uri,
            "customers",
            "customer_created",
            {
                "id": cid,
                "code": f"C-{cid}",
                "name": name,
                "kind": "company",
                "owner_id": None,
                "language": lang,
                "email": None,
                "phone": None,
                "contacts": [{"id": cid * 10, "name": "Contact", "email": mail}],
            },
        )
    time.sleep(1.0)  # read copies first (another queue)
    for cid, *_ in customers:
        publish(
            crm_amqp_uri,
            "contracts",
            "contract_expiring",
            {
                "contract_id": 100 + cid,
                "contract_number": f"K-{cid}",
                "customer_id": cid,
                "days": 30,
                "end_date": "2027-06-30",
            },
        )
    messages = wait_for(lambda: len(smtp.messages()) >= 3 and smtp.messages(), message="three e-mails")
    by_to = {m["To"]: m for m in messages}
    for _, lang, _, mail, needle in customers:
        assert needle in by_to[mail]["Subject"]
        assert by_to[mail]["Content-Language"] == lang
        assert "2027-06-30" in by_to[mail].get_content()


def test_webhook_is_signed_and_retried_after_a_500(start, crm_amqp_uri, receiver):
    start()
    receiver.statuses = [500]
    with rpc(crm_amqp_uri, ADMIN) as r:
        hook = r.notify.create_webhook(
            {"url": receiver.url, "events": ["customer_created"], "secret": SECRET}
        )
        publish(
            crm_amqp_uri,
            "customers",
            "customer_created",
            {"id": 55, "name": "Partner GmbH", "language": "en"},
        )
        wait_for(lambda: len(receiver.received) >= 2, message="retry after 500")
        assert [x["status"] for x in receiver.received] == [500, 200]
        assert all(x["verified"] for x in receiver.received)
        assert receiver.received[1]["body"]["payload"]["name"] == "Partner GmbH"
        assert receiver.received[1]["event"] == "customer_created"
        log = wait_for(
            lambda: [
                d for d in r.notify.list_webhook_deliveries(hook["id"])["items"] if d["status"] == "sent"
            ]
        )
        assert log[0]["attempts"] == 2 and [a["status_code"] for a in log[0]["log"]] == [500, 200]
        assert r.notify.get_webhook(hook["id"])["consecutive_failures"] == 0


def test_dead_endpoint_is_disabled_with_a_notice_and_never_delays_mail(start, smtp, crm_amqp_uri, receiver):
    # a 1.5 s retry window stands for the 72 hours: retries after 0.2, 0.4, 0.8 s..., the last one
    # at the window's end, then the delivery is dead and the subscription disabled
    start(smtp, WEBHOOK_RETRY_WINDOW_SECONDS=1.5, NOTIFY_RETRY_BASE_SECONDS=0.2)
    receiver.statuses = [503] * 20
    user(crm_amqp_uri, 1, ["admin"], "en", "admin@example.com")
    time.sleep(0.5)
    with rpc(crm_amqp_uri, ADMIN) as r:
        hook = r.notify.create_webhook({"url": receiver.url, "events": ["*"], "secret": SECRET})
        publish(
            crm_amqp_uri,
            "inventory",
            "stock_low",
            {"product_id": 9, "sku": "TONER-1", "available": 1, "reorder_point": 5},
        )
        wait_for(lambda: not r.notify.get_webhook(hook["id"])["active"], message="webhook disabled")
        reason = r.notify.get_webhook(hook["id"])["disabled_reason"]
        assert "h with no success (" in reason and "consecutive failed attempts" in reason, reason
        notices = wait_for(
            lambda: [
                n for n in r.notify.list_notifications()["items"] if n["event_type"] == "webhook_disabled"
            ]
        )
        assert receiver.url in notices[0]["body"]


def test_slow_smtp_server_delays_only_its_own_deliveries(start, tmp_path, crm_amqp_uri, receiver):
    slow = SmtpSink(tmp_path, delay=6.0)
    try:
        start(slow)
        with rpc(crm_amqp_uri, ADMIN) as r:
            r.notify.create_webhook({"url": receiver.url, "events": ["stock_low"], "secret": SECRET})
        user(crm_amqp_uri, 12, ["warehouse"], "en", "slow@example.com")
        time.sleep(0.5)
        began = time.monotonic()
        publish(
            crm_amqp_uri,
            "inventory",
            "stock_low",
            {"product_id": 9, "sku": "TONER-1", "available": 1, "reorder_point": 5},
        )
        wait_for(lambda: receiver.received, timeout=5, message="webhook while SMTP stalls")
        with rpc(crm_amqp_uri, person("warehouse", user_id=12)) as r:
            assert r.notify.list_notifications()["total"] == 1
        assert time.monotonic() - began < 5 and not slow.messages()
        wait_for(slow.messages, timeout=20, message="the slow e-mail eventually")
    finally:
        slow.close()


def test_bad_webhook_urls_are_refused_unless_private_targets_are_allowed(start, crm_amqp_uri):
    from crm_common.errors import ValidationFailed

    start(CRM_ENV="production", CRM_WEBHOOKS_ALLOW_PRIVATE="0")
    with rpc(crm_amqp_uri, ADMIN) as r:
        for url in (
            "http://127.0.0.1:8080/x",
            "http://10.1.2.3/x",
            "http://[64:ff9b::a9fe:a9fe]/",
            "file:///etc/passwd",
        ):
            with pytest.raises(ValidationFailed) as err:
                r.notify.create_webhook({"url": url, "events": ["*"], "secret": SECRET})
            assert "url" in str(err.value.details)


def test_two_replicas_deliver_each_webhook_once_and_fire_each_reminder_once(start, crm_amqp_uri, receiver):
    start()
    start()  # a second replica on the same database and queues
    with rpc(crm_amqp_uri, ADMIN) as r:
        r.notify.create_webhook({"url": receiver.url, "events": ["customer_created"], "secret": SECRET})
    for i in range(12):
        publish(crm_amqp_uri, "customers", "customer_created", {"id": 1000 + i, "name": f"Replica {i}"})
    for i in range(5):
        publish(
            crm_amqp_uri,
            "billing",
            "invoice_issued",
            {
                "invoice_id": 3000 + i,
                "owner_id": 77,
                "due_date": "2027-04-20",
                "amount": "10.00",
                "currency": "EUR",
            },
        )
    wait_for(lambda: len(receiver.received) >= 12, message="twelve deliveries")
    time.sleep(1.5)  # any duplicate would have arrived by now
    names = sorted(x["body"]["payload"]["name"] for x in receiver.received)
    assert names == sorted(f"Replica {i}" for i in range(12))
    time.sleep(1.0)  # the invoice events are handled

    import eventlet

    def run_daily():
        with rpc(crm_amqp_uri, ADMIN) as proxy:  # one proxy per green thread
            return proxy.notify.run_daily("2027-04-14")["reminders_fired"]

    runs = [eventlet.spawn(run_daily) for _ in range(4)]  # competing consumers: both replicas
    assert sum(g.wait() for g in runs) == 5
    with rpc(crm_amqp_uri, person("sales_rep", user_id=77)) as r:
        due = [
            n
            for n in r.notify.list_notifications(None, 1, 100)["items"]
            if n["event_type"] == "invoice_due_soon"
        ]
        assert len(due) == 5


def test_service_request_task_and_portal_invitation_mail_over_the_broker(
    start, smtp, crm_amqp_uri, receiver, any_db_url
):
    """A portal service request becomes the owner's task (found by the contract page's filter)
    and a mail in their language; a portal invitation (system callers only) is mailed with its
    link, which reaches no webhook and no event on the bus."""
    from crm_common.db import DatabaseHandle
    from kombu import Queue
    from notify import models as m
    from sqlalchemy import select

    start(smtp)
    token = f"tok-{uuid.uuid4().hex}"
    url = f"https://crm.example.com/portal/accept#token={token}"
    with Connection(crm_amqp_uri) as conn:
        channel = conn.channel()
        event_exchange("notify")(channel).declare()
        probe = Queue(
            f"probe-{uuid.uuid4().hex[:8]}",
            exchange=event_exchange("notify"),
            routing_key="#",
            auto_delete=True,
        )(channel)
        probe.declare()
        with rpc(crm_amqp_uri, ADMIN) as r:
            r.notify.create_webhook({"url": receiver.url, "events": ["*"], "secret": SECRET})
        user(crm_amqp_uri, 40, ["sales_rep"], "zh", "owner40@example.com")
        handle = DatabaseHandle("notify", m.metadata, any_db_url)

        def user_known():
            with handle.read() as s:
                return s.execute(select(m.users.c.id).where(m.users.c.id == 40)).first()

        try:
            wait_for(user_known, message="the owner in the users copy")
        finally:
            handle.dispose()
        publish(
            crm_amqp_uri,
            "contracts",
            "service_request_created",
            {
                "service_request_id": 9,
                "kind": "renewal_quote",
                "customer_id": 5,
                "customer_name": "北京机械有限公司",
                "contract_id": 77,
                "contract_number": "K-77",
                "serial_number": None,
                "product_name": None,
                "owner_id": 40,
                "message": "请报价",
                "requested_by": 900,
                "language": "zh",
            },
        )
        with rpc(crm_amqp_uri, person("admin", user_id=1)) as r, pytest.raises(PermissionDenied):
            r.notify.send_portal_invitation(
                {"email": "x@example.com", "accept_url": url, "expires_at": "2026-12-07T10:00:00+00:00"}
            )
        with rpc(crm_amqp_uri, CallerContext.system("gateway")) as r:
            sent = r.notify.send_portal_invitation(
                {
                    "email": "ayse@ankara.example",
                    "full_name": "Ayşe Yılmaz",
                    "customer_name": "Ankara Makina A.Ş.",
                    "language": "tr",
                    "accept_url": url,
                    "expires_at": "2026-12-07T10:00:00+00:00",
                }
            )
        assert sent["status"] == "pending" and sent["delivery_id"]
        mails = wait_for(lambda: len(smtp.messages()) >= 2 and smtp.messages(), message="two e-mails")
        by_to = {mail["To"]: mail for mail in mails}
        invitation = by_to["ayse@ankara.example"]
        assert url in invitation.get_content() and "Şifrenizi" in invitation.get_content()
        assert "续约报价请求" in by_to["owner40@example.com"]["Subject"]
        with rpc(crm_amqp_uri, person("sales_rep", user_id=40)) as r:
            tasks = r.notify.list_tasks({"document_type": "contract", "document_id": 77, "status": "open"})
        assert tasks["total"] == 1 and tasks["items"][0]["kind"] == "service_request"
        assert tasks["items"][0]["notes"] == "请报价" and "K-77" in tasks["items"][0]["title"]
        # both mails sent: their notification_sent events are on the bus, without the link
        bodies: list[str] = []

        def sent_events() -> int:
            while (message := probe.get(no_ack=True)) is not None:
                body = message.body
                bodies.append(body.decode() if isinstance(body, bytes) else body)
            return sum(json.loads(b)["type"] == "notification_sent" for b in bodies) >= 2

        wait_for(sent_events, message="notification_sent events")
    assert all(token not in body for body in bodies)
    wait_for(lambda: receiver.received, message="webhook of the service request")
    assert all(token not in json.dumps(x["body"]) for x in receiver.received)
    # "*": the public events of the catalogue (notify's own task_opened too), never the invitation
    assert "service_request_created" in {x["event"] for x in receiver.received}
    assert {x["event"] for x in receiver.received} <= {"service_request_created", "task_opened"}
