"""A burst of contracts driven through the gateway by concurrent clients, as a front end would:
created, submitted, approved (the approval request decided by the admin), activated by the
daily job and invoiced by billing runs; and the checks afterwards that nothing was lost or
done twice.

Every contract is billed ``once`` (one invoice per contract and period), starts on
:data:`START` and belongs to a sales rep with an e-mail address, so each contract yields:

* exactly one invoice;
* in the rep's inbox exactly one ``approval_approved`` and one ``invoice_issued`` notification;
* in the SMTP mailbox exactly one "Approved: contract …" and one "Invoice … issued" e-mail.

Clients retry a step on 503/504 or when nothing answered (that is what a front end does); a
retried create first looks the contract up by its unique title, a retried submit or decision
that gets 409 checks that the first attempt went through.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from .harness import Api, Record, token

START = "2031-03-01"
END = "2032-02-29"
RETRY_STATUSES = (503, 504, None)


def _status(response) -> int | None:
    return None if response is None else response.status_code


class Burst:
    def __init__(self, faulty, size: int, workers: int = 4, label: str = "burst", pause: float = 1.0):
        """``size`` contracts at least; more while :attr:`faults_running` is set (the burst
        lasts as long as the faults). Each of ``workers`` clients pauses ``pause`` seconds
        between two contracts."""
        self.faulty = faulty
        self.size = size
        self.workers = workers
        self.pause = pause
        self.faults_running = threading.Event()
        self._next = 0
        self.tag = f"{label}-{uuid.uuid4().hex[:6]}"
        self.record = Record()
        self.contracts: dict[int, dict] = {}  # index → contract
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.started_at = 0.0
        self.finished_at = 0.0
        self._threads: list[threading.Thread] = []

    # -- set-up --------------------------------------------------------------------------
    def setup(self) -> None:
        base = self.faulty.base_url
        self.admin = Api(base, token(base, "admin", self.faulty.admin_password), self.record)
        self.rep_email = f"{self.tag}@example.com"
        password = "rep-Pa55word!"
        r = self.admin.request(
            "POST",
            "/api/v1/users",
            json={"username": f"rep_{self.tag}".replace("-", "_"), "password": password,
                  "roles": ["sales_rep"], "email": self.rep_email, "full_name": f"Rep {self.tag}",
                  "language": "en"},
        )  # fmt: skip
        assert r is not None and r.status_code == 201, r.text if r is not None else "no answer"
        self.rep_user = r.json()
        self.rep = Api(base, token(base, self.rep_user["username"], password), self.record)
        r = self.admin.request(
            "POST",
            "/api/v1/customers",
            json={"name": f"Fault Test GmbH {self.tag}", "kind": "company", "language": "en",
                  "owner_id": self.rep_user["id"], "level": "B"},
        )  # fmt: skip
        assert r is not None and r.status_code == 201, r.text if r is not None else "no answer"
        self.customer = r.json()
        r = self.admin.request(
            "POST",
            "/api/v1/products",
            json={"sku": f"FLT-{uuid.uuid4().hex[:8]}", "name": "Maintenance visit", "kind": "service",
                  "unit_price": "120.00", "currency": "EUR"},
        )  # fmt: skip
        assert r is not None and r.status_code == 201, r.text if r is not None else "no answer"
        self.product = r.json()

    # -- the burst -----------------------------------------------------------------------
    def start(self) -> None:
        self.started_at = time.monotonic()
        self.faults_running.set()
        pool_thread = threading.Thread(target=self._run_pool, daemon=True)
        driver = threading.Thread(target=self._drive, daemon=True)
        self._threads = [pool_thread, driver]
        for t in self._threads:
            t.start()

    def _run_pool(self) -> None:
        try:
            with ThreadPoolExecutor(self.workers) as pool:
                for future in [pool.submit(self._client) for _ in range(self.workers)]:
                    future.result()
        finally:
            self.size = len(self.contracts)
            self.finished_at = time.monotonic()
            self.done.set()

    def _client(self) -> None:
        while True:
            with self.lock:
                i = self._next
                if i >= self.size and not self.faults_running.is_set():
                    return
                self._next += 1
            try:
                self._one(i)
            except Exception as exc:  # recorded, reported by check()
                with self.lock:
                    self.errors.append(f"contract #{i}: {type(exc).__name__}: {exc}")
            time.sleep(self.pause)

    def _drive(self) -> None:
        """The daily job and a billing run for START every few seconds while the burst runs:
        activations and invoices happen while processes die."""
        while not self.done.wait(3.0):
            self.run_jobs()

    def run_jobs(self) -> None:
        self.admin.request("POST", "/api/v1/admin/jobs/daily", json={"as_of": START})
        self.admin.request("POST", "/api/v1/billing/runs", json={"as_of": START})

    def join(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        for t in self._threads:
            t.join(max(deadline - time.monotonic(), 0))
        assert self.done.is_set(), f"the burst did not finish within {seconds}s"

    def _retry(self, api: Api, method: str, path: str, seconds: float = 180, **kwargs):
        """The answer that is neither 503/504 nor missing; retried with a pause until then."""
        deadline = time.monotonic() + seconds
        while True:
            r = api.request(method, path, **kwargs)
            if _status(r) not in RETRY_STATUSES or time.monotonic() > deadline:
                return r
            time.sleep(0.5)

    def _one(self, i: int) -> None:
        title = f"Service contract {self.tag} #{i:03d}"
        contract = self._create(title)
        with self.lock:
            self.contracts[i] = contract
        cid = contract["id"]
        # submit
        r = self._retry(self.rep, "POST", f"/api/v1/contracts/{cid}/submit")
        if _status(r) != 200 and self._status_of(cid) == "draft":
            raise AssertionError(f"submit of {cid}: {_status(r)} {r.text if r is not None else ''}")
        # decide the approval request
        request = self._approval_request(cid)
        r = self._retry(
            self.admin, "POST", f"/api/v1/approvals/{request['id']}/decision",
            json={"decision": "approve", "comment": "ok"},
        )  # fmt: skip
        if _status(r) != 200:
            r2 = self._retry(self.admin, "GET", f"/api/v1/approvals/{request['id']}")
            if _status(r2) != 200 or r2.json()["status"] != "approved":
                raise AssertionError(
                    f"decision on {request['id']}: {_status(r)} {r.text if r is not None else ''}"
                )
        # approved (an event from approvals to contracts)
        deadline = time.monotonic() + 240
        while self._status_of(cid) not in ("approved", "active"):
            if time.monotonic() > deadline:
                raise AssertionError(f"contract {cid} not approved within 240s")
            time.sleep(0.5)

    def _create(self, title: str) -> dict:
        body = {
            "customer_id": self.customer["id"],
            "title": title,
            "kind": "maintenance",
            "currency": "EUR",
            "start_date": START,
            "end_date": END,
            "billing": {"frequency": "once", "in_advance": True, "payment_terms_days": 30},
            "lines": [{"product_id": self.product["id"], "quantity": 1}],
        }
        for _ in range(60):
            r = self.rep.request("POST", "/api/v1/contracts", json=body)
            if _status(r) == 201:
                return r.json()
            if _status(r) not in RETRY_STATUSES:
                raise AssertionError(f"create: {_status(r)} {r.text}")
            time.sleep(1.0)
            found = self._find(title)
            if found is not None:
                return found
        raise AssertionError(f"contract {title!r} could not be created")

    def _find(self, title: str) -> dict | None:
        r = self._retry(self.rep, "GET", "/api/v1/contracts", params={"q": title, "page_size": 10})
        if _status(r) != 200:
            return None
        items = sorted((c for c in r.json()["items"] if c["title"] == title), key=lambda c: c["id"])
        return items[0] if items else None

    def _status_of(self, cid) -> str | None:
        r = self._retry(self.rep, "GET", f"/api/v1/contracts/{cid}")
        return r.json().get("status") if _status(r) == 200 else None

    def _approval_request(self, cid) -> dict:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            r = self._retry(
                self.admin, "GET", "/api/v1/approvals",
                params={"document_type": "contract", "document_id": str(cid), "page_size": 10},
            )  # fmt: skip
            if _status(r) == 200:
                items = [a for a in r.json()["items"] if a["status"] in ("pending", "approved")]
                if items:
                    return items[0]
            time.sleep(0.5)
        raise AssertionError(f"no approval request for contract {cid} within 240s")

    # -- afterwards ----------------------------------------------------------------------
    def invoices_of(self, cid) -> list[dict] | None:
        r = self._retry(self.admin, "GET", "/api/v1/invoices", params={"contract_id": cid, "page_size": 100})
        return r.json()["items"] if _status(r) == 200 else None

    def settle(self, seconds: float = 240) -> float:
        """Daily jobs and billing runs until every contract is active and invoiced; returns
        how long that took."""
        began = time.monotonic()
        deadline = began + seconds
        pending = dict(self.contracts)
        while pending and time.monotonic() < deadline:
            self.run_jobs()
            for i, c in list(pending.items()):
                if self._status_of(c["id"]) == "active" and self.invoices_of(c["id"]):
                    pending.pop(i)
            if pending:
                time.sleep(2)
        assert not pending, (
            f"{len(pending)} contracts not active and invoiced within {seconds}s: "
            + ", ".join(f"{c['id']}={self._status_of(c['id'])}" for c in list(pending.values())[:10])
        )
        return time.monotonic() - began

    def check(self, seconds: float = 180) -> dict:
        """Every expected invoice, notification and e-mail exactly once (waiting for the
        asynchronous ones with a deadline); returns the figures."""
        assert not self.errors, self.errors[:5]
        assert len(self.contracts) == self.size and set(self.contracts) == set(range(self.size))
        self.run_jobs()  # one more run: a re-run must create nothing
        invoices: dict[int, dict] = {}
        for c in self.contracts.values():
            found = self.invoices_of(c["id"])
            assert found is not None
            assert len(found) == 1, f"contract {c['id']} has {len(found)} invoices: {found}"
            invoices[c["id"]] = found[0]
        invoice_ids = {str(inv["id"]) for inv in invoices.values()}
        numbers = {inv["number"] for inv in invoices.values()}
        contract_ids = {str(c["id"]) for c in self.contracts.values()}
        contract_numbers = {c.get("number") for c in self.contracts.values()}

        def inbox() -> Counter:
            seen: Counter = Counter()
            page = 1
            while True:
                r = self._retry(
                    self.rep, "GET", "/api/v1/notifications", params={"page": page, "page_size": 100}
                )
                assert _status(r) == 200, r.text if r is not None else "no answer"
                body = r.json()
                for n in body["items"]:
                    seen[(n["event_type"], str(n.get("document_id")))] += 1
                if page * body["page_size"] >= body["total"]:
                    return seen
                page += 1

        def mails() -> Counter:
            return Counter(str(m["Subject"]) for m in self.faulty.mailbox.messages(self.rep_email))

        def complete() -> tuple[Counter, Counter] | None:
            notes, subjects = inbox(), mails()
            issued = {doc for (kind, doc) in notes if kind == "invoice_issued"}
            approved = [k for k in notes if k[0] == "approval_approved"]
            invoice_mails = [s for s in subjects if s.startswith("Invoice ")]
            approval_mails = [s for s in subjects if s.startswith("Approved: ")]
            if (
                issued >= invoice_ids
                and len(approved) >= self.size
                and len(invoice_mails) >= self.size
                and len(approval_mails) >= self.size
            ):
                return notes, subjects
            return None

        deadline = time.monotonic() + seconds
        result = complete()
        while result is None and time.monotonic() < deadline:
            time.sleep(1)
            result = complete()
        notes, subjects = inbox(), mails()
        assert result is not None, (
            f"notifications missing after {seconds}s: inbox {sorted(notes.items())[:20]}, "
            f"mail {sorted(subjects.items())[:20]}"
        )
        time.sleep(3)  # anything late and duplicated would show now
        notes, subjects = inbox(), mails()
        issued = Counter({doc: n for (kind, doc), n in notes.items() if kind == "invoice_issued"})
        assert set(issued) == invoice_ids and set(issued.values()) == {1}, issued
        approved = Counter({doc: n for (kind, doc), n in notes.items() if kind == "approval_approved"})
        assert len(approved) == self.size and set(approved.values()) == {1}, approved
        for number in numbers:
            assert subjects[f"Invoice {number} issued"] == 1, (number, subjects)
        approval_mails = Counter({s: n for s, n in subjects.items() if s.startswith("Approved: ")})
        assert len(approval_mails) == self.size and set(approval_mails.values()) == {1}, approval_mails
        assert sum(subjects.values()) == 2 * self.size, subjects
        return {
            "contracts": len(contract_ids),
            "contract_numbers": len(contract_numbers),
            "invoices": len(invoices),
            "notifications": sum(issued.values()) + sum(approved.values()),
            "emails": sum(subjects.values()),
        }

    def close(self) -> None:
        for api in (getattr(self, "admin", None), getattr(self, "rep", None)):
            if api is not None:
                api.close()
