// ECharts options of the dashboard and reports, built from the API's per-currency figures. Every
// chart shows one currency: amounts of different currencies never share an axis.
import { chartNumber, formatMoney } from "../../shared/format";
import { intlLocale } from "../../shared/i18n";
import { BUCKETS, type AgingRow, type CashFlowMonth, type TopCustomer } from "./api";
import type { ChartOption } from "./Chart";

type T = (key: string, options?: Record<string, unknown>) => string;

export const COLORS = { invoiced: "#1677ff", collected: "#52c41a", forecast: "#fa8c16", balance: "#f5222d" };
const BUCKET_COLORS = ["#95de64", "#ffd666", "#ffa940", "#ff7a45", "#cf1322"];

/** "2027-03" → "Mar" in the reader's language. */
export function monthLabel(month: string, lang: string): string {
  const [y, m] = month.split("-").map(Number);
  return new Intl.DateTimeFormat(intlLocale(lang), { month: "short", timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, 1)));
}

/** An axis tick: a short amount in the currency (€12K, 1.2万 US$). */
export function compactMoney(value: number, currency: string, lang: string): string {
  try {
    return new Intl.NumberFormat(intlLocale(lang), { style: "currency", currency, notation: "compact", maximumFractionDigits: 1 }).format(value);
  } catch {
    return String(value);
  }
}

function moneyAxis(currency: string, lang: string) {
  // narrow charts (a phone) drop the ticks that would overlap instead of printing them on each other
  return { type: "value" as const, axisLabel: { formatter: (v: number) => compactMoney(v, currency, lang), hideOverlap: true } };
}

/** A tooltip listing each series of the hovered category with its exact amount. */
function moneyTooltip(currency: string, lang: string, amounts: (series: number, index: number) => string | undefined) {
  return {
    trigger: "axis" as const,
    axisPointer: { type: "shadow" as const },
    formatter: (params: unknown) => {
      const list = (Array.isArray(params) ? params : [params]) as { seriesIndex: number; dataIndex: number; seriesName: string; marker: string; name: string }[];
      if (!list.length) return "";
      const rows = list.map((p) => `${p.marker}${p.seriesName}: <b>${formatMoney(amounts(p.seriesIndex, p.dataIndex) ?? "0", currency, lang)}</b>`);
      return [list[0].name, ...rows].join("<br/>");
    },
  };
}

const grid = { left: 8, right: 16, top: 40, bottom: 8, containLabel: true };

/** Cash flow by month of one currency: invoiced and collected as bars, forecast as a line. */
export function cashFlowOption(months: { month: string; invoiced?: string; collected?: string; forecast?: string }[], currency: string, lang: string, t: T): ChartOption {
  const keys = ["invoiced", "collected", "forecast"] as const;
  return {
    color: [COLORS.invoiced, COLORS.collected, COLORS.forecast],
    grid,
    legend: { top: 0 },
    tooltip: moneyTooltip(currency, lang, (s, i) => months[i]?.[keys[s]]),
    xAxis: { type: "category", data: months.map((m) => monthLabel(m.month, lang)) },
    yAxis: moneyAxis(currency, lang),
    series: [
      { type: "bar", name: t("dashboard.invoiced"), data: months.map((m) => chartNumber(m.invoiced)) },
      { type: "bar", name: t("dashboard.collected"), data: months.map((m) => chartNumber(m.collected)) },
      { type: "line", name: t("dashboard.forecast"), data: months.map((m) => chartNumber(m.forecast)) },
    ],
  };
}

/** The dashboard's cash flow (each figure a per-currency map) as one currency's months. */
export function monthsOf(cashFlow: { month: string; invoiced: Record<string, string>; collected: Record<string, string>; forecast: Record<string, string> }[], currency: string): CashFlowMonth[] {
  return cashFlow.map((m) => ({
    month: m.month,
    invoiced: m.invoiced[currency] ?? "0",
    collected: m.collected[currency] ?? "0",
    forecast: m.forecast[currency] ?? "0",
  }));
}

export interface StageFigure {
  stage: string;
  count: number;
  amount?: string;
}

/** The pipeline funnel: the open stages and won, sized by count, each with its amount in the currency. */
export function funnelOption(stages: StageFigure[], currency: string, lang: string, t: T): ChartOption {
  const data = stages.map((s) => ({ name: t(`status.${s.stage}`), value: s.count, amount: s.amount ?? "0" }));
  return {
    tooltip: {
      trigger: "item",
      formatter: (p: unknown) => {
        const x = p as { name: string; value: number; dataIndex: number; marker: string };
        return `${x.marker}${x.name}<br/>${t("dashboard.opportunities", { count: x.value })}<br/><b>${formatMoney(data[x.dataIndex].amount, currency, lang)}</b>`;
      },
    },
    series: [
      {
        type: "funnel",
        sort: "none",
        minSize: "18%",
        left: "5%",
        width: "90%",
        top: 8,
        bottom: 8,
        gap: 2,
        label: {
          position: "inside",
          formatter: (p: unknown) => {
            const x = p as { name: string; value: number; dataIndex: number };
            return `${x.name}: ${x.value} · ${formatMoney(data[x.dataIndex].amount, currency, lang)}`;
          },
        },
        data,
      },
    ],
  };
}

/** Receivables aging of one currency: one bar per customer (or the total), stacked by days past due. */
export function agingOption(rows: { name: string; row: AgingRow }[], currency: string, lang: string, t: T): ChartOption {
  const names = rows.map((r) => r.name);
  return {
    color: BUCKET_COLORS,
    grid: { ...grid, top: 48 },
    legend: { top: 0 },
    tooltip: moneyTooltip(currency, lang, (s, i) => rows[i]?.row[BUCKETS[s]]),
    xAxis: moneyAxis(currency, lang),
    yAxis: { type: "category", data: names, inverse: true, axisLabel: { width: 140, overflow: "truncate" } },
    series: BUCKETS.map((b) => ({
      type: "bar" as const,
      stack: "aging",
      name: t(`dashboard.buckets.${b}`),
      data: rows.map((r) => chartNumber(r.row[b])),
    })),
  };
}

/** Top customers of one currency: invoiced, collected and open balance side by side. */
export function topCustomersOption(rows: TopCustomer[], currency: string, lang: string, t: T): ChartOption {
  const keys = ["invoiced", "collected", "balance"] as const;
  return {
    color: [COLORS.invoiced, COLORS.collected, COLORS.balance],
    grid: { ...grid, top: 32 },
    legend: { top: 0 },
    tooltip: moneyTooltip(currency, lang, (s, i) => rows[i]?.[keys[s]]),
    xAxis: moneyAxis(currency, lang),
    yAxis: { type: "category", data: rows.map((r) => r.name ?? `#${r.customer_id}`), inverse: true, axisLabel: { width: 140, overflow: "truncate" } },
    series: keys.map((k) => ({ type: "bar" as const, name: t(`dashboard.${k}`), data: rows.map((r) => chartNumber(r[k])) })),
  };
}

/** Amounts by name (revenue by customer or product; MRR by currency) as horizontal bars. */
export function barsOption(rows: { name: string; amount: string }[], currency: string, lang: string, series: string): ChartOption {
  return {
    color: [COLORS.invoiced],
    grid: { ...grid, top: 8 },
    tooltip: moneyTooltip(currency, lang, (_s, i) => rows[i]?.amount),
    xAxis: moneyAxis(currency, lang),
    yAxis: { type: "category", data: rows.map((r) => r.name), inverse: true, axisLabel: { width: 160, overflow: "truncate" } },
    series: [{ type: "bar", name: series, data: rows.map((r) => chartNumber(r.amount)) }],
  };
}
