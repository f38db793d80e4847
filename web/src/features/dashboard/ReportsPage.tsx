import { useQuery } from "@tanstack/react-query";
import { Card, Col, DatePicker, Empty, Flex, Row, Segmented, Select, Skeleton, Table, Tabs, Typography } from "antd";
import dayjs from "dayjs";
import { useMemo, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router-dom";
import { ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { Money } from "../../shared/components/values";
import { useFormat } from "../../shared/format/useFormat";
import { BUCKETS, getAging, getCashFlow, getRecurring, getRevenue, type AgingRow } from "./api";
import { Chart } from "./Chart";
import { agingOption, barsOption, cashFlowOption, monthLabel } from "./charts";

type Tt = (key: string, options?: Record<string, unknown>) => string;
type Set = (changes: Record<string, string | number | null>) => void;

function useReportParams() {
  const [params, setParams] = useSearchParams();
  const set: Set = (changes) =>
    setParams((p) => {
      const next = new URLSearchParams(p);
      for (const [k, v] of Object.entries(changes)) {
        if (v === null || v === "") next.delete(k);
        else next.set(k, String(v));
      }
      return next;
    });
  return { params, set };
}

const thisYear = () => new Date().getUTCFullYear();
const YEARS = () => Array.from({ length: 6 }, (_, i) => thisYear() + 1 - i);

function YearSelect({ year, onChange }: { year: number; onChange: (y: number) => void }) {
  const { t } = useTranslation();
  return (
    <Flex gap={8} align="center">
      <label htmlFor="report-year">{t("dashboard.year")}</label>
      <Select id="report-year" value={year} onChange={onChange} options={YEARS().map((y) => ({ value: y, label: String(y) }))} style={{ width: 100 }} />
    </Flex>
  );
}

function AsOf({ value, onChange }: { value?: string; onChange: (v: string | null) => void }) {
  const { t } = useTranslation();
  return (
    <Flex gap={8} align="center">
      <label htmlFor="report-as-of">{t("dashboard.asOfLabel")}</label>
      <DatePicker id="report-as-of" value={value ? dayjs(value) : null} placeholder={t("dashboard.today")} onChange={(d) => onChange(d ? d.format("YYYY-MM-DD") : null)} />
    </Flex>
  );
}

function Loading({ loading, error, empty, children }: { loading: boolean; error: unknown; empty: boolean; children: ReactNode }) {
  const { t } = useTranslation();
  if (loading) return <Skeleton active paragraph={{ rows: 6 }} />;
  if (error) return <ErrorAlert error={error} />;
  if (empty) return <Empty description={t("dashboard.noData")} />;
  return <>{children}</>;
}

function AgingReport() {
  const { t } = useTranslation();
  const f = useFormat();
  const tt = t as unknown as Tt;
  const { params, set } = useReportParams();
  const asOf = params.get("as_of") ?? undefined;
  const q = useQuery({ queryKey: ["reports", "aging", asOf], queryFn: () => getAging(asOf) });
  const currencies = Object.entries(q.data?.currencies ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const bucketCols = BUCKETS.map((b) => ({ title: t(`dashboard.buckets.${b}`), key: b, align: "right" as const }));
  return (
    <>
      <Flex gap={12} wrap style={{ marginBottom: 16 }}>
        <AsOf value={asOf} onChange={(v) => set({ as_of: v })} />
      </Flex>
      <Loading loading={q.isLoading} error={q.error} empty={!currencies.length}>
        {currencies.map(([code, cur]) => {
          const rows = cur.customers.map((c) => ({ name: c.customer_name ?? `#${c.customer_id}`, row: c as AgingRow }));
          return (
            <Card key={code} size="small" title={t("dashboard.agingIn", { currency: code })} style={{ marginBottom: 16 }} role="region" aria-label={t("dashboard.agingIn", { currency: code })}>
              <Chart option={agingOption([...rows, { name: t("dashboard.total"), row: cur.total }], code, f.lang, tt)} label={t("dashboard.agingIn", { currency: code })} height={Math.max(200, 80 + (rows.length + 1) * 36)} />
              <Table
                size="small"
                rowKey="customer_id"
                pagination={false}
                scroll={{ x: "max-content" }}
                dataSource={cur.customers}
                columns={[
                  { title: t("common.customer"), dataIndex: "customer_name", render: (n: string | null, r) => <Link to={`/customers/${r.customer_id}`}>{n ?? `#${r.customer_id}`}</Link> },
                  ...bucketCols.map((c) => ({ ...c, render: (_: unknown, r: AgingRow) => <Money amount={r[c.key]} currency={code} /> })),
                  { title: t("dashboard.total"), dataIndex: "total", align: "right" as const, render: (v: string) => <strong><Money amount={v} currency={code} /></strong> },
                  { title: t("nav.invoices"), dataIndex: "invoices", align: "right" as const },
                ]}
                summary={() => (
                  <Table.Summary.Row>
                    <Table.Summary.Cell index={0}>
                      <strong>{t("dashboard.total")}</strong>
                    </Table.Summary.Cell>
                    {BUCKETS.map((b, i) => (
                      <Table.Summary.Cell key={b} index={i + 1} align="right">
                        <Money amount={cur.total[b]} currency={code} />
                      </Table.Summary.Cell>
                    ))}
                    <Table.Summary.Cell index={6} align="right">
                      <strong>
                        <Money amount={cur.total.total} currency={code} />
                      </strong>
                    </Table.Summary.Cell>
                    <Table.Summary.Cell index={7} align="right">
                      {cur.total.invoices}
                    </Table.Summary.Cell>
                  </Table.Summary.Row>
                )}
              />
            </Card>
          );
        })}
      </Loading>
    </>
  );
}

function CashFlowReport() {
  const { t } = useTranslation();
  const f = useFormat();
  const tt = t as unknown as Tt;
  const { params, set } = useReportParams();
  const year = Number(params.get("year")) || thisYear();
  const q = useQuery({ queryKey: ["reports", "cash-flow", year], queryFn: () => getCashFlow(year) });
  const currencies = Object.entries(q.data?.currencies ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <Flex gap={12} wrap style={{ marginBottom: 16 }}>
        <YearSelect year={year} onChange={(y) => set({ year: y === thisYear() ? null : y })} />
      </Flex>
      <Loading loading={q.isLoading} error={q.error} empty={!currencies.length}>
        {currencies.map(([code, months]) => (
          <Card key={code} size="small" title={t("dashboard.cashFlow", { currency: code })} style={{ marginBottom: 16 }} role="region" aria-label={t("dashboard.cashFlow", { currency: code })}>
            <Chart option={cashFlowOption(months, code, f.lang, tt)} label={t("dashboard.cashFlow", { currency: code })} />
            <Table
              size="small"
              rowKey="month"
              pagination={false}
              scroll={{ x: "max-content" }}
              dataSource={months}
              columns={[
                { title: t("dashboard.month"), dataIndex: "month", render: (m: string) => `${monthLabel(m, f.lang)} ${m.slice(0, 4)}` },
                ...(["invoiced", "collected", "forecast"] as const).map((k) => ({
                  title: t(`dashboard.${k}`),
                  dataIndex: k,
                  align: "right" as const,
                  render: (v: string) => <Money amount={v} currency={code} />,
                })),
              ]}
            />
          </Card>
        ))}
      </Loading>
    </>
  );
}

function RevenueReport() {
  const { t } = useTranslation();
  const f = useFormat();
  const { params, set } = useReportParams();
  const by = params.get("by") === "product" ? "product" : "customer";
  const from = params.get("from") ?? undefined;
  const to = params.get("to") ?? undefined;
  const year = Number(params.get("year")) || thisYear();
  const query = from && to ? { from, to, by } : { year, by };
  const q = useQuery({ queryKey: ["reports", "revenue", query], queryFn: () => getRevenue(query as Parameters<typeof getRevenue>[0]) });
  const currencies = Object.entries(q.data?.currencies ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <Flex gap={12} wrap align="center" style={{ marginBottom: 16 }}>
        <Flex gap={8} align="center">
          <Typography.Text id="revenue-by">{t("dashboard.revenueBy")}</Typography.Text>
          <Segmented
            aria-labelledby="revenue-by"
            value={by}
            onChange={(v) => set({ by: v === "customer" ? null : String(v) })}
            options={[
              { value: "customer", label: t("common.customer") },
              { value: "product", label: t("dashboard.product") },
            ]}
          />
        </Flex>
        <YearSelect year={year} onChange={(y) => set({ year: y === thisYear() ? null : y, from: null, to: null })} />
        <Flex gap={8} align="center" wrap>
          <label htmlFor="revenue-period">{t("dashboard.orPeriod")}</label>
          <DatePicker.RangePicker
            id="revenue-period"
            value={from && to ? [dayjs(from), dayjs(to)] : null}
            onChange={(r) => set({ from: r?.[0]?.format("YYYY-MM-DD") ?? null, to: r?.[1]?.format("YYYY-MM-DD") ?? null })}
            style={{ maxWidth: "100%" }}
          />
        </Flex>
      </Flex>
      <Loading loading={q.isLoading} error={q.error} empty={!currencies.length}>
        {q.data ? (
          <Typography.Paragraph type="secondary">{t("dashboard.revenuePeriod", { from: f.date(q.data.from), to: f.date(q.data.to) })}</Typography.Paragraph>
        ) : null}
        {currencies.map(([code, cur]) => {
          const rows = cur.items.map((i) => ({ name: i.name ?? String(i.key), amount: i.amount, key: i.key }));
          const title = t("dashboard.revenueIn", { currency: code, total: f.money(cur.total, code) });
          return (
            <Card key={code} size="small" title={title} style={{ marginBottom: 16 }} role="region" aria-label={title}>
              <Row gutter={[16, 16]}>
                <Col xs={24} lg={12}>
                  <Chart option={barsOption(rows.slice(0, 15), code, f.lang, t("dashboard.revenue"))} label={title} height={Math.max(180, 40 + Math.min(rows.length, 15) * 32)} />
                </Col>
                <Col xs={24} lg={12}>
                  <Table
                    size="small"
                    rowKey={(r) => String(r.key)}
                    pagination={rows.length > 20 ? { pageSize: 20 } : false}
                    scroll={{ x: "max-content" }}
                    dataSource={rows}
                    columns={[
                      {
                        title: by === "customer" ? t("common.customer") : t("dashboard.product"),
                        dataIndex: "name",
                        render: (n: string, r) => (by === "customer" ? <Link to={`/customers/${r.key}`}>{n}</Link> : n),
                      },
                      { title: t("dashboard.revenue"), dataIndex: "amount", align: "right", render: (v: string) => <Money amount={v} currency={code} /> },
                    ]}
                  />
                </Col>
              </Row>
            </Card>
          );
        })}
      </Loading>
    </>
  );
}

function RecurringReport() {
  const { t } = useTranslation();
  const { params, set } = useReportParams();
  const asOf = params.get("as_of") ?? undefined;
  const q = useQuery({ queryKey: ["reports", "recurring", asOf], queryFn: () => getRecurring(asOf) });
  const rows = useMemo(
    () =>
      Object.entries(q.data?.currencies ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([currency, v]) => ({ currency, ...v })),
    [q.data],
  );
  return (
    <>
      <Flex gap={12} wrap style={{ marginBottom: 16 }}>
        <AsOf value={asOf} onChange={(v) => set({ as_of: v })} />
      </Flex>
      <Loading loading={q.isLoading} error={q.error} empty={!rows.length}>
        <Card size="small" title={t("dashboard.recurring")}>
          <Table
            size="small"
            rowKey="currency"
            pagination={false}
            scroll={{ x: "max-content" }}
            dataSource={rows}
            columns={[
              { title: t("common.currency"), dataIndex: "currency" },
              { title: t("dashboard.mrr"), dataIndex: "mrr", align: "right", render: (v: string, r) => <Money amount={v} currency={r.currency} /> },
              { title: t("dashboard.arr"), dataIndex: "arr", align: "right", render: (v: string, r) => <Money amount={v} currency={r.currency} /> },
              { title: t("dashboard.recurringContracts"), dataIndex: "contracts", align: "right" },
            ]}
          />
        </Card>
      </Loading>
    </>
  );
}

const TABS = ["aging", "cash-flow", "revenue", "recurring"] as const;

export default function ReportsPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const tab = (TABS as readonly string[]).includes(params.get("tab") ?? "") ? (params.get("tab") as string) : "aging";
  return (
    <>
      <PageHeader title={t("nav.reports")} subtitle={t("dashboard.perCurrency")} />
      <Tabs
        activeKey={tab}
        onChange={(key) => setParams(key === "aging" ? {} : { tab: key })}
        destroyOnHidden
        items={[
          { key: "aging", label: t("dashboard.tabs.aging"), children: <AgingReport /> },
          { key: "cash-flow", label: t("dashboard.tabs.cashFlow"), children: <CashFlowReport /> },
          { key: "revenue", label: t("dashboard.tabs.revenue"), children: <RevenueReport /> },
          { key: "recurring", label: t("dashboard.tabs.recurring"), children: <RecurringReport /> },
        ]}
      />
    </>
  );
}
