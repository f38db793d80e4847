"""A likely duplicate tells a sales rep that the customer is already someone's — the candidate's
id, name, owner's name and the keys that matched — and nothing more of a record they may not
see (issue 18 §7): no code, tax id, e-mail, phone, address or owner id; nothing is written."""

from __future__ import annotations

import datetime as dt

import pytest
from crm_common.errors import Conflict
from customers import models as m
from sqlalchemy import insert


def add_user(db, user_id: int, full_name: str | None) -> None:
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as uow:
        uow.session.execute(
            insert(m.users).values(
                id=user_id, username=f"user{user_id}", full_name=full_name, roles=["sales_rep"], active=True,
                is_department_head=False, event_at=now, updated_at=now,
            )
        )  # fmt: skip


def test_a_rep_learns_whose_the_duplicate_is_and_nothing_else(db, service, make_caller, count):
    add_user(db, 21, "Ayşe Demir")
    add_user(db, 22, None)

    def owner():  # one worker (one request id) per call
        return service(make_caller("sales_rep", user_id=21))

    def rep():
        return service(make_caller("sales_rep", user_id=22))

    theirs = owner().create_customer(
        {
            "name": "Karadeniz Lojistik",
            "kind": "company",
            "tax_id": "TR-9081726354",
            "email": "muhasebe@karadeniz.example",
            "phone": "+90 462 555 0199",
            "address": "Gizli Sokak 7, Trabzon",
            "notes": "private notes of the owner",
        }
    )
    before = count(m.customers)
    with pytest.raises(Conflict) as err:
        rep().create_customer(
            {"name": "Other name", "kind": "company", "email": "MUHASEBE@karadeniz.example"}
        )
    (candidate,) = err.value.details["candidates"]
    assert set(candidate) - {"archived"} == {"id", "name", "owner_name", "reasons"}
    assert (candidate["id"], candidate["name"], candidate["owner_name"], candidate["reasons"]) == (
        theirs["id"],
        "Karadeniz Lojistik",
        "Ayşe Demir",
        ["email"],
    )
    shown = repr(err.value.details) + str(err.value)
    for secret in (theirs["code"], "9081726354", "0199", "Gizli", "private notes", "muhasebe"):
        assert secret not in shown, secret
    assert count(m.customers) == before

    # an owner without a full name: the username
    mine = rep().create_customer({"name": "Rep Two Own", "kind": "company"})
    with pytest.raises(Conflict) as err:
        owner().create_customer({"name": "REP TWO OWN", "kind": "company"})
    assert err.value.details["candidates"][0]["owner_name"] == "user22"
    assert err.value.details["candidates"][0]["id"] == mine["id"]
    assert count(m.customers) == before + 1
