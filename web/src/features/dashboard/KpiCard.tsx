import { Card, Typography } from "antd";
import { useId, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useFormat } from "../../shared/format/useFormat";

interface Props {
  title: string;
  /** A count shown above the amounts (contracts, invoices). */
  count?: number | null;
  countLabel?: string;
  /** Amounts by currency: one line each, never added together. */
  amounts?: Record<string, string> | null;
  /** Currencies to show even without an amount (as zero), in this order. */
  currencies?: string[];
  tone?: "danger";
  footer?: ReactNode;
  loading?: boolean;
}

/** A dashboard figure: an optional count and one amount per currency. */
export function KpiCard({ title, count, countLabel, amounts, currencies = [], tone, footer, loading }: Props) {
  const { t } = useTranslation();
  const f = useFormat();
  const id = useId();
  const codes = [...new Set([...currencies, ...Object.keys(amounts ?? {})])].sort();
  const unavailable = amounts === null && (count === null || count === undefined);
  return (
    <Card size="small" loading={loading} role="region" aria-labelledby={id} style={{ height: "100%" }}>
      <Typography.Text type="secondary" id={id}>
        {title}
      </Typography.Text>
      {count !== undefined && count !== null ? (
        <div style={{ fontSize: 26, fontWeight: 600, lineHeight: 1.3 }} data-testid="kpi-count" aria-label={countLabel}>
          {count}
        </div>
      ) : null}
      {unavailable ? (
        <div>
          <Typography.Text type="secondary">{t("dashboard.unavailableFigure")}</Typography.Text>
        </div>
      ) : codes.length ? (
        <ul style={{ listStyle: "none", margin: 0, padding: 0 }}>
          {codes.map((code) => (
            <li
              key={code}
              data-currency={code}
              style={{
                fontSize: count !== undefined && count !== null ? 15 : 20,
                fontWeight: 600,
                fontVariantNumeric: "tabular-nums",
                color: tone === "danger" && Number(amounts?.[code] ?? 0) > 0 ? "#cf1322" : undefined,
                whiteSpace: "nowrap",
                overflow: "hidden",
                textOverflow: "ellipsis",
              }}
            >
              {f.money(amounts?.[code] ?? "0", code)}
            </li>
          ))}
        </ul>
      ) : count === undefined || count === null ? (
        <div style={{ fontSize: 20, fontWeight: 600 }}>
          <Typography.Text type="secondary">{t("dashboard.nothingYet")}</Typography.Text>
        </div>
      ) : null}
      {footer ? <div style={{ marginTop: 4 }}>{footer}</div> : null}
    </Card>
  );
}
