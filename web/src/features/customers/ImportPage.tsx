import { DownloadOutlined, InboxOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Card, Flex, Progress, Radio, Result, Steps, Table, Typography, Upload } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { getImport, startImport, type ImportMode } from "./api";

const FINISHED = new Set(["finished", "completed", "failed", "done", "rejected"]);

/** CSV of the rows' errors, for fixing in a spreadsheet. */
function errorsCsv(errors: { line?: number | null; field?: string | null; message: string }[]): string {
  const cell = (v: unknown) => `"${String(v ?? "").replace(/"/g, '""')}"`;
  return ["line,field,message", ...errors.map((e) => [e.line, e.field, e.message].map(cell).join(","))].join("\n");
}

export default function ImportPage() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [mode, setMode] = useState<ImportMode>("all_or_nothing");
  const [jobId, setJobId] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [uploading, setUploading] = useState(false);

  const job = useQuery({
    queryKey: ["customers", "import", jobId],
    enabled: jobId !== null,
    queryFn: () => getImport(jobId!),
    refetchInterval: (q) => (q.state.data && FINISHED.has(q.state.data.status) ? false : 800),
  });
  const done = job.data ? FINISHED.has(job.data.status) : false;
  const step = jobId === null ? (file ? 1 : 0) : done ? 3 : 2;

  const start = async () => {
    if (!file) return;
    setUploading(true);
    setError(null);
    try {
      const accepted = await startImport(file, mode);
      setJobId(Number((accepted as { job_id: number | string }).job_id));
    } catch (e) {
      setError(e);
    } finally {
      setUploading(false);
    }
  };

  const received = job.data?.rows_received ?? 0;
  const processed = job.data?.rows_processed ?? 0;
  const percent = done ? 100 : received ? Math.min(99, Math.round((processed / received) * 100)) : 5;
  const errors = job.data?.errors ?? [];

  return (
    <>
      <PageHeader title={t("customers.importTitle")} subtitle={t("customers.importHelp")} />
      <Card>
        <Steps
          current={step}
          style={{ marginBottom: 24 }}
          items={[{ title: t("customers.importFile") }, { title: t("customers.importMode") }, { title: t("customers.importRunning") }, { title: t("customers.importResult") }]}
        />
        <ErrorAlert error={error} />
        {jobId === null ? (
          <Flex vertical gap={16}>
            <Upload.Dragger
              accept=".csv,text/csv"
              maxCount={1}
              beforeUpload={(f) => {
                setFile(f);
                return false;
              }}
              onRemove={() => setFile(null)}
              fileList={file ? [{ uid: "1", name: file.name, status: "done" }] : []}
            >
              <p className="ant-upload-drag-icon">
                <InboxOutlined />
              </p>
              <p>{t("customers.importDrop")}</p>
              <Typography.Text type="secondary">{t("customers.importColumns")}</Typography.Text>
            </Upload.Dragger>
            <div>
              <Typography.Text strong>{t("customers.importMode")}</Typography.Text>
              <Radio.Group value={mode} onChange={(e) => setMode(e.target.value)} style={{ display: "flex", flexDirection: "column", gap: 8, marginTop: 8 }}>
                <Radio value="all_or_nothing">{t("customers.modeAll")}</Radio>
                <Radio value="skip_bad">{t("customers.modeSkip")}</Radio>
              </Radio.Group>
            </div>
            <div>
              <Button type="primary" disabled={!file} loading={uploading} onClick={() => void start()}>
                {t("customers.importStart")}
              </Button>
            </div>
          </Flex>
        ) : (
          <Flex vertical gap={16}>
            <ErrorAlert error={job.error} />
            <Progress percent={percent} status={done ? (job.data?.status === "failed" ? "exception" : "success") : "active"} />
            <Typography.Text>
              {t("customers.importCounts", { processed, received, created: job.data?.created ?? 0, updated: job.data?.updated ?? 0, errors: job.data?.error_count ?? 0 })}
            </Typography.Text>
            {done ? (
              errors.length === 0 ? (
                <Result status="success" title={t("customers.importDone", { created: job.data?.created ?? 0, updated: job.data?.updated ?? 0 })} extra={<Link to="/customers"><Button type="primary">{t("nav.customers")}</Button></Link>} />
              ) : (
                <>
                  <Alert
                    type={mode === "all_or_nothing" ? "error" : "warning"}
                    showIcon
                    title={mode === "all_or_nothing" ? t("customers.importNothing", { count: errors.length }) : t("customers.importSkipped", { count: errors.length })}
                    action={
                      <Button
                        icon={<DownloadOutlined />}
                        onClick={() => {
                          const url = URL.createObjectURL(new Blob([errorsCsv(errors)], { type: "text/csv;charset=utf-8" }));
                          const a = document.createElement("a");
                          a.href = url;
                          a.download = "import-errors.csv";
                          a.click();
                          URL.revokeObjectURL(url);
                        }}
                      >
                        {t("customers.downloadErrors")}
                      </Button>
                    }
                  />
                  <Table
                    rowKey={(r) => `${r.line}-${r.field}-${r.message}`}
                    size="small"
                    dataSource={errors}
                    scroll={{ x: "max-content" }}
                    columns={[
                      { title: t("customers.line"), dataIndex: "line" },
                      { title: t("customers.field"), dataIndex: "field" },
                      { title: t("customers.reasonCol"), dataIndex: "message" },
                    ]}
                  />
                </>
              )
            ) : null}
            {done ? (
              <div>
                <Button
                  onClick={() => {
                    setJobId(null);
                    setFile(null);
                    void queryClient.invalidateQueries({ queryKey: ["customers"] });
                  }}
                >
                  {t("customers.importAgain")}
                </Button>
              </div>
            ) : null}
          </Flex>
        )}
      </Card>
    </>
  );
}
