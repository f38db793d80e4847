// Approve or reject with an opinion (required to reject). The approvals API takes only decision and
// comment: a trade-in approved here keeps its requested value, and the dialog says so (another
// valuation is set on the trade-in's own page).
import { Alert, Form, Input, Modal } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import type { ApprovalDecision } from "./api";

export function DecisionDialog({
  decision,
  summary,
  note,
  onSend,
  onClose,
}: {
  decision: "approve" | "reject";
  summary?: string | null;
  note?: string | null;
  onSend: (body: ApprovalDecision) => Promise<unknown>;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ comment?: string }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const reject = decision === "reject";
  const ok = async () => {
    let values: { comment?: string };
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const comment = values.comment?.trim();
      await onSend({ decision, comment: comment || undefined });
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
      <Form form={form} layout="vertical" onFinish={() => void ok()}>
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
