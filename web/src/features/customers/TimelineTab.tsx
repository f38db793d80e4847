import { useQueries } from "@tanstack/react-query";
import { Empty, Skeleton, Timeline, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { useFormat } from "../../shared/format/useFormat";
import { customerContracts, customerInvoices, customerOpportunities, listFollowUps } from "./api";

interface Entry {
  at: string;
  color: string;
  content: React.ReactNode;
}

/** Everything that happened with the customer, newest first: follow-ups, opportunities,
 * contracts and invoices, each linking to its record. */
export function TimelineTab({ customerId }: { customerId: number }) {
  const { t } = useTranslation();
  const f = useFormat();
  const [followUps, opportunities, contracts, invoices] = useQueries({
    queries: [
      { queryKey: ["customers", customerId, "follow-ups"], queryFn: () => listFollowUps(customerId) },
      { queryKey: ["opportunities", { customerId }], queryFn: () => customerOpportunities(customerId) },
      { queryKey: ["contracts", { customerId }], queryFn: () => customerContracts(customerId) },
      { queryKey: ["invoices", { customerId }], queryFn: () => customerInvoices(customerId) },
    ],
  });
  if ([followUps, opportunities, contracts, invoices].some((q) => q.isLoading)) return <Skeleton active />;
  const entries: Entry[] = [
    ...(followUps.data?.items ?? []).map((x) => ({
      at: x.occurred_at,
      color: "blue",
      content: (
        <>
          <Typography.Text strong>{t(`customers.methods.${x.method}`)}</Typography.Text> — {x.result}
        </>
      ),
    })),
    ...(opportunities.data?.items ?? []).map((x) => ({
      at: x.created_at,
      color: "purple",
      content: (
        <>
          {t("customers.opportunity")}: <Link to={`/opportunities/${x.id}`}>{x.title}</Link> · {f.money(x.amount, x.currency)}
        </>
      ),
    })),
    ...(contracts.data?.items ?? []).map((x) => ({
      at: x.updated_at,
      color: "green",
      content: (
        <>
          {t("common.contract")} <Link to={`/contracts/${x.id}`}>{x.number}</Link> · {x.title} · {t(`status.${x.status}`)}
        </>
      ),
    })),
    ...(invoices.data?.items ?? []).map((x) => ({
      at: x.issue_date ?? x.created_at,
      color: x.status === "overdue" ? "red" : "gray",
      content: (
        <>
          {t("customers.invoice")} <Link to={`/invoices/${x.id}`}>{x.number ?? `#${x.id}`}</Link> · {f.money(x.total, x.currency)} ·{" "}
          {t(`status.${x.status}`)}
        </>
      ),
    })),
  ].sort((a, b) => (a.at < b.at ? 1 : -1));
  if (!entries.length) return <Empty description={t("common.empty")} />;
  return (
    <Timeline
      items={entries.map((e) => ({
        color: e.color,
        content: (
          <>
            <Typography.Text type="secondary">{f.dateTime(e.at)}</Typography.Text>
            <div>{e.content}</div>
          </>
        ),
      }))}
    />
  );
}
