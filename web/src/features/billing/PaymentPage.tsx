import { CheckOutlined, LockOutlined, PartitionOutlined, RollbackOutlined, UnlockOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Descriptions, Form, Input, Modal, Popconfirm, Radio, Select, Skeleton, Space, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router-dom";
import { ApiError } from "../../shared/api/client";
import { useAuth } from "../../shared/auth/AuthProvider";
import { ErrorAlert, useErrorText } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { DateText, Money, StatusTag } from "../../shared/components/values";
import { useFormat } from "../../shared/format/useFormat";
import {
  PAYMENT_METHODS,
  allocatePayment,
  confirmPayment,
  getPayment,
  lockPayment,
  openInvoices,
  refundPayment,
  unlockPayment,
  type Payment,
  type PaymentMethod,
} from "./api";
import { AMOUNT_PATTERN, compareMoney, isAmount } from "./money";
import { useIdempotencyKey } from "../../shared/api/idempotency";

type Action = "confirm" | "lock" | "unlock" | "allocate" | "refund";

function ActionFailure({ action, error }: { action?: Action; error: unknown }) {
  const { t } = useTranslation();
  const text = useErrorText();
  if (!error || !action) return null;
  const conflict = error instanceof ApiError && error.status === 409;
  return (
    <Alert
      type="error"
      showIcon
      role="alert"
      style={{ marginBottom: 16 }}
      title={conflict ? t(`billing.paymentConflict.${action}`) : text(error)}
      description={conflict ? (error as ApiError).message : undefined}
    />
  );
}

/** Allocate the unallocated rest to the customer's open invoices in the payment's currency. */
function AllocateDialog({ payment, open, onClose, onDone }: { payment: Payment; open: boolean; onClose: () => void; onDone: (p: Payment) => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<Record<string, string | undefined>>();
  const [mode, setMode] = useState<"oldest" | "chosen">("oldest");
  const idempotency = useIdempotencyKey(open);
  const invoices = useQuery({
    queryKey: ["invoices", "open", payment.customer_id, payment.currency],
    queryFn: () => openInvoices(payment.customer_id, payment.currency),
    enabled: open,
  });
  const save = useMutation({
    mutationFn: (allocations?: { invoice_id: number; amount: string }[]) => allocatePayment(payment.id, allocations, idempotency.key),
    onSuccess: (p) => (idempotency.renew(), onDone(p), onClose()),
  });
  const submit = (values: Record<string, string | undefined>) => {
    if (mode === "oldest") return save.mutate(undefined);
    const allocations = Object.entries(values)
      .filter(([, v]) => isAmount(v))
      .map(([id, v]) => ({ invoice_id: Number(id), amount: (v as string).trim() }));
    if (allocations.length) save.mutate(allocations);
  };
  return (
    <Modal
      open={open}
      title={t("billing.allocateTitle")}
      okText={t("billing.allocate")}
      cancelText={t("common.cancel")}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={save.isPending}
      width={720}
      forceRender
    >
      <ActionFailure action="allocate" error={save.error} />
      <Typography.Paragraph>{t("billing.allocateHelp", { amount: `${payment.unallocated} ${payment.currency}` })}</Typography.Paragraph>
      <Radio.Group
        value={mode}
        onChange={(e) => setMode(e.target.value as "oldest" | "chosen")}
        style={{ marginBottom: 12 }}
        options={[
          { value: "oldest", label: t("billing.allocateOldest") },
          { value: "chosen", label: t("billing.allocateChosen") },
        ]}
      />
      <Form form={form} onFinish={submit} name="allocate-payment">
        {mode === "chosen" ? (
          <Table
            size="small"
            rowKey="id"
            pagination={false}
            loading={invoices.isLoading}
            scroll={{ x: "max-content" }}
            dataSource={invoices.data ?? []}
            locale={{ emptyText: t("billing.noOpenInvoices") }}
            columns={[
              { title: t("billing.number"), dataIndex: "number" },
              { title: t("billing.dueDate"), dataIndex: "due_date", render: (v: string) => <DateText value={v} /> },
              { title: t("billing.balance"), dataIndex: "balance", align: "right", render: (v: string) => <Money amount={v} currency={payment.currency} /> },
              {
                title: t("billing.allocateAmount"),
                key: "amount",
                render: (_: unknown, inv) => (
                  <Form.Item
                    name={String(inv.id)}
                    style={{ margin: 0 }}
                    rules={[
                      { pattern: AMOUNT_PATTERN, message: t("billing.badAmount") },
                      {
                        validator: (_r, v?: string) =>
                          v && AMOUNT_PATTERN.test(v) && compareMoney(v, inv.balance) > 0
                            ? Promise.reject(new Error(t("billing.allocationOverBalance")))
                            : Promise.resolve(),
                      },
                    ]}
                  >
                    <Input inputMode="decimal" aria-label={t("billing.allocateAmountTo", { number: inv.number })} style={{ width: 120 }} />
                  </Form.Item>
                ),
              },
            ]}
          />
        ) : null}
      </Form>
    </Modal>
  );
}

interface RefundValues {
  amount: string;
  reason: string;
  method?: PaymentMethod;
  reference?: string;
}

function RefundDialog({ payment, open, onClose, onDone }: { payment: Payment; open: boolean; onClose: () => void; onDone: (p: Payment) => void }) {
  const { t } = useTranslation();
  const f = useFormat();
  const [form] = Form.useForm<RefundValues>();
  const { modal } = App.useApp();
  const idempotency = useIdempotencyKey(open);
  const save = useMutation({
    mutationFn: (v: RefundValues) =>
      refundPayment(
        payment.id,
        { amount: v.amount.trim(), reason: v.reason.trim(), method: v.method, reference: v.reference?.trim() || undefined },
        idempotency.key,
      ),
    onSuccess: (p) => (idempotency.renew(), onDone(p), onClose()),
    onError: (error) => {
      if (error instanceof ApiError && error.status === 422)
        form.setFields(Object.entries(error.fieldErrors()).map(([name, errors]) => ({ name, errors })) as never);
    },
  });
  return (
    <Modal
      open={open}
      title={t("billing.refundTitle")}
      okText={t("billing.refund")}
      okButtonProps={{ danger: true }}
      cancelText={t("common.cancel")}
      onCancel={onClose}
      onOk={() =>
        form.validateFields().then((v) => {
          modal.confirm({
            title: t("billing.confirmRefund", { amount: f.money(v.amount, payment.currency) }),
            okText: t("billing.refund"),
            cancelText: t("common.cancel"),
            onOk: () => save.mutate(v),
          });
        }, () => undefined)
      }
      confirmLoading={save.isPending}
      forceRender
    >
      <ActionFailure action="refund" error={save.error} />
      <Form form={form} layout="vertical" name="refund-payment" initialValues={{ method: payment.method }}>
        <Form.Item
          name="amount"
          label={t("billing.refundAmount", { currency: payment.currency })}
          extra={t("billing.refundHelp", { amount: f.money(payment.unallocated, payment.currency) })}
          rules={[
            { required: true, message: t("auth.required") },
            {
              validator: (_r, v?: string) =>
                !v || isAmount(v) ? (v && compareMoney(v, payment.unallocated) > 0 ? Promise.reject(new Error(t("billing.refundTooMuch"))) : Promise.resolve()) : Promise.reject(new Error(t("billing.badAmount"))),
            },
          ]}
        >
          <Input inputMode="decimal" style={{ maxWidth: 200 }} />
        </Form.Item>
        <Form.Item name="reason" label={t("billing.reason")} rules={[{ required: true, whitespace: true, message: t("auth.required") }]}>
          <Input.TextArea rows={2} maxLength={2000} />
        </Form.Item>
        <Form.Item name="method" label={t("billing.method")}>
          <Select options={PAYMENT_METHODS.map((m) => ({ value: m, label: t(`billing.methods.${m}`) }))} />
        </Form.Item>
        <Form.Item name="reference" label={t("billing.optionalField", { field: t("billing.reference") })}>
          <Input maxLength={200} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

export default function PaymentPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const f = useFormat();
  const { can } = useAuth();
  const { message } = App.useApp();
  const client = useQueryClient();
  const query = useQuery({ queryKey: ["payments", "one", id], queryFn: () => getPayment(id) });
  const [dialog, setDialog] = useState<"allocate" | "refund" | null>(null);
  const confirmKey = useIdempotencyKey();
  const updated = (p: Payment, action: Action) => {
    client.setQueryData(["payments", "one", id], p);
    void client.invalidateQueries({ queryKey: ["payments", "list"] });
    void client.invalidateQueries({ queryKey: ["invoices"] });
    void message.success(t(`billing.paymentDone.${action}`));
  };
  const act = useMutation({
    mutationFn: (action: "confirm" | "lock" | "unlock") =>
      action === "confirm" ? confirmPayment(Number(id), confirmKey.key) : action === "lock" ? lockPayment(Number(id)) : unlockPayment(Number(id)),
    onSuccess: (p, action) => (action === "confirm" && confirmKey.renew(), updated(p, action)),
  });

  if (query.isLoading) return <Skeleton active paragraph={{ rows: 6 }} />;
  if (query.error || !query.data) return <ErrorAlert error={query.error} />;
  const p = query.data;
  const write = can("invoices.write");
  const hasRest = Number(p.unallocated) > 0;
  const money = (v: string | null | undefined) => <Money amount={v} currency={p.currency} />;

  return (
    <>
      <PageHeader
        title={
          <Space wrap>
            {t("billing.paymentTitle", { id: p.id })}
            <StatusTag status={p.status} />
            {p.locked ? (
              <Tag icon={<LockOutlined />} color="purple">
                {t("billing.locked")}
              </Tag>
            ) : null}
          </Space>
        }
        subtitle={<Link to={`/customers/${p.customer_id}`}>{p.customer_name ?? `#${p.customer_id}`}</Link>}
        extra={
          <>
            {can("payments.confirm") && p.status === "pending" ? (
              <Popconfirm title={t("billing.confirmConfirm")} okText={t("billing.confirmPayment")} cancelText={t("common.cancel")} onConfirm={() => act.mutate("confirm")}>
                <Button type="primary" icon={<CheckOutlined />} loading={act.isPending && act.variables === "confirm"}>
                  {t("billing.confirmPayment")}
                </Button>
              </Popconfirm>
            ) : null}
            {write && p.status === "confirmed" && hasRest && !p.locked ? (
              <Button icon={<PartitionOutlined />} onClick={() => setDialog("allocate")}>
                {t("billing.allocate")}
              </Button>
            ) : null}
            {write && p.status === "confirmed" && hasRest && !p.locked ? (
              <Button danger icon={<RollbackOutlined />} onClick={() => setDialog("refund")}>
                {t("billing.refund")}
              </Button>
            ) : null}
            {write ? (
              <Popconfirm
                title={p.locked ? t("billing.confirmUnlockPayment") : t("billing.confirmLockPayment")}
                okText={p.locked ? t("billing.unlock") : t("billing.lock")}
                cancelText={t("common.cancel")}
                onConfirm={() => act.mutate(p.locked ? "unlock" : "lock")}
              >
                <Button icon={p.locked ? <UnlockOutlined /> : <LockOutlined />} loading={act.isPending && act.variables !== "confirm"}>
                  {p.locked ? t("billing.unlock") : t("billing.lock")}
                </Button>
              </Popconfirm>
            ) : null}
          </>
        }
      />
      {p.locked ? (
        <Alert type="info" showIcon icon={<LockOutlined />} style={{ marginBottom: 16 }} title={t("billing.paymentLockedText", { by: p.locked_by ?? "—", at: f.dateTime(p.locked_at) })} />
      ) : null}
      {p.status === "pending" ? <Alert type="warning" showIcon style={{ marginBottom: 16 }} title={t("billing.pendingText")} /> : null}
      <ActionFailure action={act.variables} error={act.error} />
      <Card style={{ marginBottom: 16 }}>
        <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3 }}>
          <Descriptions.Item label={t("common.customer")}>
            <Link to={`/customers/${p.customer_id}`}>{p.customer_name ?? `#${p.customer_id}`}</Link>
          </Descriptions.Item>
          <Descriptions.Item label={t("common.amount")}>
            <strong>{money(p.amount)}</strong>
          </Descriptions.Item>
          <Descriptions.Item label={t("billing.method")}>{t(`billing.methods.${p.method}`)}</Descriptions.Item>
          <Descriptions.Item label={t("billing.receivedAt")}>
            <DateText value={p.received_at} time />
          </Descriptions.Item>
          <Descriptions.Item label={t("billing.reference")}>{p.reference ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("billing.allocated")}>{money(p.allocated)}</Descriptions.Item>
          <Descriptions.Item label={t("billing.unallocated")}>{money(p.unallocated)}</Descriptions.Item>
          <Descriptions.Item label={t("billing.refunded")}>{money(p.refunded)}</Descriptions.Item>
          <Descriptions.Item label={t("billing.confirmedBy")}>
            {p.confirmed_by ? `${p.confirmed_by} · ${f.dateTime(p.confirmed_at)}` : "—"}
          </Descriptions.Item>
          <Descriptions.Item label={t("billing.recordedBy")}>{p.created_by ? `${p.created_by} · ${f.dateTime(p.created_at)}` : "—"}</Descriptions.Item>
          {p.notes ? <Descriptions.Item label={t("common.notes")}>{p.notes}</Descriptions.Item> : null}
        </Descriptions>
      </Card>
      {p.status === "pending" && p.requested_allocations?.length ? (
        <Card style={{ marginBottom: 16 }} title={t("billing.requestedAllocations")}>
          <Table
            size="small"
            rowKey="invoice_id"
            pagination={false}
            dataSource={p.requested_allocations}
            columns={[
              { title: t("billing.invoice"), dataIndex: "invoice_id", render: (i: number) => <Link to={`/invoices/${i}`}>#{i}</Link> },
              { title: t("common.amount"), dataIndex: "amount", align: "right", render: money },
            ]}
          />
        </Card>
      ) : null}
      <Card style={{ marginBottom: 16 }} title={t("billing.allocations")}>
        <Table
          size="small"
          rowKey={(a) => `${a.invoice_id}-${a.allocated_at}`}
          pagination={false}
          scroll={{ x: "max-content" }}
          dataSource={p.allocations}
          locale={{ emptyText: t("billing.noAllocations") }}
          columns={[
            { title: t("billing.invoice"), dataIndex: "invoice_number", render: (n: string | null, a) => <Link to={`/invoices/${a.invoice_id}`}>{n ?? `#${a.invoice_id}`}</Link> },
            { title: t("billing.allocatedAt"), dataIndex: "allocated_at", render: (v: string) => <DateText value={v} time /> },
            { title: t("common.amount"), dataIndex: "amount", align: "right", render: money },
          ]}
        />
      </Card>
      <Card title={t("billing.refunds")}>
        <Table
          size="small"
          rowKey="id"
          pagination={false}
          scroll={{ x: "max-content" }}
          dataSource={p.refunds}
          locale={{ emptyText: t("billing.noRefunds") }}
          columns={[
            { title: t("common.date"), dataIndex: "refunded_at", render: (v: string) => <DateText value={v} time /> },
            { title: t("billing.reason"), dataIndex: "reason" },
            { title: t("billing.method"), dataIndex: "method", render: (m: string | null) => (m ? t(`billing.methods.${m}`) : "—") },
            { title: t("billing.reference"), dataIndex: "reference", render: (v: string | null) => v ?? "—" },
            { title: t("common.amount"), dataIndex: "amount", align: "right", render: money },
          ]}
        />
      </Card>
      <AllocateDialog payment={p} open={dialog === "allocate"} onClose={() => setDialog(null)} onDone={(x) => updated(x, "allocate")} />
      <RefundDialog payment={p} open={dialog === "refund"} onClose={() => setDialog(null)} onDone={(x) => updated(x, "refund")} />
    </>
  );
}
