"""Reads through the gateway against direct RPC calls of the same method (not a test).

    .venv/bin/python bench/gateway_http.py [--seconds 3] [--repeat 3] [--clients 1,16,64]

Starts the whole system with the local runner on a throwaway vhost and data directory, creates
a customer, then alternates, for each concurrency level: N HTTP clients calling
``GET /api/v1/customers/{id}`` (authenticated, through the gateway) and N concurrent direct
``customers.get_customer`` calls through the same asyncio RPC client the gateway uses (with an
admin caller context). Prints requests per second and p50/p95/p99 latency (medians over the
repeats) and the gateway/direct ratio; writes JSON next to it with ``--json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "gateway"))

from crm_common.context import CallerContext  # noqa: E402
from crm_common.testing import run_system  # noqa: E402
from gateway.rpc import RpcClient  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def closed_loop(n: int, seconds: float, call) -> dict:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker():
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(n)))
    elapsed = time.perf_counter() - t0
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


async def measure(system, seconds: float, repeat: int, levels: list[int]) -> dict:
    async with httpx.AsyncClient(base_url=system.base_url, timeout=30) as http:
        tok = (
            await http.post(
                "/api/v1/auth/token", data={"username": "admin", "password": system.admin_password}
            )
        ).json()
        http.headers["Authorization"] = f"Bearer {tok['access_token']}"
        created = await http.post("/api/v1/customers", json={"name": "Bench Müşteri 北京", "kind": "company"})
        created.raise_for_status()
        cid = created.json()["id"]
        me = (await http.get("/api/v1/users/me")).json()
        caller = CallerContext(user_id=me["id"], username="admin", roles=("admin",), request_id="bench")
        rpc = RpcClient(system.amqp_uri, timeout=30)
        await rpc.start()

        async def direct():
            await rpc.call("customers", "get_customer", cid, caller=caller)

        results: dict = {}
        for n in levels:
            limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)  # a connection per client
            client = httpx.AsyncClient(
                base_url=system.base_url,
                timeout=30,
                limits=limits,
                headers={"Authorization": http.headers["Authorization"]},
            )

            async def via_gateway(client=client):
                r = await client.get(f"/api/v1/customers/{cid}")
                assert r.status_code == 200, r.text

            runs: dict[str, list[dict]] = {"gateway": [], "direct": []}
            await closed_loop(n, 0.5, via_gateway)  # warm up
            for _ in range(repeat):  # alternate, so both sides see the same machine state
                runs["gateway"].append(await closed_loop(n, seconds, via_gateway))
                runs["direct"].append(await closed_loop(n, seconds, direct))
            med = {side: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for side, rs in runs.items()}
            med["ratio_rps"] = med["gateway"]["rps"] / med["direct"]["rps"]
            results[str(n)] = med
            await client.aclose()
        await rpc.close()
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clients", default="1,16,64")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    levels = [int(x) for x in args.clients.split(",")]
    with (
        tempfile.TemporaryDirectory() as data,
        run_system(ROOT, data, {"CRM_LOG_LEVEL": "WARNING"}) as system,
    ):
        results = asyncio.run(measure(system, args.seconds, args.repeat, levels))
    print(
        f"{'clients':>7} | {'gateway req/s':>13} {'p50':>7} {'p95':>7} {'p99':>7} | "
        f"{'direct RPC/s':>12} {'p50':>7} {'p95':>7} {'p99':>7} | gateway/direct"
    )
    for n, r in results.items():
        g, d = r["gateway"], r["direct"]
        print(
            f"{n:>7} | {g['rps']:>13.0f} {g['p50_ms']:>6.1f}ms {g['p95_ms']:>5.1f}ms {g['p99_ms']:>5.1f}ms | "
            f"{d['rps']:>12.0f} {d['p50_ms']:>6.1f}ms {d['p95_ms']:>5.1f}ms {d['p99_ms']:>5.1f}ms | {r['ratio_rps']:.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
