"""Many documents at once never wedge a service: invoice PDFs in English, Chinese, Turkish and
Bulgarian, contract documents and approval sheets are all downloaded at the same time while other
requests keep every service logging; each document arrives (a client may be asked to retry with
503/504 while the renderers are busy, as with any overloaded service), the services that render
nothing keep answering throughout, and billing, contracts and approvals answer promptly again as
soon as the burst is over. (A document rendered in an OS thread of the service used to block on a
logging lock held by the event loop: billing then answered nothing until it was killed.)"""

from __future__ import annotations

import io
import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from pypdf import PdfReader

from ..conftest import poll
from .test_contracts import setup as contract_setup

LANGUAGES = {
    "en": ("Invoice", "Maintenance visit"),
    "zh": ("发票", "设备维护服务"),
    "tr": ("Fatura", "Bakım ziyareti"),
    "bg": ("Фактура", "Поддръжка на оборудване"),
}
INVOICES_PER_LANGUAGE = 5  # 20 invoice PDFs at once
RETRY_STATUSES = {502, 503, 504}
BURST_DEADLINE = 240.0


def pdf_text(data: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace("\x00", "")  # pypdf: a CID-keyed CJK font yields NULs between characters


def create_invoices(admin: httpx.Client) -> list[tuple[str, dict]]:
    made = []
    for language, (_, description) in LANGUAGES.items():
        r = admin.post("/api/v1/customers", json={"name": f"PDF load {language} {uuid.uuid4().hex[:6]}",
                                                  "kind": "company", "language": language})  # fmt: skip
        assert r.status_code == 201, r.text
        customer = r.json()
        for i in range(INVOICES_PER_LANGUAGE):
            r = admin.post(
                "/api/v1/invoices",
                json={"customer_id": customer["id"], "currency": "EUR", "language": language,
                      "lines": [{"description": f"{description} {i}", "quantity": "1",
                                 "unit_price": f"{40 + i}.00", "tax_percent": "20"}]},
            )  # fmt: skip
            assert r.status_code == 201, r.text
            made.append((language, r.json()))
    return made


def create_contracts(admin: httpx.Client, rep_id: int) -> list[dict]:
    contracts = []
    for n in range(2):
        customer, product = contract_setup(admin, rep_id)
        r = admin.post(
            "/api/v1/contracts",
            json={"customer_id": customer["id"], "title": f"Bakım sözleşmesi {n}", "kind": "maintenance",
                  "currency": "EUR", "start_date": "2031-01-01", "end_date": "2031-12-31",
                  "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
                  "lines": [{"product_id": product["id"], "quantity": 1}]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        contracts.append(r.json())
    return contracts


def approval_of(admin: httpx.Client, contract_id: int) -> dict | None:
    r = admin.get("/api/v1/approvals", params={"document_type": "contract", "document_id": contract_id})
    assert r.status_code == 200, r.text
    return next((a for a in r.json()["items"] if a["status"] == "pending"), None)


def fetch(client: httpx.Client, url: str) -> tuple[httpx.Response, int]:
    """GET ``url`` as a patient client: retry while the service says it is busy (503/504)."""
    deadline = time.monotonic() + BURST_DEADLINE
    retries = 0
    while True:
        r = client.get(url)
        if r.status_code not in RETRY_STATUSES or time.monotonic() > deadline:
            return r, retries
        retries += 1
        time.sleep(0.5)


def _processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, command line) of every process on this machine."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        found[int(entry)] = (ppid, cmdline)
    return found


def pdf_workers_of(service: str) -> list[int]:
    """The document worker processes of ``service`` in the system this test session started
    (descendants of this process only: other sessions on the machine are left alone)."""
    procs = _processes()
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, (ppid, _) in procs.items() if ppid in frontier} - mine
        mine |= frontier
    services = {pid for pid in mine if f"{service}.service" in procs[pid][1]}
    return [
        pid
        for pid in mine
        if procs[pid][0] in services
        and "spawn_main" in procs[pid][1]
        and "resource_tracker" not in procs[pid][1]
    ]


class Chatter:
    """Other users meanwhile: list calls on every service (each logs an access line)."""

    ROUTES = {
        "customers": "/api/v1/customers?page_size=5",
        "inventory": "/api/v1/products?page_size=5",
        "billing": "/api/v1/invoices?page_size=5",
    }

    def __init__(self, client: httpx.Client):
        self.client = client
        self.stop = threading.Event()
        self.seen: dict[str, list[tuple[int, float]]] = {name: [] for name in self.ROUTES}
        self.threads = [threading.Thread(target=self.run, args=(name,)) for name in self.ROUTES]

    def run(self, name: str) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                status = self.client.get(self.ROUTES[name]).status_code
            except httpx.TimeoutException:
                status = 0
            self.seen[name].append((status, time.monotonic() - started))
            time.sleep(0.1)

    def __enter__(self) -> Chatter:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=90)


def test_many_documents_at_once_in_four_languages_while_every_service_keeps_answering(system):
    rep = system.create_user(["sales_rep"])
    with system.client() as admin:
        invoices = create_invoices(admin)
        contracts = create_contracts(admin, rep["id"])
        r = admin.post(f"/api/v1/contracts/{contracts[0]['id']}/submit")
        assert r.status_code == 200, r.text
        approval = poll(lambda: approval_of(admin, contracts[0]["id"]), message="approval request")

        jobs = [("invoice", lang, f"/api/v1/invoices/{inv['id']}/pdf") for lang, inv in invoices]
        jobs += [("contract", "tr", f"/api/v1/contracts/{c['id']}/document.pdf") for c in contracts]
        jobs += [("sheet", "", f"/api/v1/approvals/{approval['id']}/sheet.pdf")] * 2
        started = time.monotonic()
        with Chatter(admin) as chatter, ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            results = list(pool.map(lambda job: fetch(admin, job[2]), jobs))
        burst = time.monotonic() - started

        # every document arrived, in its language
        for (kind, language, url), (r, _) in zip(jobs, results, strict=True):
            assert r.status_code == 200, (url, r.status_code, r.text[:300])
            assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF-"), url
            if kind == "invoice":
                label, description = LANGUAGES[language]
                assert r.headers["content-language"] == language
                text = pdf_text(r.content)
                assert label in text and description in text, (language, text[:300])
        assert "Bakım sözleşmesi" in pdf_text(results[len(invoices)][0].content)
        assert burst < BURST_DEADLINE

        # the services that render nothing answered every request, promptly, throughout
        for name in ("customers", "inventory"):
            seen = chatter.seen[name]
            assert seen and all(status == 200 for status, _ in seen), (name, seen)
            assert max(seconds for _, seconds in seen) < 10, (name, seen)
        # billing kept serving its other requests while rendering (never wedged)
        assert any(status == 200 for status, _ in chatter.seen["billing"]), chatter.seen["billing"]

        # right after the burst every service answers at once again
        ready = system.http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert all(state == "ok" for state in ready.json()["services"].values()), ready.json()
        for route in (
            *Chatter.ROUTES.values(),
            f"/api/v1/contracts/{contracts[1]['id']}",
            "/api/v1/approvals",
        ):
            t0 = time.monotonic()
            r = admin.get(route)
            assert r.status_code == 200 and time.monotonic() - t0 < 5, (route, r.status_code)
        # the render workers of billing killed (out of memory, say): the next PDF still comes,
        # from a fresh worker
        workers = pdf_workers_of("billing")
        assert workers, "billing renders in worker processes"
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        customer_id = invoices[-1][1]["customer_id"]  # the Bulgarian customer
        r = admin.post(
            "/api/v1/invoices",
            json={"customer_id": customer_id, "currency": "EUR", "language": "bg",
                  "lines": [{"description": "След срив", "quantity": "1", "unit_price": "9.00", "tax_percent": "20"}]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        r, _ = fetch(
            admin, f"/api/v1/invoices/{r.json()['id']}/pdf"
        )  # not rendered before: a worker is needed
        assert r.status_code == 200 and "След срив" in pdf_text(r.content), r.text[:300]
        assert poll(lambda: set(pdf_workers_of("billing")) - set(workers), message="a new worker")

        # a second download of an invoice is a cached copy: immediate
        t0 = time.monotonic()
        again = admin.get(jobs[0][2])
        assert again.status_code == 200 and again.content == results[0][0].content
        assert time.monotonic() - t0 < 5
