import { api, download, unwrap, type components } from "../../shared/api/client";
import { idempotencyHeader } from "../../shared/api/idempotency";
import { listQuery, type ListParams } from "../../shared/components/ServerTable";

type S = components["schemas"];
export type ApprovalRequest = S["ApprovalRequestPublic"];
export type ApprovalDetail = S["ApprovalRequestDetail"];
export type ApprovalDecision = S["ApprovalDecision"];
export type Flow = S["ApprovalFlowPublic"];
export type FlowDetail = S["ApprovalFlowDetail"];
export type FlowCreate = S["ApprovalFlowCreate"];
export type FlowStepInput = S["FlowStep-Input"];

export const APPROVAL_STATUSES = ["pending", "approved", "rejected", "withdrawn"] as const;
export const DOCUMENT_TYPES = ["contract", "amendment", "price_update", "trade_in"] as const;
export const APPROVAL_FILTERS = ["status", "document_type"] as const;

export function listApprovals(params: ListParams, mine: boolean) {
  const query = { ...listQuery(params), ...(mine ? { mine: true, status: "pending" } : {}) };
  return unwrap(api.GET("/api/v1/approvals", { params: { query: query as never } }));
}

const path = (id: number | string) => ({ params: { path: { approval_id: String(id) } } });
export const getApproval = (id: number | string) => unwrap(api.GET("/api/v1/approvals/{approval_id}", path(id)));
export const decide = (id: number | string, body: ApprovalDecision) =>
  unwrap(api.POST("/api/v1/approvals/{approval_id}/decision", { ...path(id), body }));
export const withdraw = (id: number | string, comment?: string) =>
  unwrap(api.POST("/api/v1/approvals/{approval_id}/withdraw", { ...path(id), body: comment ? { comment } : {} }));
export const sheetPdf = (id: number | string) => download(`/api/v1/approvals/${id}/sheet.pdf`, `approval-${id}.pdf`);

export const listFlows = (params: ListParams) =>
  unwrap(api.GET("/api/v1/approval-flows", { params: { query: listQuery(params) as never } }));
export const getFlow = (id: number | string) =>
  unwrap(api.GET("/api/v1/approval-flows/{flow_id}", { params: { path: { flow_id: String(id) } } }));
export const createFlow = (body: FlowCreate, key?: string) =>
  unwrap(api.POST("/api/v1/approval-flows", { params: { header: idempotencyHeader(key) }, body }));
export const updateFlow = (id: number | string, body: S["ApprovalFlowUpdate"]) =>
  unwrap(api.PATCH("/api/v1/approval-flows/{flow_id}", { params: { path: { flow_id: String(id) } }, body }));

/** Where the approved document lives in the console, when it is a page of its own. */
export function documentLink(a: Pick<ApprovalRequest, "document_type" | "document_id" | "details">): string | null {
  const details = (a.details ?? {}) as Record<string, unknown>;
  if (a.document_type === "contract") return `/contracts/${a.document_id}`;
  if (a.document_type === "amendment" && details.contract_id) return `/contracts/${String(details.contract_id)}?tab=amendments`;
  if (a.document_type === "trade_in") return `/inventory/trade-ins/${a.document_id}`;
  return null;
}

/** The human name of the document: its number where it has one. */
export function documentName(a: Pick<ApprovalRequest, "document_type" | "document_id" | "details">): string {
  const d = (a.details ?? {}) as Record<string, unknown>;
  const amendment = d.amendment as Record<string, unknown> | undefined;
  const number = (amendment?.number ?? d.number ?? d.contract_number) as string | undefined;
  return number ? String(number) : `#${a.document_id}`;
}
