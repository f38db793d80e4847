import { Tag } from "antd";
import { useTranslation } from "react-i18next";
import { useFormat } from "../format/useFormat";

export function Money({ amount, currency }: { amount?: string | number | null; currency?: string | null }) {
  const f = useFormat();
  return <span style={{ whiteSpace: "nowrap", fontVariantNumeric: "tabular-nums" }}>{f.money(amount, currency)}</span>;
}

export function DateText({ value, time = false }: { value?: string | null; time?: boolean }) {
  const f = useFormat();
  return <span style={{ whiteSpace: "nowrap" }}>{time ? f.dateTime(value) : f.date(value)}</span>;
}

const COLORS: Record<string, string> = {
  draft: "default",
  pending: "processing",
  pending_approval: "processing",
  approved: "green",
  active: "green",
  issued: "blue",
  partially_paid: "gold",
  paid: "green",
  overdue: "red",
  void: "default",
  rejected: "red",
  withdrawn: "default",
  expired: "orange",
  terminated: "volcano",
  renewed: "cyan",
  cancelled: "default",
  archived: "default",
  open: "processing",
  done: "green",
  closed: "default",
  won: "green",
  lost: "red",
  confirmed: "green",
  received: "green",
  running: "processing",
  queued: "default",
  in_progress: "processing",
  completed: "green",
  finished: "green",
  failed: "red",
  cancelled_by_system: "default",
};

/** A status in the reader's language, coloured by meaning. */
export function StatusTag({ status }: { status?: string | null }) {
  const { t } = useTranslation();
  if (!status) return null;
  return <Tag color={COLORS[status] ?? "default"}>{t(`status.${status}`, { defaultValue: status.replace(/_/g, " ") })}</Tag>;
}
