import { api, download, itemsOf, toApiError, unwrap, type components } from "../../shared/api/client";
import { idempotencyHeader } from "../../shared/api/idempotency";
import { refreshOnce } from "../../shared/api/client";
import { session } from "../../shared/auth/session";
import { listQuery, type ListParams } from "../../shared/components/ServerTable";

type S = components["schemas"];
export type ContractSummary = S["ContractSummary"];
export type ContractDetail = S["ContractDetail"];
export type ContractPublic = S["ContractPublic"];
export type ContractLine = S["ContractLinePublic"];
export type ContractCreate = S["ContractCreate"];
export type ContractUpdate = S["ContractUpdate"];
export type ContractOverview = S["ContractOverview"];
export type Amendment = S["AmendmentPublic"];
export type AmendmentCreate = S["AmendmentCreate"];
export type Attachment = S["AttachmentPublic"];
export type VersionInfo = S["ContractVersionInfo"];
export type VersionDiff = S["ContractVersionDiff"];
export type Milestone = S["MilestonePublic"];
export type Product = S["ProductPublic"];
export type Template = S["TemplateSummary"];
export type Unit = S["UnitSummary"];
export type Invoice = S["InvoiceSummary"];
export type Task = S["TaskPublic"];
export type ApprovalRequest = S["ApprovalRequestPublic"];
export type CoTerminateResult = S["CoTerminateResult"];
export type PriceUpdateResult = S["PriceUpdateResult"];

export const CONTRACT_STATUSES = [
  "draft",
  "pending_approval",
  "approved",
  "active",
  "expired",
  "terminated",
  "renewed",
  "cancelled",
  "archived",
] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];
export const CONTRACT_KINDS = ["sales", "maintenance", "lease", "service"] as const;
export const FREQUENCIES = ["once", "monthly", "quarterly", "yearly"] as const;
export const CURRENCIES = ["EUR", "USD", "GBP", "CNY", "TRY", "BGN", "CHF"] as const;

/** The list's filters as they live in the URL (`status` holds several, comma-separated). */
export const CONTRACT_FILTERS = [
  "q",
  "status",
  "kind",
  "owner_id",
  "customer_id",
  "expiring_within_days",
  "include_archived",
] as const;
/** Ended states a contract may be archived from (read-only then, hidden unless asked for). */
export const ARCHIVABLE = ["expired", "terminated", "cancelled", "renewed"] as const;

export function listContracts(params: ListParams) {
  const { status, ...rest } = params.filters;
  const query: Record<string, unknown> = listQuery({ ...params, filters: rest });
  if (status) query.status = status.split(",").filter(Boolean);
  return unwrap(api.GET("/api/v1/contracts", { params: { query: query as never } }));
}

const path = (id: number | string) => ({ params: { path: { contract_id: String(id) } } });

export const getContract = (id: number | string) => unwrap(api.GET("/api/v1/contracts/{contract_id}", path(id)));
export const getOverview = (id: number | string) =>
  unwrap(api.GET("/api/v1/contracts/{contract_id}/overview", path(id)));
export const createContract = (body: ContractCreate, key?: string) =>
  unwrap(api.POST("/api/v1/contracts", { params: { header: idempotencyHeader(key) }, body }));
export const updateContract = (id: number | string, body: ContractUpdate) =>
  unwrap(api.PATCH("/api/v1/contracts/{contract_id}", { ...path(id), body }));
/** ``overrideRedList``: a sales manager's or admin's reason to submit although the customer is red-listed. */
export const submitContract = (id: number | string, overrideRedList?: string) =>
  unwrap(api.POST("/api/v1/contracts/{contract_id}/submit", { ...path(id), body: overrideRedList ? { override_red_list: overrideRedList } : {} }));
/** Who may submit a red-listed customer's contract with an override reason (the contracts service's rule). */
export const RED_LIST_OVERRIDERS = ["sales_manager", "admin"] as const;
export const cancelContract = (id: number | string, reason?: string) =>
  unwrap(api.POST("/api/v1/contracts/{contract_id}/cancel", { ...path(id), body: reason ? { reason } : {} }));
/** A termination effective before today by anyone but an admin goes to approval: the contract
 *  comes back unchanged with ``termination_request``. */
export const terminateContract = (id: number | string, body: S["Terminate"]) =>
  unwrap(api.POST("/api/v1/contracts/{contract_id}/terminate", { ...path(id), body }));
export const archiveContract = (id: number | string) =>
  unwrap(api.POST("/api/v1/contracts/{contract_id}/archive", path(id)));
export const renewContract = (id: number | string, body: S["Renew"]) =>
  unwrap(api.POST("/api/v1/contracts/{contract_id}/renew", { ...path(id), body }));
export const lockAmounts = (id: number | string) =>
  unwrap(api.POST("/api/v1/contracts/{contract_id}/lock-amounts", path(id)));
export const unlockAmounts = (id: number | string) =>
  unwrap(api.POST("/api/v1/contracts/{contract_id}/unlock-amounts", path(id)));
export const contractPdf = (id: number | string, number: string) =>
  download(`/api/v1/contracts/${id}/document.pdf`, `${number}.pdf`);

/** All the contract's amendments (one page of the largest size), oldest first. */
export const listAmendments = (id: number | string) =>
  unwrap(
    api.GET("/api/v1/contracts/{contract_id}/amendments", {
      params: { ...path(id).params, query: { page_size: 500 } as never },
    }),
  ).then(itemsOf);
export const createAmendment = (id: number | string, body: AmendmentCreate, key?: string) =>
  unwrap(api.POST("/api/v1/contracts/{contract_id}/amendments", { params: { ...path(id).params, header: idempotencyHeader(key) }, body }));

export const diffVersions = (id: number | string, a: number, b: number) =>
  unwrap(
    api.GET("/api/v1/contracts/{contract_id}/versions/{a}/diff/{b}", {
      params: { path: { contract_id: String(id), a: String(a), b: String(b) } },
    }),
  );

export const listMilestones = (id: number | string) =>
  unwrap(api.GET("/api/v1/contracts/{contract_id}/milestones", path(id)));
export const addMilestone = (id: number | string, body: S["MilestoneCreate"], key?: string) =>
  unwrap(api.POST("/api/v1/contracts/{contract_id}/milestones", { params: { ...path(id).params, header: idempotencyHeader(key) }, body }));
export const updateMilestone = (id: number | string, milestoneId: number, body: S["MilestoneUpdate"]) =>
  unwrap(
    api.PATCH("/api/v1/contracts/{contract_id}/milestones/{milestone_id}", {
      params: { path: { contract_id: String(id), milestone_id: String(milestoneId) } },
      body,
    }),
  );
export const getProgress = (id: number | string) =>
  unwrap(api.GET("/api/v1/contracts/{contract_id}/progress", path(id)));

export const listContractInvoices = (id: number) =>
  unwrap(api.GET("/api/v1/invoices", { params: { query: { contract_id: id, page_size: 100 } } }));
export const listContractTasks = (id: number | string) =>
  unwrap(
    api.GET("/api/v1/tasks", {
      params: { query: { document_type: "contract", document_id: String(id), page_size: 100 } },
    }),
  );

/** An admin's applies at once; anyone else's is one batch for approval (``status``, ``batch_id``). */
export type CoTerminateOutcome = CoTerminateResult;
export const coTerminate = (body: S["ContractsCoTerminate"]) => unwrap(api.POST("/api/v1/contracts/co-terminate", { body }));
export const bulkPriceUpdate = (body: S["ContractPriceUpdate"]) =>
  unwrap(api.POST("/api/v1/contracts/bulk-price-update", { body }));

// ---- look-ups for the wizard -------------------------------------------------------------

export const searchCustomers = (q: string) =>
  unwrap(api.GET("/api/v1/customers", { params: { query: { q: q || undefined, page_size: 20 } as never } }));
export const getCustomer = (id: number | string) =>
  unwrap(api.GET("/api/v1/customers/{customer_id}", { params: { path: { customer_id: String(id) } } }));
export const searchProducts = (q: string) =>
  unwrap(api.GET("/api/v1/products", { params: { query: { q: q || undefined, active: true, page_size: 30 } } }));
export const listTemplates = () =>
  unwrap(api.GET("/api/v1/contract-templates", { params: { query: { active: true, page_size: 200 } } }));
export const listUnitsOf = (productId: number) =>
  unwrap(api.GET("/api/v1/units", { params: { query: { product_id: productId, status: "in_stock", page_size: 100 } } }));
export const listCategories = () =>
  unwrap(api.GET("/api/v1/categories", { params: { query: { page_size: 500 } as never } })).then(itemsOf);

/** The price a new line gets by default (the customer's price list, else the product's price). */
export const priceFor = (productId: number, currency: string, tier?: string | null) =>
  unwrap(
    api.GET("/api/v1/price-lists/price", {
      params: { query: { product_id: productId, channel: "customer", currency, tier: tier ?? undefined } },
    }),
  );

export const listUsers = () => unwrap(api.GET("/api/v1/users", { params: { query: { page_size: 500, active: true } } }));

// ---- attachments: a multipart upload with progress, and downloads --------------------------

function sendUpload(url: string, form: FormData, onProgress: (percent: number) => void): Promise<XMLHttpRequest> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    const token = session.accessToken();
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100));
    };
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new TypeError("network"));
    xhr.onabort = () => reject(new TypeError("aborted"));
    xhr.send(form);
  });
}

/** POST the file as multipart (`file`, optional `description`); the bar follows the bytes sent. */
export async function uploadAttachment(
  contractId: number | string,
  file: File,
  description: string | undefined,
  onProgress: (percent: number) => void,
): Promise<Attachment> {
  const url = `/api/v1/contracts/${contractId}/attachments`;
  const build = () => {
    const form = new FormData();
    if (description) form.append("description", description);
    form.append("file", file, file.name);
    return form;
  };
  let xhr = await sendUpload(url, build(), onProgress);
  if (xhr.status === 401 && session.hasRefresh() && (await refreshOnce())) {
    xhr = await sendUpload(url, build(), onProgress);
  }
  if (xhr.status < 200 || xhr.status >= 300) {
    throw await toApiError(new Response(xhr.responseText || null, { status: xhr.status, statusText: xhr.statusText }));
  }
  return JSON.parse(xhr.responseText) as Attachment;
}

export const downloadAttachment = (a: Attachment) => download(a.download_url, a.filename);
export const approvalSheet = (approvalId: number | string) =>
  download(`/api/v1/approvals/${approvalId}/sheet.pdf`, `approval-${approvalId}.pdf`);
