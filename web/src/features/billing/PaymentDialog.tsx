import { useMutation, useQueryClient } from "@tanstack/react-query";
import { App, DatePicker, Form, Input, Modal, Select, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../shared/api/client";
import { ErrorAlert } from "../../shared/components/errors";
import { useFormat } from "../../shared/format/useFormat";
import { PAYMENT_METHODS, recordPayment, type InvoiceSummary, type Payment, type PaymentCreate, type PaymentMethod } from "./api";
import { CustomerSelect } from "./CustomerSelect";
import { compareMoney, isAmount, minMoney } from "./money";
import { useIdempotencyKey } from "../../shared/api/idempotency";

interface Values {
  customer_id?: number;
  amount: string;
  currency: string;
  method: PaymentMethod;
  received_at: Dayjs;
  reference?: string;
  allocation?: string;
}

interface Props {
  open: boolean;
  onClose: () => void;
  onRecorded?: (payment: Payment) => void;
  /** The invoice the payment pays (its customer, currency and balance); none: pick a customer. */
  invoice?: Pick<InvoiceSummary, "id" | "number" | "customer_id" | "currency" | "balance">;
}

// the gateway names fields of the request; the form names some of them differently
const FIELD_OF: Record<string, string> = { "allocations.0.amount": "allocation", "allocations.0.invoice_id": "allocation" };

/** Record a payment received (POST /payments), allocated to the invoice it was opened from. */
export function PaymentDialog({ open, onClose, onRecorded, invoice }: Props) {
  const { t } = useTranslation();
  const f = useFormat();
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const client = useQueryClient();
  const idempotency = useIdempotencyKey(open);

  useEffect(() => {
    if (!open) return;
    form.resetFields();
    form.setFieldsValue({
      amount: invoice?.balance && Number(invoice.balance) > 0 ? invoice.balance : undefined,
      currency: invoice?.currency ?? "EUR",
      method: "bank_transfer",
      received_at: dayjs(),
      allocation: invoice?.balance && Number(invoice.balance) > 0 ? invoice.balance : undefined,
    });
  }, [open, invoice, form]);

  // the allocation follows the amount, keystroke by keystroke, while the amount is valid (at
  // most the invoice's balance); a watched value could skip a keystroke and follow a stale one
  const followAmount = (changed: Partial<Values>) => {
    if (!invoice || !("amount" in changed) || !isAmount(changed.amount)) return;
    form.setFieldValue("allocation", minMoney(changed.amount!.trim(), invoice.balance));
  };

  const save = useMutation({
    mutationFn: (body: PaymentCreate) => recordPayment(body, idempotency.key),
    onSuccess: (payment) => {
      idempotency.renew();
      void message.success(
        payment.status === "pending" ? t("billing.paymentPending") : t("billing.paymentRecorded", { amount: f.money(payment.amount, payment.currency) }),
      );
      void client.invalidateQueries({ queryKey: ["invoices"] });
      void client.invalidateQueries({ queryKey: ["payments"] });
      onRecorded?.(payment);
      onClose();
    },
    onError: (error) => {
      if (!(error instanceof ApiError) || error.status !== 422) return;
      const fields = Object.entries(error.fieldErrors()).map(([name, errors]) => ({ name: FIELD_OF[name] ?? name, errors }));
      form.setFields(fields as never);
    },
  });

  const submit = (v: Values) => {
    const allocation = v.allocation?.trim();
    save.mutate({
      customer_id: (invoice?.customer_id ?? v.customer_id) as number,
      amount: v.amount.trim(),
      currency: v.currency.trim().toUpperCase(),
      method: v.method,
      received_at: v.received_at.toISOString(),
      reference: v.reference?.trim() || undefined,
      allocations: invoice && allocation && Number(allocation) > 0 ? [{ invoice_id: invoice.id, amount: allocation }] : undefined,
    });
  };

  const amountRule = { validator: (_: unknown, value?: string) => (isAmount(value) ? Promise.resolve() : Promise.reject(new Error(t("billing.badAmount")))) };

  return (
    <Modal
      open={open}
      title={invoice ? t("billing.recordPaymentFor", { number: invoice.number ?? "" }) : t("billing.recordPayment")}
      okText={t("billing.recordPayment")}
      cancelText={t("common.cancel")}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={save.isPending}
      destroyOnHidden
      forceRender
    >
      <ErrorAlert error={save.error} />
      <Form<Values> form={form} layout="vertical" onFinish={submit} onValuesChange={followAmount} name="record-payment">
        {invoice ? null : (
          <Form.Item name="customer_id" label={t("common.customer")} rules={[{ required: true, message: t("auth.required") }]}>
            <CustomerSelect />
          </Form.Item>
        )}
        <Form.Item name="amount" label={t("common.amount")} rules={[{ required: true, message: t("auth.required") }, amountRule]}>
          <Input inputMode="decimal" autoComplete="off" />
        </Form.Item>
        <Form.Item
          name="currency"
          label={t("common.currency")}
          rules={[{ required: true, pattern: /^[A-Za-z]{3}$/, message: t("billing.badCurrency") }]}
          extra={invoice ? t("billing.currencyOfInvoice", { currency: invoice.currency }) : undefined}
        >
          <Input maxLength={3} style={{ textTransform: "uppercase", width: 100 }} disabled={!!invoice} />
        </Form.Item>
        <Form.Item name="method" label={t("billing.method")} rules={[{ required: true }]}>
          <Select options={PAYMENT_METHODS.map((m) => ({ value: m, label: t(`billing.methods.${m}`) }))} />
        </Form.Item>
        <Form.Item name="received_at" label={t("billing.receivedAt")} rules={[{ required: true, message: t("auth.required") }]}>
          <DatePicker showTime={{ format: "HH:mm" }} format="YYYY-MM-DD HH:mm" style={{ width: "100%" }} />
        </Form.Item>
        <Form.Item name="reference" label={t("billing.optionalField", { field: t("billing.reference") })}>
          <Input maxLength={200} />
        </Form.Item>
        {invoice ? (
          <Form.Item
            name="allocation"
            label={t("billing.allocateToInvoice", { number: invoice.number ?? "" })}
            extra={t("billing.allocationHelp", { balance: f.money(invoice.balance, invoice.currency) })}
            dependencies={["amount"]}
            rules={[
              {
                validator: (_: unknown, value?: string) => {
                  if (!value) return Promise.resolve();
                  if (!/^\d{1,13}(\.\d{1,2})?$/.test(value.trim())) return Promise.reject(new Error(t("billing.badAmount")));
                  if (compareMoney(value.trim(), invoice.balance) > 0) return Promise.reject(new Error(t("billing.allocationOverBalance")));
                  const paid = form.getFieldValue("amount") as string | undefined;
                  if (isAmount(paid) && compareMoney(value.trim(), paid.trim()) > 0)
                    return Promise.reject(new Error(t("billing.allocationOverAmount")));
                  return Promise.resolve();
                },
              },
            ]}
          >
            <Input inputMode="decimal" autoComplete="off" />
          </Form.Item>
        ) : (
          <Typography.Paragraph type="secondary">{t("billing.oldestFirst")}</Typography.Paragraph>
        )}
      </Form>
    </Modal>
  );
}
