"""Liveness follows progress: the heartbeat provider writes a ``stuck`` state while a worker of
the service has run longer than ``CRM_WORKER_STUCK_SECONDS`` (a wedged process keeps its event
loop, hence a fresh file, alive), and ``crm-start health`` fails on it at once."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from crm_common import start


class FakeContainer:
    service_name = "billing"

    def spawn_managed_thread(self, fn, identifier=None):
        return SimpleNamespace(kill=lambda: None)


def worker(method: str) -> SimpleNamespace:
    return SimpleNamespace(entrypoint=SimpleNamespace(method_name=method))


@pytest.fixture
def beat_file(tmp_path, monkeypatch):
    path = tmp_path / "beat"
    monkeypatch.setenv("CRM_HEARTBEAT_FILE", str(path))
    for name in ("CRM_HEARTBEAT_MAX_AGE", "CRM_HEARTBEAT_SECONDS", start.STUCK_ENV):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def provider(beat_file):
    container = FakeContainer()  # bind() keeps only a weak reference
    provider = start.Heartbeat(interval=1).bind(container, "heartbeat")
    provider.setup()
    provider.start()
    provider._test_container = container
    yield provider
    provider.stop()


def test_a_worker_running_past_the_limit_fails_the_probe_until_it_ends(provider, capsys):
    ctx = worker("render_invoice_pdf")
    provider.worker_setup(ctx)
    now = time.monotonic()
    assert provider.check(now + 60) is None
    assert start.main(["health", "billing"]) == 0  # busy for a minute: fine

    problem = provider.check(now + 121)
    assert problem and "render_invoice_pdf for 121s" in problem
    assert start.main(["health", "billing"]) == 1  # at once, although the file is fresh
    out = capsys.readouterr()
    assert "stuck: 1 worker(s) running too long, render_invoice_pdf" in out.out
    assert "billing.render_invoice_pdf has run for 121s" in out.err

    provider.worker_teardown(ctx)  # it finished after all
    assert provider.check() is None
    assert start.main(["health", "billing"]) == 0


def test_the_limit_comes_from_crm_worker_stuck_seconds(provider, monkeypatch):
    ctx = worker("list_invoices")
    provider.worker_setup(ctx)
    now = time.monotonic()
    monkeypatch.setenv(start.STUCK_ENV, "5")
    assert provider.check(now + 6) is not None
    assert start.main(["health", "billing"]) == 1
    monkeypatch.setenv(start.STUCK_ENV, "0")  # off
    assert provider.check(now + 10_000) is None
    assert start.main(["health", "billing"]) == 0


def test_daily_jobs_may_run_longer_before_they_count_as_stuck(provider):
    ctx = worker("run_daily")
    provider.worker_setup(ctx)
    now = time.monotonic()
    assert provider.check(now + 600) is None
    assert "run_daily" in (provider.check(now + 120 * 30 + 1) or "")


def test_workers_that_finish_in_time_never_fail_the_probe(provider):
    for i in range(50):
        ctx = worker(f"rpc_{i}")
        provider.worker_setup(ctx)
        provider.worker_teardown(ctx)
    assert provider._running == {}
    assert provider.check(time.monotonic() + 10_000) is None
    assert start.main(["health", "billing"]) == 0


def test_a_stale_heartbeat_still_fails_without_any_worker(provider, beat_file):
    import os

    old = time.time() - 120
    os.utime(beat_file, (old, old))
    assert start.main(["health", "billing"]) == 1
