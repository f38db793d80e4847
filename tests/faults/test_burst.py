"""Faults in the middle of a burst of contracts (created, submitted, approved, activated,
invoiced through the gateway by concurrent clients):

* every service and the gateway killed with ``kill -9`` in turn and restarted a few seconds
  later (quick set: the contracts service only);
* RabbitMQ stopped and started again (full set; a private node, never the shared broker);
* billing's PostgreSQL database unavailable for ~10 s (full set).

While a process is down a client loop hits a gateway endpoint of it: every answer must be
2xx/4xx or 503/504 (or, while the gateway itself is down, a refused connection) — never a 500,
never a hang. Afterwards every contract has exactly one invoice, the rep exactly one inbox
notification and one e-mail per approval and per invoice, no dead-letter queue holds anything,
and every process is alive.

    make test-faults          # FAULTS=full
    make test-faults-quick    # FAULTS=quick, the CI subset
"""

from __future__ import annotations

import time

import pytest

from .burst import Burst
from .conftest import FULL, full_only
from .harness import PROBE_PATHS, Api, PgOutage, Prober, Record, dlq_depths, token

DOWNTIME = 4.0  # seconds a killed process stays down
DB_DOWNTIME = 10.0
BROKER_DOWNTIME = 5.0


def probe_figures(prober: Prober, down_from: float, down_until: float) -> dict:
    # every request in flight at some time of the outage (sent before it and answered after
    # it started, or sent during it)
    during = [a for a in prober.answers if a.at < down_until and a.at + a.seconds > down_from]
    statuses: dict[str, int] = {}
    for a in during:
        statuses[str(a.status)] = statuses.get(str(a.status), 0) + 1
    slowest = max((a.seconds for a in during), default=0.0)
    return {
        "answers_while_down": statuses,
        "slowest_answer_s": round(slowest, 2),
        "probe_answers_total": len(prober.answers),
    }


def after_burst(faulty, burst: Burst, figures: dict) -> None:
    """The checks every burst ends with."""
    burst.faults_running.clear()
    burst.join(900)
    figures["burst_size"] = burst.size
    figures["burst_seconds"] = round(burst.finished_at - burst.started_at, 1)
    figures["settle_seconds"] = round(burst.settle(), 1)
    figures.update(burst.check())
    depths = dlq_depths(faulty.amqp_uri)
    assert {q: n for q, n in depths.items() if n} == {}, depths
    assert all(faulty.cluster.alive().values()), faulty.cluster.alive()
    bad = burst.record.bad()
    figures["burst_requests"] = len(burst.record.answers)
    figures["burst_503"] = burst.record.count(503)
    figures["burst_504"] = burst.record.count(504)
    figures["burst_refused"] = burst.record.count("refused")
    assert bad == [], bad[:10]


def test_kill_9_each_process_mid_burst(faulty, figures):
    cluster = faulty.cluster
    targets = [*cluster.services, "gateway"] if FULL else ["contracts"]
    burst = Burst(faulty, size=30 if FULL else 10, workers=4, label="kill")
    burst.setup()
    probes = Record()
    api = Api(faulty.base_url, token(faulty.base_url, "admin", faulty.admin_password), probes)
    figures.update(downtime_s=DOWNTIME, kills={})
    try:
        burst.start()
        time.sleep(2)
        for name in targets:
            prober = Prober(api, PROBE_PATHS[name])
            prober.start()
            time.sleep(1)
            mid_burst = not burst.done.is_set()
            killed = time.monotonic()
            cluster.kill(name)
            time.sleep(DOWNTIME)
            restarted = time.monotonic()
            cluster.start(name)
            recovery = prober.first_success_after(restarted, 180)
            prober.stop()
            figures["kills"][name] = {
                "mid_burst": mid_burst,
                "recovery_s": None if recovery is None else round(recovery, 1),
                **probe_figures(prober, killed, restarted + (recovery or 0)),
            }
            assert recovery is not None, f"{name} did not answer within 180 s of its restart"
        after_burst(faulty, burst, figures)
        assert probes.bad() == [], probes.bad()[:10]
    finally:
        api.close()
        burst.close()


@full_only
def test_rabbitmq_restart_mid_burst(faulty, figures):
    if faulty.rabbit is None:
        pytest.skip(f"no private RabbitMQ node to restart: {faulty.no_rabbit}")
    burst = Burst(faulty, size=30, workers=4, label="broker")
    burst.setup()
    probes = Record()
    api = Api(faulty.base_url, token(faulty.base_url, "admin", faulty.admin_password), probes)
    try:
        burst.start()
        time.sleep(2)
        prober = Prober(api, PROBE_PATHS["customers"])
        prober.start()
        time.sleep(1)
        stopped = time.monotonic()
        figures["mid_burst"] = not burst.done.is_set()
        faulty.rabbit.stop()
        time.sleep(BROKER_DOWNTIME)
        figures["broker_start_s"] = round(faulty.rabbit.start(), 1)
        up = time.monotonic()
        figures["broker_down_s"] = round(up - stopped, 1)
        recovery = prober.first_success_after(up, 180)
        prober.stop()
        figures["recovery_s"] = None if recovery is None else round(recovery, 1)
        figures.update(probe_figures(prober, stopped, up + (recovery or 0)))
        assert recovery is not None, "the gateway did not answer within 180 s of the broker's restart"
        assert faulty.cluster.wait_ready(180), faulty.cluster.log_tail()
        after_burst(faulty, burst, figures)
        assert probes.bad() == [], probes.bad()[:10]
    finally:
        api.close()
        burst.close()


@full_only
def test_billing_database_down_mid_burst(faulty, figures):
    if faulty.billing_db is None:
        pytest.skip("PostgreSQL is not reachable at TEST_PG_URL: billing runs on SQLite")
    from crm_common.testing import PG_ADMIN

    outage = PgOutage(PG_ADMIN, faulty.billing_db)
    burst = Burst(faulty, size=30, workers=4, label="db")
    burst.setup()
    probes = Record()
    api = Api(faulty.base_url, token(faulty.base_url, "admin", faulty.admin_password), probes)
    figures.update(db_downtime_s=DB_DOWNTIME)
    try:
        burst.start()
        time.sleep(2)
        prober = Prober(api, PROBE_PATHS["billing"])
        prober.start()
        time.sleep(1)
        figures["mid_burst"] = not burst.done.is_set()
        stopped = time.monotonic()
        outage.stop()
        try:
            time.sleep(DB_DOWNTIME)
        finally:
            outage.start()
        up = time.monotonic()
        recovery = prober.first_success_after(up, 120)
        prober.stop()
        figures["recovery_s"] = None if recovery is None else round(recovery, 1)
        figures.update(probe_figures(prober, stopped, up))
        assert recovery is not None, "billing did not answer within 120 s of its database's return"
        after_burst(faulty, burst, figures)
        assert probes.bad() == [], probes.bad()[:10]
    finally:
        api.close()
        burst.close()
