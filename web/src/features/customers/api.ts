import { api, unwrap, type components } from "../../shared/api/client";
import { idempotencyHeader } from "../../shared/api/idempotency";
import { listQuery, type ListParams } from "../../shared/components/ServerTable";

export type Customer = components["schemas"]["CustomerPublic"];
export type CustomerCreate = components["schemas"]["CustomerCreate"];

export const CUSTOMER_FILTERS = ["q", "level", "region", "industry", "owner_id", "tag", "kind", "red_listed", "include_archived"] as const;

/** Who may put a customer on the red list or take it off, and who may restore an archived one (customers service). */
export const RED_LIST_ROLES = ["admin", "sales_manager", "finance"];
export const RESTORE_ROLES = ["admin", "sales_manager"];

export function listCustomers(params: ListParams) {
  return unwrap(api.GET("/api/v1/customers", { params: { query: listQuery(params) as never } }));
}

export function getCustomer(id: number | string): Promise<Customer> {
  return unwrap(api.GET("/api/v1/customers/{customer_id}", { params: { path: { customer_id: String(id) } } }));
}

export function createCustomer(body: CustomerCreate, key?: string) {
  return unwrap(api.POST("/api/v1/customers", { params: { header: idempotencyHeader(key) }, body }));
}

export function updateCustomer(id: number | string, body: components["schemas"]["CustomerUpdate"]) {
  return unwrap(api.PATCH("/api/v1/customers/{customer_id}", { params: { path: { customer_id: String(id) } }, body }));
}

export type FollowUpCreate = components["schemas"]["FollowUpCreate"];
export type ContactCreate = components["schemas"]["ContactCreate"];

const cid = (id: number | string) => ({ path: { customer_id: String(id) } });

export function listContacts(id: number | string) {
  return unwrap(api.GET("/api/v1/customers/{customer_id}/contacts", { params: { ...cid(id), query: { page_size: 200 } } }));
}

export function addContact(id: number | string, body: ContactCreate, key?: string) {
  return unwrap(api.POST("/api/v1/customers/{customer_id}/contacts", { params: { ...cid(id), header: idempotencyHeader(key) }, body }));
}

export function listFollowUps(id: number | string) {
  return unwrap(api.GET("/api/v1/customers/{customer_id}/follow-ups", { params: { ...cid(id), query: { page_size: 200 } } }));
}

export function addFollowUp(id: number | string, body: FollowUpCreate, key?: string) {
  return unwrap(api.POST("/api/v1/customers/{customer_id}/follow-ups", { params: { ...cid(id), header: idempotencyHeader(key) }, body }));
}

export function customerOpportunities(id: number | string) {
  return unwrap(api.GET("/api/v1/opportunities", { params: { query: { customer_id: String(id), page_size: 200 } } }));
}

export function customerContracts(id: number | string) {
  return unwrap(api.GET("/api/v1/contracts", { params: { query: { customer_id: Number(id), page_size: 200 } } }));
}

export function customerInvoices(id: number | string) {
  return unwrap(api.GET("/api/v1/invoices", { params: { query: { customer_id: Number(id), page_size: 200 } } }));
}

export function deleteCustomer(id: number | string) {
  return unwrap(api.DELETE("/api/v1/customers/{customer_id}", { params: cid(id) }));
}

export type ImportMode = "all_or_nothing" | "skip_bad";

/** Uploads a CSV and answers at once with the job to follow (`?async=true`). */
export function startImport(file: File, mode: ImportMode) {
  const form = new FormData();
  form.append("file", file, file.name);
  return unwrap(
    api.POST("/api/v1/customers/import", {
      params: { query: { mode, async: true } },
      body: { file: file.name },
      bodySerializer: () => form,
    }),
  );
}

export function getImport(jobId: number | string) {
  return unwrap(api.GET("/api/v1/customers/import/{job_id}", { params: { path: { job_id: String(jobId) } } }));
}

/** Archive: hidden from lists, no new contracts or opportunities (409 when already archived). */
export function archiveCustomer(id: number | string) {
  return unwrap(api.POST("/api/v1/customers/{customer_id}/archive", { params: cid(id) }));
}

export function restoreCustomer(id: number | string) {
  return unwrap(api.POST("/api/v1/customers/{customer_id}/restore", { params: cid(id) }));
}

export function redListCustomer(id: number | string, reason: string) {
  return unwrap(api.POST("/api/v1/customers/{customer_id}/red-list", { params: cid(id), body: { reason } }));
}

export function clearRedList(id: number | string) {
  return unwrap(api.DELETE("/api/v1/customers/{customer_id}/red-list", { params: cid(id) }));
}
