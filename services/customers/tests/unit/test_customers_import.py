"""The CSV import pipeline (start_import / import_batch / finish_import / get_import /
abort_import) through worker_factory on a real SQLite database."""

from __future__ import annotations

import pytest
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from customers import importer
from customers import models as m


def rows_of(*records, first_line=2):
    return [{"line": first_line + i, "data": data} for i, data in enumerate(records)]


def run_import(svc, mode, records, batch=1000, first_line=2):
    job = svc.start_import(mode, "customers.csv")
    assert job["status"] == "receiving" and job["job_id"] == job["id"]
    rows = rows_of(*records, first_line=first_line)
    for i in range(0, len(rows), batch):
        svc.import_batch(job["job_id"], rows[i : i + batch])
    return job["job_id"], svc.finish_import(job["job_id"])


GOOD = [
    {"name": "Sofia Trade", "kind": "company", "email": "office@sofia.bg", "level": "A", "tags": "vip;bg"},
    {"name": "Ankara Yapı", "kind": "company", "tax_id": "TR-777"},
]
BAD = [
    {"name": "", "kind": "company", "email": "nobody@example.com"},  # line 4: no name
    {"name": "Guangzhou", "kind": "company", "level": "Q"},  # line 5: bad level
]


def test_all_or_nothing_imports_nothing_when_any_row_is_bad_and_reports_every_bad_line(admin, count, outbox):
    job_id, result = run_import(admin, "all_or_nothing", GOOD + BAD)
    assert (result["status"], result["created"], result["updated"]) == ("done", 0, 0)
    assert [(e["line"], e["field"]) for e in result["errors"]] == [(4, "name"), (5, "level")]
    assert count(m.customers) == 0 and outbox("customer_created") == []
    job = admin.get_import(job_id)
    assert (job["rows_received"], job["rows_processed"], job["error_count"]) == (4, 4, 2)
    assert job["errors"] == result["errors"]
    assert count(m.import_rows) == 0  # staging emptied


def test_skip_bad_imports_every_good_row_with_one_event_each(admin, outbox):
    job_id, result = run_import(admin, "skip_bad", GOOD + BAD)
    assert (result["created"], result["updated"], len(result["errors"])) == (2, 0, 2)
    sofia = admin.list_customers({"q": "sofia trade"}, 1, 50)["items"][0]
    assert sofia["tags"] == ["vip", "bg"] and sofia["level"] == "A" and sofia["owner_id"] == 1
    assert sofia["code"].startswith("C-")
    assert [e["name"] for e in outbox("customer_created")] == ["Sofia Trade", "Ankara Yapı"]
    assert all(e["imported"] for e in outbox("customer_created"))


def test_rows_matching_a_tax_id_or_code_update_that_customer(admin, create_customer, outbox):
    by_tax = create_customer(name="Anadolu Makina", tax_id="TR 123 456", level="C")
    by_code = create_customer(name="Balkan Trade", tax_id="BG999")
    _, result = run_import(
        admin,
        "all_or_nothing",
        [
            {"tax_id": "tr123456", "level": "A", "tags": "key-account"},
            {"code": by_code["code"].lower(), "region": "Plovdiv"},
            {"name": "Brand New", "kind": "person"},
        ],
    )
    assert (result["created"], result["updated"], result["errors"]) == (1, 2, [])
    assert admin.get_customer(by_tax["id"])["level"] == "A"
    assert admin.get_customer(by_tax["id"])["name"] == "Anadolu Makina"  # empty cells change nothing
    assert admin.get_customer(by_code["id"])["region"] == "Plovdiv"
    changes = {e["id"]: e["changes"] for e in outbox("customer_updated")}
    assert changes[by_tax["id"]]["level"] == ["C", "A"]


def test_likely_duplicates_of_existing_customers_and_earlier_rows_are_errors_naming_the_field(
    admin, create_customer
):
    create_customer(name="İstanbul Enerji", tax_id="TR1", email="info@ist.tr")
    _, result = run_import(
        admin,
        "skip_bad",
        [
            {"name": "ISTANBUL ENERJİ", "kind": "company"},  # 2: existing name
            {"name": "Other", "email": "INFO@ist.tr"},  # 3: existing e-mail
            {"name": "Ｓｏｆｉａ Ｔｒａｄｅ", "phone": "+359 2 123 4567"},  # 4: fine
            {"name": "sofia trade"},  # 5: same name as line 4
            {"name": "Third", "phone": "00359 (2) 1234567"},  # 6: same phone as line 4
        ],
    )
    assert [(e["line"], e["field"]) for e in result["errors"]] == [
        (2, "name"),
        (3, "email"),
        (5, "name"),
        (6, "phone"),
    ]
    assert "line 4" in result["errors"][2]["message"]
    assert result["created"] == 1


def test_bad_batches_are_refused_whole(admin):
    job = admin.start_import("skip_bad", "x.csv")
    with pytest.raises(ValidationFailed) as err:
        admin.import_batch(job["job_id"], rows_of({"name": "A", "colour": "red"}))
    assert "columns" in err.value.details and "colour" in err.value.details["columns"][0]
    with pytest.raises(ValidationFailed) as err:
        admin.import_batch(
            job["job_id"], [{"line": 2, "data": {"name": "A"}}, {"line": 2, "data": {"name": "B"}}]
        )
    assert "rows" in err.value.details
    with pytest.raises(ValidationFailed):
        admin.import_batch(job["job_id"], [{"data": {"name": "A"}}])
    with pytest.raises(ValidationFailed):
        admin.import_batch(job["job_id"], "name,kind")
    with pytest.raises(ValidationFailed) as err:
        admin.start_import("sometimes", "x.csv")
    assert "mode" in err.value.details
    assert admin.get_import(job["job_id"])["rows_received"] == 0


def test_a_retried_batch_is_taken_once_and_extra_cells_are_reported(admin):
    job = admin.start_import("skip_bad", "x.csv")
    batch = rows_of({"name": "Once"}, {"name": "Extra", "_extra": ["surplus"]})
    admin.import_batch(job["job_id"], batch)
    assert admin.import_batch(job["job_id"], batch)["rows_received"] == 2
    with pytest.raises(Conflict):
        admin.import_batch(job["job_id"], rows_of({"name": "Overlap"}, {"name": "New"}, first_line=3))
    result = admin.finish_import(job["job_id"])
    assert result["created"] == 1
    assert result["errors"] == [{"line": 3, "field": None, "message": "more cells than header columns"}]
    assert admin.finish_import(job["job_id"]) == result  # finishing twice answers the same
    with pytest.raises(Conflict):
        admin.import_batch(job["job_id"], rows_of({"name": "Late"}, first_line=10))


def test_an_aborted_import_imports_nothing(admin, count):
    job = admin.start_import("skip_bad", "x.csv")
    admin.import_batch(job["job_id"], rows_of({"name": "Never"}))
    aborted = admin.abort_import(job["job_id"], "client disconnected")
    assert aborted["status"] == "failed" and aborted["message"] == "client disconnected"
    with pytest.raises(Conflict):
        admin.import_batch(job["job_id"], rows_of({"name": "X"}, first_line=9))
    assert admin.finish_import(job["job_id"])["created"] == 0
    assert count(m.customers) == 0 and count(m.import_rows) == 0


def test_imports_follow_the_callers_scope(service, make_caller, create_customer):
    theirs = create_customer(name="Theirs", tax_id="T-2", owner_id=11)
    rep = service(make_caller("sales_rep", user_id=10))
    _, result = run_import(
        rep,
        "skip_bad",
        [
            {"name": "Rep New"},
            {"tax_id": "t2", "level": "A"},
            {"name": "For Another", "owner_id": "11"},
        ],
    )
    assert result["created"] == 1
    assert [(e["line"], e["field"]) for e in result["errors"]] == [(3, "tax_id"), (4, "owner_id")]
    assert rep.list_customers({}, 1, 50)["items"][0]["owner_id"] == 10
    assert service(make_caller("admin", user_id=1)).get_customer(theirs["id"])["level"] is None
    job = rep.start_import("skip_bad", "x.csv")
    with pytest.raises(NotFound):
        service(make_caller("sales_rep", user_id=12)).get_import(job["job_id"])
    with pytest.raises(PermissionDenied):
        service(make_caller("readonly", user_id=3)).start_import("skip_bad", "x.csv")


def test_a_stopped_import_resumes_where_it_stopped(admin, db, monkeypatch, count):
    records = [{"name": f"Firma {i}", "tax_id": f"RS{i:05d}"} for i in range(25)]
    job = admin.start_import("all_or_nothing", "big.csv")
    admin.import_batch(job["job_id"], rows_of(*records))
    monkeypatch.setattr(importer, "APPLY_CHUNK", 10)
    real = importer.apply_chunk
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "apply_chunk", flaky)
    with pytest.raises(RuntimeError):
        admin.finish_import(job["job_id"])
    stopped = admin.get_import(job["job_id"])
    assert (stopped["status"], stopped["created"], stopped["rows_processed"]) == ("importing", 10, 10)
    assert "finish it again" in stopped["message"]
    result = admin.finish_import(job["job_id"])
    assert (result["status"], result["created"], result["errors"]) == ("done", 25, [])
    assert count(m.customers) == 25


def test_idle_receiving_jobs_expire(admin, db):
    import datetime as dt

    from sqlalchemy import update

    job = admin.start_import("skip_bad", "x.csv")
    admin.import_batch(job["job_id"], rows_of({"name": "Never"}))
    with db.transaction() as uow:
        uow.session.execute(update(m.import_jobs).values(lease_until=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    assert admin.run_daily("2027-01-01")["imports_expired"] == 1
    assert admin.get_import(job["job_id"])["status"] == "failed"
