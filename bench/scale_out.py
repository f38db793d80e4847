"""The same read with one and with two replicas of every service (not a test).

    .venv/bin/python bench/harness.py --only gateway.scale_out [--mode quick|full]
    .venv/bin/python bench/scale_out.py [--mode quick|full] [--seconds S] [--repeat R] [--clients 16,64]

Starts two whole systems side by side with the local runner, each on its own throwaway vhost
and data directory: one with ``CRM_REPLICAS=1``, one with ``CRM_REPLICAS=2`` (the runner starts
that many ``nameko run`` processes of every service, sharing the service's queues; one gateway
in both). Waits until ``rpc-customers`` has two consumers in the second one. Then, at each
concurrency level, alternates between the two systems (1, 2, 1, 2, …): N HTTP clients in closed
loops on ``GET /api/v1/customers/{id}`` through the gateway (the read of ``gateway.http``), and
the same read as direct ``customers.get_customer`` calls through the gateway's RPC client, which
leaves the gateway out. Reported per side: requests/s and p50/p95 latency, and the ratio of
throughput with two replicas to one.

Both systems and the load generator share one machine: on 2 cores the gateway (one process),
RabbitMQ, the customers replicas and the client processes compete for the same two CPUs, so the
2/1 ratio is bounded by the machine, not by the design — a second replica can only help as far
as a core is idle. Quick: 16 clients, 1.5 s per run, 3 repeats; full: 16 and 64 clients, 3 s,
5 repeats.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from gateway_http import UNITS, Client, admin_client, alternate_loops, run_standalone
from harness import Context, scenario


def wait_consumers(client: Client, service: str, wanted: int, seconds: float = 60) -> None:
    """Wait until ``rpc-<service>`` has ``wanted`` consumers (every replica is listening)."""
    deadline = time.monotonic() + seconds
    while True:
        count = client.run(client.rpc.consumer_count(service, fresh=True))
        if count >= wanted:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"rpc-{service} has {count} consumers, not {wanted}, after {seconds:.0f} s")
        time.sleep(0.5)


@scenario("gateway.scale_out", "the customer read with 1 and 2 replicas of every service, alternating")
def bench_scale_out(ctx: Context, levels: list[int] | None = None, seconds: float | None = None) -> None:
    levels = levels or ctx.size(quick=[16], full=[16, 64])
    seconds = seconds or ctx.size(quick=1.5, full=3.0)
    with ExitStack() as stack:
        managers = {replicas: ctx.system({"CRM_REPLICAS": str(replicas)}) for replicas in (1, 2)}
        with ThreadPoolExecutor(2) as pool:  # start both at once: half the waiting
            futures = {replicas: pool.submit(cm.__enter__) for replicas, cm in managers.items()}
            systems, errors = {}, []
            for replicas, future in futures.items():
                try:
                    systems[replicas] = future.result()
                except Exception as exc:  # the other one is stopped on the way out
                    errors.append(exc)
                    continue
                stack.push(managers[replicas].__exit__)
        if errors:
            raise errors[0]
        clients: dict[str, Client] = {}
        for replicas, system in systems.items():
            client = stack.enter_context(admin_client(system))
            wait_consumers(client, "customers", replicas)
            clients[str(replicas)] = client
        ctx.log("both systems ready (CRM_REPLICAS=1 and 2)")
        customer = {side: c.create_customer() for side, c in clients.items()}
        for path in ("gateway", "direct"):
            for n in levels:
                https = {side: c.http(n) for side, c in clients.items()}
                try:
                    sides = {
                        side: (c, c.calls("read", https[side], customer[side])[path])
                        for side, c in clients.items()
                    }
                    runs = alternate_loops(ctx, sides, n, seconds)
                finally:
                    for side, c in clients.items():
                        c.run(https[side].aclose())
                row = ctx.record_comparison(
                    f"{path}, {n} clients, replicas 1 vs 2",
                    {side: {k: v for k, v in r.items() if k != "p99_ms"} for side, r in runs.items()},
                    ("rps", "2", "1"),
                    UNITS,
                    note=(
                        "GET /api/v1/customers/{id} through the gateway"
                        if path == "gateway"
                        else "customers.get_customer, direct RPC"
                    )
                    + "; sides alternate on two systems running at once; 2 shared cores bound the ratio",
                )
                ctx.log(
                    f"{path} x{n}: 1 replica {row['1.rps']:.0f} req/s, 2 replicas {row['2.rps']:.0f} req/s, "
                    f"ratio {row['ratio']:.2f}"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["quick", "full"], default="full")
    parser.add_argument("--seconds", type=float, default=None, help="per run (quick 1.5, full 3)")
    parser.add_argument("--repeat", type=int, default=None, help="runs per side (quick 3, full 5)")
    parser.add_argument("--clients", default=None, help="concurrency levels, e.g. 16,64")
    args = parser.parse_args(argv)
    ctx = Context("gateway.scale_out", args.mode, args.repeat)
    levels = [int(x) for x in args.clients.split(",")] if args.clients else None
    return run_standalone("gateway.scale_out", ctx, lambda: bench_scale_out(ctx, levels, args.seconds))


if __name__ == "__main__":
    sys.exit(main())
