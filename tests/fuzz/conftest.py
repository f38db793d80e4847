"""Fixtures of the API fuzzing suite: the real system (``system`` of tests/conftest.py: every
service and the gateway as processes on a throwaway vhost), a few realistic records so that
generated path ids sometimes name existing ones, and an admin bearer token.

Profiles (``FUZZ_PROFILE``):

* ``quick`` (``make test-fuzz``, CI): 6 examples per operation and generation mode, derandomized
  (the same requests every run), no coverage phase — about two minutes;
* ``long`` (``make fuzz``): 100 random examples per operation and mode plus schemathesis'
  coverage phase (boundary values of every field) — tens of minutes;
* ``extreme`` (``make fuzz-extreme``): 30 random examples per operation and mode whose dates,
  timestamps, decimals and texts are drawn from extreme values (year 1 and 9999, zones ±14:00,
  ``1E-999999``, amounts past 10^13, 2,000-character texts and unbroken words, NUL and
  right-to-left overrides): every one must be a documented 4xx or a 2xx, never a 5xx.

``FUZZ_MAX_EXAMPLES=<n>`` overrides the number of examples. ``FUZZ_BASE_URL`` and
``FUZZ_ADMIN_PASSWORD`` aim the suite at a system already running instead of starting one: a
DISPOSABLE one only, the fuzzer leaves thousands of junk records behind.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field, replace

import httpx
import pytest
from crm_common.testing import RunningSystem
from hypothesis import HealthCheck, settings

from ..conftest import System, poll


@dataclass(frozen=True)
class Profile:
    max_examples: int  # per operation, per generation mode (valid / invalid data)
    derandomize: bool  # the same examples every run (CI)
    coverage_phase: bool  # schemathesis' boundary values of every field (~50 requests per operation)
    timeout: int  # seconds per operation
    extreme: bool = False  # dates, decimals and texts drawn from extreme values (test_openapi.py)


PROFILES = {
    "quick": Profile(max_examples=6, derandomize=True, coverage_phase=False, timeout=300),
    "long": Profile(max_examples=100, derandomize=False, coverage_phase=True, timeout=3600),
    "extreme": Profile(max_examples=30, derandomize=False, coverage_phase=False, timeout=1800, extreme=True),
}
PROFILE_NAME = os.environ.get("FUZZ_PROFILE", "quick")
if PROFILE_NAME not in PROFILES:
    raise pytest.UsageError(f"FUZZ_PROFILE must be one of {sorted(PROFILES)}, not {PROFILE_NAME!r}")
PROFILE = PROFILES[PROFILE_NAME]
if os.environ.get("FUZZ_MAX_EXAMPLES"):  # e.g. a longer or shorter long run
    PROFILE = replace(PROFILE, max_examples=int(os.environ["FUZZ_MAX_EXAMPLES"]))

FUZZ_SETTINGS = settings(
    max_examples=PROFILE.max_examples,
    derandomize=PROFILE.derandomize,
    deadline=None,  # a shared CI machine: timing is not what this suite checks
    database=None,  # no .hypothesis directory left in the checkout
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)


def ok(r: httpx.Response, *status: int) -> dict:
    assert r.status_code in (status or (200, 201)), (
        r.request.method,
        str(r.request.url),
        r.status_code,
        r.text,
    )
    return r.json()


@dataclass
class Seeds:
    """Known values of path parameters (by parameter name) and the ids the fuzzer must not
    touch (its own users: disabling one or changing its roles would end the run)."""

    path_values: dict[str, list] = field(default_factory=dict)
    protected_user_ids: set[int] = field(default_factory=set)


def seed(system: System, admin: httpx.Client) -> Seeds:
    """A customer with a contact and a follow-up, a product, a warehouse, a draft and a
    submitted contract (so an approval request), a milestone, a draft and an issued invoice, a
    payment, a webhook, an opportunity, a price list, a purchase order, a contract template, a
    user the fuzzer may edit; multilingual names as in production."""
    tag = uuid.uuid4().hex[:6]
    values: dict[str, list] = {}

    def add(name: str, value) -> None:
        values.setdefault(name, []).append(value)

    customer = ok(admin.post("/api/v1/customers", json={"name": f"Бургас Инженеринг {tag} ООД", "kind": "company",
                                                         "language": "bg", "level": "A"}))  # fmt: skip
    add("customer_id", customer["id"])
    ok(admin.post(f"/api/v1/customers/{customer['id']}/contacts", json={"name": "Мария Иванова"}))
    ok(admin.post(f"/api/v1/customers/{customer['id']}/follow-ups",
                  json={"method": "call", "occurred_at": "2031-02-01T09:00:00Z", "result": "demo agreed"}))  # fmt: skip
    product = ok(admin.post("/api/v1/products", json={"sku": f"FZ-{tag}", "name": "保养服务", "kind": "service",
                                                      "unit_price": "120.00", "currency": "EUR"}))  # fmt: skip
    add("product_id", product["id"])
    add(
        "warehouse_id",
        ok(admin.post("/api/v1/warehouses", json={"code": f"WH-{tag}", "name": "İzmir depo"}))["id"],
    )

    body = {"customer_id": customer["id"], "title": "Maintenance 2031", "kind": "maintenance", "currency": "EUR",
            "start_date": "2031-01-01", "end_date": "2031-12-31",
            "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
            "lines": [{"product_id": product["id"], "quantity": 1}]}  # fmt: skip
    draft = ok(admin.post("/api/v1/contracts", json=body))
    add("contract_id", draft["id"])
    submitted = ok(admin.post("/api/v1/contracts", json={**body, "title": "Maintenance 2031 B"}))
    ok(admin.post(f"/api/v1/contracts/{submitted['id']}/submit"))
    add("contract_id", submitted["id"])
    milestone = ok(admin.post(f"/api/v1/contracts/{draft['id']}/milestones",
                              json={"name": "Installation", "planned_date": "2031-03-31"}))  # fmt: skip
    add("milestone_id", milestone["id"])

    def pending():
        r = admin.get("/api/v1/approvals", params={"status": "pending", "page_size": 100})
        return next((a for a in r.json()["items"] if str(a["document_id"]) == str(submitted["id"])), None)

    add("approval_id", poll(pending, message="approval request of the submitted contract")["id"])

    line = {"description": "Ремонт", "quantity": "1", "unit_price": "80.00", "tax_percent": "20"}
    for draft_flag in (True, False):
        invoice = ok(admin.post("/api/v1/invoices", json={"customer_id": customer["id"], "currency": "EUR",
                                                          "lines": [line], "draft": draft_flag}))  # fmt: skip
        add("invoice_id", invoice["id"])
    payment = ok(admin.post("/api/v1/payments", json={"customer_id": customer["id"], "amount": "10.00",
                                                      "currency": "EUR", "method": "bank_transfer",
                                                      "received_at": "2031-02-01T10:00:00Z"}))  # fmt: skip
    add("payment_id", payment["id"])
    add("webhook_id", ok(admin.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks", "events": ["*"],
                                                              "secret": "fuzz-secret-1"}))["id"])  # fmt: skip
    add("opportunity_id", ok(admin.post("/api/v1/opportunities", json={"customer_id": customer["id"],
                                                                       "title": "Yeni hat", "amount": "5000.00",
                                                                       "currency": "EUR"}))["id"])  # fmt: skip
    add("price_list_id", ok(admin.post("/api/v1/price-lists", json={"name": f"Dealers {tag}", "channel": "reseller",
                                                                    "currency": "EUR"}))["id"])  # fmt: skip
    add("purchase_order_id", ok(admin.post("/api/v1/purchase-orders",
                                           json={"product_id": product["id"], "quantity": 3}))["id"])  # fmt: skip
    add("template_id", ok(admin.post("/api/v1/contract-templates",
                                     json={"name": f"Service {tag}", "language": "en",
                                           "body": "The supplier maintains {{ devices }} devices.",
                                           "fields": [{"name": "devices", "type": "number", "required": True}]}))["id"])  # fmt: skip
    victim = system.create_user(["sales_rep"], full_name="Zhang Wei")
    add("user_id", victim["id"])
    values.update(event_type=["invoice_issued", "contract_approved"], key=["kind:service"], version=[1, 2],
                  a=[1], b=[2])  # fmt: skip
    me = ok(admin.get("/api/v1/users/me"))
    return Seeds(path_values=values, protected_user_ids={me["id"]})


@pytest.fixture(scope="session")
def fuzz_system(request) -> System:
    """The system under fuzzing: started for the session (``system``), or an already running
    DISPOSABLE one given by ``FUZZ_BASE_URL`` and ``FUZZ_ADMIN_PASSWORD`` (the fuzzer writes
    thousands of junk records into it)."""
    base_url = os.environ.get("FUZZ_BASE_URL")
    if not base_url:
        return request.getfixturevalue("system")
    running = RunningSystem(base_url.rstrip("/"), "", None, os.environ["FUZZ_ADMIN_PASSWORD"])
    return System(running)


@pytest.fixture(scope="session")
def fuzz_seeds(fuzz_system: System) -> Seeds:
    with fuzz_system.client() as admin:
        return seed(fuzz_system, admin)


@pytest.fixture(scope="session")
def admin_headers(fuzz_system: System) -> dict[str, str]:
    return {"Authorization": f"Bearer {fuzz_system.token('admin', fuzz_system.admin_password)}"}
