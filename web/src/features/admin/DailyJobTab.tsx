import { PlayCircleOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { Alert, Button, DatePicker, Form, Table, Tag, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ErrorAlert, applyFieldErrors } from "../../shared/components/errors";
import { jobRows, runDailyJobs, type DailyJobResult, type JobRow } from "./api";

interface Props {
  /** Runs the jobs for the date (YYYY-MM-DD); the default calls the API. */
  run?: (asOf: string) => Promise<DailyJobResult>;
}

/** "Run the daily job for a date": every service's daily work for that date, and what each did. */
export function DailyJobTab({ run = runDailyJobs }: Props) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<{ as_of: Dayjs }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<DailyJobResult | null>(null);
  const submit = async ({ as_of }: { as_of: Dayjs }) => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const done = await run(as_of.format("YYYY-MM-DD"));
      setResult(done);
      // the jobs touch contracts, invoices, tasks and the inbox: let every list reload
      await queryClient.invalidateQueries();
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const rows = result ? jobRows(result) : [];
  const failed = rows.filter((r) => r.failed).length;
  return (
    <>
      <Typography.Paragraph type="secondary">{t("admin.jobs.intro")}</Typography.Paragraph>
      <Form form={form} layout="inline" initialValues={{ as_of: dayjs() }} onFinish={(v) => void submit(v)} style={{ rowGap: 8, marginBottom: 16 }}>
        <Form.Item name="as_of" label={t("admin.jobs.date")} rules={[{ required: true, message: t("admin.required") }]}>
          <DatePicker allowClear={false} format="YYYY-MM-DD" />
        </Form.Item>
        <Form.Item>
          <Button type="primary" htmlType="submit" icon={<PlayCircleOutlined />} loading={busy}>
            {t("admin.jobs.run")}
          </Button>
        </Form.Item>
      </Form>
      <ErrorAlert error={error} />
      {result ? (
        <>
          <Alert
            type={failed ? "warning" : "success"}
            showIcon
            role="status"
            style={{ marginBottom: 12 }}
            title={failed ? t("admin.jobs.someFailed", { date: result.as_of, count: failed }) : t("admin.jobs.done", { date: result.as_of })}
          />
          <Table<JobRow>
            size="small"
            rowKey="key"
            aria-label={t("admin.jobs.result")}
            dataSource={rows}
            pagination={false}
            scroll={{ x: "max-content" }}
            columns={[
              { title: t("admin.jobs.service"), dataIndex: "service", render: (s: string) => t(`admin.services.${s}`, { defaultValue: s }) },
              {
                title: t("admin.jobs.job"),
                dataIndex: "job",
                render: (job: string, row) =>
                  row.failed ? <Tag color="red">{t("admin.jobs.failed")}</Tag> : t(`admin.jobs.keys.${job}`, { defaultValue: job.replace(/_/g, " ") }),
              },
              {
                title: t("admin.jobs.outcome"),
                dataIndex: "value",
                render: (v: string, row) => (row.failed ? <Typography.Text type="danger">{v}</Typography.Text> : <Typography.Text strong>{v}</Typography.Text>),
              },
            ]}
          />
        </>
      ) : null}
    </>
  );
}
