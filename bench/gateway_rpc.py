"""Throughput of the gateway's RPC client (not a test; prints figures).

    .venv/bin/python bench/harness.py --only gateway.rpc_client [--mode quick|full]
    .venv/bin/python bench/gateway_rpc.py [--seconds 5] [--in-flight 1,16,64,200]
                                                [--workers 50] [--proxy]

Makes a throwaway vhost, starts the `gateway_test` Nameko service of
gateway/tests/gateway_test_service.py on
it, and measures `echo` calls per second through :class:`gateway.rpc.RpcClient` with N calls in
flight. ``--proxy`` also measures Nameko's own ``ClusterRpcProxy`` (a pool of proxies in green
threads, one call in flight per proxy) in a subprocess, alternating with the client.

As the harness scenario ``gateway.rpc_client`` both are measured, alternating, with the ratio
RpcClient/ClusterRpcProxy: 1 and 16 calls in flight for 1.5 s per run in quick mode; 1, 16, 64
and 200 for 3 s in full mode.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "gateway" / "tests"  # where the test service lives
sys.path.insert(0, str(ROOT / "gateway"))

from crm_common.testing import create_vhost, delete_vhost, vhost_uri  # noqa: E402
from gateway.rpc import RpcClient  # noqa: E402
from harness import Context, scenario  # noqa: E402
from kombu import Connection  # noqa: E402

PROXY_SCRIPT = r"""
import eventlet; eventlet.monkey_patch()
import json, sys, time
from eventlet.greenpool import GreenPool
from nameko.standalone.rpc import ClusterRpcProxy
uri, in_flight, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
proxies = [ClusterRpcProxy({"AMQP_URI": uri}) for _ in range(in_flight)]
clients = [p.start() for p in proxies]
for c in clients:
    c.gateway_test.echo(0)
done = 0
deadline = time.monotonic() + seconds
def worker(c):
    global done
    payload = {"customer": "Acme", "amount": "1250.00"}
    while time.monotonic() < deadline:
        c.gateway_test.echo(payload)
        done += 1
started = time.monotonic()
pool = GreenPool(in_flight)
for c in clients:
    pool.spawn(worker, c)
pool.waitall()
print(json.dumps({"calls": done, "seconds": time.monotonic() - started}))
for p in proxies:
    p.stop()
"""


async def measure(uri: str, in_flight: int, seconds: float) -> float:
    async with RpcClient(uri, timeout=30, name="bench") as client:
        await client.call("gateway_test", "echo", 0)
        done = 0
        deadline = time.monotonic() + seconds
        payload = {"customer": "Acme", "amount": "1250.00"}

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                await client.call("gateway_test", "echo", payload)
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        return done / (time.monotonic() - started)


def measure_proxy(uri: str, in_flight: int, seconds: float) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROXY_SCRIPT, uri, str(in_flight), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["calls"] / result["seconds"]


@contextmanager
def echo_service(workers: int) -> Iterator[str]:
    """The ``gateway_test`` echo service running on a throwaway vhost; yields the vhost's URI."""
    vhost = f"crm-bench-{uuid.uuid4().hex[:10]}"
    create_vhost(vhost)
    uri = vhost_uri(vhost)
    workdir = Path(tempfile.mkdtemp(prefix="crm-bench-"))
    (workdir / "config.yml").write_text(f"AMQP_URI: '{uri}'\nmax_workers: {workers}\n")
    env = {**os.environ, "CRM_DAILY_DISABLED": "1", "CRM_LOG_LEVEL": "WARNING", "PYTHONPATH": str(HERE)}
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "nameko"),
            "run",
            "--config",
            str(workdir / "config.yml"),
            "gateway_test_service:EchoService",
        ],
        cwd=str(HERE),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with Connection(uri) as conn:
                    if conn.default_channel.queue_declare("rpc-gateway_test", passive=True)[2]:
                        break
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the test service did not start")
            time.sleep(0.2)
        yield uri
    finally:
        proc.terminate()
        proc.wait(10)
        delete_vhost(vhost)
        shutil.rmtree(workdir, ignore_errors=True)


@scenario("gateway.rpc_client", "the gateway's asyncio RpcClient vs a pool of ClusterRpcProxy, echo RPC")
def bench_rpc_client(ctx: Context) -> None:
    levels = ctx.size(quick=[1, 16], full=[1, 16, 64, 200])
    seconds = ctx.size(quick=1.5, full=3.0)
    workers = 50
    with echo_service(workers) as uri:
        for n in levels:
            runs = ctx.alternate(
                {
                    "RpcClient": lambda n=n: {"calls_per_s": asyncio.run(measure(uri, n, seconds))},
                    "ClusterRpcProxy": lambda n=n: {"calls_per_s": measure_proxy(uri, n, seconds)},
                },
                warm_up=False,  # each run connects afresh and makes one call before the clock starts
            )
            row = ctx.record_comparison(
                f"{n} in flight",
                runs,
                ("calls_per_s", "RpcClient", "ClusterRpcProxy"),
                {"calls_per_s": "calls/s"},
                note=f"echo through a real broker, nameko max_workers={workers}; ClusterRpcProxy x{n} "
                "in green threads, its own process",
            )
            ctx.log(f"{n} in flight: ratio {row['ratio']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--in-flight", default="1,16,64,200")
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--proxy", action="store_true")
    args = parser.parse_args()

    with echo_service(args.workers) as uri:
        print(
            f"echo RPC through a real broker, nameko max_workers={args.workers}, "
            f"{args.seconds:g} s per run, median of {args.repeat} runs"
        )
        for n in (int(x) for x in args.in_flight.split(",")):
            ours, theirs = [], []
            for _ in range(args.repeat):  # alternate, so both see the same machine state
                ours.append(asyncio.run(measure(uri, n, args.seconds)))
                if args.proxy:
                    theirs.append(measure_proxy(uri, n, args.seconds))
            line = f"in flight {n:>4}: RpcClient {statistics.median(ours):8.0f} calls/s"
            if theirs:
                ratio = statistics.median(ours) / statistics.median(theirs)
                line += (
                    f" | ClusterRpcProxy x{n} {statistics.median(theirs):8.0f} calls/s | ratio {ratio:.2f}"
                )
            print(line, flush=True)


if __name__ == "__main__":
    main()
