// Approve or reject with an opinion (required to reject). Approving a trade-in, the approver also
// decides its valuation ("approved value", in the request's currency; the requested value unless
// changed): the approvals API carries it to the trade-in.
import { Alert, Form, Input, Modal } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import type { ApprovalDecision } from "./api";

export function DecisionDialog({
  decision,
  summary,
  note,
  valuation,
  onSend,
  onClose,
}: {
  decision: "approve" | "reject";
  summary?: string | null;
  note?: string | null;
  /** A trade-in being approved: its requested value and currency (the approved value's default). */
  valuation?: { requested: string | null; currency: string | null } | null;
  onSend: (body: ApprovalDecision) => Promise<unknown>;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ comment?: string; approved_value?: string }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const reject = decision === "reject";
  const valued = !reject && valuation ? valuation : null;
  const ok = async () => {
    let values: { comment?: string; approved_value?: string };
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const comment = values.comment?.trim();
      const value = values.approved_value?.trim();
      const body: ApprovalDecision = { decision, comment: comment || undefined };
      if (valued && value) {
        body.approved_value = value;
        if (valued.currency) body.currency = valued.currency;
      }
      await onSend(body);
      onClose();
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open
      title={reject ? t("approvals.rejectTitle") : t("approvals.approveTitle")}
      okText={reject ? t("approvals.reject") : t("approvals.approve")}
      okButtonProps={{ danger: reject, loading: busy, "data-testid": "decision-confirm" } as never}
      cancelText={t("common.cancel")}
      onOk={() => void ok()}
      onCancel={onClose}
      destroyOnHidden
    >
      {summary ? <Alert type="info" title={summary} style={{ marginBottom: 12 }} /> : null}
      {note ? <Alert type="warning" title={note} style={{ marginBottom: 12 }} /> : null}
      <ErrorAlert error={error} />
      <Form
        form={form}
        layout="vertical"
        onFinish={() => void ok()}
        initialValues={valued?.requested ? { approved_value: valued.requested } : undefined}
      >
        {valued ? (
          <Form.Item
            label={t("approvals.approvedValue")}
            name="approved_value"
            extra={t("approvals.approvedValueHelp", { value: valued.requested ?? "—", currency: valued.currency ?? "" })}
            rules={[
              { required: true, whitespace: true, message: t("approvals.approvedValueRequired") },
              { pattern: /^\s*\d{1,13}(\.\d{1,4})?\s*$/, message: t("approvals.badNumber") },
            ]}
          >
            <Input inputMode="decimal" addonAfter={valued.currency ?? undefined} data-testid="decision-approved-value" />
          </Form.Item>
        ) : null}
        <Form.Item
          label={t("approvals.opinion")}
          name="comment"
          rules={reject ? [{ required: true, whitespace: true, message: t("approvals.opinionRequired") }] : []}
          extra={reject ? undefined : t("approvals.opinionOptional")}
        >
          <Input.TextArea rows={4} autoFocus data-testid="decision-opinion" maxLength={10000} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
