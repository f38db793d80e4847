"""crm-start (crm_common.start): the health probe and the heartbeat it reads. Plain pytest: the
heartbeat provider is driven with a stand-in container (its green thread is not started)."""

from __future__ import annotations

import os
import time

import pytest
from crm_common import start


@pytest.fixture
def beat_file(tmp_path, monkeypatch):
    path = tmp_path / "beat"
    monkeypatch.setenv("CRM_HEARTBEAT_FILE", str(path))
    monkeypatch.delenv("CRM_HEARTBEAT_MAX_AGE", raising=False)
    monkeypatch.delenv("CRM_HEARTBEAT_SECONDS", raising=False)
    return path


def test_health_fails_without_a_heartbeat(beat_file, capsys):
    assert start.main(["health", "customers"]) == 1
    assert "no heartbeat file" in capsys.readouterr().out


def test_health_passes_with_a_fresh_heartbeat_and_fails_with_a_stale_one(beat_file, capsys):
    start.beat()
    assert start.main(["health", "customers"]) == 0
    old = time.time() - 120
    os.utime(beat_file, (old, old))
    assert start.main(["health", "customers"]) == 1  # default limit: 6 beats of 10 s
    assert "heartbeat 120s old" in capsys.readouterr().out
    assert start.main(["health", "customers", "--max-age", "300"]) == 0


def test_the_name_defaults_to_crm_service_name(beat_file, monkeypatch):
    monkeypatch.setenv("CRM_SERVICE_NAME", "inventory")
    start.beat()
    assert start.main(["health"]) == 0


class FakeContainer:
    def __init__(self):
        self.spawned = []

    def spawn_managed_thread(self, fn, identifier=None):
        self.spawned.append(identifier)

        class Thread:
            def kill(self):
                pass

        return Thread()


def test_heartbeat_provider_writes_on_start_and_removes_on_stop(beat_file):
    container = FakeContainer()  # bind() keeps only a weak reference
    provider = start.Heartbeat(interval=1).bind(container, "heartbeat")
    provider.setup()
    provider.start()
    assert beat_file.exists() and start.main(["health", "x"]) == 0
    assert container.spawned == ["crm-heartbeat"]
    provider.stop()
    assert not beat_file.exists()


def test_heartbeat_provider_is_off_without_configuration(tmp_path, monkeypatch):
    monkeypatch.delenv("CRM_HEARTBEAT_FILE", raising=False)
    monkeypatch.delenv("CRM_HEARTBEAT", raising=False)
    container = FakeContainer()
    provider = start.Heartbeat().bind(container, "heartbeat")
    provider.setup()
    provider.start()
    assert container.spawned == []


def test_waiting_for_an_unreachable_broker_gives_up_with_a_message(monkeypatch):
    monkeypatch.setenv("AMQP_URI", "amqp://guest:guest@127.0.0.1:1/")
    monkeypatch.setenv("CRM_WAIT_SECONDS", "0.2")
    with pytest.raises(SystemExit, match="RabbitMQ at 127.0.0.1:1 not reachable"):
        start.main(["wait"])
