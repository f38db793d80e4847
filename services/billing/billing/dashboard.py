"""Billing's part of the company dashboard: MRR / ARR, receivables and what of them is overdue,
the year's cash flow and the top customers — from billing's own data, in the caller's dashboard
scope (:func:`billing.scopes.dashboard_access`: a sales rep their customers, a sales manager with
a department that department's customers, portal users none).

Every figure comes from the code of the reports (:mod:`billing.reports`), so the dashboard
agrees with ``cash_flow``, ``recurring_revenue`` and ``receivables_aging`` for the same scope.
Sums are grouped in SQL (:mod:`billing.sums`); the schedules are read once for MRR and forecast.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

import eventlet
from crm_common.context import CallerContext
from crm_common.paging import parse_date
from nameko.extensions import DependencyProvider

from . import domain, reports, scopes
from .support import ZERO, money, today

TOP = 10

log = logging.getLogger(__name__)


def dashboard(db, caller, args: Any = None) -> dict[str, Any]:
    access = scopes.dashboard_access(caller)
    a = reports.report_args(args)
    year = reports.report_year(a)
    as_of = parse_date(a.get("as_of"), "as_of", default=today())
    with db.read() as s:
        rows = reports.schedule_rows(s, access, in_force_on=as_of, to_invoice=True)
        recurring = reports.mrr(rows, as_of)
        open_groups = reports.receivables(s, access, as_of)
        by_customer = reports.flows(s, access, year, by_customer=True)
        cash = reports.cash_flow_months(s, access, year, as_of, rows)
        receivable: dict[str, Decimal] = defaultdict(lambda: ZERO)
        overdue: dict[str, Decimal] = defaultdict(lambda: ZERO)
        balances: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
        overdue_invoices = 0
        for (cur, cid, bucket), g in open_groups.items():
            receivable[cur] += g.amount
            balances[(cur, cid)] += g.amount
            if domain.is_past_due(bucket):
                overdue[cur] += g.amount
                overdue_invoices += g.count
        invoiced: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
        collected: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
        for (cur, cid), vals in by_customer.items():
            if vals["invoiced"]:  # ranked: customers invoiced in the year (not those who only paid)
                invoiced[cur][cid] += vals["invoiced"]
            collected[(cur, cid)] += vals["collected"]
        ranked = [(cur, cid) for cur in sorted(invoiced) for cid in domain.top_ranked(invoiced[cur], TOP)]
        names = reports.customer_names(s, {cid for _, cid in ranked})
    currencies = sorted(set(recurring) | set(receivable) | set(cash) | set(invoiced))
    return {
        "year": year,
        "as_of": as_of.isoformat(),
        "currencies": currencies,
        "mrr": {cur: reports.recurring_figures(v["mrr"], cur)["mrr"] for cur, v in sorted(recurring.items())},
        "arr": {cur: reports.recurring_figures(v["mrr"], cur)["arr"] for cur, v in sorted(recurring.items())},
        "receivables": {cur: money(v, cur) for cur, v in sorted(receivable.items())},
        "overdue": {cur: money(overdue[cur], cur) for cur in sorted(receivable)},
        "overdue_invoices": overdue_invoices,
        "cash_flow": [
            {
                "month": month,
                **{
                    figure: {cur: money(cash[cur][i][figure], cur) for cur in sorted(cash)}
                    for figure in reports.FIGURES
                },
            }
            for i, month in enumerate(reports.months_of(year))
        ],
        "top_customers": [
            {
                "customer_id": cid,
                "name": names.get(cid),
                "currency": cur,
                "invoiced": money(invoiced[cur][cid], cur),
                "collected": money(collected[(cur, cid)], cur),
                "balance": money(balances[(cur, cid)], cur),
            }
            for cur, cid in ranked
        ],
    }


class DashboardWarmUp(DependencyProvider):
    """Computes the dashboard once, as the system, a few seconds after the service starts: the
    schedules' parsed segments and forecasts are remembered per process (:mod:`billing.reports`),
    so the first real request is as fast as the following ones (about 0.5 s instead of 1.2 s for
    10,000 schedules, docs/benchmarks.md). Off with ``DASHBOARD_WARM_UP: false`` in the config."""

    DELAY_SECONDS = 3.0

    def start(self) -> None:
        if str(self.container.config.get("DASHBOARD_WARM_UP", "true")).lower() in ("false", "0", "no"):
            return
        self.container.spawn_managed_thread(self._run, identifier="dashboard-warm-up")

    def _run(self) -> None:
        eventlet.sleep(self.DELAY_SECONDS)
        database = next(d for d in self.container.dependencies if d.attr_name == "db")
        started = time.perf_counter()
        try:
            board = dashboard(database.handle, CallerContext.system("billing"))
        except Exception:  # a warm-up is an optimisation: never a reason to fail
            log.warning("dashboard warm-up failed", exc_info=True)
            return
        log.info(
            "dashboard warm-up: %d currencies in %.2f s",
            len(board["currencies"]),
            time.perf_counter() - started,
        )
