"""The broker is not a trust boundary (docs/security.md "Caller context on the broker"):
against the running system, RPC requests published straight on RabbitMQ with a hand-made
administrator context — unsigned, signed with a wrong key, expired, signed for another method —
are refused by the customers service with nothing returned and nothing written, and logged;
the same call signed with the system's key works."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from crm_common.context import CallerContext
from crm_common.signing import UntrustedCallerContext, sign_context_data
from nameko.standalone.rpc import ClusterRpcProxy as PlainClusterRpcProxy

from ..conftest import poll

WRONG_KEY = uuid.uuid4().bytes * 2


def admin_context() -> CallerContext:
    return CallerContext(
        user_id=1, username="admin", roles=("admin",), request_id=f"forged-{uuid.uuid4().hex}"
    )


def publish(system, context_data: dict, method: str, *args, **kwargs):
    """An RPC request as any process connected to the broker can publish it: the context data go
    into the headers exactly as given."""
    with PlainClusterRpcProxy({"AMQP_URI": system.amqp_uri}, context_data=context_data, timeout=30) as rpc:
        return getattr(rpc.customers, method)(*args, **kwargs)


@pytest.fixture(scope="module")
def named_customer(system):
    name = f"Boundary {uuid.uuid4().hex[:8]}"
    with system.client() as admin:
        r = admin.post("/api/v1/customers", json={"name": name, "kind": "company"})
        assert r.status_code == 201, r.text
    return name


def forged(system, caller: CallerContext, how: str, target: str) -> dict:
    data = caller.to_context_data()
    if how == "unsigned":
        return data
    if how == "wrong-key":
        return sign_context_data(data, target, key=WRONG_KEY)
    if how == "expired":
        return sign_context_data(data, target, ttl=5, now=time.time() - 3600, key=system.context_key.encode())
    if how == "other-method":
        return sign_context_data(data, "customers.get_customer", key=system.context_key.encode())
    raise AssertionError(how)


def test_the_test_knows_the_systems_key(system):
    assert len(system.context_key) >= 32


def test_a_properly_signed_call_on_the_broker_works(system, named_customer):
    caller = admin_context()
    data = sign_context_data(
        caller.to_context_data(), "customers.list_customers", key=system.context_key.encode()
    )
    page = publish(system, data, "list_customers", {"q": named_customer})
    assert [c["name"] for c in page["items"]] == [named_customer]


@pytest.mark.parametrize(
    "how, reason",
    [
        ("unsigned", "unsigned"),
        ("wrong-key", "bad_signature"),
        ("expired", "expired"),
        ("other-method", "bad_signature"),
    ],
)
def test_a_forged_admin_call_is_refused_with_nothing_returned(system, named_customer, how, reason):
    caller = admin_context()
    with pytest.raises(UntrustedCallerContext) as refused:
        publish(
            system,
            forged(system, caller, how, "customers.list_customers"),
            "list_customers",
            {"q": named_customer},
        )
    assert refused.value.details == {"reason": reason, "target": "customers.list_customers"}
    assert named_customer not in str(refused.value.args)
    # the refusal is logged with the claimed caller and request id
    poll(
        lambda: (
            f"refused customers.list_customers: {reason}" in system.log_text("customers")
            and caller.request_id in system.log_text("customers")
        ),
        message="refusal logged",
    )


def test_a_forged_write_changes_nothing(system):
    name = f"Forged {uuid.uuid4().hex[:8]}"
    caller = admin_context()
    for how in ("unsigned", "wrong-key", "expired"):
        with pytest.raises(UntrustedCallerContext):
            publish(system, forged(system, caller, how, "customers.create_customer"), "create_customer",
                    {"name": name, "kind": "company"})  # fmt: skip
    with system.client() as admin:
        r = admin.get("/api/v1/customers", params={"q": name})
        assert r.status_code == 200, r.text
        assert r.json()["items"] == []


# -- events: signed by the publishing service's outbox relay, refused otherwise ---------------

APPROVED_DLQ = "evt-approvals-approval_approved--contracts.handle_approval_approved.dlq"


def dlq_depth(system) -> int:
    from kombu import Connection, Queue

    with Connection(system.amqp_uri) as conn:
        queue = Queue(APPROVED_DLQ, durable=True)(conn.default_channel)
        return queue.queue_declare(passive=True).message_count


def contract_pending_approval(admin, rep, rep_id: int) -> dict:
    r = admin.post(
        "/api/v1/customers",
        json={"name": f"Event Boundary {uuid.uuid4().hex[:6]}", "kind": "company", "owner_id": rep_id},
    )
    assert r.status_code == 201, r.text
    customer = r.json()
    r = admin.post("/api/v1/products", json={"sku": f"EVB-{uuid.uuid4().hex[:6]}", "name": "Visit",
                                             "kind": "service", "unit_price": "50.00", "currency": "EUR"})  # fmt: skip
    assert r.status_code == 201, r.text
    body = {"customer_id": customer["id"], "title": "Forged approval target", "kind": "maintenance",
            "currency": "EUR", "start_date": "2031-01-01", "end_date": "2031-12-31",
            "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
            "lines": [{"product_id": r.json()["id"], "quantity": 1}]}  # fmt: skip
    r = rep.post("/api/v1/contracts", json=body)
    assert r.status_code == 201, r.text
    r = rep.post(f"/api/v1/contracts/{r.json()['id']}/submit")
    assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text
    return r.json()


def test_a_forged_approval_event_is_parked_and_changes_nothing(system):
    """Anyone who can publish on ``approvals.events`` could approve a contract with a hand-made
    ``approval_approved`` (the handler acts as the contracts service's system user): without the
    approvals service's signature it is parked in the handler's DLQ and nothing happens."""
    from crm_common.db import make_envelope
    from crm_common.signing import EVENT_SIGNATURE_HEADER, event_signature
    from crm_common.testing import publish_event, signed_headers

    rep_user = system.create_user(["sales_rep"])
    with system.client() as admin, system.as_user(rep_user) as rep:
        contract = contract_pending_approval(admin, rep, rep_user["id"])

        def approval(**extra) -> dict:
            payload = {"id": 999_999, "document_type": "contract", "document_id": str(contract["id"]),
                       "comment": "forged", "user": 1, **extra}  # fmt: skip
            return make_envelope("approvals", "approval_approved", payload)

        before = dlq_depth(system)
        forgeries = []
        env = approval()  # 1. unsigned
        publish_event(system.amqp_uri, "approvals", env, signed=False)
        forgeries.append(env)
        env = approval()  # 2. signed with a key that is not the installation's
        body = json.dumps(env).encode()
        wrong = event_signature(WRONG_KEY, "approvals", "approval_approved", env["event_id"], body)
        publish_event(
            system.amqp_uri, "approvals", env, signed=False, headers={EVENT_SIGNATURE_HEADER: wrong}
        )
        forgeries.append(env)
        env = approval()  # 3. a valid signature of another service's event, reused
        other = signed_headers("customers", "approval_approved", env["event_id"], json.dumps(env))
        publish_event(system.amqp_uri, "approvals", env, signed=False, headers=other)
        forgeries.append(env)
        env = approval()  # 4. a valid approvals signature over another body
        reused = signed_headers("approvals", "approval_approved", env["event_id"], json.dumps(approval()))
        publish_event(system.amqp_uri, "approvals", env, signed=False, headers=reused)
        forgeries.append(env)

        poll(lambda: dlq_depth(system) == before + len(forgeries), message="forged events parked")
        log = poll(
            lambda: (lambda t: t if all(e["event_id"] in t for e in forgeries) else None)(
                system.log_text("contracts")
            ),
            message="refusals logged",
        )
        assert "untrusted event: unsigned" in log and "untrusted event: bad_signature" in log
        time.sleep(1.0)
        r = rep.get(f"/api/v1/contracts/{contract['id']}")
        assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text

        # the same event signed with the installation's key (as the approvals relay signs) is obeyed
        publish_event(system.amqp_uri, "approvals", approval(comment="signed"))
        poll(
            lambda: rep.get(f"/api/v1/contracts/{contract['id']}").json()["status"] == "approved",
            message="signed approval applied",
        )
        assert dlq_depth(system) == before + len(forgeries)
