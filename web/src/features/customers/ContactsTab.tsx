import { PlusOutlined, StarFilled } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Button, Form, Input, Modal, Switch, Table } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useAuth } from "../../shared/auth/AuthProvider";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { addContact, listContacts, type ContactCreate } from "./api";
import { useIdempotencyKey } from "../../shared/api/idempotency";

export function ContactsTab({ customerId }: { customerId: number }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<ContactCreate>();
  const idempotency = useIdempotencyKey(open);
  const contacts = useQuery({ queryKey: ["customers", customerId, "contacts"], queryFn: () => listContacts(customerId) });
  const add = useMutation({
    mutationFn: (body: ContactCreate) => addContact(customerId, body, idempotency.key),
    onSuccess: async () => {
      idempotency.renew();
      await queryClient.invalidateQueries({ queryKey: ["customers", customerId, "contacts"] });
      setOpen(false);
      form.resetFields();
    },
    onError: (e) => applyFieldErrors(form, e),
  });
  return (
    <>
      <ErrorAlert error={contacts.error} />
      {can("customers.write") ? (
        <Button icon={<PlusOutlined />} onClick={() => setOpen(true)} style={{ marginBottom: 12 }}>
          {t("customers.addContact")}
        </Button>
      ) : null}
      <Table
        rowKey="id"
        size="small"
        loading={contacts.isLoading}
        dataSource={contacts.data?.items ?? []}
        pagination={false}
        scroll={{ x: "max-content" }}
        columns={[
          { title: t("common.name"), dataIndex: "name", render: (name: string, row) => <>{name} {row.is_primary ? <StarFilled style={{ color: "#faad14" }} aria-label={t("customers.primary")} /> : null}</> },
          { title: t("customers.contactTitle"), dataIndex: "title" },
          { title: t("customers.email"), dataIndex: "email", render: (v: string | null) => (v ? <a href={`mailto:${v}`}>{v}</a> : "—") },
          { title: t("customers.phone"), dataIndex: "phone", render: (v: string | null) => (v ? <a href={`tel:${v}`}>{v}</a> : "—") },
          { title: t("common.notes"), dataIndex: "notes" },
        ]}
      />
      <Modal open={open} title={t("customers.addContact")} onCancel={() => setOpen(false)} onOk={() => form.submit()} confirmLoading={add.isPending} destroyOnHidden>
        <ErrorAlert error={add.error} />
        <Form form={form} layout="vertical" onFinish={(values) => add.mutate(stripEmpty(values))}>
          <Form.Item label={t("common.name")} name="name" rules={[{ required: true, message: t("auth.required") }]}>
            <Input />
          </Form.Item>
          <Form.Item label={t("customers.contactTitle")} name="title">
            <Input />
          </Form.Item>
          <Form.Item label={t("customers.email")} name="email" rules={[{ type: "email", message: t("customers.badEmail") }]}>
            <Input type="email" />
          </Form.Item>
          <Form.Item label={t("customers.phone")} name="phone">
            <Input type="tel" />
          </Form.Item>
          <Form.Item label={t("customers.primary")} name="is_primary" valuePropName="checked">
            <Switch />
          </Form.Item>
          <Form.Item label={t("common.notes")} name="notes">
            <Input.TextArea rows={2} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}

export function stripEmpty<T extends object>(values: T): T {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== null && v !== "")) as T;
}
