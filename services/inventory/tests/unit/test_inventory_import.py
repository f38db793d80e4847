"""CSV import of products: line-numbered errors, all_or_nothing vs skip_bad, nothing
half-written."""

from __future__ import annotations

import pytest
from crm_common.errors import Conflict, ValidationFailed


def rows(*records):
    return [{"line": i + 2, "data": r} for i, r in enumerate(records)]


GOOD = {"sku": "T-1", "name": "Toner", "kind": "consumable", "unit_price": "19.90", "currency": "eur",
        "category": "Supplies/Toner", "reorder_point": "5", "serialized": "no"}  # fmt: skip


def run(svc, mode, batch):
    job = svc.start_import(mode, "p.csv")
    svc.import_batch(job["job_id"], batch)
    return svc.finish_import(job["job_id"])


def test_all_or_nothing_imports_nothing_and_reports_every_bad_line(admin):
    report = run(admin, "all_or_nothing", rows(
        GOOD,
        {**GOOD, "sku": "T-2", "kind": "robot", "reorder_point": "-3"},
        {**GOOD, "name": "Again"},  # same SKU as line 2
        {**GOOD, "sku": "T-3", "unit_price": "NaN", "currency": "XXX"},
    ))  # fmt: skip
    assert report["created"] == 0 and report["status"] == "done"
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (3, "kind"), (3, "reorder_point"), (4, "sku"), (5, "currency"), (5, "unit_price"),
    ]  # fmt: skip
    assert admin.list_products({})["total"] == 0


def test_skip_bad_imports_the_good_rows_and_existing_skus_are_errors(admin, create_product):
    create_product(sku="OLD-1")
    report = run(
        admin, "skip_bad", rows(GOOD, {**GOOD, "sku": "old-1"}, {**GOOD, "sku": "T-9", "serialized": "true"})
    )
    assert report["created"] == 2 and [(e["line"], e["field"]) for e in report["errors"]] == [(3, "sku")]
    t1 = admin.list_products({"sku": "T-1"})["items"][0]
    assert (t1["currency"], t1["reorder_point"], t1["serialized"], t1["category"]) == (
        "EUR",
        5,
        False,
        "Supplies/Toner",
    )
    assert admin.list_products({"sku": "T-9"})["items"][0]["serialized"] is True


def test_unknown_columns_bad_mode_and_finished_jobs_are_refused(admin, rep):
    with pytest.raises(ValidationFailed):
        admin.start_import("some", None)
    job = admin.start_import("skip_bad", None)
    with pytest.raises(ValidationFailed) as err:
        admin.import_batch(job["job_id"], rows({"sku": "A", "colour": "red"}))
    assert "columns" in err.value.details
    admin.finish_import(job["job_id"])
    with pytest.raises(Conflict):
        admin.import_batch(job["job_id"], rows(GOOD))
    from crm_common.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        rep.start_import("skip_bad", None)
