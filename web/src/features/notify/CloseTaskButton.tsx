import { CheckOutlined } from "@ant-design/icons";
import { App, Button, Form, Input, Modal, Popconfirm, Select } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../shared/api/client";
import { applyFieldErrors, ErrorAlert, useErrorText } from "../../shared/components/errors";
import { COLLECTION_CLOSE_REASONS, type CloseReason, type TaskClosing } from "./api";

interface Props {
  title: string;
  /** Sends the closing (PATCH status done, with the reason when asked for); rejects with the API's error. */
  onConfirm: (closing?: TaskClosing) => Promise<unknown>;
  /**
   * An unpaid invoice's collection task closed by finance or an admin: a dialog asks why
   * (dispute, write-off, ...) and for a note (required for "other").
   */
  withReason?: boolean;
  block?: boolean;
}

/**
 * "Close task" with a confirmation. When the API refuses (409: the task's reason still holds, e.g.
 * a collection task whose invoice is unpaid), a dialog says why in words.
 */
export function CloseTaskButton({ title, onConfirm, withReason, block }: Props) {
  const { t } = useTranslation();
  const { modal, message } = App.useApp();
  const errorText = useErrorText();
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState(false);
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
      message.success(t("notify.closed"));
    } catch (error) {
      const refused = error instanceof ApiError && error.status === 409;
      modal.error({
        title: refused ? t("notify.closeRefused") : t("notify.closeFailed"),
        content: refused ? `${t("notify.closeRefusedText")} ${error.message}` : errorText(error),
        okText: t("common.close"),
      });
    } finally {
      setBusy(false);
    }
  };
  const button = (onClick?: () => void) => (
    <Button size="small" icon={<CheckOutlined />} loading={busy} block={block} onClick={onClick}>
      {t("notify.close")}
    </Button>
  );
  if (withReason) {
    return (
      <>
        {button(() => setAsking(true))}
        {asking ? (
          <CloseReasonDialog
            title={title}
            onSend={async (closing) => {
              await onConfirm(closing);
              message.success(t("notify.closed"));
            }}
            onClose={() => setAsking(false)}
          />
        ) : null}
      </>
    );
  }
  return (
    <Popconfirm
      title={t("notify.closeConfirm")}
      description={title}
      okText={t("notify.closeYes")}
      cancelText={t("common.cancel")}
      onConfirm={() => confirm()}
    >
      {button()}
    </Popconfirm>
  );
}

/** Why finance closes an unpaid invoice's collection task; the API's refusal stays in the dialog. */
export function CloseReasonDialog({
  title,
  onSend,
  onClose,
}: {
  title: string;
  onSend: (closing: TaskClosing) => Promise<unknown>;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ close_reason?: CloseReason; note?: string }>();
  const reason = Form.useWatch("close_reason", form);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const ok = async () => {
    let values: { close_reason?: CloseReason; note?: string };
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const note = values.note?.trim();
      await onSend({ close_reason: values.close_reason as CloseReason, note: note || undefined });
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
      title={t("notify.closeReasonTitle")}
      okText={t("notify.closeYes")}
      okButtonProps={{ loading: busy, "data-testid": "close-reason-confirm" } as never}
      cancelText={t("common.cancel")}
      onOk={() => void ok()}
      onCancel={onClose}
      destroyOnHidden
    >
      <p>{title}</p>
      <p>{t("notify.closeReasonText")}</p>
      <ErrorAlert error={error} />
      <Form form={form} layout="vertical" onFinish={() => void ok()}>
        <Form.Item
          label={t("notify.closeReason")}
          name="close_reason"
          rules={[{ required: true, message: t("notify.closeReasonRequired") }]}
        >
          <Select
            aria-label={t("notify.closeReason")}
            options={COLLECTION_CLOSE_REASONS.map((r) => ({ value: r, label: t(`notify.closeReasons.${r}`) }))}
          />
        </Form.Item>
        <Form.Item
          label={t("notify.closeNote")}
          name="note"
          dependencies={["close_reason"]}
          rules={[
            ({ getFieldValue }) => ({
              validator: (_: unknown, value?: string) =>
                getFieldValue("close_reason") === "other" && !value?.trim()
                  ? Promise.reject(new Error(t("notify.closeNoteRequired")))
                  : Promise.resolve(),
            }),
          ]}
          required={reason === "other"}
        >
          <Input.TextArea rows={3} maxLength={2000} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
