"""``sort`` of list methods (crm_common.paging): the fields checked against the list's own, the
query ordered by them before the list's default order, on a real SQLite database; and the
same order in Python for the short lists answered whole."""

import pytest
from crm_common.errors import ValidationFailed
from crm_common.paging import run_page, sort_keys, sort_rows, sorted_query
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.orm import Session

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
    Column("size", Integer, nullable=True),
)
T = things.c
SORT = {"name": T.name, "size": T.size, "id": T.id}
ROWS = [
    {"id": 1, "name": "beta", "size": 2},
    {"id": 2, "name": "alpha", "size": 2},
    {"id": 3, "name": "gamma", "size": 1},
    {"id": 4, "name": "alpha", "size": None},
]


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as s:
        s.execute(insert(things), ROWS)
        yield s
    engine.dispose()


def ids(session, sort, *default):
    rows, total = run_page(session, sorted_query(select(things), sort, SORT, *default), 1, 50)
    assert total == len(ROWS)
    return [r["id"] for r in rows]


def test_no_sort_keeps_the_default_order(session):
    assert ids(session, None, T.id.desc()) == [4, 3, 2, 1]
    assert ids(session, [], T.id) == [1, 2, 3, 4]


def test_fields_ascending_descending_and_ties_broken_by_the_default(session):
    assert ids(session, ["name"], T.id) == [2, 4, 1, 3]
    assert ids(session, ["-name"], T.id) == [3, 1, 2, 4]
    assert ids(session, "name,-id", T.id) == [4, 2, 1, 3]
    assert ids(session, ["-size", "name"], T.id.desc()) == [2, 1, 3, 4]  # SQLite: NULL is smallest
    assert ids(session, "-name,name,-name", T.id) == [3, 1, 2, 4]  # a field again adds nothing


@pytest.mark.parametrize(
    "sort,reason",
    [
        (["colour"], "unknown sort field 'colour'"),
        ([1], "must be a list of field names"),
        ({"name": 1}, "must be a list of field names"),
    ],
)
def test_an_unknown_repeated_or_malformed_sort_is_a_422_on_sort(sort, reason):
    with pytest.raises(ValidationFailed) as caught:
        sort_keys(sort, SORT)
    assert any(reason in message for message in caught.value.details["sort"])


def test_the_unknown_field_message_lists_the_allowed_ones():
    with pytest.raises(ValidationFailed) as caught:
        sort_keys(["-colour"], SORT)
    assert "colour" in caught.value.message
    assert "allowed: id, name, size" in caught.value.details["sort"][0]


def test_rows_sorted_in_python_keep_nulls_last_ascending_and_first_descending():
    assert [r["id"] for r in sort_rows(ROWS, ["size", "id"], SORT)] == [3, 1, 2, 4]
    assert [r["id"] for r in sort_rows(ROWS, ["-size", "name"], SORT)] == [4, 2, 1, 3]
    assert [r["id"] for r in sort_rows(ROWS, "name,-id", SORT)] == [4, 2, 1, 3]
    assert sort_rows(ROWS, None, SORT) == ROWS
