import { useQuery } from "@tanstack/react-query";
import { Alert, Card, Col, Progress, Row, Skeleton, Statistic, Table } from "antd";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router-dom";
import { ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { StatusTag } from "../../shared/components/values";
import { useFormat } from "../../shared/format/useFormat";
import { getBillingRun } from "./api";

/** One billing run: progress polled while it runs, its counts and its failures. */
export default function BillingRunPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const f = useFormat();
  const query = useQuery({
    queryKey: ["billing-runs", "one", id],
    queryFn: () => getBillingRun(id),
    refetchInterval: (q) => (q.state.data?.status === "running" ? 1000 : false),
  });
  if (query.isLoading) return <Skeleton active />;
  if (query.error || !query.data) return <ErrorAlert error={query.error} />;
  const run = query.data;
  const running = run.status === "running";
  const stats: [string, number][] = [
    ["contractsDue", run.contracts_due],
    ["contractsProcessed", run.contracts_processed],
    ["contractsInvoiced", run.contracts_invoiced],
    ["invoicesCreated", run.invoices_created],
    ["creditNotesCreated", run.credit_notes_created],
    ["skipped", run.skipped],
    ["failedCount", run.failed],
  ];
  return (
    <>
      <PageHeader
        title={
          <>
            {t("billing.runTitle", { id: run.id, date: f.date(run.as_of) })} <StatusTag status={run.status} />
          </>
        }
        subtitle={<Link to="/invoices/runs">← {t("nav.billingRuns")}</Link>}
      />
      <Card style={{ marginBottom: 16 }}>
        <Progress
          percent={Math.round(run.progress * 100)}
          status={run.status === "failed" ? "exception" : running ? "active" : "success"}
          aria-label={t("billing.progress")}
        />
        <p style={{ marginTop: 8 }}>
          {t("billing.runStarted", { at: f.dateTime(run.started_at), by: run.triggered_by ?? t("billing.scheduler") })}
          {run.finished_at ? ` · ${t("billing.runFinished", { at: f.dateTime(run.finished_at) })}` : ` · ${t("billing.runWatching")}`}
        </p>
        {run.error ? <Alert type="error" showIcon title={run.error} /> : null}
        <Row gutter={[16, 16]}>
          {stats.map(([key, value]) => (
            <Col key={key} xs={12} sm={8} md={6} lg={3}>
              <Statistic title={t(`billing.${key}`)} value={value} />
            </Col>
          ))}
        </Row>
      </Card>
      <Card title={t("billing.failures")}>
        <Table
          size="small"
          rowKey={(r) => `${r.contract_id}-${r.reason}`}
          pagination={false}
          scroll={{ x: "max-content" }}
          dataSource={run.failures}
          locale={{ emptyText: running ? t("common.loading") : t("billing.noFailures") }}
          columns={[
            {
              title: t("common.contract"),
              dataIndex: "contract_number",
              render: (n: string | null, r) => (r.contract_id ? <Link to={`/contracts/${r.contract_id}`}>{n ?? `#${r.contract_id}`}</Link> : "—"),
            },
            { title: t("billing.reason"), dataIndex: "reason" },
          ]}
        />
      </Card>
    </>
  );
}
