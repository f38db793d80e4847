import { PlusOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Button, DatePicker, Form, Input, Modal, Select, Table, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useAuth } from "../../shared/auth/AuthProvider";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { DateText } from "../../shared/components/values";
import { addFollowUp, listContacts, listFollowUps, type FollowUpCreate } from "./api";
import { stripEmpty } from "./ContactsTab";
import { useIdempotencyKey } from "../../shared/api/idempotency";

const METHODS = ["call", "visit", "email", "meeting", "other"] as const;

interface Values {
  method: FollowUpCreate["method"];
  occurred_at: Dayjs;
  result: string;
  contact_id?: number;
  notes?: string;
  next_action?: string;
  next_action_at?: Dayjs;
}

/** Every contact with the customer: log a visit or call with its result and the next action. */
export function FollowUpsTab({ customerId }: { customerId: number }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<Values>();
  const idempotency = useIdempotencyKey(open);
  const followUps = useQuery({ queryKey: ["customers", customerId, "follow-ups"], queryFn: () => listFollowUps(customerId) });
  const contacts = useQuery({ queryKey: ["customers", customerId, "contacts"], queryFn: () => listContacts(customerId), enabled: open });
  const add = useMutation({
    mutationFn: (values: Values) =>
      addFollowUp(
        customerId,
        stripEmpty({
          ...values,
          occurred_at: values.occurred_at.toISOString(),
          next_action_at: values.next_action_at ? values.next_action_at.toISOString() : undefined,
        }) as FollowUpCreate,
        idempotency.key,
      ),
    onSuccess: async () => {
      idempotency.renew();
      await queryClient.invalidateQueries({ queryKey: ["customers", customerId] });
      setOpen(false);
      form.resetFields();
    },
    onError: (e) => applyFieldErrors(form, e),
  });
  return (
    <>
      <ErrorAlert error={followUps.error} />
      {can("customers.write") ? (
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} style={{ marginBottom: 12 }}>
          {t("customers.logFollowUp")}
        </Button>
      ) : null}
      <Table
        rowKey="id"
        size="small"
        loading={followUps.isLoading}
        dataSource={followUps.data?.items ?? []}
        pagination={false}
        scroll={{ x: "max-content" }}
        columns={[
          { title: t("common.date"), dataIndex: "occurred_at", render: (v: string) => <DateText value={v} time /> },
          { title: t("customers.method"), dataIndex: "method", render: (m: string) => t(`customers.methods.${m}`) },
          { title: t("customers.result"), dataIndex: "result", render: (v: string) => <Typography.Text style={{ whiteSpace: "pre-wrap" }}>{v}</Typography.Text> },
          { title: t("customers.nextAction"), dataIndex: "next_action" },
          { title: t("customers.nextActionAt"), dataIndex: "next_action_at", render: (v: string | null) => <DateText value={v} time /> },
        ]}
      />
      <Modal open={open} title={t("customers.logFollowUp")} onCancel={() => setOpen(false)} onOk={() => form.submit()} confirmLoading={add.isPending} destroyOnHidden>
        <ErrorAlert error={add.error} />
        <Form<Values> form={form} layout="vertical" initialValues={{ method: "call", occurred_at: dayjs() }} onFinish={(v) => add.mutate(v)}>
          <Form.Item label={t("customers.method")} name="method" rules={[{ required: true }]}>
            <Select options={METHODS.map((m) => ({ value: m, label: t(`customers.methods.${m}`) }))} />
          </Form.Item>
          <Form.Item label={t("customers.occurredAt")} name="occurred_at" rules={[{ required: true, message: t("auth.required") }]}>
            <DatePicker showTime style={{ width: "100%" }} />
          </Form.Item>
          <Form.Item label={t("customers.contactName")} name="contact_id">
            <Select allowClear loading={contacts.isLoading} options={(contacts.data?.items ?? []).map((c) => ({ value: c.id, label: c.name }))} />
          </Form.Item>
          <Form.Item label={t("customers.result")} name="result" rules={[{ required: true, message: t("auth.required") }]}>
            <Input.TextArea rows={3} />
          </Form.Item>
          <Form.Item label={t("customers.nextAction")} name="next_action">
            <Input />
          </Form.Item>
          <Form.Item label={t("customers.nextActionAt")} name="next_action_at">
            <DatePicker showTime style={{ width: "100%" }} />
          </Form.Item>
          <Form.Item label={t("common.notes")} name="notes">
            <Input.TextArea rows={2} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
