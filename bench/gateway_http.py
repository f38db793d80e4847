"""Reads and writes through the gateway against direct RPC calls of the same method (not a test).

    .venv/bin/python bench/harness.py --only gateway.http [--mode quick|full]
    .venv/bin/python bench/gateway_http.py [--mode quick|full] [--seconds S] [--repeat R] [--clients 1,16,64]

Starts the whole system with the local runner (``make run``'s code path) on a throwaway vhost and
data directory, once, and measures two operations, each at every concurrency level:

* read: ``GET /api/v1/customers/{id}`` (authenticated, through the gateway) against
  ``customers.get_customer`` called directly;
* write: ``POST /api/v1/customers`` with a realistic multilingual customer (:mod:`datagen`: a
  Chinese, Turkish, Bulgarian or English company or person, with e-mail, industry, region,
  level, tags, address; every name and e-mail unique, so duplicate detection passes) against
  ``customers.create_customer`` called directly with the same payload (what the route hands on:
  ``CustomerCreate.data()``).

The direct side goes through the gateway's own asyncio client (:class:`gateway.rpc.RpcClient`)
with the caller context the gateway would send for the same administrator, so the difference
is the HTTP layer, authentication and validation. N clients run closed loops (each sends its
next request when the previous answered: one keep-alive connection per HTTP client) for a fixed
time; after a 0.5 s warm-up of each side, the sides alternate (gateway, direct, gateway, …) in
the same invocation. Reported per side: requests/s and p50/p95/p99 latency (medians over the
repeats), and the gateway/direct ratios of throughput and p50. The load generator is one Python process on the same machine as
the gateway, the broker and the services: at 64 clients it competes with them for the CPU.

Quick: 1 and 16 clients, 1.5 s per run, 3 repeats; full: 1, 16 and 64 clients, 3 s, 5 repeats.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import datagen
import httpx
from harness import Context, peak_rss_mib, percentile, print_table, scenario

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "gateway") not in sys.path:
    sys.path.insert(0, str(ROOT / "gateway"))

from crm_common.context import CallerContext  # noqa: E402
from gateway.rpc import RpcClient  # noqa: E402

UNITS = {"rps": "req/s", "p50_ms": "ms", "p95_ms": "ms", "p99_ms": "ms"}
Call = Callable[[], Awaitable[Any]]
WARM_UP_SECONDS = 0.5  # per side, before the alternating runs: connections open, caches warm


async def closed_loop(clients: int, seconds: float, call: Call) -> dict[str, float]:
    """``clients`` workers, each calling ``call`` again as soon as it returned, for ``seconds``:
    requests per second and the latency percentiles in ms."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def customer_payload(rng: random.Random, serial: str) -> dict[str, Any]:
    """A customer as a front end creates it (the body of ``POST /api/v1/customers``), unique by
    ``serial`` in its name and e-mail; no phone or tax id, which random data could repeat."""
    row = datagen.customer_row(rng)
    local, _, domain = row["email"].partition("@")
    body: dict[str, Any] = {
        "name": f"{row['name']} {serial}",
        "kind": row["kind"],
        "email": f"{local}.{serial}@{domain}",
        "industry": row["industry"],
        "region": row["region"],
        "level": row["level"],
        "tags": [t for t in row["tags"].split(";") if t],
        "language": row["language"],
        "address": row["address"],
    }
    if row["size"]:
        body["size"] = row["size"]
    if row["birthday"]:
        body["birthday"] = row["birthday"]
    return body


@dataclass
class Client:
    """One system seen as an administrator: over HTTP (through the gateway) and over RPC
    (directly, with the caller context the gateway would send). Runs on its own event loop."""

    loop: asyncio.AbstractEventLoop
    base_url: str
    authorization: str
    caller: CallerContext
    rpc: RpcClient
    rng: random.Random

    def run(self, coro: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(coro)

    def direct_caller(self) -> CallerContext:
        """The caller context of one request (a new request id, as the gateway makes)."""
        c = self.caller
        return CallerContext(
            user_id=c.user_id,
            username=c.username,
            roles=c.roles,
            department=c.department,
            customer_id=c.customer_id,
            request_id=uuid.uuid4().hex,
        )

    def http(self, clients: int) -> httpx.AsyncClient:
        """An HTTP client with one keep-alive connection per concurrent client."""
        return httpx.AsyncClient(
            base_url=self.base_url,
            timeout=60,
            limits=httpx.Limits(max_connections=clients, max_keepalive_connections=clients),
            headers={"Authorization": self.authorization},
        )

    def create_customer(self) -> int:
        async def create() -> int:
            async with self.http(1) as http:
                r = await http.post(
                    "/api/v1/customers", json=customer_payload(self.rng, uuid.uuid4().hex[:8])
                )
                if r.status_code != 201:
                    raise RuntimeError(f"POST /api/v1/customers answered {r.status_code}: {r.text}")
                return int(r.json()["id"])

        return self.run(create())

    def calls(self, operation: str, http: httpx.AsyncClient, customer_id: int) -> dict[str, Call]:
        """One request of ``operation`` ("read" or "write") on each side: ``gateway`` (over
        ``http``) and ``direct`` (over RPC)."""
        prefix = uuid.uuid4().hex[:6]
        counter = iter(range(1, 10**9))

        def serial() -> str:
            return f"{prefix}{next(counter)}"

        async def gateway_read() -> None:
            r = await http.get(f"/api/v1/customers/{customer_id}")
            if r.status_code != 200:
                raise RuntimeError(f"GET /api/v1/customers/{customer_id} answered {r.status_code}: {r.text}")

        async def direct_read() -> None:
            await self.rpc.call("customers", "get_customer", customer_id, caller=self.direct_caller())

        async def gateway_write() -> None:
            r = await http.post("/api/v1/customers", json=customer_payload(self.rng, serial()))
            if r.status_code != 201:
                raise RuntimeError(f"POST /api/v1/customers answered {r.status_code}: {r.text}")

        async def direct_write() -> None:
            payload = customer_payload(self.rng, serial())
            await self.rpc.call("customers", "create_customer", payload, caller=self.direct_caller())

        if operation == "read":
            return {"gateway": gateway_read, "direct": direct_read}
        return {"gateway": gateway_write, "direct": direct_write}


def alternate_loops(
    ctx: Context, sides: dict[str, tuple[Client, Call]], clients: int, seconds: float
) -> dict[str, dict[str, list[float]]]:
    """:meth:`harness.Context.alternate` over closed-loop runs of each side's call (on its
    client's event loop), after a short warm-up of each side."""
    for client, call in sides.values():
        client.run(closed_loop(clients, WARM_UP_SECONDS, call))
    return ctx.alternate(
        {
            side: lambda client=client, call=call: client.run(closed_loop(clients, seconds, call))
            for side, (client, call) in sides.items()
        },
        warm_up=False,
    )


@contextmanager
def admin_client(system: Any, seed: int = 1) -> Iterator[Client]:
    """A :class:`Client` of a running system (``crm_common.testing.RunningSystem``) as its
    administrator, with its own event loop and RPC client; closed afterwards."""
    loop = asyncio.new_event_loop()

    async def connect() -> tuple[str, CallerContext, RpcClient]:
        async with httpx.AsyncClient(base_url=system.base_url, timeout=30) as http:
            r = await http.post(
                "/api/v1/auth/token", data={"username": "admin", "password": system.admin_password}
            )
            r.raise_for_status()
            authorization = f"Bearer {r.json()['access_token']}"
            me = (await http.get("/api/v1/users/me", headers={"Authorization": authorization})).json()
        caller = CallerContext(
            user_id=me["id"],
            username=me["username"],
            roles=tuple(me["roles"]),
            department=me.get("department"),
            customer_id=me.get("customer_id"),
        )
        rpc = RpcClient(system.amqp_uri, timeout=60, name="bench")
        if not await rpc.start():
            raise RuntimeError("the RPC client did not connect to the broker")
        return authorization, caller, rpc

    try:
        authorization, caller, rpc = loop.run_until_complete(connect())
        try:
            yield Client(loop, system.base_url, authorization, caller, rpc, random.Random(seed))
        finally:
            loop.run_until_complete(rpc.close())
    finally:
        loop.close()


def measure(ctx: Context, client: Client, levels: list[int], seconds: float) -> None:
    """Record, for read and write at each concurrency level, the alternating gateway and direct
    runs with their throughput ratio (and the p50 ratio)."""
    customer_id = client.create_customer()
    for operation in ("read", "write"):
        for clients in levels:
            http = client.http(clients)
            try:
                calls = client.calls(operation, http, customer_id)
                runs = alternate_loops(
                    ctx, {side: (client, call) for side, call in calls.items()}, clients, seconds
                )
            finally:
                client.run(http.aclose())
            row = ctx.record_comparison(
                f"{operation}, {clients} client{'s' if clients > 1 else ''}",
                runs,
                ("rps", "gateway", "direct"),
                UNITS,
                note="GET /api/v1/customers/{id} vs customers.get_customer"
                if operation == "read"
                else "POST /api/v1/customers vs customers.create_customer",
                also=("p50_ms",),
            )
            ctx.log(
                f"{operation} x{clients}: gateway {row['gateway.rps']:.0f} req/s p50 {row['gateway.p50_ms']:.1f} ms, "
                f"direct {row['direct.rps']:.0f} req/s p50 {row['direct.p50_ms']:.1f} ms, ratio {row['ratio']:.2f}"
            )


@scenario("gateway.http", "read and write through the gateway vs direct RPC, 1/16(/64) clients")
def bench_gateway(ctx: Context, levels: list[int] | None = None, seconds: float | None = None) -> None:
    levels = levels or ctx.size(quick=[1, 16], full=[1, 16, 64])
    seconds = seconds or ctx.size(quick=1.5, full=3.0)
    with ctx.system() as system, admin_client(system) as client:
        measure(ctx, client, levels, seconds)


def run_standalone(name: str, ctx: Context, fn: Callable[[], None]) -> int:
    """Run a scenario in this process (a script's ``main()``) and print its table."""
    started = time.perf_counter()
    error = None
    try:
        fn()
    except Exception as exc:
        traceback.print_exc()
        error = f"{type(exc).__name__}: {exc}"
    print_table(
        [
            {
                "scenario": name,
                "seconds": time.perf_counter() - started,
                "peak_rss_mib": peak_rss_mib(),
                "error": error,
                "figures": [asdict(f) for f in ctx.figures],
            }
        ]
    )
    return 1 if error else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["quick", "full"], default="full")
    parser.add_argument("--seconds", type=float, default=None, help="per run (quick 1.5, full 3)")
    parser.add_argument("--repeat", type=int, default=None, help="runs per side (quick 3, full 5)")
    parser.add_argument("--clients", default=None, help="concurrency levels, e.g. 1,16,64")
    args = parser.parse_args(argv)
    ctx = Context("gateway.http", args.mode, args.repeat)
    levels = [int(x) for x in args.clients.split(",")] if args.clients else None
    return run_standalone("gateway.http", ctx, lambda: bench_gateway(ctx, levels, args.seconds))


if __name__ == "__main__":
    sys.exit(main())
