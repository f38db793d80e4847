import { useMutation, useQueryClient } from "@tanstack/react-query";
import { App, Form, Input, Modal, Radio, Table } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../shared/api/client";
import { ErrorAlert } from "../../shared/components/errors";
import { Money } from "../../shared/components/values";
import { sumMoney } from "../../shared/format";
import { useFormat } from "../../shared/format/useFormat";
import { createCreditNote, type CreditNoteCreate, type Invoice } from "./api";
import { AMOUNT_PATTERN, isAmount } from "./money";
import { useIdempotencyKey } from "../../shared/api/idempotency";

type Mode = "rest" | "amount" | "lines";

interface Values {
  reason: string;
  amount?: string;
  lines?: Record<string, string | undefined>;
}

/** A credit note on an issued invoice: the whole creditable rest, a gross amount, or net amounts per line. */
export function CreditNoteDialog({ invoice, open, onClose }: { invoice: Invoice; open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const f = useFormat();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [form] = Form.useForm<Values>();
  const [mode, setMode] = useState<Mode>("rest");
  const idempotency = useIdempotencyKey(open);
  const creditable = sumMoney([invoice.total, `-${invoice.credited}`]);

  useEffect(() => {
    if (open) {
      form.resetFields();
      setMode("rest");
    }
  }, [open, form]);

  const save = useMutation({
    mutationFn: (body: CreditNoteCreate) => createCreditNote(invoice.id, body, idempotency.key),
    onSuccess: (note) => {
      idempotency.renew();
      void message.success(t("billing.creditNoteCreated", { number: note.number, amount: f.money(note.amount, note.currency) }));
      void client.invalidateQueries({ queryKey: ["invoices"] });
      onClose();
    },
    onError: (error) => {
      if (!(error instanceof ApiError) || error.status !== 422) return;
      // lines.<i>.amount names the i-th line sent: put it on that invoice line's field
      const sent = (save.variables?.lines ?? []).map((l) => l.invoice_line_id);
      const fields = Object.entries(error.fieldErrors()).map(([name, errors]) => {
        const m = /^lines\.(\d+)\.amount$/.exec(name);
        return { name: m && sent[Number(m[1])] ? ["lines", String(sent[Number(m[1])])] : name.split("."), errors };
      });
      form.setFields(fields as never);
    },
  });

  const submit = (v: Values) => {
    const body: CreditNoteCreate = { reason: v.reason.trim() };
    if (mode === "amount") body.amount = v.amount?.trim();
    if (mode === "lines") {
      body.lines = Object.entries(v.lines ?? {})
        .filter(([, amount]) => amount && amount.trim() !== "" && Number(amount) > 0)
        .map(([id, amount]) => ({ invoice_line_id: Number(id), amount: (amount as string).trim() }));
      if (!body.lines.length) {
        void message.error(t("billing.creditNoLines"));
        return;
      }
    }
    save.mutate(body);
  };

  const amountRule = {
    validator: (_: unknown, value?: string) => (!value || isAmount(value) ? Promise.resolve() : Promise.reject(new Error(t("billing.badAmount")))),
  };

  return (
    <Modal
      open={open}
      title={t("billing.creditNoteFor", { number: invoice.number ?? "" })}
      okText={t("billing.createCreditNote")}
      cancelText={t("common.cancel")}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={save.isPending}
      width={720}
      destroyOnHidden
      forceRender
    >
      <ErrorAlert error={save.error} />
      <p>{t("billing.creditable", { amount: f.money(creditable, invoice.currency) })}</p>
      <Form<Values> form={form} layout="vertical" onFinish={submit} name="credit-note">
        <Form.Item label={t("billing.creditWhat")}>
          <Radio.Group
            value={mode}
            onChange={(e) => setMode(e.target.value as Mode)}
            options={[
              { value: "rest", label: t("billing.creditRest") },
              { value: "amount", label: t("billing.creditAmount") },
              { value: "lines", label: t("billing.creditLines") },
            ]}
          />
        </Form.Item>
        {mode === "amount" ? (
          <Form.Item
            name="amount"
            label={t("billing.grossAmount", { currency: invoice.currency })}
            rules={[{ required: true, message: t("auth.required") }, amountRule]}
          >
            <Input inputMode="decimal" autoComplete="off" style={{ maxWidth: 200 }} />
          </Form.Item>
        ) : null}
        {mode === "lines" ? (
          <Table
            size="small"
            rowKey="id"
            pagination={false}
            scroll={{ x: "max-content" }}
            dataSource={invoice.lines}
            style={{ marginBottom: 16 }}
            columns={[
              { title: t("common.description"), dataIndex: "description" },
              { title: t("billing.net"), dataIndex: "amount", align: "right", render: (v: string) => <Money amount={v} currency={invoice.currency} /> },
              {
                title: t("billing.creditNet"),
                key: "credit",
                render: (_: unknown, line) => (
                  <Form.Item
                    name={["lines", String(line.id)]}
                    rules={[{ pattern: AMOUNT_PATTERN, message: t("billing.badAmount") }]}
                    style={{ margin: 0 }}
                  >
                    <Input inputMode="decimal" aria-label={t("billing.creditNetOf", { line: line.description })} style={{ width: 120 }} />
                  </Form.Item>
                ),
              },
            ]}
          />
        ) : null}
        <Form.Item name="reason" label={t("billing.reason")} rules={[{ required: true, whitespace: true, message: t("auth.required") }]}>
          <Input.TextArea rows={2} maxLength={2000} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
