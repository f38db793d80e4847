import { api, unwrap, type components } from "../../shared/api/client";
import { listQuery, type ListParams } from "../../shared/components/ServerTable";

export type Task = components["schemas"]["TaskPublic"];
export type Notification = components["schemas"]["NotificationPublic"];

/** The kinds a task list can be filtered by (the gateway's `kind` filter). */
export const TASK_KINDS = ["collection", "follow_up", "approval", "renewal", "dispatch", "service_request"] as const;
/** Why finance or an admin closes an unpaid invoice's collection task (notify's COLLECTION_CLOSE_REASONS). */
export const COLLECTION_CLOSE_REASONS = ["dispute", "write_off", "payment_arranged", "other"] as const;
export type CloseReason = (typeof COLLECTION_CLOSE_REASONS)[number];
export type TaskClosing = Pick<components["schemas"]["TaskUpdate"], "note"> & { close_reason: CloseReason };
/** Who closes an unpaid invoice's collection task (with a reason); anyone else gets 409. */
export const COLLECTION_CLOSERS = ["finance", "admin"] as const;
export const TASK_STATUSES = ["open", "done", "cancelled"] as const;
export const TASK_FILTERS = ["view", "kind", "status"] as const;

/** Tasks: `view=mine` keeps those assigned to the caller; otherwise all the caller may see. */
export function listTasks(params: ListParams, myId: number | undefined) {
  const { view, ...filters } = params.filters;
  const query: Record<string, string | number> = listQuery({ ...params, filters });
  if (view === "mine" && myId !== undefined) query.assignee_id = myId;
  return unwrap(api.GET("/api/v1/tasks", { params: { query: query as never } }));
}

export function closeTask(id: number, closing?: TaskClosing) {
  const body: components["schemas"]["TaskUpdate"] = { status: "done", ...closing };
  return unwrap(api.PATCH("/api/v1/tasks/{task_id}", { params: { path: { task_id: String(id) } }, body }));
}

/** Why a closed task closed (billing's "paid"/"voided", or finance's reason), if the API says. */
export function closeReasonOf(task: Task): string | null {
  return task.close_reason ?? null;
}

export function listNotifications(params: ListParams) {
  const { unread, ...filters } = params.filters;
  const query: Record<string, string | number | boolean> = listQuery({ ...params, filters });
  if (unread === "true") query.unread = true;
  return unwrap(api.GET("/api/v1/notifications", { params: { query: query as never } }));
}

export function markRead(id: number) {
  return unwrap(
    api.POST("/api/v1/notifications/{notification_id}/read", { params: { path: { notification_id: String(id) } } }),
  );
}

export function markAllRead() {
  return unwrap(api.POST("/api/v1/notifications/read-all"));
}

const DOCUMENT_PATHS: Record<string, string> = {
  contract: "/contracts",
  invoice: "/invoices",
  approval: "/approvals",
  approval_request: "/approvals",
  customer: "/customers",
  opportunity: "/opportunities",
  payment: "/payments",
};

/** The console's page of a related document, or null when the console has none for its type. */
export function documentPath(type: string | null | undefined, id: string | number | null | undefined): string | null {
  if (!type || id === null || id === undefined || id === "") return null;
  const base = DOCUMENT_PATHS[type];
  return base ? `${base}/${encodeURIComponent(String(id))}` : null;
}
