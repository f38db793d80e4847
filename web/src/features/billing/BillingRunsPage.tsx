import { PlayCircleOutlined } from "@ant-design/icons";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Button, Card, DatePicker, Form, Popconfirm, Progress } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable } from "../../shared/components/ServerTable";
import { DateText, StatusTag } from "../../shared/components/values";
import { useFormat } from "../../shared/format/useFormat";
import { listBillingRuns, startBillingRun, type BillingRun } from "./api";

/** Billing runs, newest first; finance starts one for a date and is taken to its progress. */
export default function BillingRunsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const client = useQueryClient();
  const f = useFormat();
  const [form] = Form.useForm<{ as_of: Dayjs }>();
  const asOf = Form.useWatch("as_of", form);
  const start = useMutation({
    mutationFn: (asOf: string) => startBillingRun(asOf),
    onSuccess: (run) => {
      void client.invalidateQueries({ queryKey: ["billing-runs"] });
      navigate(`/invoices/runs/${run.id}`);
    },
  });
  return (
    <>
      <PageHeader
        title={t("nav.billingRuns")}
        subtitle={<Link to="/invoices">← {t("nav.invoices")}</Link>}
        extra={can("invoices.write") ? <Link to="/invoices/corrections">{t("billing.pendingCorrections")}</Link> : undefined}
      />
      {can("billingRuns.start") ? (
        <Card style={{ marginBottom: 16 }} title={t("billing.startRun")}>
          <ErrorAlert error={start.error} />
          <Form form={form} layout="inline" name="start-run" initialValues={{ as_of: dayjs() }} onFinish={(v) => start.mutate(v.as_of.format("YYYY-MM-DD"))} style={{ rowGap: 8 }}>
            <Form.Item name="as_of" label={t("billing.runAsOf")} rules={[{ required: true, message: t("auth.required") }]} extra={t("billing.runHelp")}>
              <DatePicker allowClear={false} />
            </Form.Item>
            <Form.Item>
              <Popconfirm
                title={t("billing.confirmRun", { date: asOf ? f.date(asOf.format("YYYY-MM-DD")) : "" })}
                okText={t("billing.startRun")}
                cancelText={t("common.cancel")}
                onConfirm={() => form.submit()}
              >
                <Button type="primary" icon={<PlayCircleOutlined />} loading={start.isPending}>
                  {t("billing.startRun")}
                </Button>
              </Popconfirm>
            </Form.Item>
          </Form>
        </Card>
      ) : null}
      <ServerTable<BillingRun>
        caption={t("nav.billingRuns")}
        queryKey={["billing-runs"]}
        fetch={listBillingRuns}
        sortable={false}
        onRow={(row) => ({ onClick: () => navigate(`/invoices/runs/${row.id}`), style: { cursor: "pointer" } })}
        columns={[
          { title: t("billing.run"), dataIndex: "id", render: (id: number) => <Link to={`/invoices/runs/${id}`}>#{id}</Link> },
          { title: t("billing.runAsOf"), dataIndex: "as_of", render: (v: string) => <DateText value={v} /> },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <StatusTag status={s} /> },
          {
            title: t("billing.progress"),
            dataIndex: "progress",
            render: (v: number, r) => <Progress percent={Math.round(v * 100)} size="small" status={r.status === "failed" ? "exception" : undefined} style={{ width: 120 }} />,
          },
          { title: t("billing.invoicesCreated"), dataIndex: "invoices_created", align: "right" },
          { title: t("billing.failedCount"), dataIndex: "failed", align: "right" },
          { title: t("billing.startedAt"), dataIndex: "started_at", render: (v: string) => <DateText value={v} time /> },
          { title: t("billing.triggeredBy"), dataIndex: "triggered_by", render: (v: string | null) => v ?? t("billing.scheduler") },
        ]}
      />
    </>
  );
}
