// /invoices/corrections (finance): what billing runs would have credited on invoices finance
// locked — billing never credits or adjusts a locked invoice — with the reason. Each is applied
// when the invoice is unlocked, or here ("Apply": the credit note is issued now, the invoice may
// stay locked), or dismissed.
import { useQueryClient } from "@tanstack/react-query";
import { App, Button, Flex, Input, Modal, Segmented, Space, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { useErrorText } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { DateText, Money, StatusTag } from "../../shared/components/values";
import { CORRECTION_STATUSES, decidePendingCorrection, listPendingCorrections, type PendingCorrection } from "./api";

const FILTERS = ["status"] as const;

export default function PendingCorrectionsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const client = useQueryClient();
  const errorText = useErrorText();
  const { message } = App.useApp();
  const { list, update } = useListParams(FILTERS);
  const [deciding, setDeciding] = useState<{ row: PendingCorrection; decision: "apply" | "dismiss" } | null>(null);
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const status = list.filters.status || "pending";
  const write = can("invoices.write");

  const decide = async () => {
    if (!deciding) return;
    setBusy(true);
    try {
      await decidePendingCorrection(deciding.row.id, deciding.decision, comment.trim() || undefined);
      message.success(t(deciding.decision === "apply" ? "billing.correctionApplied" : "billing.correctionDismissed"));
      setDeciding(null);
      setComment("");
      await client.invalidateQueries({ queryKey: ["pending-corrections"] });
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader
        title={t("billing.pendingCorrections")}
        subtitle={<Link to="/invoices/runs">← {t("nav.billingRuns")}</Link>}
      />
      <p style={{ maxWidth: 760 }}>{t("billing.pendingCorrectionsText")}</p>
      <Flex style={{ marginBottom: 12 }}>
        <Segmented
          aria-label={t("common.status")}
          value={status}
          onChange={(v) => update({ status: v === "pending" ? null : String(v) })}
          options={CORRECTION_STATUSES.map((s) => ({ value: s, label: t(`billing.correctionStatus.${s}`) }))}
        />
      </Flex>
      <ServerTable<PendingCorrection>
        caption={t("billing.pendingCorrections")}
        emptyText={(list.filters.status ?? "pending") === "pending" ? t("billing.noPendingCorrections") : undefined}
        queryKey={["pending-corrections"]}
        fetch={listPendingCorrections}
        filterNames={FILTERS}
        sortable={false}
        columns={[
          {
            title: t("billing.invoice"),
            dataIndex: "invoice_number",
            render: (n: string | null, r) => (
              <Space size={4}>
                <Link to={`/invoices/${r.invoice_id}`}>{n ?? `#${r.invoice_id}`}</Link>
                {r.invoice_locked ? <Tag>{t("billing.locked")}</Tag> : null}
              </Space>
            ),
          },
          {
            title: t("common.customer"),
            dataIndex: "customer_name",
            render: (name: string | null, r) => <Link to={`/customers/${r.customer_id}`}>{name ?? `#${r.customer_id}`}</Link>,
          },
          {
            title: t("billing.credited"),
            dataIndex: "amount",
            align: "right",
            render: (v: string, r) => <Money amount={v} currency={r.currency} />,
          },
          { title: t("billing.reason"), dataIndex: "reason", width: 300 },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <StatusTag status={s} /> },
          { title: t("billing.recordedAt"), dataIndex: "created_at", render: (v: string) => <DateText value={v} time /> },
          {
            title: "",
            key: "actions",
            fixed: "right",
            render: (_: unknown, r) =>
              write && r.status === "pending" ? (
                <Space>
                  <Button size="small" type="primary" onClick={() => setDeciding({ row: r, decision: "apply" })}>
                    {t("billing.applyCorrection")}
                  </Button>
                  <Button size="small" onClick={() => setDeciding({ row: r, decision: "dismiss" })}>
                    {t("billing.dismissCorrection")}
                  </Button>
                </Space>
              ) : (
                r.comment ?? null
              ),
          },
        ]}
      />
      {deciding ? (
        <Modal
          open
          title={t(deciding.decision === "apply" ? "billing.applyCorrectionTitle" : "billing.dismissCorrectionTitle", {
            number: deciding.row.invoice_number ?? deciding.row.invoice_id,
          })}
          okText={t(deciding.decision === "apply" ? "billing.applyCorrection" : "billing.dismissCorrection")}
          okButtonProps={{ loading: busy, danger: deciding.decision === "dismiss" }}
          cancelText={t("common.cancel")}
          onOk={() => void decide()}
          onCancel={() => setDeciding(null)}
        >
          <p>{deciding.row.reason}</p>
          <Input.TextArea
            rows={2}
            maxLength={2000}
            placeholder={t("billing.correctionComment")}
            aria-label={t("billing.correctionComment")}
            value={comment}
            onChange={(e) => setComment(e.target.value)}
          />
        </Modal>
      ) : null}
    </>
  );
}
