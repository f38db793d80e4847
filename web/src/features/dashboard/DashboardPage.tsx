import { useQuery } from "@tanstack/react-query";
import { Alert, Card, Col, Empty, Flex, Row, Segmented, Select, Skeleton, Table, Typography } from "antd";
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router-dom";
import { ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { DateText, Money } from "../../shared/components/values";
import { useFormat } from "../../shared/format/useFormat";
import { getAging, getDashboard, type Dashboard } from "./api";
import { Chart } from "./Chart";
import { agingOption, cashFlowOption, funnelOption, monthsOf, topCustomersOption } from "./charts";
import { KpiCard } from "./KpiCard";

const FUNNEL = ["lead", "qualified", "proposal", "negotiation", "won"];

function ChartCard({ title, empty, children, extra }: { title: string; empty: boolean; children: React.ReactNode; extra?: React.ReactNode }) {
  const { t } = useTranslation();
  return (
    <Card size="small" title={title} extra={extra} style={{ height: "100%" }} role="region" aria-label={title}>
      {empty ? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("dashboard.noData")} /> : children}
    </Card>
  );
}

/** The year's figures per currency, scoped by the API to what the caller may see. */
export default function DashboardPage() {
  const { t } = useTranslation();
  const f = useFormat();
  const [params, setParams] = useSearchParams();
  const thisYear = new Date().getUTCFullYear();
  const year = Number(params.get("year")) || thisYear;
  const set = (key: string, value: string | number | null) =>
    setParams((p) => {
      const next = new URLSearchParams(p);
      if (value === null || value === "") next.delete(key);
      else next.set(key, String(value));
      return next;
    });
  const query = useQuery({ queryKey: ["dashboard", year], queryFn: () => getDashboard(year) });
  const aging = useQuery({ queryKey: ["dashboard", "aging"], queryFn: () => getAging() });
  const d = query.data;
  const currencies = d?.currencies ?? [];
  const currency = currencies.includes(params.get("currency") ?? "") ? (params.get("currency") as string) : currencies[0];
  const years = Array.from({ length: 6 }, (_, i) => thisYear + 1 - i);

  return (
    <>
      <PageHeader
        title={t("nav.dashboard")}
        subtitle={d ? t("dashboard.asOf", { date: f.date(d.as_of) }) : undefined}
        extra={
          <Flex gap={8} wrap align="center">
            <label htmlFor="dashboard-year">{t("dashboard.year")}</label>
            <Select id="dashboard-year" aria-label={t("dashboard.year")} value={year} onChange={(y) => set("year", y === thisYear ? null : y)} options={years.map((y) => ({ value: y, label: String(y) }))} style={{ width: 100 }} />
          </Flex>
        }
      />
      <ErrorAlert error={query.error} />
      {d?.unavailable?.length ? (
        <Alert type="warning" showIcon style={{ marginBottom: 16 }} title={t("dashboard.partial", { parts: d.unavailable.map((p) => t(`dashboard.parts.${p}`, { defaultValue: p })).join(", ") })} />
      ) : null}
      {query.isLoading ? <Skeleton active paragraph={{ rows: 6 }} /> : null}
      {d ? <Figures d={d} currency={currency} currencies={currencies} onCurrency={(c) => set("currency", c)} aging={aging} /> : null}
    </>
  );
}

function Figures({
  d,
  currency,
  currencies,
  onCurrency,
  aging,
}: {
  d: Dashboard;
  currency?: string;
  currencies: string[];
  onCurrency: (c: string) => void;
  aging: ReturnType<typeof useQuery<Awaited<ReturnType<typeof getAging>>>>;
}) {
  const { t } = useTranslation();
  const f = useFormat();
  const lang = f.lang;
  const tt = t as unknown as (key: string, options?: Record<string, unknown>) => string;

  const cash = useMemo(() => (currency && d.cash_flow ? monthsOf(d.cash_flow, currency) : []), [d, currency]);
  const cashOption = useMemo(() => (currency ? cashFlowOption(cash, currency, lang, tt) : null), [cash, currency, lang, tt]);
  const stages = useMemo(
    () => FUNNEL.map((s) => ({ stage: s, count: d.pipeline?.[s]?.count ?? 0, amount: currency ? d.pipeline?.[s]?.amount?.[currency] : undefined })),
    [d, currency],
  );
  const funnel = useMemo(() => funnelOption(stages, currency ?? "EUR", lang, tt), [stages, currency, lang, tt]);
  const top = useMemo(() => (d.top_customers ?? []).filter((c) => c.currency === currency).slice(0, 10), [d, currency]);
  const topOption = useMemo(() => (currency ? topCustomersOption(top, currency, lang, tt) : null), [top, currency, lang, tt]);
  const agingRows = useMemo(() => {
    const cur = currency ? aging.data?.currencies?.[currency] : undefined;
    return (cur?.customers ?? [])
      .slice()
      .sort((a, b) => Number(b.total) - Number(a.total))
      .slice(0, 8)
      .map((c) => ({ name: c.customer_name ?? `#${c.customer_id}`, row: c }));
  }, [aging.data, currency]);
  const agingChart = useMemo(() => (currency ? agingOption(agingRows, currency, lang, tt) : null), [agingRows, currency, lang, tt]);
  const lost = d.pipeline?.lost?.count ?? 0;
  // a chart's title names its currency; with no figures at all there is none to name
  const titled = (key: string) => (currency ? t(`dashboard.${key}`, { currency }) : t(`dashboard.${key}Plain`));
  const cashEmpty = cash.every((m) => !Number(m.invoiced) && !Number(m.collected) && !Number(m.forecast));

  return (
    <>
      <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
        <Col xs={24} sm={12} lg={8} xxl={4}>
          <KpiCard title={t("dashboard.activeContracts")} count={d.active_contracts} amounts={d.active_value} footer={<Typography.Text type="secondary">{t("dashboard.activeValueHint")}</Typography.Text>} />
        </Col>
        <Col xs={24} sm={12} lg={8} xxl={4}>
          <KpiCard title={t("dashboard.mrr")} amounts={d.mrr} currencies={currencies} />
        </Col>
        <Col xs={24} sm={12} lg={8} xxl={4}>
          <KpiCard title={t("dashboard.arr")} amounts={d.arr} currencies={currencies} />
        </Col>
        <Col xs={24} sm={12} lg={8} xxl={4}>
          <KpiCard title={t("dashboard.receivables")} amounts={d.receivables} currencies={currencies} />
        </Col>
        <Col xs={24} sm={12} lg={8} xxl={4}>
          <KpiCard
            title={t("dashboard.overdue")}
            amounts={d.overdue}
            currencies={currencies}
            tone="danger"
            footer={
              d.overdue_invoices ? (
                <Link to="/invoices?overdue=true">{t("dashboard.overdueInvoices", { count: d.overdue_invoices })}</Link>
              ) : null
            }
          />
        </Col>
        <Col xs={24} sm={12} lg={8} xxl={4}>
          <KpiCard title={t("dashboard.renewals")} count={d.renewals_next_90_days} amounts={d.renewals?.value ?? (d.renewals === null ? null : {})} />
        </Col>
      </Row>

      {currencies.length > 1 ? (
        <Flex gap={8} align="center" wrap style={{ marginBottom: 12 }}>
          <Typography.Text id="dashboard-currency">{t("dashboard.chartsIn")}</Typography.Text>
          <Segmented aria-labelledby="dashboard-currency" value={currency} onChange={(c) => onCurrency(String(c))} options={currencies} />
        </Flex>
      ) : null}

      <Row gutter={[16, 16]}>
        <Col xs={24} xl={16}>
          <ChartCard title={titled("cashFlow")} empty={!cashOption || cashEmpty}>
            {cashOption ? <Chart option={cashOption} label={titled("cashFlow")} height={300} /> : null}
          </ChartCard>
        </Col>
        <Col xs={24} xl={8}>
          <ChartCard
            title={t("dashboard.pipeline")}
            empty={stages.every((s) => !s.count)}
            extra={lost ? <Typography.Text type="secondary">{t("dashboard.lost", { count: lost })}</Typography.Text> : null}
          >
            <Chart option={funnel} label={t("dashboard.pipeline")} height={300} />
          </ChartCard>
        </Col>
        <Col xs={24} xl={12}>
          <ChartCard title={titled("aging")} empty={!agingRows.length || !agingChart}>
            {aging.error ? <ErrorAlert error={aging.error} /> : null}
            {agingChart ? <Chart option={agingChart} label={titled("aging")} height={Math.max(200, 70 + agingRows.length * 36)} /> : null}
          </ChartCard>
        </Col>
        <Col xs={24} xl={12}>
          <ChartCard title={titled("topCustomers")} empty={!top.length || !topOption}>
            {topOption ? <Chart option={topOption} label={titled("topCustomers")} height={Math.max(200, 60 + top.length * 44)} /> : null}
          </ChartCard>
        </Col>
        <Col xs={24}>
          <Card size="small" title={t("dashboard.renewalsList")} role="region" aria-label={t("dashboard.renewalsList")}>
            <Table
              size="small"
              rowKey="id"
              pagination={false}
              scroll={{ x: "max-content" }}
              dataSource={d.renewals?.items ?? []}
              locale={{ emptyText: t("dashboard.noRenewals") }}
              columns={[
                { title: t("common.contract"), dataIndex: "number", render: (n: string, r) => <Link to={`/contracts/${r.id}`}>{n}</Link> },
                { title: t("common.name"), dataIndex: "title" },
                { title: t("common.customer"), dataIndex: "customer_name", render: (n: string, r) => <Link to={`/customers/${r.customer_id}`}>{n}</Link> },
                { title: t("dashboard.endDate"), dataIndex: "end_date", render: (v: string) => <DateText value={v} /> },
                { title: t("dashboard.autoRenew"), dataIndex: "auto_renew", render: (v: boolean) => (v ? t("common.yes") : t("common.no")) },
                { title: t("dashboard.total"), dataIndex: "total", align: "right", render: (v: string, r) => <Money amount={v} currency={r.currency} /> },
              ]}
            />
          </Card>
        </Col>
      </Row>
    </>
  );
}
