"""Issue 18 §3, §5, §7 end to end: the attacks, through the gateway, against the whole system
started as in production for these settings — webhooks restricted to public addresses
(``CRM_WEBHOOKS_ALLOW_PRIVATE=0``), invitation links from ``CRM_PUBLIC_URL``, API docs behind
login (``CRM_PUBLIC_DOCS=login``). Each attack is refused and nothing is written."""

from __future__ import annotations

import re
import sqlite3
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from crm_common.testing import run_system

from ..conftest import ROOT, System, poll

PUBLIC_URL = "https://crm.example.test/crm"
SECRET = "e2e-outbound-secret-1"


@pytest.fixture(scope="module")
def strict(tmp_path_factory, mailbox):
    overrides = {
        "CRM_OUTBOX_POLL_SECONDS": "0.5",
        "CRM_RPC_TIMEOUT": "10",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mailbox.port),
        "SMTP_FROM": "crm@example.com",
        "CRM_WEBHOOKS_ALLOW_PRIVATE": "0",  # what production does (the local runner's default is 1)
        "CRM_PUBLIC_URL": PUBLIC_URL,
        "CRM_PUBLIC_DOCS": "login",
    }
    try:
        with run_system(ROOT, tmp_path_factory.mktemp("crm-strict"), overrides) as running:
            yield System(running)
    except RuntimeError as exc:
        pytest.fail(str(exc))


class Receiver:
    """A webhook receiver inside the network (what an SSRF would reach)."""

    def __init__(self):
        self.hits: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                receiver.hits.append(self.path)
                self.send_response(200)
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


def test_webhooks_to_internal_addresses_are_refused(strict):
    receiver = Receiver()
    try:
        with strict.client() as admin:
            before = admin.get("/api/v1/webhooks").json()["total"]
            port = receiver.port
            for url in (
                f"http://127.0.0.1:{port}/h",
                f"http://[::ffff:127.0.0.1]:{port}/h",  # IPv4-mapped
                "http://[::ffff:7f00:1]/h",
                "http://[64:ff9b::7f00:1]/h",  # NAT64
                "http://[2002:7f00:1::]/h",  # 6to4
                "http://100.64.0.1/h",  # shared address space
                "http://169.254.169.254/latest/meta-data/",
                "http://10.0.0.1/h",
                f"http://localhost:{port}/h",
                "https://93.184.216.34:8443/h",  # public, but not port 80/443
            ):
                r = admin.post("/api/v1/webhooks", json={"url": url, "events": ["*"], "secret": SECRET})
                assert r.status_code == 422 and "url" in r.json()["error"]["details"], (url, r.text)
            assert admin.get("/api/v1/webhooks").json()["total"] == before

            hook = admin.post(
                "/api/v1/webhooks",
                json={"url": "https://93.184.216.34/h", "events": ["customer_deleted"], "secret": SECRET},
            )
            assert hook.status_code == 201, hook.text
            hook = hook.json()
            r = admin.patch(f"/api/v1/webhooks/{hook['id']}", json={"url": f"http://127.0.0.1:{port}/h"})
            assert r.status_code == 422, r.text
            assert admin.get(f"/api/v1/webhooks/{hook['id']}").json()["url"] == "https://93.184.216.34/h"
            assert admin.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
            # events flow; the internal receiver hears nothing
            created = admin.post(
                "/api/v1/customers", json={"name": f"SSRF {uuid.uuid4().hex[:6]}", "kind": "company"}
            )
            assert created.status_code == 201
            assert admin.delete(f"/api/v1/customers/{created.json()['id']}").status_code == 204
        assert receiver.hits == []
    finally:
        receiver.close()


def test_the_invitation_link_follows_configuration_and_stays_in_the_mailbox(strict, mailbox):
    rep_user = strict.create_user(["sales_rep"], department="outbound")
    address = f"invitee-{uuid.uuid4().hex[:6]}@example.com"
    with strict.as_user(rep_user) as rep:
        customer = rep.post(
            "/api/v1/customers", json={"name": f"Invite {uuid.uuid4().hex[:6]}", "kind": "company"}
        )
        assert customer.status_code == 201, customer.text
        r = rep.post(
            "/api/v1/portal-invitations",
            json={"customer_id": customer.json()["id"], "email": address},
            headers={"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"},
        )
        assert r.status_code == 201, r.text
        invitation = r.json()
        assert invitation["accept_url"] is None and "#token=" not in r.text  # the rep gets no link
    message = poll(lambda: mailbox.messages(to=address), timeout=30, message="invitation e-mail")[0]
    body = message.get_body(preferencelist=("plain",)).get_content()
    links = re.findall(r"https?://\S+#token=[A-Za-z0-9_-]+", body)
    assert links and links[0].startswith(PUBLIC_URL + "/portal/accept#token="), body
    assert "attacker" not in body
    token = links[0].rsplit("#token=", 1)[1]
    assert strict.http.get(f"/api/v1/auth/invitations/{token}").status_code == 200

    # notify keeps no usable link once the mail is sent
    def kept_body():
        with sqlite3.connect(strict.data_dir / "notify.db") as db:
            row = db.execute(
                "SELECT status, body FROM deliveries WHERE id = ?", (invitation["email"]["delivery_id"],)
            ).fetchone()
        return row if row and row[0] == "sent" else None

    status, kept = poll(kept_body, timeout=30, message="delivery marked sent")
    assert token not in kept and "#token=[redacted]" in kept


def test_a_rep_cannot_probe_staff_usernames(strict):
    staff_name = f"boss-{uuid.uuid4().hex[:6]}@example.com"
    with strict.client() as admin:
        r = admin.post(
            "/api/v1/users",
            json={"username": staff_name, "password": "staff-Pa55word!", "roles": ["finance"]},
        )
        assert r.status_code == 201, r.text
        other = admin.post(
            "/api/v1/customers", json={"name": f"Other {uuid.uuid4().hex[:6]}", "kind": "company"}
        )
        portal_name = f"portal-{uuid.uuid4().hex[:6]}@example.com"
        r = admin.post(
            "/api/v1/portal-invitations", json={"customer_id": other.json()["id"], "email": portal_name}
        )
        assert r.status_code == 201, r.text
        before = admin.get("/api/v1/portal-invitations").json()["total"]
    rep_user = strict.create_user(["sales_rep"], department="probe")
    with strict.as_user(rep_user) as rep:
        mine = rep.post("/api/v1/customers", json={"name": f"Mine {uuid.uuid4().hex[:6]}", "kind": "company"})
        r = rep.post(
            "/api/v1/portal-invitations",
            json={"customer_id": mine.json()["id"], "email": "x@example.com", "username": "admin"},
        )
        assert r.status_code == 403, r.text
        answers = set()
        for email in (staff_name, portal_name):
            r = rep.post(
                "/api/v1/portal-invitations", json={"customer_id": mine.json()["id"], "email": email}
            )
            assert r.status_code == 409, r.text
            error = r.json()["error"]
            answers.add((error["code"], error["message"], repr(error["details"])))
        assert len(answers) == 1
    with strict.client() as admin:
        assert admin.get("/api/v1/portal-invitations").json()["total"] == before


def test_a_duplicate_names_its_owner_and_nothing_more(strict):
    owner_user = strict.create_user(["sales_rep"], department="dup-a", full_name="Deniz Kaya")
    other_user = strict.create_user(["sales_rep"], department="dup-b")
    tag = uuid.uuid4().hex[:8]
    with strict.as_user(owner_user) as owner, strict.as_user(other_user) as other:
        theirs = owner.post(
            "/api/v1/customers",
            json={"name": f"Gizli {tag}", "kind": "company", "tax_id": f"TR{tag}", "email": f"ap-{tag}@gizli.example",
                  "phone": "+90 312 555 0142", "notes": "owner's private notes"},
        )  # fmt: skip
        assert theirs.status_code == 201, theirs.text
        theirs = theirs.json()
        total = other.get("/api/v1/customers").json()["total"]
        r = other.post(
            "/api/v1/customers",
            json={"name": f"Different {tag}", "kind": "company", "email": f"AP-{tag}@gizli.example"},
        )
        assert r.status_code == 409, r.text
        (candidate,) = r.json()["error"]["details"]["candidates"]
        assert set(candidate) - {"archived"} == {"id", "name", "owner_name", "reasons"}
        assert (candidate["id"], candidate["name"], candidate["owner_name"], candidate["reasons"]) == (
            theirs["id"], f"Gizli {tag}", "Deniz Kaya", ["email"],
        )  # fmt: skip
        for secret in (theirs["code"], f"TR{tag}", "0142", "private notes"):
            assert secret not in r.text
        assert other.get("/api/v1/customers").json()["total"] == total


def test_api_docs_need_a_signed_in_user(strict):
    for path in ("/openapi.json", "/docs", "/redoc"):
        r = strict.http.get(path)
        assert r.status_code == 401 and "/api/v1/customers" not in r.text, path
    with strict.client() as admin:
        assert "/api/v1/customers" in admin.get("/openapi.json").json()["paths"]
