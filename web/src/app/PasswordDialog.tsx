import { App, Form, Input, Modal } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap } from "../shared/api/client";
import { session } from "../shared/auth/session";
import { applyFieldErrors, ErrorAlert } from "../shared/components/errors";

interface Values {
  old_password: string;
  new_password: string;
  repeat: string;
}

export function PasswordDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (values: Values) => {
    setBusy(true);
    setError(null);
    try {
      await unwrap(
        api.POST("/api/v1/users/me/password", {
          body: { old_password: values.old_password, new_password: values.new_password },
        }),
      );
      // a new password ends every session of the user, this one too: sign in again with it
      message.success(t("auth.changed"));
      form.resetFields();
      onClose();
      session.clear();
      window.setTimeout(() => window.location.assign("/login"), 1500);
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal open={open} title={t("header.password")} onCancel={onClose} onOk={() => form.submit()} confirmLoading={busy} destroyOnHidden>
      <ErrorAlert error={error} />
      <Form form={form} layout="vertical" onFinish={submit}>
        <Form.Item label={t("auth.currentPassword")} name="old_password" rules={[{ required: true, message: t("auth.required") }]}>
          <Input.Password autoComplete="current-password" />
        </Form.Item>
        <Form.Item label={t("auth.newPassword")} name="new_password" rules={[{ required: true, message: t("auth.required") }]}>
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item
          label={t("auth.repeatPassword")}
          name="repeat"
          dependencies={["new_password"]}
          rules={[
            { required: true, message: t("auth.required") },
            ({ getFieldValue }) => ({
              validator: (_, value) =>
                !value || value === getFieldValue("new_password") ? Promise.resolve() : Promise.reject(new Error(t("auth.mismatch"))),
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
