"""The benchmark harness behind ``make bench`` (quick) and ``make bench-full``.

    .venv/bin/python bench/harness.py [--mode quick|full] [--only NAME,...] [--json PATH] [--list]

Each scenario is a function ``fn(ctx: Context) -> None`` registered with :func:`scenario` in a
module listed in :data:`MODULES`. The harness runs every scenario in its own Python process (a
crash or a leak in one does not touch the others, and its peak memory is its own), collects what
it recorded, prints one table and writes the whole run as JSON (``var/bench/<timestamp>.json``
unless ``--json`` says where).

Rules every scenario keeps:

* every figure is a median over ``ctx.repeat`` runs (:meth:`Context.record` takes the samples and
  keeps them beside the median);
* a comparison runs both sides in the same invocation, alternating (:meth:`Context.alternate`),
  and reports the ratio;
* sizes come from ``ctx.size(quick=..., full=...)``: quick finishes the whole harness in a few
  minutes, full is what ``docs/benchmarks.md`` quotes.

Benchmarks are never timed assertions inside ``make test``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
if __name__ == "__main__":
    # the scenario modules ``from harness import scenario``: one module, one REGISTRY
    sys.modules.setdefault("harness", sys.modules[__name__])

#: The modules whose ``@scenario`` functions make up a harness run, in order.
MODULES = [
    "pdf_render",
    "customers_import",
    "billing_run",
    "contracts_bulk",
    "gateway_http",
    "gateway_rpc",
    "scale_out",
    "event_latency",
    "dashboard",
    "console",
]

REGISTRY: dict[str, tuple[str, Callable[[Context], None]]] = {}


def scenario(name: str, description: str) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
    """Register ``fn(ctx)`` as the scenario ``name`` (a short dotted name: ``billing.run``)."""

    def register(fn: Callable[[Context], None]) -> Callable[[Context], None]:
        REGISTRY[name] = (description, fn)
        return fn

    return register


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank; NaN when empty."""
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def peak_rss_mib() -> float:
    """Peak resident memory of this process and of its finished children, MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


@dataclass
class Figure:
    """One row of the table: a case of a scenario with its metrics (each a median)."""

    scenario: str
    case: str
    metrics: dict[str, float]
    units: dict[str, str] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    note: str = ""


class Context:
    """What a scenario gets: its mode and the means to record figures."""

    def __init__(self, name: str, mode: str, repeat: int | None = None):
        self.name = name
        self.mode = mode
        self.quick = mode == "quick"
        self.repeat = repeat or (3 if self.quick else 5)
        self.figures: list[Figure] = []

    def size(self, quick: Any, full: Any) -> Any:
        return quick if self.quick else full

    def log(self, message: str) -> None:
        print(f"[{self.name}] {message}", file=sys.stderr, flush=True)

    def record(
        self,
        case: str,
        samples: dict[str, list[float] | float],
        units: dict[str, str] | None = None,
        note: str = "",
    ) -> dict[str, float]:
        """Record a row: each metric's median over its samples (a single value is one sample)."""
        lists = {k: (list(v) if isinstance(v, list | tuple) else [float(v)]) for k, v in samples.items()}
        medians = {k: statistics.median(v) if v else float("nan") for k, v in lists.items()}
        self.figures.append(Figure(self.name, case, medians, dict(units or {}), lists, note))
        return medians

    def alternate(
        self,
        sides: dict[str, Callable[[], dict[str, float]]],
        repeat: int | None = None,
        warm_up: bool = True,
    ) -> dict[str, dict[str, list[float]]]:
        """Run each side ``repeat`` times, alternating (a, b, a, b …) so both see the same
        machine; each call returns its metrics. Returns, per side, each metric's samples."""
        repeat = repeat or self.repeat
        if warm_up:
            for fn in sides.values():
                fn()
        out: dict[str, dict[str, list[float]]] = {side: {} for side in sides}
        for _ in range(repeat):
            for side, fn in sides.items():
                for k, v in fn().items():
                    out[side].setdefault(k, []).append(float(v))
        return out

    def record_comparison(
        self,
        case: str,
        runs: dict[str, dict[str, list[float]]],
        ratio: tuple[str, str, str],
        units: dict[str, str] | None = None,
        note: str = "",
        also: tuple[str, ...] = (),
    ) -> dict[str, float]:
        """Record the alternating ``runs`` of :meth:`alternate` as one row (metrics named
        ``<side>.<metric>``) with ``ratio = (metric, numerator side, denominator side)`` worked
        out per repeat and its median reported as ``ratio``; each metric in ``also`` gets the
        same ratio as ``ratio_<metric>`` (e.g. ``also=("p50_ms",)``)."""
        metric, num, den = ratio
        samples: dict[str, list[float]] = {}
        for side, metrics in runs.items():
            for k, v in metrics.items():
                samples[f"{side}.{k}"] = v
        side_units = {f"{side}.{k}": u for side in runs for k, u in (units or {}).items()}
        for m, key in ((metric, "ratio"), *((m, f"ratio_{m}") for m in also)):
            samples[key] = [
                a / b if b else float("nan") for a, b in zip(runs[num][m], runs[den][m], strict=True)
            ]
            side_units[key] = f"{num}/{den} {m}"
        return self.record(case, samples, side_units, note)

    @contextmanager
    def system(self, overrides: dict[str, str] | None = None, data_dir: Path | None = None) -> Iterator[Any]:
        """The whole system started by the local runner (``make run``'s code path) on a
        throwaway vhost and data directory; yields ``crm_common.testing.RunningSystem``."""
        from crm_common.testing import run_system

        env = {"CRM_LOG_LEVEL": "WARNING", **(overrides or {})}
        if data_dir is not None:
            with run_system(ROOT, data_dir, env) as running:
                yield running
            return
        with tempfile.TemporaryDirectory() as tmp, run_system(ROOT, Path(tmp), env) as running:
            yield running


# -- running ------------------------------------------------------------------------------------


def load_all() -> None:
    for module in MODULES:
        importlib.import_module(module)


def run_one(name: str, mode: str, out: Path) -> int:
    """In the child process: run one scenario, write its figures to ``out``."""
    load_all()
    _description, fn = REGISTRY[name]
    ctx = Context(name, mode)
    started = time.perf_counter()
    error = None
    try:
        fn(ctx)
    except Exception as exc:  # reported in the table, the other scenarios go on
        import traceback

        traceback.print_exc()
        error = f"{type(exc).__name__}: {exc}"
    result = {
        "scenario": name,
        "seconds": time.perf_counter() - started,
        "peak_rss_mib": peak_rss_mib(),
        "error": error,
        "figures": [asdict(f) for f in ctx.figures],
    }
    out.write_text(json.dumps(result, indent=2, default=str))
    return 1 if error else 0


def fmt(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "n/a"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    if abs(value) >= 100:
        return f"{value:,.0f}" + (f" {unit}" if unit else "")
    return f"{value:.2f}" + (f" {unit}" if unit else "")


def print_table(results: list[dict]) -> None:
    for res in results:
        head = f"== {res['scenario']}  ({res['seconds']:.0f} s, peak {res['peak_rss_mib']:.0f} MiB)"
        print(head + (f"  FAILED: {res['error']}" if res["error"] else ""))
        for fig in res["figures"]:
            cells = ", ".join(f"{k} {fmt(v, fig['units'].get(k, ''))}" for k, v in fig["metrics"].items())
            print(f"   {fig['case']:<34} {cells}" + (f"  ({fig['note']})" if fig["note"] else ""))


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["quick", "full"], default=os.environ.get("BENCH_MODE", "quick"))
    parser.add_argument("--only", default="", help="comma-separated scenario names (or prefixes)")
    parser.add_argument("--json", type=Path, default=None, help="where to write the run (default var/bench/)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        return run_one(args.child[0], args.mode, Path(args.child[1]))
    load_all()
    if args.list:
        for name, (description, _fn) in REGISTRY.items():
            print(f"{name:<24} {description}")
        return 0
    wanted = [w for w in args.only.split(",") if w]
    names = [n for n in REGISTRY if not wanted or any(n == w or n.startswith(w + ".") for w in wanted)]
    if not names:
        parser.error(f"no scenario matches {args.only!r}; --list shows them")

    started = dt.datetime.now(dt.UTC)
    run = {"mode": args.mode, "started": started.isoformat(), "machine": machine(), "results": []}
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            print(f"-- {name}: {REGISTRY[name][0]}", file=sys.stderr, flush=True)
            out = Path(tmp) / f"{name}.json"
            code = subprocess.call(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--mode",
                    args.mode,
                    "--child",
                    name,
                    str(out),
                ]
            )
            if out.exists():
                result = json.loads(out.read_text())
            else:
                result = {
                    "scenario": name,
                    "seconds": 0.0,
                    "peak_rss_mib": 0.0,
                    "error": f"the scenario's process exited with {code} before writing its figures",
                    "figures": [],
                }
            failed += bool(result["error"])
            run["results"].append(result)
    run["seconds"] = (dt.datetime.now(dt.UTC) - started).total_seconds()
    path = args.json or ROOT / "var" / "bench" / f"{started:%Y%m%dT%H%M%SZ}-{args.mode}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run, indent=2, default=str))
    print()
    print_table(run["results"])
    print(f"\n{len(names)} scenarios in {run['seconds']:.0f} s ({args.mode}); JSON: {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
