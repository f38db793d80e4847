// Invoices, credit notes, payments and billing runs through the gateway's generated client.
import { api, unwrap, type components, type paths } from "../../shared/api/client";
import { idempotencyHeader } from "../../shared/api/idempotency";
import type { ListParams } from "../../shared/components/ServerTable";

type Schemas = components["schemas"];
export type InvoiceSummary = Schemas["InvoiceSummary"];
export type Invoice = Schemas["InvoicePublic"];
export type InvoiceStatus = InvoiceSummary["status"];
export type Payment = Schemas["PaymentPublic"];
export type PaymentMethod = Payment["method"];
export type PaymentCreate = Schemas["PaymentCreate"];
export type CreditNoteCreate = Schemas["CreditNoteCreate"];
export type RefundCreate = Schemas["RefundCreate"];
export type BillingRun = Schemas["BillingRunPublic"];

type InvoiceQuery = NonNullable<paths["/api/v1/invoices"]["get"]["parameters"]["query"]>;
type PaymentQuery = NonNullable<paths["/api/v1/payments"]["get"]["parameters"]["query"]>;

export const INVOICE_STATUSES: InvoiceStatus[] = ["draft", "issued", "partially_paid", "overdue", "paid", "void"];
export const PAYMENT_METHODS: PaymentMethod[] = ["bank_transfer", "cash", "card", "cheque", "direct_debit", "offset", "other"];
export const INVOICE_FILTERS = ["q", "status", "overdue", "customer_id", "contract_id", "currency", "issued_from", "issued_to"] as const;
export const PAYMENT_FILTERS = ["customer_id", "method", "status", "currency"] as const;

const num = (v?: string) => (v ? Number(v) : undefined);

/** The URL's filters as the invoices list's query (only the parameters the gateway knows). */
export function invoiceQuery(params: ListParams): InvoiceQuery {
  const f = params.filters;
  return {
    page: params.page,
    page_size: params.page_size,
    q: f.q,
    status: f.status as InvoiceStatus | undefined,
    overdue: f.overdue === "true" ? true : undefined,
    customer_id: num(f.customer_id),
    contract_id: num(f.contract_id),
    currency: f.currency,
    issued_from: f.issued_from,
    issued_to: f.issued_to,
  };
}

export function listInvoices(params: ListParams) {
  return unwrap(api.GET("/api/v1/invoices", { params: { query: invoiceQuery(params) } }));
}

/** Open invoices of a customer in a currency (to allocate a payment to). */
export async function openInvoices(customerId: number, currency: string) {
  const page = await unwrap(
    api.GET("/api/v1/invoices", { params: { query: { customer_id: customerId, currency, page_size: 200 } } }),
  );
  return page.items.filter((i) => ["issued", "partially_paid", "overdue"].includes(i.status) && Number(i.balance) > 0);
}

const invoicePath = (id: number | string) => ({ params: { path: { invoice_id: String(id) } } });

export const getInvoice = (id: number | string) => unwrap(api.GET("/api/v1/invoices/{invoice_id}", invoicePath(id)));
export const issueInvoice = (id: number) => unwrap(api.POST("/api/v1/invoices/{invoice_id}/issue", invoicePath(id)));
export const lockInvoice = (id: number) => unwrap(api.POST("/api/v1/invoices/{invoice_id}/lock", invoicePath(id)));
export const unlockInvoice = (id: number) => unwrap(api.POST("/api/v1/invoices/{invoice_id}/unlock", invoicePath(id)));
export const voidInvoice = (id: number, reason: string) =>
  unwrap(api.POST("/api/v1/invoices/{invoice_id}/void", { ...invoicePath(id), body: { reason } }));
export const createCreditNote = (id: number, body: CreditNoteCreate, key?: string) =>
  unwrap(
    api.POST("/api/v1/invoices/{invoice_id}/credit-notes", {
      params: { ...invoicePath(id).params, header: idempotencyHeader(key) },
      body,
    }),
  );

export function paymentQuery(params: ListParams): PaymentQuery {
  const f = params.filters;
  return {
    page: params.page,
    page_size: params.page_size,
    customer_id: num(f.customer_id),
    method: f.method as PaymentMethod | undefined,
    status: f.status as PaymentQuery["status"],
    currency: f.currency,
  };
}

export function listPayments(params: ListParams) {
  return unwrap(api.GET("/api/v1/payments", { params: { query: paymentQuery(params) } }));
}

const paymentPath = (id: number | string) => ({ params: { path: { payment_id: String(id) } } });

export const recordPayment = (body: PaymentCreate, key?: string) =>
  unwrap(api.POST("/api/v1/payments", { params: { header: idempotencyHeader(key) }, body }));
export const getPayment = (id: number | string) => unwrap(api.GET("/api/v1/payments/{payment_id}", paymentPath(id)));
export const confirmPayment = (id: number, key?: string) =>
  unwrap(api.POST("/api/v1/payments/{payment_id}/confirm", { params: { ...paymentPath(id).params, header: idempotencyHeader(key) } }));
export const lockPayment = (id: number) => unwrap(api.POST("/api/v1/payments/{payment_id}/lock", paymentPath(id)));
export const unlockPayment = (id: number) => unwrap(api.POST("/api/v1/payments/{payment_id}/unlock", paymentPath(id)));
export const allocatePayment = (id: number, allocations?: { invoice_id: number; amount: string }[], key?: string) =>
  unwrap(
    api.POST("/api/v1/payments/{payment_id}/allocations", {
      params: { ...paymentPath(id).params, header: idempotencyHeader(key) },
      body: { allocations },
    }),
  );
export const refundPayment = (id: number, body: RefundCreate, key?: string) =>
  unwrap(api.POST("/api/v1/payments/{payment_id}/refunds", { params: { ...paymentPath(id).params, header: idempotencyHeader(key) }, body }));

export function listBillingRuns(params: ListParams) {
  return unwrap(api.GET("/api/v1/billing/runs", { params: { query: { page: params.page, page_size: params.page_size } } }));
}
export const getBillingRun = (id: number | string) =>
  unwrap(api.GET("/api/v1/billing/runs/{run_id}", { params: { path: { run_id: String(id) } } }));
/** Starts a run; answers at once (wait 0): the screen polls its progress. */
export const startBillingRun = (asOf: string) =>
  unwrap(api.POST("/api/v1/billing/runs", { body: { as_of: asOf, wait_seconds: 0 } }));

/** Customers whose name or code matches, for the pickers of the filters and dialogs. */

export async function searchContracts(q: string) {
  const page = await unwrap(api.GET("/api/v1/contracts", { params: { query: { q: q || undefined, page_size: 20 } } }));
  return page.items;
}

export const getContract = (id: number) =>
  unwrap(api.GET("/api/v1/contracts/{contract_id}", { params: { path: { contract_id: String(id) } } }));

// ---- pending corrections (finance): credits a billing run held back on locked invoices --------
export type PendingCorrection = components["schemas"]["PendingCorrection"];
export const CORRECTION_STATUSES = ["pending", "applied", "dismissed", "all"] as const;
export function listPendingCorrections(params: ListParams) {
  const status = (params.filters.status || "pending") as (typeof CORRECTION_STATUSES)[number];
  const query = { page: params.page, page_size: params.page_size, status };
  return unwrap(api.GET("/api/v1/billing/pending-corrections", { params: { query } }));
}
export const decidePendingCorrection = (id: number, decision: "apply" | "dismiss", comment?: string) => {
  const init = { params: { path: { correction_id: String(id) } }, body: comment ? { comment } : {} };
  return unwrap(
    decision === "apply"
      ? api.POST("/api/v1/billing/pending-corrections/{correction_id}/apply", init)
      : api.POST("/api/v1/billing/pending-corrections/{correction_id}/dismiss", init),
  );
};
