"""crm_common.pdf_pool: documents render in worker processes, so a service under eventlet keeps
serving (and logging) while many render at once; a worker that dies or overruns is an
``Unavailable`` (503) and is replaced; fonts are loaded once per worker; the render's own errors
come through unchanged."""

from __future__ import annotations

import io
import logging
import os
import threading
import time

import pytest
from crm_common import pdf, pdf_pool
from crm_common.errors import Unavailable, ValidationFailed

from . import pdf_jobs

TEXTS = {
    "en": ("Invoice", "Maintenance visit, 2 hours"),
    "zh": ("发票", "设备维护服务，两小时"),
    "tr": ("Fatura", "Bakım ziyareti, iki saat — ğüşıöç İ"),
    "bg": ("Фактура", "Поддръжка на оборудване, два часа"),
}


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace("\x00", "")  # pypdf: a CID font (Noto CJK) yields NULs between characters


@pytest.fixture
def pool():
    pool = pdf_pool.RenderPool(size=2, timeout=120)
    yield pool
    pool.close()


@pytest.fixture
def global_pool(monkeypatch):
    """The process's own pool (what ``pdf.render_off_hub`` uses), fresh, with two workers."""
    pdf_pool.shutdown()
    monkeypatch.setenv(pdf_pool.WORKERS_ENV, "2")
    yield
    pdf_pool.shutdown()


def test_many_documents_render_at_once_while_the_service_logs_at_debug(global_pool):
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())  # a handler with a lock, as every service has
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    results: dict[tuple[str, int], bytes | BaseException] = {}
    ticks: list[float] = []
    done = threading.Event()

    def render(language: str, i: int) -> None:
        title, line = TEXTS[language]
        try:
            results[(language, i)] = pdf.render_off_hub(pdf_jobs.sheet, f"{title} {i}", [line])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            results[(language, i)] = exc

    def chatter() -> None:  # other workers of the service, logging all the time
        while not done.is_set():
            logging.getLogger("crm.other").debug("still serving")
            ticks.append(time.monotonic())
            time.sleep(0.02)

    try:
        talkers = [threading.Thread(target=chatter) for _ in range(3)]
        renders = [threading.Thread(target=render, args=(lang, i)) for i in range(3) for lang in TEXTS]
        for t in talkers + renders:
            t.start()
        for t in renders:
            t.join(timeout=240)
        done.set()
        for t in talkers:
            t.join(timeout=10)
    finally:
        done.set()
        root.removeHandler(handler)
        root.setLevel(old_level)

    assert len(results) == 12, "renders still blocked after 240 s"
    for (language, i), data in results.items():
        assert isinstance(data, bytes), (language, i, data)
        title, line = TEXTS[language]
        text = pdf_text(data)
        assert f"{title} {i}" in text and line.split(",")[0] in text, (language, text)
    # the service's own threads kept running meanwhile: no pause of more than a few seconds
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 50 and max(gaps) < 5, (len(ticks), max(gaps))
    assert "still serving" in handler.stream.getvalue()
    assert pdf_pool.pool().workers() == 2  # at most CRM_PDF_WORKERS processes


def test_workers_are_other_processes_that_load_their_fonts_once(pool):
    first_pid, parsed = pool.run(pdf_jobs.pid_and_fonts_parsed)
    assert first_pid != os.getpid()
    assert parsed >= 2  # regular and bold (and CJK) parsed when the worker started
    for language, (title, line) in TEXTS.items():
        assert title in pdf_text(pool.run(pdf_jobs.sheet, title, [line])), language
    again_pid, parsed_again = pool.run(pdf_jobs.pid_and_fonts_parsed)
    assert (again_pid, parsed_again) == (first_pid, parsed)  # same worker, nothing parsed anew


def test_a_crashed_worker_is_unavailable_and_the_pool_recovers(pool):
    before, _ = pool.run(pdf_jobs.pid_and_fonts_parsed)
    with pytest.raises(Unavailable) as crashed:
        pool.run(pdf_jobs.crash)
    assert crashed.value.details["reason"] == "renderer_crashed"
    assert crashed.value.details["exit_code"] == -9
    data = pool.run(pdf_jobs.sheet, "Фактура 7", ["发票 Fatura"])
    assert "Фактура 7" in pdf_text(data)
    pids = {pool.run(pdf_jobs.pid_and_fonts_parsed)[0] for _ in range(3)}
    assert before not in pids or pool.workers() == 2  # the dead worker was replaced
    assert pool.workers() <= 2


def test_an_idle_worker_that_died_is_replaced_without_an_error(pool):
    pid, _ = pool.run(pdf_jobs.pid_and_fonts_parsed)
    os.kill(pid, 9)
    time.sleep(0.5)
    assert b"%PDF" in pool.run(pdf_jobs.sheet, "Invoice", ["after a crash"])[:8]
    assert pool.run(pdf_jobs.pid_and_fonts_parsed)[0] != pid


def test_a_render_over_its_time_is_killed_and_unavailable():
    pool = pdf_pool.RenderPool(size=1, timeout=15)
    try:
        pool.run(pdf_jobs.pid_and_fonts_parsed)  # started and warm
        pool.timeout = 1.5
        started = time.monotonic()
        with pytest.raises(Unavailable) as slow:
            pool.run(pdf_jobs.hang, 60)
        assert slow.value.details["reason"] == "render_timeout"
        assert time.monotonic() - started < 10
        assert pool.workers() == 0  # killed, not left running
        pool.timeout = 60
        assert b"%PDF" in pool.run(pdf_jobs.sheet, "Invoice", ["next one"])[:8]
    finally:
        pool.close()


def test_identical_requests_at_once_share_one_render(pool):
    """A client retrying a document whose first attempt still renders adds no second render."""
    results: list[tuple[int, int]] = []
    threads = [threading.Thread(target=lambda: results.append(pool.run(pdf_jobs.counted, 1.0, "same")))]
    threads += [threading.Thread(target=lambda: results.append(pool.run(pdf_jobs.counted, 1.0, "same")))]
    for t in threads:
        t.start()
        time.sleep(0.2)
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 2 and results[0] == results[1], results  # one worker, one run
    assert pool.workers() == 1
    other = pool.run(pdf_jobs.counted, 0, "different")
    assert other[0] == results[0][0] and other[1] == results[0][1] + 1


def test_the_renders_own_errors_come_through_unchanged(pool):
    with pytest.raises(ValidationFailed) as refused:
        pool.run(pdf_jobs.refuse, "amount")
    assert refused.value.details == {"amount": ["not allowed"]}
    assert isinstance(refused.value.__cause__, pdf_pool.RemoteTraceback)
    assert "refuse" in refused.value.__cause__.tb
    assert pool.workers() == 1  # the worker stays in the pool


def test_a_render_sees_the_services_environment_of_the_moment(pool, monkeypatch):
    monkeypatch.setenv("CRM_PDF_PROBE", "first")
    assert pool.run(pdf_jobs.environment, "CRM_PDF_PROBE") == "first"
    monkeypatch.setenv("CRM_PDF_PROBE", "second")
    assert pool.run(pdf_jobs.environment, "CRM_PDF_PROBE") == "second"
    monkeypatch.delenv("CRM_PDF_PROBE")
    assert pool.run(pdf_jobs.environment, "CRM_PDF_PROBE") is None


def test_a_function_that_cannot_travel_is_refused_before_any_worker_starts(pool):
    with pytest.raises(Exception, match="pickle|lambda|local"):
        pool.run(lambda: b"")
    assert pool.workers() == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, max(1, min(2, os.cpu_count() or 1))), ("3", 3), ("0", None), ("two", None)],
)
def test_the_number_of_workers_comes_from_crm_pdf_workers(monkeypatch, raw, expected):
    default = max(1, min(2, os.cpu_count() or 1))
    if raw is None:
        monkeypatch.delenv(pdf_pool.WORKERS_ENV, raising=False)
    else:
        monkeypatch.setenv(pdf_pool.WORKERS_ENV, raw)
    assert pdf_pool.workers_from_env() == (expected or default)
