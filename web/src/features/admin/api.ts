import { api, unwrap, type components } from "../../shared/api/client";
import { idempotencyHeader } from "../../shared/api/idempotency";
import { listQuery, type ListParams } from "../../shared/components/ServerTable";

export type User = components["schemas"]["UserPublic"];
export type UserCreate = components["schemas"]["UserCreate"];
export type UserUpdate = components["schemas"]["UserUpdate"];
export type Template = components["schemas"]["TemplatePublic"];
export type TemplateSummary = components["schemas"]["TemplateSummary"];
export type TemplateCreate = components["schemas"]["TemplateCreate"];
export type Rule = components["schemas"]["RulePublic"];
export type RuleUpdate = components["schemas"]["RuleUpdate"];
export type Webhook = components["schemas"]["WebhookPublic"];
export type WebhookCreate = components["schemas"]["WebhookCreate"];
export type WebhookUpdate = components["schemas"]["WebhookUpdate"];
export type Delivery = components["schemas"]["DeliveryPublic"];
export type DailyJobResult = components["schemas"]["DailyJobResult"];

export const ROLES = ["admin", "sales_manager", "sales_rep", "finance", "approver", "warehouse", "readonly", "portal"] as const;
export const LANGS = ["en", "zh", "tr", "bg"] as const;
export const CHANNELS = ["inbox", "email", "sms"] as const;
export const RECIPIENTS = ["owner", "contacts", "approvers", "submitter", "finance", "warehouse", "admins", "assignee"] as const;
export const FIELD_TYPES = ["text", "number", "date", "money"] as const;
export const USER_FILTERS = ["q", "role", "active"] as const;

// -- users -----------------------------------------------------------------------------------
export function listUsers(params: ListParams) {
  return unwrap(api.GET("/api/v1/users", { params: { query: listQuery(params) as never } }));
}
export function createUser(body: UserCreate) {
  return unwrap(api.POST("/api/v1/users", { body }));
}
export function updateUser(id: number, body: UserUpdate) {
  return unwrap(api.PATCH("/api/v1/users/{user_id}", { params: { path: { user_id: String(id) } }, body }));
}

// -- contract templates ----------------------------------------------------------------------
export function listTemplates(params: ListParams) {
  return unwrap(api.GET("/api/v1/contract-templates", { params: { query: listQuery(params) as never } }));
}
export function getTemplate(id: number) {
  return unwrap(api.GET("/api/v1/contract-templates/{template_id}", { params: { path: { template_id: String(id) } } }));
}
export function createTemplate(body: TemplateCreate, key?: string) {
  return unwrap(api.POST("/api/v1/contract-templates", { params: { header: idempotencyHeader(key) }, body }));
}
export function deactivateTemplate(id: number) {
  return unwrap(api.POST("/api/v1/contract-templates/{template_id}/deactivate", { params: { path: { template_id: String(id) } } }));
}

/** The `{{ name }}` placeholders of a template body, in order of first appearance. */
export function placeholders(body: string): string[] {
  const out: string[] = [];
  for (const m of body.matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)) if (!out.includes(m[1])) out.push(m[1]);
  return out;
}

// -- notification rules ----------------------------------------------------------------------
export function listRules() {
  return unwrap(api.GET("/api/v1/notification-rules"));
}
export function updateRule(eventType: string, body: RuleUpdate) {
  return unwrap(api.PATCH("/api/v1/notification-rules/{event_type}", { params: { path: { event_type: eventType } }, body }));
}
export function resetRule(eventType: string) {
  return unwrap(api.DELETE("/api/v1/notification-rules/{event_type}", { params: { path: { event_type: eventType } } }));
}

// -- webhooks --------------------------------------------------------------------------------
export function listWebhooks(params: ListParams) {
  return unwrap(api.GET("/api/v1/webhooks", { params: { query: { page: params.page, page_size: params.page_size } } }));
}
export function createWebhook(body: WebhookCreate, key?: string) {
  return unwrap(api.POST("/api/v1/webhooks", { params: { header: idempotencyHeader(key) }, body }));
}
export function updateWebhook(id: number, body: WebhookUpdate) {
  return unwrap(api.PATCH("/api/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: String(id) } }, body }));
}
export function deleteWebhook(id: number) {
  return unwrap(api.DELETE("/api/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: String(id) } } }));
}
export function listDeliveries(id: number, page: number) {
  return unwrap(
    api.GET("/api/v1/webhooks/{webhook_id}/deliveries", { params: { path: { webhook_id: String(id) }, query: { page, page_size: 20 } } }),
  );
}

// The event types, ping, redelivery and rotation routes are typed by hand until the client is regenerated
// from /openapi.json (`make web-api`); the shapes are the gateway's EventTypePage, PingResult,
// DeliveryPublic and WebhookRotated.
export interface PingResult {
  delivery_id: number;
  ok: boolean;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}
export type RotatedWebhook = Webhook & { secret: string; previous_secret_expires_at?: string | null; secret_rotated_at?: string | null };
type HandTyped = {
  GET: (path: string, init: { params: { query: Record<string, string | number | boolean> } }) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
  POST: (
    path: string,
    init: { params: { path: Record<string, string> }; body?: unknown },
  ) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
};
const handTyped = api as unknown as HandTyped;

/** The public event types of the catalogue: what a webhook may subscribe to (besides `*`). */
export async function listPublicEventTypes(): Promise<string[]> {
  const page = (await unwrap(handTyped.GET("/api/v1/event-types", { params: { query: { public: true, page_size: 500 } } }))) as {
    items: { type: string }[];
  };
  return [...new Set(page.items.map((e) => e.type))].sort();
}
export function pingWebhook(id: number): Promise<PingResult> {
  return unwrap(handTyped.POST("/api/v1/webhooks/{webhook_id}/ping", { params: { path: { webhook_id: String(id) } } })) as Promise<PingResult>;
}
export function redeliverDelivery(webhookId: number, deliveryId: number): Promise<Delivery> {
  return unwrap(
    handTyped.POST("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", {
      params: { path: { webhook_id: String(webhookId), delivery_id: String(deliveryId) } },
    }),
  ) as Promise<Delivery>;
}
/** A new secret (returned this once); the previous one stays valid for `graceSeconds`. */
export function rotateWebhookSecret(id: number, graceSeconds: number): Promise<RotatedWebhook> {
  return unwrap(
    handTyped.POST("/api/v1/webhooks/{webhook_id}/rotate-secret", {
      params: { path: { webhook_id: String(id) } },
      body: { grace_seconds: graceSeconds },
    }),
  ) as Promise<RotatedWebhook>;
}

// -- daily jobs ------------------------------------------------------------------------------
export function runDailyJobs(asOf: string) {
  return unwrap(api.POST("/api/v1/admin/jobs/daily", { body: { as_of: asOf } }));
}

export interface JobRow {
  key: string;
  service: string;
  job: string;
  value: string;
  failed: boolean;
}

/**
 * What each service's daily run did, one row per figure: `{"billing": {"invoices_created": 2}}`
 * → billing / invoices_created / 2; a service that failed → one row with its error message.
 */
export function jobRows(result: DailyJobResult): JobRow[] {
  const rows: JobRow[] = [];
  for (const [service, outcome] of Object.entries(result.results ?? {})) {
    const o = outcome as Record<string, unknown> | null;
    const error = o && typeof o === "object" ? (o.error as { message?: string } | undefined) : undefined;
    if (error && typeof error === "object") {
      rows.push({ key: `${service}:error`, service, job: "error", value: error.message ?? JSON.stringify(error), failed: true });
      continue;
    }
    if (!o || typeof o !== "object" || Object.keys(o).length === 0) {
      rows.push({ key: `${service}:none`, service, job: "nothing", value: "—", failed: false });
      continue;
    }
    for (const [job, value] of Object.entries(o)) {
      const text = value === null || value === undefined ? "—" : typeof value === "object" ? JSON.stringify(value) : String(value);
      rows.push({ key: `${service}:${job}`, service, job, value: text, failed: false });
    }
  }
  return rows;
}
