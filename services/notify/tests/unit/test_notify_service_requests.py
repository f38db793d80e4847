"""Issue 8 in notify: the task and notice a portal service request opens
(``contracts.service_request_created``), the portal invitation e-mail (system callers only; the
link never on the bus, in webhooks or the audit trail) and the contract page's task filter.
Pure rules directly; entrypoints through ``worker_factory`` on a real SQLite database."""

from __future__ import annotations

import datetime as dt

import pytest
from crm_common.context import CallerContext
from crm_common.errors import PermissionDenied, ValidationFailed
from crm_common.testing import outbox_payloads
from notify import domain, task_rules
from notify import models as m
from notify.service import NotifyService
from sqlalchemy import select

URL = "https://crm.example.com/portal/accept#token=s3cr3t-t0ken-value"


def rows(db, table, *where):
    with db.read() as s:
        return [dict(r) for r in s.execute(select(table).where(*where)).mappings()]


def request_payload(**overrides):
    return {
        "service_request_id": 71,
        "kind": "service_call",
        "customer_id": 5,
        "customer_name": "Ankara Makina A.Ş.",
        "contract_id": 300,
        "contract_number": "K-2027-0007",
        "serial_number": "SN-4411",
        "product_name": "Printer X200",
        "owner_id": 40,
        "message": "Paper jams every morning",
        "requested_by": 900,
        "language": "tr",
        **overrides,
    }


# -- pure rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, due",
    [
        ("2026-11-23", "2026-11-25"),  # Monday → Wednesday
        ("2026-11-26", "2026-11-30"),  # Thursday → Monday
        ("2026-11-27", "2026-12-01"),  # Friday → Tuesday
        ("2026-11-28", "2026-12-01"),  # Saturday → Tuesday
        ("2026-11-29", "2026-12-01"),  # Sunday → Tuesday
    ],
)
def test_two_working_days_skip_the_weekend(start, due):
    assert task_rules.add_working_days(dt.date.fromisoformat(start), 2) == dt.date.fromisoformat(due)


def test_a_service_request_opens_one_task_for_the_owner_on_the_contract():
    monday = dt.date(2026, 11, 23)
    opens, closes = task_rules.task_actions("service_request_created", request_payload(), monday)
    assert closes == []
    (task,) = opens
    assert (task.kind, task.document_type, task.document_id) == ("service_request", "contract", "300")
    assert task.assignee_ids == (40,) and task.assignee_roles == ()
    assert "K-2027-0007" in task.title and "SN-4411" in task.title and task.title.startswith("Service call")
    assert task.notes == "Paper jams every morning"
    assert task.due_date == dt.date(2026, 11, 25)
    assert task.reference == "service_request:71"
    (quote,) = task_rules.task_actions(
        "service_request_created",
        request_payload(kind="renewal_quote", owner_id=None, serial_number=None, message=""),
        monday,
    )[0]
    assert quote.title.startswith("Renewal quote") and "serial" not in quote.title
    assert quote.assignee_ids == () and quote.assignee_roles == ("sales_manager",)
    assert quote.notes is None
    assert task_rules.task_actions("service_request_created", {"kind": "service_call"}, monday) == ([], [])


def test_owner_or_managers_names_the_owner_else_every_sales_manager():
    rule = domain.DEFAULT_RULES["service_request_created"]
    assert set(rule.channels) == {"inbox", "email"}
    spec = domain.recipient_spec(rule, request_payload())
    assert (spec.user_ids, spec.roles) == ([40], [])
    spec = domain.recipient_spec(rule, request_payload(owner_id=None))
    assert (spec.user_ids, spec.roles) == ([], ["sales_manager"])


@pytest.mark.parametrize(
    "lang, quote, call",
    [
        ("en", "Renewal quote requested", "Service call requested"),
        ("zh", "续约报价请求", "服务请求"),
        ("tr", "Yenileme teklifi talebi", "Servis talebi"),
        ("bg", "Заявка за оферта за подновяване", "Заявка за сервиз"),
    ],
)
def test_service_request_notice_in_every_language(lang, quote, call):
    for kind, needle in (("renewal_quote", quote), ("service_call", call)):
        ctx = domain.template_context("service_request_created", request_payload(kind=kind))
        rendered = domain.render("service_request_created", lang, ctx)
        assert rendered.error is None and rendered.language == lang
        assert needle in rendered.subject and "K-2027-0007" in rendered.subject
        assert "SN-4411" in rendered.subject and "Paper jams every morning" in rendered.body


@pytest.mark.parametrize(
    "lang, needle",
    [
        ("en", "Set your password here"),
        ("zh", "请在此设置密码"),
        ("tr", "Şifrenizi"),
        ("bg", "Задайте паролата"),
    ],
)
def test_portal_invitation_in_every_language(lang, needle):
    ctx = {
        "full_name": "Ivan Petrov",
        "customer_name": "София ООД",
        "accept_url": URL,
        "expires_on": domain.expiry_text(
            dt.datetime(2026, 12, 7, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
        ),
    }
    rendered = domain.render("portal_invitation", lang, ctx)
    assert rendered.error is None and rendered.language == lang
    assert needle in rendered.body and URL in rendered.body
    assert "2026-12-07 10:00 UTC" in rendered.body and "София ООД" in rendered.body + rendered.subject


# -- service_request_created through the handler ------------------------------------------------


def test_service_request_opens_a_task_and_tells_the_owner_once(deliver, add_user, service, make_caller, db):
    add_user(40, language="tr")
    envelope = deliver("contracts", "service_request_created", request_payload())
    deliver("contracts", "service_request_created", request_payload(), event_id=envelope["event_id"])
    (task,) = rows(db, m.tasks)
    assert (task["kind"], task["assignee_id"], task["status"]) == ("service_request", 40, "open")
    assert task["notes"] == "Paper jams every morning" and task["document_id"] == "300"
    assert task["due_date"] == task_rules.add_working_days(task["created_at"].date(), 2)
    owner = service(make_caller("sales_rep", user_id=40))
    (notice,) = owner.list_notifications()["items"]
    assert notice["title"].startswith("Servis talebi") and notice["document_id"] == "300"
    (mail,) = rows(db, m.deliveries)
    assert (mail["channel"], mail["recipient"]) == ("email", "user40@example.com")
    opened = outbox_payloads(db, "task_opened")
    assert len(opened) == 1 and opened[0]["reference"] == "service_request:71"
    # another request on the same contract is another task
    deliver(
        "contracts", "service_request_created", request_payload(service_request_id=72, kind="renewal_quote")
    )
    assert len(rows(db, m.tasks)) == 2


def test_without_an_owner_the_sales_managers_get_the_task_and_the_notice(
    deliver, add_user, service, make_caller, db
):
    add_user(50, roles=["sales_manager"])
    add_user(51, roles=["sales_rep"])
    deliver("contracts", "service_request_created", request_payload(owner_id=None))
    (task,) = rows(db, m.tasks)
    assert (task["assignee_id"], task["assignee_role"]) == (None, "sales_manager")
    manager = service(make_caller("sales_manager", user_id=50))
    assert manager.list_notifications()["total"] == 1
    assert service(make_caller("sales_rep", user_id=51)).list_notifications()["total"] == 0
    assert manager.list_tasks({"document_type": "contract", "document_id": 300})["total"] == 1


def test_list_tasks_filters_a_contracts_open_tasks(deliver, add_user, service, make_caller):
    add_user(40)
    deliver("contracts", "service_request_created", request_payload())
    deliver("contracts", "service_request_created", request_payload(service_request_id=72))
    deliver("contracts", "service_request_created", request_payload(service_request_id=73, contract_id=301))
    owner = service(make_caller("sales_rep", user_id=40))
    mine = owner.list_tasks({"document_type": "contract", "document_id": "300", "status": "open"})
    assert mine["total"] == 2 and {t["document_id"] for t in mine["items"]} == {"300"}
    assert {t["reference"] for t in mine["items"]} == {"service_request:71", "service_request:72"}
    owner.update_task(mine["items"][0]["id"], {"status": "done"})
    assert owner.list_tasks({"document_type": "contract", "document_id": 300, "status": "open"})["total"] == 1
    assert owner.list_tasks({"document_type": "contract", "document_id": 300, "status": "done"})["total"] == 1
    assert owner.list_tasks({"document_type": "contract", "document_id": 301})["total"] == 1
    assert owner.list_tasks({"document_type": "invoice", "document_id": 300})["total"] == 0
    with pytest.raises(ValidationFailed) as err:
        owner.list_tasks({"document_id": ["300"], "status": "maybe"})
    assert set(err.value.details) == {"document_id", "status"}


# -- portal invitation e-mail ------------------------------------------------------------------


def invitation(**overrides):
    return {
        "email": "ivan@sofia.example",
        "full_name": "Иван Петров",
        "customer_name": "София ООД",
        "language": "bg",
        "accept_url": URL,
        "expires_at": "2026-12-07T10:00:00+00:00",
        **overrides,
    }


def test_only_a_system_caller_sends_portal_invitations(service, make_caller, db):
    for caller in (make_caller("admin", user_id=1), CallerContext(), None):
        with pytest.raises(PermissionDenied):
            service(caller).send_portal_invitation(invitation())
    assert rows(db, m.deliveries) == []


def test_portal_invitation_queues_one_email_and_the_link_goes_nowhere_else(service, admin, db):
    dev = service(admin.caller, {"CRM_WEBHOOKS_ALLOW_PRIVATE": "1"})
    dev.create_webhook({"url": "http://127.0.0.1:9/h", "events": ["*"], "secret": "0123456789"})
    gateway = service(CallerContext.system("gateway"))
    sent = gateway.send_portal_invitation(invitation())
    assert set(sent) == {"delivery_id", "status"} and sent["status"] == "pending"
    (mail,) = rows(db, m.deliveries)
    assert (mail["id"], mail["channel"], mail["recipient"], mail["language"]) == (
        sent["delivery_id"],
        "email",
        "ivan@sofia.example",
        "bg",
    )
    assert (
        URL in mail["body"] and "Задайте паролата" in mail["body"] and "2026-12-07 10:00 UTC" in mail["body"]
    )
    assert mail["next_attempt_at"] is not None and mail["attempts"] == 0
    # a second invitation (a resend) is a second e-mail; English by default
    again = gateway.send_portal_invitation(invitation(language=None, full_name=None, customer_name=None))
    assert again["delivery_id"] != sent["delivery_id"]
    english = rows(db, m.deliveries, m.deliveries.c.id == again["delivery_id"])[0]
    assert english["language"] == "en" and "Set your password here" in english["body"]
    # the link: in no event, no webhook delivery, no audit entry
    outbox = rows(db, db.infra.outbox)
    assert all("s3cr3t" not in r["body"] for r in outbox)
    assert rows(db, m.deliveries, m.deliveries.c.channel == "webhook") == []
    audit = rows(db, db.infra.audit_log)
    assert audit and all("s3cr3t" not in str(r) for r in audit)


def test_portal_invitation_input_is_checked_naming_the_field(service, db):
    gateway = service(CallerContext.system("gateway"))
    for bad, field in (
        ({"email": "not-an-address"}, "email"),
        ({"accept_url": "javascript:alert(1)"}, "accept_url"),
        ({"accept_url": None}, "accept_url"),
        ({"expires_at": "next week"}, "expires_at"),
        ({"expires_at": "2026-12-07T10:00:00"}, "expires_at"),  # no zone
        ({"language": "de"}, "language"),
        ({"password": "x"}, "password"),
    ):
        with pytest.raises(ValidationFailed) as err:
            gateway.send_portal_invitation(invitation(**bad))
        assert field in err.value.details, (bad, err.value.details)
    assert (
        gateway.send_portal_invitation(invitation(expires_at="2026-12-07", language="TR"))["status"]
        == "pending"
    )
    (mail,) = rows(db, m.deliveries)
    assert mail["language"] == "tr" and "2026-12-07" in mail["body"]


def test_the_link_is_a_sensitive_argument_of_the_rpc():
    (entrypoint,) = NotifyService.send_portal_invitation.nameko_entrypoints
    assert entrypoint.sensitive_arguments == ("data.accept_url",)
