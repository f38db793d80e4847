import { api, unwrap, type components } from "../../shared/api/client";

type Schemas = components["schemas"];
export type Dashboard = Schemas["DashboardSummary"];
export type PerCurrency = Record<string, string>;
export type Aging = Schemas["ReceivablesAging"];
export type AgingRow = Schemas["AgingRow"];
export type CashFlow = Schemas["CashFlow"];
export type CashFlowMonth = Schemas["CashFlowMonthFigures"];
export type Revenue = Schemas["Revenue"];
export type Recurring = Schemas["RecurringRevenue"];
export type TopCustomer = Schemas["TopCustomer"];

export const getDashboard = (year: number) => unwrap(api.GET("/api/v1/dashboard", { params: { query: { year } } }));

export const getAging = (asOf?: string) =>
  unwrap(api.GET("/api/v1/reports/receivables-aging", { params: { query: { as_of: asOf || undefined } } }));

export const getCashFlow = (year: number) => unwrap(api.GET("/api/v1/reports/cash-flow", { params: { query: { year } } }));

export const getRevenue = (q: { year?: number; from?: string; to?: string; by: "customer" | "product" }) =>
  unwrap(api.GET("/api/v1/reports/revenue", { params: { query: q } }));

export const getRecurring = (asOf?: string) =>
  unwrap(api.GET("/api/v1/reports/recurring-revenue", { params: { query: { as_of: asOf || undefined } } }));

/** The aging buckets in order, as the API names them. */
export const BUCKETS = ["current", "1_30", "31_60", "61_90", "over_90"] as const;
export type Bucket = (typeof BUCKETS)[number];
