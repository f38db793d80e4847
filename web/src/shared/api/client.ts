// The one way the console talks to the gateway: a client generated from /openapi.json
// (schema.d.ts, `make web-api`), with the session's bearer token, one refresh on 401, and
// every non-2xx answer turned into an ApiError that screens can explain.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { session } from "../auth/session";

export type { paths, components } from "./schema";

/** The gateway's error body: `{"error": {"code", "message", "details"}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** 422 details: field name → reasons (nested names joined with dots). */
  fieldErrors(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [field, reasons] of Object.entries(this.details ?? {})) {
      if (Array.isArray(reasons)) out[field] = reasons.map(String);
      else if (typeof reasons === "string") out[field] = [reasons];
    }
    return out;
  }
}

type ErrorBody = { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null;

/** An ApiError from a status and the body the gateway sent (already parsed, or not JSON at all). */
export function apiError(status: number, statusText: string, body: unknown): ApiError {
  const error = (body as ErrorBody)?.error;
  return new ApiError(
    status,
    error?.code ?? `HTTP_${status}`,
    error?.message ?? (statusText || "Request failed"),
    error?.details ?? {},
  );
}

/** An ApiError from a response whose body has not been read yet. */
export async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return apiError(response.status, response.statusText, body);
}

let refreshing: Promise<boolean> | null = null;

/** One refresh at a time, shared by every request that saw a 401. */
export function refreshOnce(): Promise<boolean> {
  refreshing ??= session.refresh().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

const auth: Middleware = {
  async onRequest({ request }) {
    const token = session.accessToken();
    if (token && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${token}`);
    const lang = session.language();
    if (lang) request.headers.set("Accept-Language", lang);
    return request;
  },
};

/** fetch that refreshes the session once on a 401 and replays the request. */
export async function authFetch(input: Request): Promise<Response> {
  const retry = input.clone();
  const response = await fetch(input);
  if (response.status !== 401 || !session.hasRefresh() || input.url.includes("/auth/")) return response;
  if (!(await refreshOnce())) {
    session.expire();
    return response;
  }
  retry.headers.set("Authorization", `Bearer ${session.accessToken()}`);
  return fetch(retry);
}

// same origin as the console (an absolute base, so requests also resolve outside a browser page)
const origin = typeof window !== "undefined" ? window.location.origin : "";
export const api = createClient<paths>({ baseUrl: origin, fetch: authFetch });
api.use(auth);

/** The data of an openapi-fetch answer, or an ApiError thrown for TanStack Query to show. */
export async function unwrap<T>(
  promise: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await promise;
  // openapi-fetch has read the body already: the error is the parsed JSON (or its text)
  if (!response.ok) throw apiError(response.status, response.statusText, error);
  return data as T;
}

/** The items of a list answer: the envelope `{items, total, page, page_size}` every list now
 * answers (a bare array from a schema generated before the attachments, versions, amendments and
 * categories lists moved to the envelope is taken as it is). */
export function itemsOf<T>(body: readonly T[] | { items: readonly T[] }): T[] {
  return [...(Array.isArray(body) ? body : (body as { items: readonly T[] }).items)];
}

/** Downloads a file (PDF, CSV) with the session's token and hands it to the browser. */
export async function download(path: string, fallbackName: string): Promise<void> {
  const request = new Request(path, { headers: { Authorization: `Bearer ${session.accessToken() ?? ""}` } });
  const response = await authFetch(request);
  if (!response.ok) throw await toApiError(response);
  const blob = await response.blob();
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : fallbackName;
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
