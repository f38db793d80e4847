// Attachments: drag-and-drop (or pick) a file of any type, a progress bar while it uploads
// (multipart `file` + `description`, as routes/contract_attachments.py streams it), and downloads.
import { DownloadOutlined, InboxOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { App, Button, Input, Progress, Table, Typography, Upload } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useAuth } from "../../../shared/auth/AuthProvider";
import { ErrorAlert, useErrorText } from "../../../shared/components/errors";
import { DateText } from "../../../shared/components/values";
import { downloadAttachment, uploadAttachment, type Attachment, type ContractDetail } from "../api";

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function AttachmentsTab({ contract }: { contract: ContractDetail }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const [description, setDescription] = useState("");
  const [uploads, setUploads] = useState<Record<string, number>>({});
  const [error, setError] = useState<unknown>(null);
  const may = can("contracts.write") && contract.status !== "cancelled";

  const upload = async (file: File) => {
    const key = `${file.name}|${file.size}|${file.lastModified}`;
    setError(null);
    setUploads((u) => ({ ...u, [key]: 0 }));
    try {
      const done = await uploadAttachment(contract.id, file, description.trim() || undefined, (p) => setUploads((u) => ({ ...u, [key]: p })));
      message.success(t("contracts.uploaded", { name: done.filename }));
      setDescription("");
      await queryClient.invalidateQueries({ queryKey: ["contract", String(contract.id)] });
    } catch (e) {
      setError(e);
    } finally {
      setUploads((u) => {
        const next = { ...u };
        delete next[key];
        return next;
      });
    }
  };

  return (
    <>
      {may ? (
        <div style={{ marginBottom: 16 }}>
          <Input
            aria-label={t("contracts.attachmentDescription")}
            placeholder={t("contracts.attachmentDescription")}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            style={{ marginBottom: 8, maxWidth: 480 }}
          />
          <Upload.Dragger
            multiple
            showUploadList={false}
            customRequest={({ file }) => void upload(file as File)}
            data-testid="attachment-drop"
          >
            <p className="ant-upload-drag-icon">
              <InboxOutlined />
            </p>
            <p className="ant-upload-text">{t("contracts.dropFiles")}</p>
            <p className="ant-upload-hint">{t("contracts.dropHint")}</p>
          </Upload.Dragger>
          {Object.entries(uploads).map(([key, percent]) => (
            <div key={key} style={{ marginTop: 8 }}>
              <Typography.Text type="secondary">{key.split("|")[0]}</Typography.Text>
              <Progress percent={percent} status="active" aria-label={t("contracts.uploading")} />
            </div>
          ))}
        </div>
      ) : null}
      <ErrorAlert error={error} />
      <Table<Attachment>
        size="small"
        rowKey="id"
        pagination={false}
        scroll={{ x: "max-content" }}
        dataSource={contract.attachments}
        locale={{ emptyText: t("contracts.noAttachments") }}
        columns={[
          { title: t("contracts.file"), dataIndex: "filename" },
          { title: t("common.description"), dataIndex: "description", render: (v: string | null) => v ?? "—" },
          { title: t("contracts.size"), dataIndex: "size", align: "right", render: (v: number) => size(v) },
          { title: t("contracts.uploadedBy"), dataIndex: "uploaded_by", render: (v: string | null) => v ?? "—" },
          { title: t("common.createdAt"), dataIndex: "created_at", render: (v: string | null) => <DateText value={v} time /> },
          {
            title: t("common.actions"),
            key: "dl",
            render: (_: unknown, a) => (
              <Button
                icon={<DownloadOutlined />}
                size="small"
                aria-label={t("common.download")}
                onClick={() => void downloadAttachment(a).catch((e: unknown) => message.error(errorText(e)))}
              >
                {t("common.download")}
              </Button>
            ),
          },
        ]}
      />
    </>
  );
}
