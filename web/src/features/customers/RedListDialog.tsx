// Put a customer on the red list: a reason is required (the customers service keeps it with who
// and when). Its contracts are then not submitted unless a sales manager overrides it.
import { Form, Input, Modal } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";

export function RedListDialog({
  name,
  onSend,
  onClose,
}: {
  name: string;
  onSend: (reason: string) => Promise<unknown>;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ reason?: string }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const ok = async () => {
    let values: { reason?: string };
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSend((values.reason ?? "").trim());
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
      title={t("customers.redListTitle", { name })}
      okText={t("customers.redListAction")}
      okButtonProps={{ danger: true, loading: busy }}
      cancelText={t("common.cancel")}
      onOk={() => void ok()}
      onCancel={onClose}
      destroyOnHidden
    >
      <ErrorAlert error={error} />
      <Form form={form} layout="vertical" onFinish={() => void ok()}>
        <Form.Item
          label={t("customers.redListReason")}
          name="reason"
          rules={[{ required: true, whitespace: true, message: t("customers.redListReasonRequired") }]}
          extra={t("customers.redListHelp")}
        >
          <Input.TextArea rows={3} autoFocus maxLength={1000} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
