"""Creates in flight while the service doing them is killed: exactly one record per request.

Nameko acknowledges an RPC message after sending the reply, so a service killed between its
commit and that acknowledgement gets the request again from RabbitMQ when it comes back; and
the client, having seen a 504 or nothing, sends it again. Clients here create contracts and
record payments without pause, each request with an ``Idempotency-Key`` of its own, retried
with the same key until it gets its 201; the contracts service and billing are killed with
``kill -9`` in turn meanwhile. Afterwards every request has exactly one record, the one its
201 named; a replay of a finished request returns the same record, and its key with another
body is refused (422).
"""

from __future__ import annotations

import threading
import time
import uuid

from .conftest import FULL
from .harness import Api, Record, token

DOWNTIME = 3.0
CLIENTS = 4
RETRY_FOR = 120.0  # seconds a client keeps retrying one request


class Creates:
    def __init__(self, faulty):
        base = faulty.base_url
        self.record = Record()
        self.api = Api(base, token(base, "admin", faulty.admin_password), self.record)
        self.tag = f"idem-{uuid.uuid4().hex[:6]}"
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.done: dict[str, tuple[str, dict, int]] = {}  # key → (kind, body, id of its 201)
        self.errors: list[str] = []
        self.retried = 0
        r = self.api.request(
            "POST", "/api/v1/customers", json={"name": f"Idempotency GmbH {self.tag}", "kind": "company"}
        )
        assert r is not None and r.status_code == 201, r.text if r is not None else "no answer"
        self.customer_id = r.json()["id"]
        r = self.api.request(
            "POST",
            "/api/v1/products",
            json={"sku": f"IDM-{uuid.uuid4().hex[:8]}", "name": "Inspection", "kind": "service",
                  "unit_price": "80.00", "currency": "EUR"},
        )  # fmt: skip
        assert r is not None and r.status_code == 201, r.text if r is not None else "no answer"
        self.product_id = r.json()["id"]

    def body(self, kind: str, n: str) -> dict:
        if kind == "contract":
            return {
                "customer_id": self.customer_id, "title": f"Idempotent {self.tag} {n}", "kind": "maintenance",
                "currency": "EUR", "start_date": "2031-03-01", "end_date": "2032-02-29",
                "billing": {"frequency": "once", "in_advance": True, "payment_terms_days": 30},
                "lines": [{"product_id": self.product_id, "quantity": 1}],
            }  # fmt: skip
        return {
            "customer_id": self.customer_id, "amount": "10.00", "currency": "EUR", "method": "bank_transfer",
            "received_at": "2031-03-02T10:00:00Z", "reference": f"{self.tag}-{n}",
        }  # fmt: skip

    @staticmethod
    def path(kind: str) -> str:
        return "/api/v1/contracts" if kind == "contract" else "/api/v1/payments"

    def send(self, kind: str, key: str, body: dict):
        return self.api.request("POST", self.path(kind), json=body, headers={"Idempotency-Key": key})

    def client(self, c: int) -> None:
        i = 0
        while not self.stop.is_set():
            kind = "contract" if (i + c) % 2 == 0 else "payment"
            n = f"{c}-{i:04d}"
            key = f"{self.tag}-{n}"
            body = self.body(kind, n)
            deadline = time.monotonic() + RETRY_FOR
            tries = 0
            while True:
                tries += 1
                r = self.send(kind, key, body)
                if r is not None and r.status_code == 201:
                    with self.lock:
                        self.done[key] = (kind, body, r.json()["id"])
                        self.retried += tries > 1
                    break
                status = None if r is None else r.status_code
                if status not in (None, 502, 503, 504) or time.monotonic() > deadline:
                    with self.lock:
                        self.errors.append(f"{kind} {key}: {status} {r.text[:300] if r is not None else ''}")
                    break
                time.sleep(0.3)
            i += 1

    def listed(self, kind: str) -> list[dict]:
        items, page = [], 1
        while True:
            params = {"customer_id": self.customer_id, "page": page, "page_size": 500}
            for _ in range(60):
                r = self.api.request("GET", self.path(kind), params=params)
                if r is not None and r.status_code == 200:
                    break
                time.sleep(1)
            assert r is not None and r.status_code == 200, r.text if r is not None else "no answer"
            data = r.json()
            items += data["items"]
            if page * 500 >= data["total"]:
                return items
            page += 1


def replayed(cluster) -> dict[str, int]:
    return {name: cluster.log_text(name).count("replayed create_contract" if name == "contracts" else "replayed record_payment")
            for name in ("contracts", "billing")}  # fmt: skip


def test_kill_9_with_creates_in_flight_leaves_one_record_per_request(faulty, figures):
    cluster = faulty.cluster
    creates = Creates(faulty)
    threads = [threading.Thread(target=creates.client, args=(c,), daemon=True) for c in range(CLIENTS)]
    try:
        for t in threads:
            t.start()
        for name in (
            ("contracts", "billing") if not FULL else ("contracts", "billing", "contracts", "billing")
        ):
            time.sleep(2.0)
            cluster.kill(name)
            time.sleep(DOWNTIME)
            cluster.start(name)
        assert cluster.wait_ready(180), cluster.log_tail()
        time.sleep(2.0)
    finally:
        creates.stop.set()
        for t in threads:
            t.join(RETRY_FOR + 60)
    figures.update(
        requests=len(creates.done),
        retried=creates.retried,
        answers=len(creates.record.answers),
        # calls a service answered from its idempotency record instead of running them again
        replayed_mid_faults=replayed(cluster),
    )
    assert creates.errors == [], creates.errors[:10]
    assert len(creates.done) >= 20, creates.done

    contracts: dict[str, list[int]] = {}
    for c in creates.listed("contract"):
        contracts.setdefault(c["title"], []).append(c["id"])
    payments: dict[str, list[int]] = {}
    for p in creates.listed("payment"):
        payments.setdefault(p["reference"], []).append(p["id"])
    for key, (kind, body, got) in creates.done.items():
        stored = (
            contracts.get(body.get("title")) if kind == "contract" else payments.get(body.get("reference"))
        )
        assert stored == [got], (kind, key, stored, got)
    n_contracts = sum(1 for k, _, _ in creates.done.values() if k == "contract")
    assert sum(len(v) for v in contracts.values()) == n_contracts
    assert sum(len(v) for v in payments.values()) == len(creates.done) - n_contracts

    # a finished request sent again: the same record, nothing new; its key with another body: 422
    for kind in ("contract", "payment"):
        key, (_, body, got) = next((k, v) for k, v in creates.done.items() if v[0] == kind)
        r = creates.send(kind, key, body)
        assert r is not None and r.status_code == 201 and r.json()["id"] == got, r.text if r else None
        other = {**body, "title": "something else"} if kind == "contract" else {**body, "amount": "11.00"}
        r = creates.send(kind, key, other)
        assert r is not None and r.status_code == 422, r.text if r else None
        assert "idempotency_key" in r.json()["error"]["details"], r.text
    after = replayed(cluster)
    assert all(after[name] > figures["replayed_mid_faults"][name] for name in after), after
    assert len(creates.listed("contract")) == n_contracts
    assert len(creates.listed("payment")) == len(creates.done) - n_contracts
    bad = creates.record.bad()
    assert bad == [], bad[:10]
    assert all(cluster.alive().values()), cluster.alive()
