"""Service entrypoints through nameko's worker_factory, on a real SQLite database, with real
caller contexts: scopes, validation, duplicates, search, events in the outbox, audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from crm_common.context import CallerContext
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from customers import models as m
from sqlalchemy import insert, select


def add_user(db, user_id, active=True, roles=("sales_rep",)):
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as uow:
        uow.session.execute(
            insert(m.users).values(
                id=user_id,
                username=f"u{user_id}",
                roles=list(roles),
                active=active,
                is_department_head=False,
                event_at=now,
                updated_at=now,
            )
        )


# -- creating ----------------------------------------------------------------------------


def test_create_returns_the_customer_with_a_generated_code_and_publishes_customer_created(admin, outbox, db):
    c = admin.create_customer(
        {
            "name": "Anadolu Makina A.Ş.",
            "kind": "company",
            "tax_id": "TR 123",
            "email": "info@anadolu.tr",
            "phone": "+90 312 555 0101",
            "level": "a",
            "tags": ["vip", "VIP", "makine"],
            "language": "tr",
            "birthday": None,
            "red_list": True,
            "contacts": [{"name": "Ayşe Yılmaz", "email": "ayse@anadolu.tr", "title": "Satın alma"}],
        }
    )
    assert c["code"] == "C-000001" and c["level"] == "A" and c["tags"] == ["vip", "makine"]
    assert c["owner_id"] == 1 and c["language"] == "tr" and c["red_listed"] is True
    assert [x["name"] for x in c["contacts"]] == ["Ayşe Yılmaz"]
    assert admin.get_customer(c["id"]) == c
    (event,) = outbox("customer_created")
    assert event["id"] == c["id"] and event["code"] == "C-000001" and event["language"] == "tr"
    assert event["contacts"][0]["email"] == "ayse@anadolu.tr"
    with db.read() as s:
        audit = s.execute(select(db.infra.audit_log)).mappings().one()
    assert (
        audit["actor"] == "user:1"
        and audit["action"] == "create"
        and audit["changes"]["name"] == [None, c["name"]]
    )


def test_codes_are_unique_and_never_reused_after_a_delete(admin, create_customer):
    first = create_customer()
    admin.delete_customer(first["id"])
    second = create_customer()
    assert (first["code"], second["code"]) == ("C-000001", "C-000002")


@pytest.mark.parametrize(
    "data, field",
    [
        ({"kind": "company"}, "name"),
        ({"name": "  ", "kind": "company"}, "name"),
        ({"name": "X", "kind": "alien"}, "kind"),
        ({"name": "X", "kind": "company", "level": "Z"}, "level"),
        ({"name": "X", "kind": "company", "email": "nope"}, "email"),
        ({"name": "X", "kind": "company", "phone": "call me"}, "phone"),
        ({"name": "X", "kind": "company", "owner_id": "seven"}, "owner_id"),
        ({"name": "X", "kind": "company", "tags": "vip"}, "tags"),
        ({"name": "X", "kind": "company", "tags": ["a|b"]}, "tags"),
        ({"name": "X", "kind": "company", "language": "fr"}, "language"),
        ({"name": "X", "kind": "person", "birthday": "2999-01-01"}, "birthday"),
        ({"name": "X", "kind": "company", "red_listed": "maybe"}, "red_listed"),
        ({"name": "X", "kind": "company", "colour": "red"}, "colour"),
        ({"name": "X", "kind": "company", "contacts": [{"email": "a@b.co"}]}, "contacts.0.name"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(admin, count, data, field):
    with pytest.raises(ValidationFailed) as err:
        admin.create_customer(data)
    assert field in err.value.details, err.value.details
    assert count(m.customers) == 0 and count(m.contacts) == 0


def test_a_likely_duplicate_is_a_conflict_with_candidates_unless_allowed(admin, create_customer, count):
    first = create_customer(
        name="İstanbul Enerji", tax_id="TR-555 01", email="info@ist.tr", phone="+90 212 555 0101"
    )
    for twin, reason in [
        ({"name": "ISTANBUL ENERJİ"}, "name"),
        ({"name": "Ｉｓｔａｎｂｕｌ Ｅｎｅｒｊｉ"}, "name"),
        ({"name": "Other", "tax_id": "tr55501"}, "tax_id"),
        ({"name": "Other", "email": "INFO@IST.TR"}, "email"),
        ({"name": "Other", "phone": "0090 (212) 555-0101"}, "phone"),
    ]:
        with pytest.raises(Conflict) as err:
            admin.create_customer({"kind": "company", **twin})
        (candidate,) = err.value.details["candidates"]
        assert candidate["id"] == first["id"] and candidate["name"] == first["name"]
        assert candidate["reasons"] == [reason]
        assert set(candidate) <= {"id", "name", "owner_name", "reasons", "archived"}
    assert count(m.customers) == 1
    forced = admin.create_customer({"name": "ISTANBUL ENERJİ", "kind": "company", "allow_duplicate": True})
    assert forced["code"] == "C-000002"
    # a deleted customer is no longer a duplicate
    admin.delete_customer(first["id"])
    admin.delete_customer(forced["id"])
    assert admin.create_customer({"name": "İstanbul Enerji", "kind": "company"})["code"] == "C-000003"


# -- scopes ------------------------------------------------------------------------------


def test_a_sales_rep_sees_and_changes_only_own_customers(make_caller, service, create_customer):
    rep_a, rep_b = (
        service(make_caller("sales_rep", user_id=10)),
        service(make_caller("sales_rep", user_id=11)),
    )
    mine = rep_a.create_customer({"name": "Mine Ltd", "kind": "company"})
    assert mine["owner_id"] == 10
    theirs = create_customer(owner_id=11)
    for call in (
        lambda: rep_a.get_customer(theirs["id"]),
        lambda: rep_a.update_customer(theirs["id"], {"level": "C"}),
        lambda: rep_a.delete_customer(theirs["id"]),
        lambda: rep_a.add_contact(theirs["id"], {"name": "X"}),
        lambda: rep_a.list_contacts(theirs["id"], 1, 50),
        lambda: rep_a.list_follow_ups(theirs["id"], 1, 50),
    ):
        with pytest.raises(NotFound):
            call()
    assert [c["id"] for c in rep_a.list_customers({}, 1, 50)["items"]] == [mine["id"]]
    assert [c["id"] for c in rep_b.list_customers(None, 1, 50)["items"]] == [theirs["id"]]
    with pytest.raises(PermissionDenied) as err:
        rep_a.create_customer({"name": "For B", "kind": "company", "owner_id": 11})
    assert "owner_id" in err.value.details
    with pytest.raises(PermissionDenied):
        rep_a.update_customer(mine["id"], {"owner_id": 11})


def test_managers_see_all_read_only_roles_read_portal_and_anonymous_get_nothing(
    make_caller, service, create_customer
):
    c = create_customer(owner_id=10)
    assert (
        service(make_caller("sales_manager", user_id=2)).update_customer(c["id"], {"level": "B"})["level"]
        == "B"
    )
    for role in ("readonly", "finance", "approver", "warehouse"):
        reader = service(make_caller(role, user_id=3))
        assert reader.get_customer(c["id"])["id"] == c["id"]
        with pytest.raises(PermissionDenied):
            reader.update_customer(c["id"], {"level": "C"})
        with pytest.raises(PermissionDenied):
            reader.create_customer({"name": "Nope", "kind": "person"})
    for nobody in (service(make_caller("portal", user_id=4)), service(CallerContext())):
        with pytest.raises(PermissionDenied):
            nobody.get_customer(c["id"])
        with pytest.raises(PermissionDenied):
            nobody.list_customers({}, 1, 50)
    assert service(CallerContext.system("billing")).get_customer(c["id"])["id"] == c["id"]


def test_unknown_owner_is_refused_once_the_users_read_copy_has_users(admin, db):
    assert admin.create_customer({"name": "Early", "kind": "company", "owner_id": 42})["owner_id"] == 42
    add_user(db, 7)
    add_user(db, 8, active=False)
    assert admin.create_customer({"name": "Known", "kind": "company", "owner_id": 7})["owner_id"] == 7
    for owner, reason in ((42, "unknown user"), (8, "user is inactive")):
        with pytest.raises(ValidationFailed) as err:
            admin.create_customer({"name": f"Owner {owner}", "kind": "company", "owner_id": owner})
        assert err.value.details == {"owner_id": [reason]}


# -- reading and searching ---------------------------------------------------------------


def test_search_matches_any_part_of_name_code_email_phone_or_tax_id_in_any_script(admin, create_customer):
    ist = create_customer(
        name="İstanbul Enerji A.Ş.", email="info@istanbul-enerji.tr", phone="+90 212 555 0101"
    )
    bj = create_customer(name="北京机械有限公司", tax_id="91110000ABC")
    sofia = create_customer(name="Ｓｏｆｉａ Трейд ООД")

    def found(q):
        return [c["id"] for c in admin.list_customers({"q": q}, 1, 50)["items"]]

    assert found("istanbul") == found("İSTANBUL") == found("ｉｓｔａｎｂｕｌ") == [ist["id"]]
    assert found("enerji a.ş") == [ist["id"]]
    assert found("机械") == [bj["id"]]
    assert found("91110000abc") == [bj["id"]]
    assert found("sofia трейд") == found("трейд") == [sofia["id"]]
    assert found("212 555") == found("2125550101") == [ist["id"]]
    assert found(ist["code"].lower()) == [ist["id"]]
    assert found("%") == found("_") == []  # no LIKE wildcards


def test_list_filters_and_pages(admin, create_customer):
    a = create_customer(
        name="Alpha", level="A", tags=["VIP"], region="Sofia", industry="Energy", kind="company"
    )
    create_customer(name="Beta", level="B", tags=["new"], region="Ankara", kind="person", owner_id=9)
    create_customer(name="Gamma", level="A", tags=["vip", "x"], region="Sofia")

    def names(filters, page=1, size=50):
        return [c["name"] for c in admin.list_customers(filters, page, size)["items"]]

    assert names({"level": "A"}) == ["Alpha", "Gamma"]
    assert names({"tag": "vip"}) == ["Alpha", "Gamma"]
    assert names({"owner_id": 9}) == names({"kind": "person"}) == ["Beta"]
    assert names({"region": "Sofia", "industry": "Energy"}) == ["Alpha"]
    page = admin.list_customers({}, 2, 2)
    assert (
        page["total"] == 3
        and page["page"] == 2
        and page["page_size"] == 2
        and [c["name"] for c in page["items"]] == ["Gamma"]
    )
    assert admin.list_customers({}, 1, 50)["items"][0]["contacts"] == []
    for bad in ({"level": "Z"}, {"colour": "red"}):
        with pytest.raises(ValidationFailed):
            admin.list_customers(bad, 1, 50)
    with pytest.raises(ValidationFailed) as err:
        admin.list_customers({}, 1, 501)
    assert "page_size" in err.value.details
    with pytest.raises(NotFound):
        admin.get_customer(a["id"] + 100)


# -- updating and deleting ---------------------------------------------------------------


def test_update_changes_only_given_fields_audits_old_and_new_and_publishes_the_changes(
    admin, create_customer, outbox, db
):
    c = create_customer(name="Old Name", email="old@firma.bg", level="C")
    updated = admin.update_customer(c["id"], {"name": "New Name", "email": None, "level": "b"})
    assert (updated["name"], updated["email"], updated["level"], updated["kind"]) == (
        "New Name",
        None,
        "B",
        "company",
    )
    assert admin.list_customers({"q": "new name"}, 1, 50)["total"] == 1
    assert admin.list_customers({"q": "old name"}, 1, 50)["total"] == 0
    (event,) = outbox("customer_updated")
    assert event["changes"] == {
        "email": ["old@firma.bg", None],
        "level": ["C", "B"],
        "name": ["Old Name", "New Name"],
    }
    assert event["fields"] == ["email", "level", "name"]
    with db.read() as s:
        audit = (
            s.execute(select(db.infra.audit_log).where(db.infra.audit_log.c.action == "update"))
            .mappings()
            .one()
        )
    assert audit["changes"]["level"] == ["C", "B"] and audit["entity_id"] == str(c["id"])
    # nothing changed: no event
    admin.update_customer(c["id"], {"level": "B"})
    assert len(outbox("customer_updated")) == 1


def test_update_into_a_duplicate_is_a_conflict_but_an_accepted_duplicate_stays_editable(
    admin, create_customer
):
    a = create_customer(name="Alpha Trade")
    b = create_customer(name="Beta Trade")
    with pytest.raises(Conflict) as err:
        admin.update_customer(b["id"], {"name": "ALPHA TRADE"})
    assert err.value.details["candidates"][0]["id"] == a["id"]
    assert admin.get_customer(b["id"])["name"] == "Beta Trade"
    twin = admin.create_customer({"name": "Alpha Trade", "kind": "company", "allow_duplicate": True})
    assert admin.update_customer(twin["id"], {"level": "A"})["level"] == "A"
    with pytest.raises(ValidationFailed):
        admin.update_customer(b["id"], {"name": None})


def test_delete_hides_the_customer_and_publishes_customer_deleted(admin, create_customer, outbox):
    c = create_customer()
    assert admin.delete_customer(c["id"]) == {"id": c["id"], "deleted": True}
    with pytest.raises(NotFound):
        admin.get_customer(c["id"])
    with pytest.raises(NotFound):
        admin.delete_customer(c["id"])
    assert admin.list_customers({}, 1, 50)["total"] == 0
    assert outbox("customer_deleted")[0]["code"] == c["code"]


# -- contacts and follow-ups -------------------------------------------------------------


def test_contacts_and_follow_ups(make_caller, admin, create_customer, service):
    c = create_customer()
    other = create_customer()
    contact = admin.add_contact(
        c["id"], {"name": "Мария Петрова", "phone": "+359 88 123 4567", "is_primary": True}
    )
    foreign = admin.add_contact(other["id"], {"name": "Someone"})
    assert admin.list_contacts(c["id"], 1, 50)["items"] == [contact]
    first = admin.add_follow_up(
        c["id"],
        {
            "method": "call",
            "occurred_at": "2026-03-01T09:00:00+02:00",
            "result": "Interested",
            "contact_id": contact["id"],
        },
    )
    second = admin.add_follow_up(
        c["id"],
        {
            "method": "VISIT",
            "occurred_at": "2026-03-05T09:00:00Z",
            "result": "Demo done",
            "next_action": "Send offer",
            "next_action_at": "2026-03-10T09:00:00Z",
        },
    )
    assert first["occurred_at"] == "2026-03-01T07:00:00+00:00"
    page = admin.list_follow_ups(c["id"], 1, 50)
    assert [f["id"] for f in page["items"]] == [second["id"], first["id"]] and page["total"] == 2
    bad = [
        ({"method": "call", "occurred_at": "2026-03-01T09:00:00", "result": "x"}, "occurred_at"),
        ({"method": "fax", "occurred_at": "2026-03-01T09:00:00Z", "result": "x"}, "method"),
        ({"method": "call", "occurred_at": "2026-03-01T09:00:00Z", "result": " "}, "result"),
        (
            {
                "method": "call",
                "occurred_at": "2026-03-01T09:00:00Z",
                "result": "x",
                "contact_id": foreign["id"],
            },
            "contact_id",
        ),
        (
            {
                "method": "call",
                "occurred_at": "2026-03-01T09:00:00Z",
                "result": "x",
                "next_action_at": "2026-02-01T09:00:00Z",
            },
            "next_action_at",
        ),
    ]
    for data, field in bad:
        with pytest.raises(ValidationFailed) as err:
            admin.add_follow_up(c["id"], data)
        assert field in err.value.details
    assert admin.list_follow_ups(c["id"], 1, 50)["total"] == 2
    with pytest.raises(PermissionDenied):
        service(make_caller("readonly", user_id=3)).add_follow_up(c["id"], bad[0][0])


def test_follow_up_due_is_published_once_for_its_day(make_caller, admin, create_customer, outbox, service):
    c = create_customer(name="Due Co", language="bg")
    admin.add_follow_up(
        c["id"],
        {
            "method": "call",
            "occurred_at": "2027-01-20T10:00:00Z",
            "result": "call back",
            "next_action_at": "2027-01-31T23:30:00+00:00",
        },
    )
    admin.add_follow_up(
        c["id"],
        {
            "method": "call",
            "occurred_at": "2027-01-20T10:00:00Z",
            "result": "later",
            "next_action_at": "2027-02-01T00:30:00+00:00",
        },
    )
    system = service(CallerContext.system("customers"))
    assert system.daily_jobs(dt.date(2027, 1, 31))["follow_ups_due"] == 1
    assert system.daily_jobs(dt.date(2027, 1, 31))["follow_ups_due"] == 0
    (event,) = outbox("follow_up_due")
    assert (
        event["customer_code"] == c["code"]
        and event["language"] == "bg"
        and event["due_date"] == "2027-01-31"
    )
    with pytest.raises(PermissionDenied):
        service(make_caller("sales_manager", user_id=2)).run_daily("2027-01-31")
    assert admin.run_daily("2027-02-01")["follow_ups_due"] == 1


# -- opportunities -----------------------------------------------------------------------


def test_opportunities_move_through_the_funnel_and_won_is_final(admin, create_customer, outbox):
    c = create_customer(language="zh")
    opp = admin.create_opportunity(
        {
            "customer_id": c["id"],
            "title": "Service deal",
            "amount": "12000.50",
            "currency": "cny",
            "stage": "lead",
            "competitors": ["Acme", "Globex"],
        }
    )
    assert (opp["amount"], opp["currency"], opp["owner_id"], opp["customer_code"]) == (
        "12000.50",
        "CNY",
        1,
        c["code"],
    )
    assert admin.update_opportunity(opp["id"], {"stage": "proposal", "probability": 60})["probability"] == 60
    won = admin.update_opportunity(opp["id"], {"stage": "won"})
    assert won["stage"] == "won" and won["probability"] == 100 and won["closed_at"]
    with pytest.raises(Conflict):
        admin.update_opportunity(opp["id"], {"stage": "negotiation"})
    with pytest.raises(Conflict):
        admin.update_opportunity(opp["id"], {"amount": "1.00"})
    assert admin.update_opportunity(opp["id"], {"needs": "spare parts"})["needs"] == "spare parts"
    changes = [(e["from_stage"], e["to_stage"]) for e in outbox("opportunity_stage_changed")]
    assert changes == [("lead", "proposal"), ("proposal", "won")]
    (won_event,) = outbox("opportunity_won")
    assert (
        won_event["amount"] == "12000.50" and won_event["currency"] == "CNY" and won_event["language"] == "zh"
    )
    assert admin.get_opportunity(opp["id"])["stage"] == "won"
    assert [o["id"] for o in admin.list_opportunities({"stage": "won"}, 1, 50)["items"]] == [opp["id"]]
    assert admin.list_opportunities({"stage": "lead"}, 1, 50)["total"] == 0


def test_opportunity_amounts_are_exact_and_bad_input_names_the_field(admin, create_customer):
    c = create_customer()
    big = admin.create_opportunity(
        {"customer_id": c["id"], "title": "Big", "amount": "9999999999999.123456", "currency": "EUR"}
    )
    assert admin.get_opportunity(big["id"])["amount"] == "9999999999999.123456"  # the largest: < 10^13
    assert big["stage"] == "lead"
    bad = [
        ({"amount": 10.5}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.0000001"}, "amount"),
        ({"amount": "10000000000000"}, "amount"),  # 10^13: past every amount (crm_common.limits)
        ({"amount": "1E-999999"}, "amount"),
        ({"currency": "XXX"}, "currency"),
        ({"stage": "maybe"}, "stage"),
        ({"probability": 101}, "probability"),
        ({"customer_id": c["id"] + 99}, "customer_id"),
        ({"title": ""}, "title"),
    ]
    for override, field in bad:
        data = {"customer_id": c["id"], "title": "T", "amount": "1", "currency": "EUR", **override}
        with pytest.raises(ValidationFailed) as err:
            admin.create_opportunity(data)
        assert field in err.value.details, (override, err.value.details)


def test_opportunities_follow_their_customers_scope(make_caller, service, create_customer):
    rep = service(make_caller("sales_rep", user_id=10))
    mine = rep.create_customer({"name": "Rep Customer", "kind": "company"})
    theirs = create_customer(owner_id=11)
    manager = service(make_caller("sales_manager", user_id=2))
    other_opp = manager.create_opportunity(
        {"customer_id": theirs["id"], "title": "T", "amount": "5", "currency": "USD"}
    )
    assert other_opp["owner_id"] == 11  # defaults to the customer's owner
    own_opp = rep.create_opportunity(
        {"customer_id": mine["id"], "title": "Mine", "amount": "5", "currency": "USD"}
    )
    assert [o["id"] for o in rep.list_opportunities({}, 1, 50)["items"]] == [own_opp["id"]]
    with pytest.raises(NotFound):
        rep.get_opportunity(other_opp["id"])
    with pytest.raises(NotFound):
        rep.update_opportunity(other_opp["id"], {"stage": "won"})
    with pytest.raises(ValidationFailed):
        rep.create_opportunity({"customer_id": theirs["id"], "title": "T", "amount": "5", "currency": "USD"})
    assert manager.list_opportunities({"owner_id": 10}, 1, 50)["items"][0]["id"] == own_opp["id"]


# -- the users read copy -----------------------------------------------------------------


def envelope(event_id, event_type, payload, occurred_at):
    return {
        "event_id": event_id,
        "type": event_type,
        "version": 1,
        "occurred_at": occurred_at,
        "source": "gateway",
        "request_id": None,
        "payload": payload,
    }


def test_user_events_keep_the_read_copy_and_a_late_older_event_changes_nothing(service, db):
    system = service(CallerContext.system("customers"))
    system.handle_user_created(
        envelope(
            "e1",
            "user_created",
            {
                "id": 7,
                "username": "ayse",
                "roles": ["sales_rep"],
                "full_name": "Ayşe",
                "department": "Ankara",
                "active": True,
                "email": "ayse@example.tr",
                "is_department_head": False,
                "language": "tr",
                "customer_id": None,
                "unknown_future_field": 1,
            },
            "2026-01-01T10:00:00+00:00",
        )
    )
    system.handle_user_updated(
        envelope(
            "e2",
            "user_updated",
            {
                "id": 7,
                "username": "ayse",
                "roles": ["sales_manager"],
                "full_name": "Ayşe Y.",
                "department": "Ankara",
                "active": True,
            },
            "2026-01-02T10:00:00+00:00",
        )
    )
    # the created event again, late (another queue, a redelivery): older than what we have
    system.handle_user_created(
        envelope(
            "e1",
            "user_created",
            {"id": 7, "username": "ayse", "roles": ["sales_rep"], "full_name": "Ayşe", "active": True},
            "2026-01-01T10:00:00+00:00",
        )
    )
    with db.read() as s:
        user = s.execute(select(m.users)).mappings().one()
    assert (user["full_name"], user["roles"], user["email"]) == (
        "Ayşe Y.",
        ["sales_manager"],
        "ayse@example.tr",
    )
    with pytest.raises(ValueError):
        system.handle_user_created(envelope("e3", "user_created", {"username": "no id"}, None))


def test_usecases_reject_non_object_bodies(admin):
    with pytest.raises(ValidationFailed):
        admin.create_customer(["not", "an", "object"])
    with pytest.raises(ValidationFailed):
        admin.update_customer(1, "x")
    with pytest.raises(ValidationFailed) as err:
        admin.list_customers("q=x", 1, 50)
    assert err.value.details == {"_schema": ["must be an object"]}


def test_nameko_run_finds_exactly_this_service_in_the_module():
    from customers.service import CustomersService
    from nameko.cli.run import import_service

    assert import_service("customers.service") == [CustomersService]
