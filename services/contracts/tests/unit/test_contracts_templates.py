"""Template use cases on a real SQLite database: versions per (name, language), who may
create, read and deactivate, 422s that leave nothing written, the audit trail, and the check
the contract use cases make when a contract is filled from a template."""

from __future__ import annotations

import pytest
from contracts import models as m
from contracts import templates
from crm_common.db import DatabaseHandle, WorkerDatabase
from crm_common.errors import NotFound, PermissionDenied, ValidationFailed
from crm_common.testing import new_caller
from sqlalchemy import func, select

ADMIN = new_caller("admin", user_id=1)
MANAGER = new_caller("sales_manager", user_id=2)
REP = new_caller("sales_rep", user_id=3)
READONLY = new_caller("readonly", user_id=5)
PORTAL = new_caller("portal", user_id=6)

BODY = (
    "Article 1. The supplier maintains the devices at {{ site }}.\n\n"
    "Article 2. The fee is {{ fee }} per visit; {{ visits }} visits a year."
)
FIELDS = [
    {"name": "site", "type": "text", "required": True, "label": "Site"},
    {"name": "fee", "type": "money", "required": True},
    {"name": "visits", "type": "number"},
]


@pytest.fixture
def db(sqlite_url):
    handle = DatabaseHandle("contracts", m.metadata, sqlite_url)
    handle.create_all()
    yield handle
    handle.dispose()


@pytest.fixture
def call(db):
    """``call(use_case, caller, *args)``: the use case as the service runs it (the worker's
    database carries the caller, for the audit trail)."""

    def run(use_case, caller, *args):
        return use_case(WorkerDatabase(db, caller, None), caller, *args)

    return run


@pytest.fixture
def create(call):
    def create_template(caller=MANAGER, **overrides):
        data = {"name": "Maintenance", "language": "en", "body": BODY, "fields": FIELDS, **overrides}
        return call(templates.create_template, caller, data)

    return create_template


def count(db, table) -> int:
    with db.read() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


def audit_actions(db) -> list[tuple[str, str, str]]:
    a = db.infra.audit_log.c
    with db.read() as s:
        rows = s.execute(select(a.entity, a.entity_id, a.action, a.actor).order_by(a.id)).all()
    return [(r.entity, r.entity_id, r.action, r.actor) for r in rows]


def test_contracts_created_template_is_version_1_with_its_fields_and_placeholders(db, call, create):
    t = create()
    assert t["version"] == 1 and t["language"] == "en" and t["active"] is True
    assert t["placeholders"] == ["site", "fee", "visits"]
    assert t["fields"][0] == {"name": "site", "type": "text", "required": True, "label": "Site"}
    assert t["fields"][2] == {"name": "visits", "type": "number", "required": False}
    assert t["created_by"] == "user:2"
    got = call(templates.get_template, READONLY, t["id"])
    assert got["body"] == BODY and got["latest_version"] == 1
    assert audit_actions(db) == [("template", str(t["id"]), "create", "user:2")]


def test_contracts_blank_optional_texts_are_absent_not_errors(call, create):
    fields = [{**FIELDS[0], "label": "   "}, *FIELDS[1:]]
    t = create(fields=fields, description="  ")
    assert t["description"] is None
    assert t["fields"][0].get("label") is None


def test_contracts_same_name_and_language_makes_the_next_version_folded(db, call, create):
    v1 = create(name="İstanbul Bakım")
    v2 = create(name="istanbul bakım", body=BODY + "\n\nArticle 3. Changed.")
    other_language = create(name="İstanbul Bakım", language="tr")
    other_name = create(name="Maintenance Plus")
    assert (v1["version"], v2["version"], other_language["version"], other_name["version"]) == (1, 2, 1, 1)
    # the older version is still there unchanged: a contract filled from it keeps its clauses
    assert call(templates.get_template, REP, v1["id"])["body"] == BODY
    assert call(templates.get_template, REP, v1["id"])["latest_version"] == 2


def test_contracts_list_shows_the_latest_version_of_each_unless_all_versions(db, call, create):
    create(name="Maintenance")
    latest = create(name="maintenance")
    zh = create(name="维保合同", language="zh")
    tr = create(name="Bakım sözleşmesi", language="tr")
    page = call(templates.list_templates, REP, {}, 1, 50)
    assert page["total"] == 3
    assert {i["id"] for i in page["items"]} == {latest["id"], zh["id"], tr["id"]}
    assert "body" not in page["items"][0]
    every = call(templates.list_templates, REP, {"all_versions": True}, 1, 50)
    assert every["total"] == 4
    assert [i["id"] for i in call(templates.list_templates, REP, {"language": "zh"}, 1, 50)["items"]] == [
        zh["id"]
    ]
    # name: any part of it, compared folded (Turkish dotted/dotless i, case)
    found = call(templates.list_templates, REP, {"name": "BAKIM"}, 1, 50)["items"]
    assert [i["id"] for i in found] == [tr["id"]]
    found = call(templates.list_templates, REP, {"name": "维保"}, 1, 50)["items"]
    assert [i["id"] for i in found] == [zh["id"]]
    one = call(templates.list_templates, REP, {"all_versions": True}, 2, 3)
    assert one["total"] == 4 and len(one["items"]) == 1 and one["page"] == 2


def test_contracts_bad_templates_are_422_naming_the_field_and_write_nothing(db, call, create):
    with pytest.raises(ValidationFailed) as err:
        create(body="Fee {{ fee }} at {{ site }} and {{ undeclared }}")
    assert "undeclared" in " ".join(err.value.details["body"])
    with pytest.raises(ValidationFailed) as err:
        create(fields=[*FIELDS, {"name": "Fee", "type": "money"}])
    assert "fields.3.name" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        create(fields=[{"name": "site", "type": "float"}], language="de", name="  ", colour="red")
    assert {"fields.0.type", "language", "name", "colour"} <= set(err.value.details)
    with pytest.raises(ValidationFailed) as err:
        create(body="   ")
    assert err.value.details == {"body": ["must not be empty"]}
    with pytest.raises(ValidationFailed):
        call(templates.create_template, MANAGER, ["not", "an", "object"])
    assert count(db, m.templates) == 0
    assert audit_actions(db) == []


def test_contracts_only_admins_and_sales_managers_create_and_portal_users_read_nothing(db, call, create):
    with pytest.raises(PermissionDenied):
        create(caller=REP)
    with pytest.raises(PermissionDenied):
        create(caller=None)
    t = create(caller=ADMIN)
    with pytest.raises(PermissionDenied):
        call(templates.list_templates, PORTAL, {}, 1, 50)
    with pytest.raises(PermissionDenied):
        call(templates.get_template, PORTAL, t["id"])
    assert count(db, m.templates) == 1


def test_contracts_unknown_template_is_404_and_bad_ids_or_filters_422(db, call, create):
    with pytest.raises(NotFound):
        call(templates.get_template, REP, 999)
    with pytest.raises(ValidationFailed) as err:
        call(templates.get_template, REP, "abc")
    assert "template_id" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        call(templates.list_templates, REP, {"language": "xx", "shape": "round"}, 1, 50)
    assert {"language", "shape"} <= set(err.value.details)
    with pytest.raises(ValidationFailed) as err:
        call(templates.list_templates, REP, {}, 0, 501)
    assert {"page", "page_size"} <= set(err.value.details)


def test_contracts_deactivated_template_cannot_fill_new_contracts_but_still_reads(db, call, create):
    t = create()
    with pytest.raises(PermissionDenied):
        call(templates.deactivate_template, MANAGER, t["id"])
    out = call(templates.deactivate_template, ADMIN, t["id"])
    assert out["active"] is False
    again = call(templates.deactivate_template, ADMIN, t["id"])  # no change, no second audit entry
    assert again["active"] is False
    assert [a[2] for a in audit_actions(db)] == ["create", "deactivate"]
    assert call(templates.get_template, REP, t["id"])["active"] is False
    with db.read() as s:
        with pytest.raises(ValidationFailed) as err:
            templates.template_for_contract(s, t["id"])
        assert err.value.details == {"template_id": ["unknown template"]}
        # a contract that already has it (a draft being edited, a document) may still use it
        assert templates.template_for_contract(s, t["id"], allow_inactive=True)["id"] == t["id"]
    active = call(templates.list_templates, REP, {"active": True}, 1, 50)
    assert active["total"] == 0
    with pytest.raises(NotFound):
        call(templates.deactivate_template, ADMIN, 12345)


def test_contracts_template_for_contract_returns_the_row_or_422_on_template_id(db, create):
    t = create()
    with db.read() as s:
        row = templates.template_for_contract(s, t["id"])
        assert row["id"] == t["id"] and row["body"] == BODY and row["fields"][1]["type"] == "money"
        assert templates.template_for_contract(s, str(t["id"]))["id"] == t["id"]
        for bad in (999, "x", None, True, 1.0, -1):
            with pytest.raises(ValidationFailed) as err:
                templates.template_for_contract(s, bad)
            assert err.value.details == {"template_id": ["unknown template"]}


def test_contracts_template_versions_and_latest_listing_on_each_database(any_db_url):
    handle = DatabaseHandle("contracts", m.metadata, any_db_url)
    handle.create_all()
    try:
        db = WorkerDatabase(handle, MANAGER, None)
        data = {"name": "Лизинг", "language": "bg", "body": BODY, "fields": FIELDS}
        v1 = templates.create_template(db, MANAGER, data)
        v2 = templates.create_template(db, MANAGER, {**data, "name": "ЛИЗИНГ"})
        zh = templates.create_template(db, MANAGER, {**data, "name": "租赁合同", "language": "zh"})
        assert (v1["version"], v2["version"], zh["version"]) == (1, 2, 1)
        latest = templates.list_templates(db, REP, {}, 1, 50)["items"]
        assert sorted(i["id"] for i in latest) == sorted([v2["id"], zh["id"]])
        assert (
            templates.list_templates(db, REP, {"name": "лизинг", "all_versions": True}, 1, 50)["total"] == 2
        )
        with handle.read() as s:
            assert templates.template_for_contract(s, v1["id"])["fields"] == FIELDS_OUT
    finally:
        handle.dispose()


FIELDS_OUT = [
    {"name": "site", "type": "text", "required": True, "label": "Site"},
    {"name": "fee", "type": "money", "required": True},
    {"name": "visits", "type": "number", "required": False},
]
