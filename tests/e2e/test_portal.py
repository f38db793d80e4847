"""The customer portal, the dashboard and contract 360 end to end through the gateway, every
service a process on a real broker: two customers of one sales rep, each with a signed
maintenance contract on an installed machine (serial number), billed, one partly paid; a portal
user of customer A invited by e-mail (a real SMTP server receives the link, the link sets the
password), one of customer B created by an administrator. Each sees exactly their own contracts,
items, invoices, PDFs and payments on every portal endpoint — by listing, by guessing the other's
ids and by searching — and nothing else in the API; their requests open a task for the rep. The
rep's dashboard (their own book, which holds exactly this test's data) agrees with the invoices,
payments, contracts and opportunities made here; so does their manager's (same department),
while a rep of another department sees none of it.

The contracts are in SEK, which no other end-to-end test uses, and start in 2031."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

from ..conftest import poll
from .test_contracts import decide_pending, status_is

CURRENCY = "SEK"
START = dt.date(2031, 3, 1)
AS_OF = dt.date(2031, 5, 10)
PASSWORD = "portal-Pa55word!"


def ok(r, status=200):
    assert r.status_code == status, (r.request.method, str(r.request.url), r.status_code, r.text)
    return r.json() if r.headers.get("content-type", "").startswith("application/json") else r


def items(client, path, **params) -> list[dict]:
    return ok(client.get(path, params={"page_size": 500, **params}))["items"]


def signed_contract(system, rep, admin, customer, product, serial: str) -> dict:
    contract = ok(
        rep.post(
            "/api/v1/contracts",
            json={"customer_id": customer["id"], "title": f"Servicevertrag {serial}", "kind": "maintenance",
                  "currency": CURRENCY, "start_date": START.isoformat(), "end_date": "2032-02-29",
                  "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
                  "lines": [{"product_id": product["id"], "quantity": 1, "serial_number": serial}]},
        ),
        201,
    )  # fmt: skip
    ok(rep.post(f"/api/v1/contracts/{contract['id']}/submit"))
    decide_pending(system, admin, "contract", contract["id"])
    poll(lambda: status_is(admin, contract["id"], "approved"), message="contract approved")
    return contract


def invited_portal_user(system, mailbox, rep, customer) -> dict:
    address = f"kunde-{uuid.uuid4().hex[:6]}@example.com"
    invitation = ok(
        rep.post(
            "/api/v1/portal-invitations",
            json={
                "customer_id": customer["id"],
                "email": address,
                "full_name": "Çağla Öztürk",
                "language": "tr",
            },
        ),
        201,
    )
    assert invitation["email"]["status"] in ("queued", "pending", "sent"), invitation
    message = poll(lambda: mailbox.messages(to=address), timeout=30, message="invitation e-mail")[0]
    body = message.get_body(preferencelist=("plain",)).get_content()
    links = re.findall(r"https?://\S+#token=[A-Za-z0-9_-]+", body)
    # the link is in the mailbox only, built from CRM_PUBLIC_URL (default: the local gateway)
    assert invitation["accept_url"] is None
    assert links and links[0].startswith(system.base_url + "/portal/accept#token="), body
    token = links[0].rsplit("#token=", 1)[1]
    assert system.http.get("/portal/accept").status_code == 200  # where the link lands
    peek = ok(system.http.get(f"/api/v1/auth/invitations/{token}"))
    assert peek["username"] == address and peek["full_name"] == "Çağla Öztürk"
    ok(system.http.post("/api/v1/auth/invitations/accept", json={"token": token, "password": PASSWORD}))
    assert (
        system.http.post(
            "/api/v1/auth/invitations/accept", json={"token": token, "password": PASSWORD}
        ).status_code
        == 404
    )
    return {"username": address, "password": PASSWORD}


def test_portal_users_see_their_own_data_and_the_dashboard_agrees(system, mailbox):
    department = f"nord-{uuid.uuid4().hex[:6]}"
    rep_user = system.create_user(["sales_rep"], department=department)
    manager_user = system.create_user(["sales_manager"], department=department)
    stranger_user = system.create_user(["sales_rep"], department=f"sued-{uuid.uuid4().hex[:6]}")
    with (
        system.client() as admin,
        system.as_user(rep_user) as rep,
        system.as_user(manager_user) as manager,
        system.as_user(stranger_user) as stranger,
    ):
        customers = [
            ok(admin.post("/api/v1/customers", json={"name": f"{name} {uuid.uuid4().hex[:6]}", "kind": "company",
                                                     "language": "tr", "owner_id": rep_user["id"]}), 201)
            for name in ("Anadolu Kompresör A.Ş.", "Балкан Машини ООД")
        ]  # fmt: skip
        product = ok(admin.post("/api/v1/products", json={"sku": f"SRV-{uuid.uuid4().hex[:6]}", "name": "Kompressor-Wartung",
                                                          "kind": "service", "unit_price": "1000.00", "currency": CURRENCY,
                                                          "model": "Kompressor K-200"}), 201)  # fmt: skip
        serials = [f"SN-A-{uuid.uuid4().hex[:6]}", f"SN-B-{uuid.uuid4().hex[:6]}"]
        contracts = [
            signed_contract(system, rep, admin, c, product, s)
            for c, s in zip(customers, serials, strict=True)
        ]
        draft = ok(rep.post("/api/v1/contracts", json={
            "customer_id": customers[0]["id"], "title": "Entwurf", "kind": "maintenance", "currency": CURRENCY,
            "start_date": START.isoformat(), "end_date": "2031-12-31", "billing": {"frequency": "monthly"},
            "lines": [{"product_id": product["id"], "quantity": 1, "serial_number": f"SN-D-{uuid.uuid4().hex[:6]}"}]}), 201)  # fmt: skip

        # the start date arrives: active, a schedule each; a run bills March, April and May
        ok(admin.post("/api/v1/admin/jobs/daily", json={"as_of": START.isoformat()}))
        for c in contracts:
            assert status_is(admin, c["id"], "active")
            poll(
                lambda c=c: admin.get(f"/api/v1/billing/schedules/{c['id']}").status_code == 200,
                message="schedule",
            )
        ok(admin.post("/api/v1/billing/runs", json={"as_of": "2031-05-01"}), 201)
        invoices = {c["id"]: items(admin, "/api/v1/invoices", contract_id=c["id"]) for c in contracts}
        assert [len(v) for v in invoices.values()] == [3, 3], invoices
        first_a = min(invoices[contracts[0]["id"]], key=lambda i: i["issue_date"])
        payment = ok(admin.post("/api/v1/payments", json={
            "customer_id": customers[0]["id"], "amount": first_a["total"], "currency": CURRENCY,
            "method": "bank_transfer", "received_at": "2031-04-10T09:00:00Z",
            "allocations": [{"invoice_id": first_a["id"], "amount": first_a["total"]}]}), 201)  # fmt: skip
        if payment["status"] == "pending":
            ok(admin.post(f"/api/v1/payments/{payment['id']}/confirm"))
        for stage, amount, close in (("lead", "5000.00", "2031-09-30"), ("won", "1200.00", "2031-04-01")):
            ok(rep.post("/api/v1/opportunities", json={"customer_id": customers[0]["id"], "title": f"Upgrade {stage}",
                                                       "amount": amount, "currency": CURRENCY, "stage": stage,
                                                       "expected_close": close}), 201)  # fmt: skip

        portal_a = invited_portal_user(system, mailbox, rep, customers[0])
        portal_b = system.create_user(["portal"], customer_id=customers[1]["id"])
        for me, other in ((0, 1), (1, 0)):
            user = portal_a if me == 0 else portal_b
            with system.as_user(user) as portal:
                check_portal(portal, customers, contracts, invoices, serials, draft, me, other)

        # the requests opened tasks for the rep
        tasks = poll(
            lambda: [t for t in items(rep, "/api/v1/tasks", status="open")
                     if t["document_type"] == "contract" and t["document_id"] in {str(c["id"]) for c in contracts}],
            message="tasks from portal requests",
        )  # fmt: skip
        assert len(tasks) == 4 and {t["document_id"] for t in tasks} == {str(c["id"]) for c in contracts}, (
            tasks
        )
        assert all(t["assignee_id"] == rep_user["id"] for t in tasks)
        assert any("Öl" in (t.get("notes") or "") for t in tasks)

        check_dashboard(rep, manager, stranger, invoices, contracts)
        check_overview(rep, contracts[0], customers[0], invoices[contracts[0]["id"]], payment)


def check_portal(portal, customers, contracts, invoices, serials, draft, me, other) -> None:
    mine, theirs = contracts[me], contracts[other]
    listed = items(portal, "/api/v1/portal/contracts")
    assert [c["id"] for c in listed] == [mine["id"]], listed  # not the other's, not the draft
    assert listed[0]["status"] == "active" and [li["serial_number"] for li in listed[0]["lines"]] == [
        serials[me]
    ]
    ok(portal.get(f"/api/v1/portal/contracts/{mine['id']}"))
    for cid in (theirs["id"], draft["id"]):
        assert portal.get(f"/api/v1/portal/contracts/{cid}").status_code == 404
    # a filter naming the other customer is no parameter of the portal: refused, nothing shown
    r = portal.get("/api/v1/portal/contracts", params={"customer_id": customers[other]["id"]})
    assert r.status_code == 422 and r.json()["error"]["details"]["parameters"] == ["customer_id"]
    assert [c["id"] for c in items(portal, "/api/v1/portal/contracts")] == [mine["id"]]

    found = items(portal, "/api/v1/portal/items")
    assert [i["serial_number"] for i in found] == [serials[me]]
    assert found[0]["model"] == "Kompressor K-200" and found[0]["product_name"] == "Kompressor-Wartung"
    assert [
        i["serial_number"] for i in items(portal, "/api/v1/portal/items", q=serials[me][-6:].upper())
    ] == [serials[me]]
    assert items(portal, "/api/v1/portal/items", q=serials[other]) == []
    assert items(portal, "/api/v1/portal/items", q="k-200") and items(
        portal, "/api/v1/portal/items", q="wartung"
    )

    own = items(portal, "/api/v1/portal/invoices")
    assert sorted(i["id"] for i in own) == sorted(i["id"] for i in invoices[mine["id"]])
    assert all("balance" in i and i["status"] in ("issued", "paid", "partially_paid", "overdue") for i in own)
    pdf = portal.get(f"/api/v1/portal/invoices/{own[0]['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    for inv in invoices[theirs["id"]]:
        assert portal.get(f"/api/v1/portal/invoices/{inv['id']}").status_code == 404
        assert portal.get(f"/api/v1/portal/invoices/{inv['id']}/pdf").status_code == 404
    payments = items(portal, "/api/v1/portal/payments")
    assert all(p["customer_id"] == customers[me]["id"] for p in payments)
    assert len(payments) == (1 if me == 0 else 0)
    balance = ok(portal.get("/api/v1/portal/balance"))
    assert balance["customer_id"] == customers[me]["id"]

    # requests: the other's contract and item are as unknown as a made-up one
    bad = [{"kind": "renewal_quote", "contract_id": theirs["id"], "message": "Angebot bitte"},
           {"kind": "service_call", "serial_number": serials[other], "message": "Maschine steht"},
           {"kind": "service_call", "serial_number": "NO-SUCH-SERIAL", "message": "?"}]  # fmt: skip
    for body in bad:
        assert portal.post("/api/v1/portal/requests", json=body).status_code == 404, body
    made = ok(portal.post("/api/v1/portal/requests", json={"kind": "service_call", "serial_number": serials[me],
                                                           "message": "Kompressor verliert Öl — bitte Techniker schicken"}), 201)  # fmt: skip
    assert made["contract_id"] == mine["id"] and made["customer_id"] == customers[me]["id"]
    ok(portal.post("/api/v1/portal/requests", json={"kind": "renewal_quote", "contract_id": mine["id"],
                                                    "message": "Verlängerungsangebot für 2032"}), 201)  # fmt: skip
    assert {r["kind"] for r in items(portal, "/api/v1/portal/requests")} == {"service_call", "renewal_quote"}
    assert (
        portal.post("/api/v1/portal/requests", json={"kind": "service_call", "message": "x"}).status_code
        == 422
    )

    # nothing outside the portal
    for path in ("/api/v1/contracts", f"/api/v1/contracts/{mine['id']}", "/api/v1/invoices", "/api/v1/customers",
                 f"/api/v1/customers/{customers[me]['id']}", "/api/v1/dashboard", f"/api/v1/units/{serials[me]}",
                 "/api/v1/users/me", "/api/v1/tasks", f"/api/v1/contracts/{mine['id']}/overview"):  # fmt: skip
        assert portal.get(path).status_code == 403, path


def money(value) -> Decimal:
    return Decimal(value or "0")


def check_dashboard(rep, manager, stranger, invoices, contracts) -> None:
    params = {"year": 2031, "as_of": AS_OF.isoformat()}
    board = ok(rep.get("/api/v1/dashboard", params=params))
    assert board["unavailable"] == [] and board["year"] == 2031 and CURRENCY in board["currencies"]
    assert board["active_contracts"] == 2
    assert board["renewals_next_90_days"] == 0  # both run to February 2032
    every = [i for v in invoices.values() for i in v]
    fresh = {i["id"]: i for i in items(rep, "/api/v1/invoices")}
    open_balance = sum((money(fresh[i["id"]]["balance"]) for i in every), Decimal(0))
    assert money(board["receivables"][CURRENCY]) == open_balance
    overdue = sum(
        (money(fresh[i["id"]]["balance"]) for i in every if i["due_date"] < AS_OF.isoformat()), Decimal(0)
    )
    assert money((board["overdue"] or {}).get(CURRENCY)) == overdue
    monthly = sum((money(c["total"]) for c in contracts), Decimal(0))
    assert money(board["mrr"][CURRENCY]) == monthly and money(board["arr"][CURRENCY]) == 12 * monthly
    months = {m["month"]: m for m in board["cash_flow"]}
    assert len(board["cash_flow"]) == 12
    for month in ("2031-03", "2031-04", "2031-05"):
        invoiced = sum((money(i["total"]) for i in every if i["issue_date"].startswith(month)), Decimal(0))
        assert money(months[month]["invoiced"].get(CURRENCY)) == invoiced, (month, months[month])
    paid = money(min(invoices[contracts[0]["id"]], key=lambda i: i["issue_date"])["total"])
    assert money(months["2031-04"]["collected"].get(CURRENCY)) == paid
    assert (
        board["pipeline"]["lead"]["count"] == 1
        and money(board["pipeline"]["lead"]["amount"][CURRENCY]) == 5000
    )
    assert board["pipeline"]["won"]["count"] == 1 and board["pipeline"]["lost"]["count"] == 0
    tops = {t["customer_id"]: t for t in board["top_customers"] if t["currency"] == CURRENCY}
    by_customer = {}
    for inv in every:
        by_customer[inv["customer_id"]] = by_customer.get(inv["customer_id"], Decimal(0)) + money(
            inv["total"]
        )
    assert {k: money(t["invoiced"]) for k, t in tops.items()} == by_customer

    same = ok(manager.get("/api/v1/dashboard", params=params))
    for key in ("active_contracts", "mrr", "receivables", "cash_flow", "pipeline"):
        assert same[key] == board[key], key  # the manager's department holds exactly this rep's book
    empty = ok(stranger.get("/api/v1/dashboard", params=params))
    assert empty["active_contracts"] == 0 and CURRENCY not in (empty["mrr"] or {})
    assert empty["pipeline"]["lead"]["count"] == 0


def check_overview(rep, contract, customer, invoices, payment) -> None:
    view = ok(rep.get(f"/api/v1/contracts/{contract['id']}/overview"))
    assert view["contract"]["id"] == contract["id"] and view["customer"]["id"] == customer["id"]
    assert view["unavailable"] == []
    assert sorted(i["id"] for i in view["invoices"]["items"]) == sorted(i["id"] for i in invoices)
    assert [p["id"] for p in view["payments"]["items"]] == [payment["id"]]
    assert view["approvals"] is None or any(a["status"] == "approved" for a in view["approvals"]["items"])
    assert any(t["document_id"] == str(contract["id"]) for t in view["tasks"]["items"])
    assert view["units"] is None or view["units"]["items"] == []
