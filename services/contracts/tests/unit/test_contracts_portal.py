"""The dashboard, the portal (installed items, service requests, contracts with lines) and the
users read copy through the service's entrypoints (worker_factory) on a real SQLite database:
two customers, a portal user of the first never sees or touches the second's data; dashboard
figures against the contracts made; scopes per role and department."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from contracts import models as m
from contracts import users
from crm_common.context import CallerContext
from crm_common.db import make_envelope, utcnow
from crm_common.errors import NotFound, PermissionDenied, ValidationFailed
from crm_common.testing import new_caller
from sqlalchemy import func, select, update

PORTAL_A = CallerContext(user_id=50, username="portal-a", roles=("portal",), customer_id=1, request_id="r-a")
PORTAL_B = CallerContext(user_id=60, username="portal-b", roles=("portal",), customer_id=2, request_id="r-b")
AS_OF = "2026-11-01"


def user_event(user_id, department, event_type="user_created", occurred_at=None, **extra):
    payload = {"id": user_id, "username": f"u{user_id}", "roles": ["sales_rep"], "full_name": "Ü Ş",
               "email": None, "department": department, "is_department_head": False, "customer_id": None,
               "active": True, "language": "tr", **extra}  # fmt: skip
    envelope = make_envelope("gateway", event_type, payload)
    if occurred_at is not None:
        envelope["occurred_at"] = occurred_at
    return envelope


def users_copy(db) -> dict:
    with db.read() as s:
        return {r.id: (r.department, r.roles, r.active) for r in s.execute(select(m.users))}


@pytest.fixture
def world(rep, other_rep, create_contract, decide):
    """Customer 1 (rep, North): c1 EUR ending 2026-12-31, c2 USD ending 2027-01-15, c4 ending
    2026-12-15 already renewed (its renewal a draft), a draft; customer 2 (other rep, South): c3
    ending 2027-06-30 with the unit SN-2."""

    def active(svc, **overrides):
        c = create_contract(svc, **overrides)
        svc.submit_contract(c["id"])
        decide(c["id"])
        return svc.get_contract(c["id"])

    w = {
        "c1": active(rep, start_date="2026-01-01", end_date="2026-12-31"),
        "c2": active(rep, currency="USD", start_date="2026-02-01", end_date="2027-01-15",
                     lines=[{"product_id": 10, "quantity": 1, "unit_price": "250.50"}]),  # fmt: skip
        "c3": active(other_rep, customer_id=2, start_date="2026-03-01", end_date="2027-06-30",
                     lines=[{"product_id": 10, "unit_price": "99.99", "serial_number": "SN-2"}]),  # fmt: skip
        "c4": active(rep, start_date="2026-01-01", end_date="2026-12-15", lines=[{"product_id": 11, "quantity": 1}]),
        "draft": create_contract(rep, title="Taslak", lines=[{"product_id": 10, "unit_price": "1", "serial_number": "SN-1"}]),
    }  # fmt: skip
    w["renewal"] = rep.renew_contract(w["c4"]["id"])
    assert [w[k]["status"] for k in ("c1", "c2", "c3", "c4")] == ["active"] * 4
    return w


# -- portal: contracts ----------------------------------------------------------------------


def test_portal_lists_only_its_customers_signed_contracts_with_lines(service, world):
    portal = service(PORTAL_A)
    page = portal.list_contracts()
    assert sorted(c["id"] for c in page["items"]) == sorted(world[k]["id"] for k in ("c1", "c2", "c4"))
    assert all("lines" not in c for c in page["items"])
    # one call for "my contracts with lines and status"
    with_lines = portal.list_contracts({"include_lines": True})["items"]
    c1 = next(c for c in with_lines if c["id"] == world["c1"]["id"])
    assert c1["status"] == "active" and [li["serial_number"] for li in c1["lines"]] == ["SN-1", None]
    assert c1["lines"][0]["model"] == "LJ-200" and c1["lines"][0]["amount"] == "100.00"
    # another customer's or drafts: nothing, whatever the filter
    assert portal.list_contracts({"customer_id": 2})["total"] == 0
    assert portal.list_contracts({"status": ["draft"]})["total"] == 0
    assert portal.list_contracts({"serial_number": "SN-2"})["total"] == 0
    for key in ("c3", "draft", "renewal"):
        with pytest.raises(NotFound):
            portal.get_contract(world[key]["id"])
    with pytest.raises(NotFound) as missing:
        portal.get_contract(999999)
    with pytest.raises(NotFound) as other:
        portal.get_contract(world["c3"]["id"])
    assert str(other.value).replace(str(world["c3"]["id"]), "N") == str(missing.value).replace("999999", "N")
    assert portal.get_contract(world["c1"]["id"])["lines"][0]["serial_number"] == "SN-1"
    assert "amendments" not in portal.get_contract(world["c1"]["id"])


# -- portal: installed items ------------------------------------------------------------------


def test_items_are_device_lines_of_the_callers_signed_contracts(service, admin, db, world):
    portal = service(PORTAL_A)
    page = portal.list_items()
    # c1's printer (SN-1) and c2's printer (no serial, a device); not c4's service visit, not the draft
    assert sorted((i["contract_id"], i["serial_number"]) for i in page["items"]) == sorted(
        [(world["c1"]["id"], "SN-1"), (world["c2"]["id"], None)]
    )
    item = next(i for i in page["items"] if i["serial_number"] == "SN-1")
    assert item == {
        "line_id": world["c1"]["lines"][0]["id"], "contract_id": world["c1"]["id"],
        "contract_number": world["c1"]["number"], "contract_status": "active", "contract_end_date": "2026-12-31",
        "customer_id": 1, "product_id": 10, "sku": "PRN-1", "product_name": "Laser printer", "model": "LJ-200",
        "manufacturer": "Acme", "serial_number": "SN-1", "manufacturing_number": "MFG-0001", "quantity": "1",
        "start_date": "2026-01-01", "end_date": "2026-12-31",
    }  # fmt: skip
    assert [i["serial_number"] for i in portal.list_items({"q": "sn-1"})["items"]] == ["SN-1"]
    assert portal.list_items({"q": "mfg-0001"})["total"] == 1
    assert portal.list_items({"q": "lj-2"})["total"] == 2  # the model of both printers
    assert portal.list_items({"q": "laser"})["total"] == 2 and portal.list_items({"q": "prn-1"})["total"] == 2
    assert portal.list_items({"q": "50%"})["total"] == 0  # LIKE wildcards are text
    # B's unit, B's customer, B's contract, drafts: nothing
    assert portal.list_items({"q": "SN-2"})["total"] == 0
    assert portal.list_items({"customer_id": 2})["total"] == 0
    assert portal.list_items({"contract_id": world["c3"]["id"]})["total"] == 0
    assert portal.list_items({"status": ["draft", "pending_approval", "cancelled"]})["total"] == 0
    assert portal.list_items({"contract_id": world["c1"]["id"]})["total"] == 1
    # staff see every customer's; paging like other lists
    assert admin.list_items({"q": "SN-2"})["items"][0]["customer_id"] == 2
    assert admin.list_items({"status": ["draft"]})["total"] == 1
    two = admin.list_items(None, 2, 2)
    assert two["total"] == 3 and two["page"] == 2 and len(two["items"]) == 1
    # a product name in another script, searched in another case
    with db.transaction() as uow:
        uow.session.execute(
            update(m.contract_lines)
            .where(m.contract_lines.c.id == item["line_id"])
            .values(product_name="Лазерен ПРИНТЕР")
        )
    found = portal.list_items({"q": "принтер"})
    assert found["total"] == 1 and found["items"][0]["product_name"] == "Лазерен ПРИНТЕР"
    with pytest.raises(ValidationFailed) as bad:
        portal.list_items({"status": ["bogus"]})
    assert "status.0" in bad.value.details or "status" in str(bad.value.details)


# -- portal: service requests -------------------------------------------------------------


def test_portal_service_requests_stay_inside_the_customer(service, rep, other_rep, admin, world, events, db):
    portal = service(PORTAL_A)
    quote = portal.create_service_request(
        {
            "kind": "renewal_quote",
            "contract_id": world["c1"]["id"],
            "message": "Yenileme teklifi — 续约报价 please",
        }
    )
    assert quote["kind"] == "renewal_quote" and quote["status"] == "open" and quote["customer_id"] == 1
    assert quote["contract_number"] == world["c1"]["number"] and quote["requested_by"] == 50
    call = portal.create_service_request(
        {"kind": "service_call", "serial_number": "sn-1", "message": "Yazıcı arızalı"}
    )
    assert call["line_id"] == world["c1"]["lines"][0]["id"] and call["serial_number"] == "SN-1"
    assert call["product_name"] == "Laser printer" and call["contract_id"] == world["c1"]["id"]
    published = events("service_request_created")
    assert [e["service_request_id"] for e in published] == [quote["id"], call["id"]]
    assert published[1] == {
        "service_request_id": call["id"], "kind": "service_call", "customer_id": 1,
        "customer_name": "Ankara Makine A.Ş.", "contract_id": world["c1"]["id"],
        "contract_number": world["c1"]["number"], "line_id": call["line_id"], "serial_number": "SN-1",
        "product_name": "Laser printer", "owner_id": 3, "message": "Yazıcı arızalı", "requested_by": 50,
        "language": "tr", "created_at": call["created_at"],
    }  # fmt: skip
    assert published[0]["product_name"] is None and published[0]["serial_number"] is None

    def refused(caller_svc, body):
        with pytest.raises(NotFound) as err:
            caller_svc.create_service_request(body)
        return str(err.value)

    # B's contract, B's unit, B's line, a draft, unknown ids: all 404, told apart by nothing
    assert refused(portal, {"kind": "renewal_quote", "contract_id": world["c3"]["id"], "message": "x"})
    assert refused(portal, {"kind": "renewal_quote", "contract_id": world["draft"]["id"], "message": "x"})
    assert refused(portal, {"kind": "renewal_quote", "contract_id": 999999, "message": "x"})
    assert (
        refused(portal, {"kind": "service_call", "serial_number": "SN-2", "message": "x"})
        == "item SN-2 not found"
    )
    assert (
        refused(portal, {"kind": "service_call", "serial_number": "SN-404", "message": "x"})
        == "item SN-404 not found"
    )
    b_line = world["c3"]["lines"][0]["id"]
    assert refused(
        portal, {"kind": "service_call", "contract_id": world["c3"]["id"], "line_id": b_line, "message": "x"}
    )
    assert refused(
        portal, {"kind": "service_call", "contract_id": world["c1"]["id"], "line_id": b_line, "message": "x"}
    )
    # the draft names SN-1 too: the portal call above landed on the active contract, not the draft
    assert refused(other_rep, {"kind": "renewal_quote", "contract_id": world["c1"]["id"], "message": "x"})
    # bad input names the field
    for body, field in (
        ({"kind": "renewal_quote", "message": "x"}, "contract_id"),
        ({"kind": "service_call", "message": "x"}, "serial_number"),
        ({"kind": "renewal_quote", "contract_id": world["c1"]["id"]}, "message"),
        ({"kind": "renewal_quote", "contract_id": world["c1"]["id"], "message": "   "}, "message"),
        ({"kind": "renewal_quote", "contract_id": world["c1"]["id"], "message": "ş" * 4001}, "message"),
        ({"kind": "complaint", "contract_id": world["c1"]["id"], "message": "x"}, "kind"),
    ):
        with pytest.raises(ValidationFailed) as err:
            portal.create_service_request(body)
        assert field in err.value.details, (body, err.value.details)
    assert len(events("service_request_created")) == 2  # nothing refused left a trace
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(m.service_requests)).scalar_one() == 2
    assert (
        portal.create_service_request(
            {"kind": "renewal_quote", "contract_id": world["c1"]["id"], "message": "ş" * 4000}
        )["message"]
        == "ş" * 4000
    )
    # staff who may read the contract; B's portal user for B
    assert rep.create_service_request(
        {"kind": "renewal_quote", "contract_id": world["c1"]["id"], "message": "m"}
    )
    b = service(PORTAL_B).create_service_request(
        {"kind": "service_call", "serial_number": "SN-2", "message": "是"}
    )
    assert b["customer_id"] == 2 and events("service_request_created")[-1]["owner_id"] == 4
    assert events("service_request_created")[-1]["language"] == "zh"

    # lists: the portal its customer's only, a rep their contracts', staff all
    mine = portal.list_service_requests()
    assert mine["total"] == 4 and {r["customer_id"] for r in mine["items"]} == {1}
    assert mine["items"][0]["requested_by"] == 3  # newest first: the rep's
    assert portal.list_service_requests({"customer_id": 2})["total"] == 0
    assert portal.list_service_requests({"contract_id": world["c3"]["id"]})["total"] == 0
    assert portal.list_service_requests({"kind": "service_call"})["total"] == 1
    assert other_rep.list_service_requests()["total"] == 1
    assert admin.list_service_requests()["total"] == 5
    assert admin.list_service_requests({"customer_id": 2})["items"][0]["id"] == b["id"]
    assert admin.list_service_requests({"status": "closed"})["total"] == 0


# -- users read copy --------------------------------------------------------------------------


def test_users_copy_follows_gateway_events_idempotently(admin, db):
    created = user_event(3, "North", occurred_at="2026-11-01T10:00:00+00:00")
    admin.handle_user_created(created)
    assert users_copy(db) == {3: ("North", ["sales_rep"], True)}
    admin.handle_user_created(created)  # the same event again: the same row
    assert users_copy(db) == {3: ("North", ["sales_rep"], True)}
    moved = user_event(3, "South", "user_updated", "2026-11-02T10:00:00+00:00", roles=["sales_manager"])
    admin.handle_user_updated(moved)
    assert users_copy(db) == {3: ("South", ["sales_manager"], True)}
    # an older event arriving late changes nothing
    late = user_event(3, "West", "user_updated", "2026-11-01T12:00:00+00:00")
    assert users.apply_user_event(db, late) == "stale"
    assert users_copy(db)[3][0] == "South"
    # only the fields an event carries change; an update before the creation is kept
    partial = make_envelope("gateway", "user_updated", {"id": 3, "active": False})
    assert users.apply_user_event(db, partial) == "updated"
    assert users_copy(db)[3] == ("South", ["sales_manager"], False)
    first = user_event(9, "East", "user_updated", "2026-11-05T00:00:00+00:00")
    assert users.apply_user_event(db, first) == "created"
    assert (
        users.apply_user_event(db, user_event(9, "Old", occurred_at="2026-11-04T00:00:00+00:00")) == "stale"
    )
    assert users_copy(db)[9][0] == "East"
    with pytest.raises(ValueError):
        users.apply_user_event(db, make_envelope("gateway", "user_updated", {"department": "x"}))


# -- dashboard --------------------------------------------------------------------------------


def totals(*contracts) -> dict:
    out: dict[str, Decimal] = {}
    for c in contracts:
        out[c["currency"]] = out.get(c["currency"], Decimal(0)) + Decimal(c["total"])
    return {k: f"{v:.2f}" for k, v in sorted(out.items())}


def test_dashboard_figures_match_the_contracts(admin, world):
    year = utcnow().year
    d = admin.dashboard({"as_of": AS_OF, "year": year})
    c1, c2, c3, c4 = (world[k] for k in ("c1", "c2", "c3", "c4"))
    assert d["as_of"] == AS_OF and d["year"] == year
    assert d["by_status"] == {"active": 4, "draft": 2}
    assert d["active_contracts"] == 4 and d["active_value"] == totals(c1, c2, c3, c4)
    assert d["active_value"]["USD"] == "250.50"
    # c1 and c2 end inside 90 days; c4 too but it has its renewal; c3 ends later
    assert d["renewals_next_90_days"] == 2 and d["renewals"]["count"] == 2
    assert d["renewals"]["value"] == totals(c1, c2)
    assert d["renewals"]["items"] == [
        {"id": c1["id"], "number": c1["number"], "title": c1["title"], "customer_id": 1,
         "customer_name": "Ankara Makine A.Ş.", "end_date": "2026-12-31", "currency": "EUR", "total": c1["total"],
         "auto_renew": False, "owner_id": 3},
        {"id": c2["id"], "number": c2["number"], "title": c2["title"], "customer_id": 1,
         "customer_name": "Ankara Makine A.Ş.", "end_date": "2027-01-15", "currency": "USD", "total": "250.50",
         "auto_renew": False, "owner_id": 3},
    ]  # fmt: skip
    assert d["signed_in_year"] == {"count": 4, "value": totals(c1, c2, c3, c4)}
    assert admin.dashboard({"as_of": AS_OF, "year": year - 1})["signed_in_year"] == {"count": 0, "value": {}}
    # another day: c4 ended (its term no longer covers the day), c1 is no longer "within 90 days"
    later = admin.dashboard({"as_of": "2026-12-20", "year": year})
    assert later["active_contracts"] == 3 and later["renewals"]["count"] == 2  # c1 (12-31), c2 (01-15)
    assert admin.dashboard({"as_of": "2027-01-01"})["renewals"]["count"] == 1  # c2 only
    # defaults: today and its year
    assert admin.dashboard()["as_of"] == dt.date.today().isoformat()
    with pytest.raises(ValidationFailed) as bad:
        admin.dashboard({"as_of": "31.12.2026"})
    assert "as_of" in bad.value.details


def test_dashboard_scopes_by_role_and_department(service, admin, rep, other_rep, finance, world):
    north = service(new_caller("sales_manager", user_id=2, department="North"))
    south = service(new_caller("sales_manager", user_id=7, department="South"))
    # no users copy yet: the department's owners are unknown, so nothing is theirs
    assert north.dashboard({"as_of": AS_OF})["active_contracts"] == 0
    admin.handle_user_created(user_event(3, "North"))
    admin.handle_user_created(user_event(4, "South"))
    admin.handle_user_created(user_event(2, "North", roles=["sales_manager"]))

    def figures(svc):
        d = svc.dashboard({"as_of": AS_OF})
        return d["active_contracts"], d["renewals"]["count"], d["by_status"]

    assert figures(north) == (3, 2, {"active": 3, "draft": 2})
    assert figures(south) == (1, 0, {"active": 1})
    assert figures(rep) == figures(north)  # a rep: their own
    assert figures(other_rep) == figures(south)
    everything = (4, 2, {"active": 4, "draft": 2})
    assert figures(admin) == figures(finance) == everything
    assert figures(service(new_caller("sales_manager", user_id=2))) == everything  # no department
    assert figures(service(new_caller("readonly", user_id=8))) == everything
    # the rep moves to South: the dashboards follow the users copy
    admin.handle_user_updated(user_event(3, "South", "user_updated"))
    assert figures(north)[0] == 0 and figures(south)[0] == 4
    for portal in (PORTAL_A, PORTAL_B):
        with pytest.raises(PermissionDenied):
            service(portal).dashboard()
