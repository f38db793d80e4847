import { api, unwrap, type components } from "../../shared/api/client";
import { listQuery, type ListParams } from "../../shared/components/ServerTable";

export type Customer = components["schemas"]["CustomerPublic"];
export type CustomerCreate = components["schemas"]["CustomerCreate"];

export const CUSTOMER_FILTERS = ["q", "level", "region", "industry", "owner_id", "tag", "kind", "red_listed"] as const;

export function listCustomers(params: ListParams) {
  return unwrap(api.GET("/api/v1/customers", { params: { query: listQuery(params) as never } }));
}

export function getCustomer(id: number | string) {
  return unwrap(api.GET("/api/v1/customers/{customer_id}", { params: { path: { customer_id: String(id) } } }));
}

export function createCustomer(body: CustomerCreate) {
  return unwrap(api.POST("/api/v1/customers", { body }));
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

export function addContact(id: number | string, body: ContactCreate) {
  return unwrap(api.POST("/api/v1/customers/{customer_id}/contacts", { params: cid(id), body }));
}

export function listFollowUps(id: number | string) {
  return unwrap(api.GET("/api/v1/customers/{customer_id}/follow-ups", { params: { ...cid(id), query: { page_size: 200 } } }));
}

export function addFollowUp(id: number | string, body: FollowUpCreate) {
  return unwrap(api.POST("/api/v1/customers/{customer_id}/follow-ups", { params: cid(id), body }));
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
