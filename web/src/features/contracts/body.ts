// The wizard's form values → the API's bodies (dates as ISO days, empty values left out).
import dayjs, { type Dayjs } from "dayjs";
import type { ContractCreate } from "./api";
import type { LineValues } from "./LinesEditor";

export const iso = (v: unknown): string | undefined => (dayjs.isDayjs(v) ? (v as Dayjs).format("YYYY-MM-DD") : undefined);
export const text = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);

/** The wizard's values → the API's body (dates as ISO days, empty values left out). */
export function contractBody(values: Record<string, unknown>): ContractCreate {
  const fieldValues: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((values.field_values as Record<string, unknown>) ?? {})) {
    const out = dayjs.isDayjs(v) ? iso(v) : typeof v === "string" ? text(v) : v;
    if (out !== undefined && out !== null) fieldValues[k] = out;
  }
  const lines = ((values.lines as LineValues[]) ?? []).map((l) => {
    const line: Record<string, unknown> = { product_id: l.product_id };
    if (text(l.quantity)) line.quantity = text(l.quantity);
    if (text(l.unit_price)) line.unit_price = text(l.unit_price);
    if (text(l.discount_percent)) line.discount_percent = text(l.discount_percent);
    if (text(l.serial_number)) line.serial_number = text(l.serial_number);
    if (iso(l.start_date)) line.start_date = iso(l.start_date);
    if (iso(l.end_date)) line.end_date = iso(l.end_date);
    return line;
  });
  const billing = (values.billing as Record<string, unknown>) ?? {};
  const body: Record<string, unknown> = {
    customer_id: values.customer_id,
    title: text(values.title),
    kind: values.kind,
    currency: values.currency,
    start_date: iso(values.start_date),
    end_date: iso(values.end_date),
    billing: {
      frequency: billing.frequency,
      in_advance: Boolean(billing.in_advance),
      payment_terms_days: Number(billing.payment_terms_days ?? 30),
    },
    auto_renew: Boolean(values.auto_renew),
    lines,
  };
  if (values.template_id) {
    body.template_id = values.template_id;
    body.field_values = fieldValues;
  }
  if (text(values.signer)) body.signer = text(values.signer);
  if (text(values.signer_title)) body.signer_title = text(values.signer_title);
  if (text(values.renewal_uplift_percent)) body.renewal_uplift_percent = text(values.renewal_uplift_percent);
  if (typeof values.notice_days === "number") body.notice_days = values.notice_days;
  return body as unknown as ContractCreate;
}

