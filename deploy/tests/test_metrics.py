"""The dependency-free Prometheus exposition (crm_common.metrics) and the gateway's metrics
middleware: what a scrape returns after some requests and RPCs. No broker, no nameko runner."""

from __future__ import annotations

import asyncio

import httpx
from crm_common.metrics import Registry
from fastapi import FastAPI


def test_registry_renders_the_text_format():
    r = Registry()
    c = r.counter("x_total", "X.", ("a",))
    h = r.histogram("d_seconds", "D.", ("a",), buckets=(0.1, 1.0))
    r.gauge("g", "G.", ("a",), lambda: [(('q"1',), 3.0)])
    c.inc("one")
    c.inc("one", amount=2)
    h.observe(0.05, "one")
    h.observe(0.5, "one")
    h.observe(5.0, "one")
    text = r.render()
    assert 'x_total{a="one"} 3' in text
    assert 'd_seconds_bucket{a="one",le="0.1"} 1' in text
    assert 'd_seconds_bucket{a="one",le="1"} 2' in text
    assert 'd_seconds_bucket{a="one",le="+Inf"} 3' in text
    assert 'd_seconds_count{a="one"} 3' in text
    assert 'g{a="q\\"1"} 3' in text
    assert "# TYPE d_seconds histogram" in text


def test_gateway_metrics_use_route_templates_and_time_rpcs():
    from gateway import metrics

    app = FastAPI()
    app.add_middleware(metrics.MetricsMiddleware)
    app.include_router(metrics.router)

    @app.get("/api/v1/things/{thing_id}")
    async def get_thing(thing_id: int):
        return {"id": thing_id}

    class Client:
        async def call(self, service, method, *args, **kwargs):
            if method == "slow":
                raise TimeoutError
            return 1

    async def scenario() -> str:
        client = metrics.instrument_rpc_client(Client())
        await client.call("things", "get_thing", 1)
        try:
            await client.call("things", "slow")
        except TimeoutError:
            pass
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            for i in (1, 2, 3):
                await http.get(f"/api/v1/things/{i}")
            resp = await http.get("/metrics")
            assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
            return resp.text

    text = asyncio.run(scenario())
    assert 'crm_http_requests_total{method="GET",route="/api/v1/things/{thing_id}",status="200"} 3' in text
    assert 'crm_rpc_duration_seconds_count{service="things",method="slow",outcome="TimeoutError"} 1' in text
    assert 'crm_rpc_duration_seconds_count{service="things",method="get_thing",outcome="ok"} 1' in text
