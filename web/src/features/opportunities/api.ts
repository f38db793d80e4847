import { api, unwrap, type components } from "../../shared/api/client";
import { idempotencyHeader } from "../../shared/api/idempotency";
import { listQuery, type ListParams } from "../../shared/components/ServerTable";

export type Opportunity = components["schemas"]["OpportunityPublic"];
export type OpportunityCreate = components["schemas"]["OpportunityCreate"];
export type OpportunityUpdate = components["schemas"]["OpportunityUpdate"];

export const STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"] as const;
export type Stage = (typeof STAGES)[number];
export const CURRENCIES = ["EUR", "USD", "GBP", "CNY", "TRY", "BGN", "CHF"] as const;
export const OPPORTUNITY_FILTERS = ["view", "stage", "owner_id"] as const;

export function listOpportunities(params: ListParams) {
  const { view: _view, ...filters } = params.filters;
  return unwrap(api.GET("/api/v1/opportunities", { params: { query: listQuery({ ...params, filters }) as never } }));
}

/** Every opportunity the caller sees (the board), up to 500, optionally of one owner. */
export function boardOpportunities(ownerId: string | undefined) {
  const query: Record<string, string | number> = { page_size: 500 };
  if (ownerId) query.owner_id = Number(ownerId);
  return unwrap(api.GET("/api/v1/opportunities", { params: { query: query as never } }));
}

export function getOpportunity(id: string | number) {
  return unwrap(api.GET("/api/v1/opportunities/{opportunity_id}", { params: { path: { opportunity_id: String(id) } } }));
}

export function createOpportunity(body: OpportunityCreate, key?: string) {
  return unwrap(api.POST("/api/v1/opportunities", { params: { header: idempotencyHeader(key) }, body }));
}

export function updateOpportunity(id: string | number, body: OpportunityUpdate) {
  return unwrap(
    api.PATCH("/api/v1/opportunities/{opportunity_id}", { params: { path: { opportunity_id: String(id) } }, body }),
  );
}

/** Staff to pick an owner from (administrators only may list users). */
export async function listStaff() {
  const page = await unwrap(api.GET("/api/v1/users", { params: { query: { page_size: 500, active: true } } }));
  return page.items.filter((u) => !u.roles.includes("portal"));
}

/**
 * Totals per currency of decimal strings, exact (never summed across currencies): scaled
 * integers, so "0.10" + "0.20" is "0.30".
 */
export function totalsByCurrency(rows: { amount: string; currency: string }[]): { currency: string; amount: string }[] {
  const SCALE = 4;
  const sums = new Map<string, bigint>();
  for (const { amount, currency } of rows) {
    const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount.trim());
    if (!match) continue;
    const units = BigInt(match[2] + (match[3] ?? "").padEnd(SCALE, "0").slice(0, SCALE)) * (match[1] ? -1n : 1n);
    sums.set(currency, (sums.get(currency) ?? 0n) + units);
  }
  return [...sums.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, units]) => {
      const negative = units < 0n;
      const digits = (negative ? -units : units).toString().padStart(SCALE + 1, "0");
      const whole = digits.slice(0, -SCALE);
      const fraction = digits.slice(-SCALE).slice(0, 2);
      return { currency, amount: `${negative ? "-" : ""}${whole}.${fraction}` };
    });
}
