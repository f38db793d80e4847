import { CheckOutlined } from "@ant-design/icons";
import { App, Button, Popconfirm } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../shared/api/client";
import { useErrorText } from "../../shared/components/errors";

interface Props {
  title: string;
  /** Sends the closing (PATCH status done); rejects with the API's error. */
  onConfirm: () => Promise<unknown>;
  block?: boolean;
}

/**
 * "Close task" with a confirmation. When the API refuses (409: the task's reason still holds, e.g.
 * a collection task whose invoice is unpaid), a dialog says why in words.
 */
export function CloseTaskButton({ title, onConfirm, block }: Props) {
  const { t } = useTranslation();
  const { modal, message } = App.useApp();
  const errorText = useErrorText();
  const [busy, setBusy] = useState(false);
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
  return (
    <Popconfirm
      title={t("notify.closeConfirm")}
      description={title}
      okText={t("notify.closeYes")}
      cancelText={t("common.cancel")}
      onConfirm={() => confirm()}
    >
      <Button size="small" icon={<CheckOutlined />} loading={busy} block={block}>
        {t("notify.close")}
      </Button>
    </Popconfirm>
  );
}
