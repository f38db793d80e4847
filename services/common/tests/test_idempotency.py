"""Idempotent RPC methods (``crm_common.idempotency``): a call carried out again under the same
request id returns the first result and writes nothing more, on SQLite and PostgreSQL."""

import datetime as dt
import os
import sys

import pytest
from crm_common import idempotency
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, WorkerDatabase, service_metadata
from crm_common.errors import Conflict, ValidationFailed
from crm_common.idempotency import idempotent, purge, reload_entity
from nameko.exceptions import IncorrectSignature
from sqlalchemy import Column, Integer, String, Table, func, insert, inspect, select

metadata, infra = service_metadata()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
)
SERVICES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class Service:
    """The shape of a CRM service as the decorator sees it: ``self.db`` a worker database."""

    def __init__(self, handle: DatabaseHandle, request_id: str | None, user_id: int = 7):
        caller = CallerContext(user_id=user_id, username="u", roles=("admin",), request_id=request_id)
        self.db = WorkerDatabase(handle, caller, None, rpc_call=True)
        self.runs = 0
        self.fail_after_commit = False

    @idempotent(reload=reload_entity("thing", "get_thing"))
    def create_thing(self, data):
        self.runs += 1
        if not data.get("name"):
            raise ValidationFailed.field("name", "required")
        with self.db.transaction() as uow:
            new_id = uow.session.execute(
                insert(things).returning(things.c.id), {"name": data["name"]}
            ).scalar_one()
            uow.audit("thing", new_id, "create")
        if self.fail_after_commit:
            raise RuntimeError("killed between the commit and the reply")
        return {"id": new_id, "name": data["name"], "run": self.runs}

    @idempotent
    def create_plain(self, data):
        self.runs += 1
        with self.db.transaction() as uow:
            new_id = uow.session.execute(
                insert(things).returning(things.c.id), {"name": data["name"]}
            ).scalar_one()
        if self.fail_after_commit:
            raise RuntimeError("killed between the commit and the reply")
        return {"id": new_id}

    @idempotent(reload=reload_entity("thing", "get_thing"))
    def create_unique(self, data):
        self.runs += 1
        with self.db.transaction() as uow:
            if uow.session.execute(select(things.c.id).where(things.c.name == data["name"])).first():
                raise Conflict("Likely duplicate", {"name": data["name"]})
            new_id = uow.session.execute(
                insert(things).returning(things.c.id), {"name": data["name"]}
            ).scalar_one()
            uow.audit("thing", new_id, "create")
        return {"id": new_id, "name": data["name"], "run": self.runs}

    def get_thing(self, thing_id):
        with self.db.read() as s:
            row = s.execute(select(things).where(things.c.id == thing_id)).mappings().one()
            return {"id": row["id"], "name": row["name"], "run": "reloaded"}


@pytest.fixture
def handle(any_db_url):
    db = DatabaseHandle("test", metadata, any_db_url)
    db.create_all()
    yield db
    metadata.drop_all(db.engine)
    db.dispose()


def count(handle, table) -> int:
    with handle.read() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_replay_returns_the_first_result_and_writes_nothing(handle):
    first = Service(handle, "ik-1").create_thing({"name": "Åsa"})
    again = Service(handle, "ik-1")
    assert again.create_thing({"name": "Åsa"}) == first
    assert again.runs == 0
    assert count(handle, things) == 1
    assert count(handle, infra.idempotency_keys) == 1
    assert count(handle, infra.audit_log) == 1
    # another request id is another request
    other = Service(handle, "ik-2").create_thing({"name": "Åsa"})
    assert other["id"] != first["id"]
    assert count(handle, things) == 2


def test_the_record_commits_with_the_effect_and_holds_the_result(handle):
    Service(handle, "ik-9").create_thing({"name": "x"})
    with handle.read() as s:
        row = s.execute(select(infra.idempotency_keys)).mappings().one()
    assert (row["key"], row["method"]) == ("ik-9", "create_thing")
    assert row["fingerprint"] == idempotency.fingerprint("user:7", ({"name": "x"},), {})
    assert row["effect"] == [["thing", "1", "create"]]
    assert '"name":"x"' in row["result_json"]


def test_same_key_with_other_arguments_or_caller_is_refused(handle):
    Service(handle, "ik-1").create_thing({"name": "one"})
    with pytest.raises(ValidationFailed) as err:
        Service(handle, "ik-1").create_thing({"name": "two"})
    assert "idempotency_key" in err.value.details
    with pytest.raises(ValidationFailed):
        Service(handle, "ik-1", user_id=8).create_thing({"name": "one"})
    assert count(handle, things) == 1


def test_without_a_request_id_every_call_runs(handle):
    s = Service(handle, None)
    s.create_thing({"name": "a"})
    s.create_thing({"name": "a"})
    assert count(handle, things) == 2
    assert count(handle, infra.idempotency_keys) == 0


def test_a_worker_database_made_by_hand_runs_every_call(handle):
    s = Service(handle, "ik-1")
    s.db = WorkerDatabase(handle, s.db.caller, None)  # not an RPC worker's (a test's, a script's)
    s.create_thing({"name": "a"})
    s.create_thing({"name": "a"})
    assert count(handle, things) == 2
    assert count(handle, infra.idempotency_keys) == 0


def test_a_plain_request_id_names_one_call_per_set_of_arguments(handle):
    """The gateway's own request id (no Idempotency-Key): a redelivery of the same call is
    answered from the record; other arguments under the same id are another call."""
    first = Service(handle, "trace-1").create_thing({"name": "a"})
    assert Service(handle, "trace-1").create_thing({"name": "a"}) == first
    other = Service(handle, "trace-1").create_thing({"name": "b"})
    assert other["id"] != first["id"]
    assert Service(handle, "trace-1", user_id=8).create_thing({"name": "a"})["id"] not in (
        first["id"],
        other["id"],
    )
    assert count(handle, things) == 3
    with handle.read() as s:
        keys = s.execute(select(infra.idempotency_keys.c.key)).scalars().all()
    assert len(set(keys)) == 3 and all(k.startswith("rq-") and len(k) == 43 for k in keys)


def test_a_refused_call_leaves_no_record_and_can_be_retried(handle):
    s = Service(handle, "ik-1")
    with pytest.raises(ValidationFailed):
        s.create_thing({"name": ""})
    assert count(handle, infra.idempotency_keys) == 0
    assert count(handle, things) == 0
    with pytest.raises(ValidationFailed):  # still refused: the same bad input runs again
        Service(handle, "ik-1").create_thing({"name": ""})


def test_a_call_that_died_after_its_commit_is_not_repeated(handle, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_WITH_RELOAD", 0.05)
    monkeypatch.setattr(idempotency, "WAIT_WITHOUT_RELOAD", 0.05)
    dying = Service(handle, "ik-1")
    dying.fail_after_commit = True
    with pytest.raises(RuntimeError):
        dying.create_thing({"name": "Ørsted"})
    # the redelivery: the effect is there, the result was never stored; rebuilt from the record
    again = Service(handle, "ik-1")
    assert again.create_thing({"name": "Ørsted"}) == {"id": 1, "name": "Ørsted", "run": "reloaded"}
    assert again.runs == 0
    assert count(handle, things) == 1
    # a method without reload says it was done rather than doing it twice
    plain = Service(handle, "ik-2")
    plain.fail_after_commit = True
    with pytest.raises(RuntimeError):
        plain.create_plain({"name": "p"})
    with pytest.raises(Conflict):
        Service(handle, "ik-2").create_plain({"name": "p"})
    assert count(handle, things) == 2


def test_two_deliveries_at_once_commit_one_effect(handle, monkeypatch):
    """The second delivery looks before the first commits: its own commit conflicts on the
    record, rolls its effect back, and it answers with the first result."""
    first = Service(handle, "ik-1").create_thing({"name": "race"})
    real_find = idempotency.find
    looks = []

    def find_too_early(h, key, method):
        looks.append(key)
        return None if len(looks) == 1 else real_find(h, key, method)

    monkeypatch.setattr(idempotency, "find", find_too_early)
    late = Service(handle, "ik-1")
    assert late.create_thing({"name": "race"}) == first
    assert late.runs == 1  # it ran, and its effect rolled back
    assert count(handle, things) == 1
    assert count(handle, infra.audit_log) == 1


def test_a_second_delivery_refused_because_of_the_first_ones_effect_answers_its_result(handle, monkeypatch):
    """The second delivery runs before the first commits and its checks then see the first one's
    record ("duplicate"): it answers with the first result, not with the refusal."""
    first = Service(handle, "ik-1").create_unique({"name": "once"})
    real_find = idempotency.find
    looks = []

    def find_too_early(h, key, method):
        looks.append(key)
        return None if len(looks) == 1 else real_find(h, key, method)

    monkeypatch.setattr(idempotency, "find", find_too_early)
    late = Service(handle, "ik-1")
    assert late.create_unique({"name": "once"}) == first
    assert late.runs == 1
    # the same refusal for a request of its own stays a refusal
    with pytest.raises(Conflict):
        Service(handle, "ik-2").create_unique({"name": "once"})
    assert count(handle, things) == 1


def test_wrong_arguments_are_an_incorrect_signature(handle):
    with pytest.raises(IncorrectSignature):
        Service(handle, "ik-1").create_thing({"name": "a"}, "extra")


def test_purge_keeps_recent_records(handle):
    Service(handle, "ik-1").create_thing({"name": "a"})
    assert purge(handle, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=6)) == 0
    assert purge(handle, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=8)) == 1
    assert count(handle, infra.idempotency_keys) == 0
    assert count(handle, things) == 1


def test_each_service_migration_creates_the_table(tmp_path, monkeypatch):
    from alembic import command
    from alembic.config import Config

    # alembic.ini's ``prepend_sys_path = .`` would stay in sys.path for the later tests (and
    # the PDF pool's spawned workers would then import the repository's ``tests`` package)
    monkeypatch.setattr(sys, "path", list(sys.path))

    for service in ("customers", "contracts", "billing", "inventory", "approvals", "notify"):
        url = f"sqlite:///{tmp_path / service}.db"
        cfg = Config(os.path.join(SERVICES, service, "alembic.ini"))
        cfg.set_main_option("script_location", os.path.join(SERVICES, service, "migrations"))
        cfg.set_main_option("sqlalchemy.url", url)
        command.upgrade(cfg, "heads")
        db = DatabaseHandle(service, service_metadata()[0], url)
        columns = {c["name"] for c in inspect(db.engine).get_columns("idempotency_keys")}
        db.dispose()
        assert columns == {"key", "method", "fingerprint", "effect", "result_json", "created_at"}, service


def test_the_daily_run_purges_records_past_their_retention(handle, monkeypatch):
    from crm_common import daily

    monkeypatch.setenv("CRM_DAILY_AT", "00:00")
    monkeypatch.delenv("CRM_DAILY_DISABLED", raising=False)
    Service(handle, "ik-1").create_thing({"name": "a"})

    class Jobs:
        db = handle

        def daily_jobs(self, as_of):
            return {"done": 1}

    assert daily.run_daily_once(Jobs(), dt.date(2030, 1, 1)) == {"done": 1, "idempotency_keys_purged": 0}
    monkeypatch.setenv("CRM_IDEMPOTENCY_DAYS", "0")
    assert daily.run_daily_once(Jobs(), dt.date(2030, 1, 2)) == {"done": 1, "idempotency_keys_purged": 1}
    assert count(handle, infra.idempotency_keys) == 0
