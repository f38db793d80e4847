"""Signed caller contexts (crm_common.signing): signing, verification, expiry, tampering, key
rotation, the start check; and on a real broker, a service refusing forged calls before any
worker runs while signed calls (and the calls a service makes itself) go through."""

import json
import os
import stat
import time
import uuid

import pytest
from crm_common import signing
from crm_common.context import CallerContext
from crm_common.db import DatabaseHandle, make_envelope
from crm_common.errors import PermissionDenied
from crm_common.metrics import Metrics
from crm_common.outbox import event_exchange
from crm_common.rpc import ClusterRpcProxy
from crm_common.signing import (
    ContextKeyError,
    ContextKeys,
    UntrustedCallerContext,
    check_context_key,
    context_keys,
    context_problem,
    sign_context_data,
)
from crm_common.testing import signed_headers
from kombu import Connection
from nameko.standalone.rpc import ClusterRpcProxy as UnsigningClusterRpcProxy
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import func, select

from .sample_service import SampleService, items, metadata

KEY = b"k" * 8 + bytes(range(40))
OTHER = bytes(range(48))
ADMIN = CallerContext(user_id=1, username="admin", roles=("admin",), request_id="req-1")
TARGET = "customers.list_customers"


def keys(current=KEY, previous=None):
    return ContextKeys(current, previous, "test")


def signed(caller=ADMIN, target=TARGET, **kw):
    kw.setdefault("key", KEY)
    return sign_context_data(caller.to_context_data(), target, **kw)


# -- signing and verifying -------------------------------------------------------------------


def test_a_signed_context_verifies_for_its_target():
    data = signed()
    assert set(data) == {"caller", "request_id", "caller_sig", "caller_expires"}
    assert context_problem(data, TARGET, keys=keys()) is None


def test_a_context_without_caller_is_anonymous_and_needs_no_signature():
    assert sign_context_data({"request_id": "r"}, TARGET, key=KEY) == {"request_id": "r"}
    assert context_problem({}, TARGET, keys=keys()) is None
    assert context_problem({"request_id": "r"}, TARGET, keys=keys()) is None
    assert not CallerContext.from_context_data({"request_id": "r"}).authenticated


def test_an_unsigned_caller_context_is_refused():
    assert context_problem(ADMIN.to_context_data(), TARGET, keys=keys()) == "unsigned"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d.update(caller=d["caller"].replace("admin", "root", 1)), id="caller"),
        pytest.param(
            lambda d: d.update(caller=d["caller"].replace('"roles":["admin"]', '"roles":["finance"]')),
            id="roles",
        ),  # fmt: skip
        pytest.param(lambda d: d.update(request_id="req-2"), id="request_id"),
        pytest.param(lambda d: d.pop("request_id"), id="request_id_removed"),
        pytest.param(lambda d: d.update(caller_expires=str(int(d["caller_expires"]) + 3600)), id="expiry"),
        pytest.param(lambda d: d.update(caller_sig="0" * 64), id="signature"),
    ],
)
def test_an_altered_context_is_refused(change):
    data = signed()
    change(data)
    assert context_problem(data, TARGET, keys=keys()) == "bad_signature"


def test_a_signature_names_its_target_method():
    data = signed(target="customers.get_customer")
    assert context_problem(data, "customers.get_customer", keys=keys()) is None
    assert context_problem(data, TARGET, keys=keys()) == "bad_signature"
    assert context_problem(data, "billing.get_customer", keys=keys()) == "bad_signature"


def test_resigning_for_another_target_replaces_the_signature():
    first = signed(target="contracts.create_contract")
    again = sign_context_data(first, TARGET, key=KEY)
    assert again["caller_sig"] != first["caller_sig"]
    assert context_problem(again, TARGET, keys=keys()) is None


def test_a_context_signed_with_another_key_is_refused():
    assert context_problem(signed(key=OTHER), TARGET, keys=keys()) == "bad_signature"


@pytest.mark.parametrize(
    "sig, expires",
    [("nothex", "1"), ("a" * 64, "soon"), (None, "1"), ("a" * 64, None), ("a" * 63, "1")],
)
def test_a_malformed_signature_is_refused(sig, expires):
    data = ADMIN.to_context_data()
    for key, value in (("caller_sig", sig), ("caller_expires", expires)):
        if value is not None:
            data[key] = value
    assert context_problem(data, TARGET, keys=keys()) == "malformed"


def test_a_caller_that_is_not_a_string_is_refused():
    data = signed()
    data["caller"] = {"roles": ["admin"]}  # an AMQP header table, which from_context_data reads
    assert context_problem(data, TARGET, keys=keys()) == "malformed"


def test_expiry_allows_a_small_clock_skew(monkeypatch):
    monkeypatch.setenv("CRM_CONTEXT_CLOCK_SKEW_SECONDS", "30")
    now = 1_700_000_000.0
    data = signed(ttl=10, now=now)
    assert data["caller_expires"] == str(int(now) + 10)
    assert context_problem(data, TARGET, now=now + 5, keys=keys()) is None
    assert context_problem(data, TARGET, now=now + 10 + 29, keys=keys()) is None
    assert context_problem(data, TARGET, now=now + 10 + 31, keys=keys()) == "expired"


def test_the_default_lifetime_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CRM_CONTEXT_TTL_SECONDS", "5")
    now = 1_700_000_000.0
    assert signed(now=now)["caller_expires"] == str(int(now) + 5)


def test_rotation_accepts_the_previous_key_for_verification_only(monkeypatch):
    old, new = OTHER.hex(), KEY.hex()
    monkeypatch.setenv("CRM_CONTEXT_KEY", old)
    monkeypatch.delenv("CRM_CONTEXT_KEY_PREVIOUS", raising=False)
    by_old = sign_context_data(ADMIN.to_context_data(), TARGET)
    # step 1: every process gets the new key, the old one as previous
    monkeypatch.setenv("CRM_CONTEXT_KEY", new)
    monkeypatch.setenv("CRM_CONTEXT_KEY_PREVIOUS", old)
    by_new = sign_context_data(ADMIN.to_context_data(), TARGET)
    assert context_keys().current == new.encode()
    assert context_problem(by_old, TARGET) is None  # a process not yet restarted
    assert context_problem(by_new, TARGET) is None
    # step 2: the previous key is removed: what it signed is refused
    monkeypatch.delenv("CRM_CONTEXT_KEY_PREVIOUS")
    assert context_problem(by_old, TARGET) == "bad_signature"
    assert context_problem(by_new, TARGET) is None


# -- the key and the start check -------------------------------------------------------------


GOOD = uuid.uuid4().hex + uuid.uuid4().hex


@pytest.fixture
def production(monkeypatch):
    monkeypatch.setenv("CRM_ENV", "production")
    monkeypatch.delenv("CRM_CONTEXT_KEY_PREVIOUS", raising=False)
    return monkeypatch


def test_production_refuses_to_start_without_a_key(production):
    production.delenv("CRM_CONTEXT_KEY")
    with pytest.raises(ContextKeyError, match="CRM_CONTEXT_KEY is not set"):
        check_context_key("customers")
    with pytest.raises(ContextKeyError):
        context_keys()


@pytest.mark.parametrize(
    "value, reason",
    [
        ("0123456789abcdef", "shorter than 32 bytes"),
        ("change-me-context-key-change-me-context-key", "placeholder"),
        ("a" * 64, "placeholder"),  # (.)\1{7}: a run of one character
        ("abcdefghijklmnopqrstuvwxyzabcdefghijklmnop", "entropy"),
    ],
)
def test_production_refuses_weak_or_published_keys(production, value, reason):
    production.setenv("CRM_CONTEXT_KEY", value)
    with pytest.raises(ContextKeyError, match=reason):
        check_context_key("customers")


def test_production_refuses_a_weak_previous_key(production):
    production.setenv("CRM_CONTEXT_KEY", GOOD)
    production.setenv("CRM_CONTEXT_KEY_PREVIOUS", "short")
    with pytest.raises(ContextKeyError, match="CRM_CONTEXT_KEY_PREVIOUS"):
        check_context_key()


def test_production_starts_with_a_random_key(production):
    production.setenv("CRM_CONTEXT_KEY", GOOD)
    assert check_context_key("customers").current == GOOD.encode()


def test_development_without_a_key_uses_the_installations_key_file(monkeypatch, tmp_path):
    monkeypatch.delenv("CRM_ENV", raising=False)
    monkeypatch.delenv("CRM_CONTEXT_KEY")
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    first = check_context_key("customers")
    path = tmp_path / "context-key"
    assert first.source == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.current) == 64
    signing._cache.clear()  # a new process: reads the same file
    assert context_keys().current == first.current == path.read_text().strip().encode()


def test_the_start_check_runs_when_a_service_starts(container_factory, production, tmp_path):
    production.delenv("CRM_CONTEXT_KEY")
    container = container_factory(SampleService, {"AMQP_URI": "memory://", "DATABASE_URL": "sqlite://"})
    with pytest.raises(ContextKeyError):
        container.start()


# -- on a real broker --------------------------------------------------------------------------


@pytest.fixture
def sample(container_factory, vhost_uri_fresh, sqlite_url):
    handle = DatabaseHandle("sample", metadata, sqlite_url)
    handle.create_all()
    container = container_factory(SampleService, {"AMQP_URI": vhost_uri_fresh, "DATABASE_URL": sqlite_url})
    container.start()

    class Sample:
        amqp_uri = vhost_uri_fresh
        db = handle
        service_container = container

        @staticmethod
        def refused(method: str, reason: str) -> float:
            (metrics,) = [d for d in container.extensions if isinstance(d, Metrics)]
            counter = metrics.registry._metrics.get("crm_rpc_untrusted_context_total")
            return counter.value("sample", method, reason) if counter else 0.0

        @staticmethod
        def item_count() -> int:
            with handle.read() as s:
                return s.execute(select(func.count()).select_from(items)).scalar()

    return Sample


def forged_call(amqp_uri: str, context_data: dict, method: str = "create_item"):
    """A call published as anyone on the broker can: the context data go out as given."""
    with UnsigningClusterRpcProxy({"AMQP_URI": amqp_uri}, context_data=context_data, timeout=20) as rpc:
        return getattr(rpc.sample, method)("forged")


def test_signed_calls_and_the_calls_a_service_makes_itself_go_through(sample):
    caller = CallerContext(user_id=42, username="rep", roles=("sales_rep",), request_id="req-9")
    with ClusterRpcProxy({"AMQP_URI": sample.amqp_uri}, context_data=caller.to_context_data()) as rpc:
        assert rpc.sample.whoami()["roles"] == ["sales_rep"]
        # the service re-signs the propagated context for the method it calls
        assert rpc.sample.whoami_via_proxy() == {"user_id": 42, "roles": ["sales_rep"], "request_id": "req-9"}
        assert rpc.sample.create_item("real") >= 1
    assert sample.item_count() == 1


@pytest.mark.parametrize(
    "make, reason",
    [
        pytest.param(lambda: ADMIN.to_context_data(), "unsigned", id="unsigned"),
        pytest.param(
            lambda: sign_context_data(ADMIN.to_context_data(), "sample.create_item", key=OTHER),
            "bad_signature",
            id="wrong-key",
        ),  # fmt: skip
        pytest.param(
            lambda: sign_context_data(ADMIN.to_context_data(), "sample.whoami"),
            "bad_signature",
            id="signed-for-another-method",
        ),  # fmt: skip
        pytest.param(
            lambda: sign_context_data(
                ADMIN.to_context_data(), "sample.create_item", ttl=1, now=time.time() - 600
            ),
            "expired",
            id="expired",
        ),  # fmt: skip
    ],
)
def test_a_forged_call_on_the_broker_is_refused_before_any_worker_runs(sample, make, reason):
    with pytest.raises(UntrustedCallerContext) as refused:
        forged_call(sample.amqp_uri, make())
    assert isinstance(refused.value, PermissionDenied)
    assert refused.value.details == {"reason": reason, "target": "sample.create_item"}
    assert sample.item_count() == 0  # nothing ran
    assert sample.refused("create_item", reason) == 1


def test_an_anonymous_call_runs_as_nobody(sample):
    with UnsigningClusterRpcProxy({"AMQP_URI": sample.amqp_uri}, timeout=20) as rpc:
        assert rpc.sample.whoami() == {"user_id": None, "roles": [], "request_id": None}


def test_the_test_process_has_a_key():
    assert len(os.environ["CRM_CONTEXT_KEY"]) >= 32


def test_an_event_handler_never_acts_with_a_caller_from_the_message(sample):
    """A handler's worker runs as the service's own system caller, whatever caller context the
    headers of a (validly signed) event claim."""
    envelope = make_envelope("sample", "item_created", {"id": 1, "name": "x"}, request_id="req-evt")
    forged = CallerContext(user_id=1, username="admin", roles=("admin",), request_id="forged")
    seen_by_worker = []

    def record(worker_ctx, result, exc_info):
        seen_by_worker.append(dict(worker_ctx.context_data))
        return True

    with entrypoint_waiter(sample.service_container, "handle_item_created", callback=record, timeout=20):
        with Connection(sample.amqp_uri) as conn:
            conn.Producer().publish(
                json.dumps(envelope),
                exchange=event_exchange("sample"),
                routing_key="item_created",
                content_type="application/json",
                headers={
                    **signed_headers("sample", "item_created", envelope["event_id"], json.dumps(envelope)),
                    **{f"nameko.{k}": v for k, v in signed(forged, "sample.handle_item_created").items()},
                },
            )
    (data,) = seen_by_worker
    caller = CallerContext.from_context_data(data)
    assert caller.roles == ("system",) and caller.username == "system:sample" and caller.user_id is None
    assert caller.request_id == "req-evt"  # the event's own, from its envelope
