import { DollarOutlined, FilePdfOutlined, LockOutlined, MinusCircleOutlined, SendOutlined, StopOutlined, UnlockOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Descriptions, Form, Input, Modal, Popconfirm, Skeleton, Space, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router-dom";
import { ApiError, download } from "../../shared/api/client";
import { useAuth } from "../../shared/auth/AuthProvider";
import { ErrorAlert, useErrorText } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { DateText, Money, StatusTag } from "../../shared/components/values";
import { useFormat } from "../../shared/format/useFormat";
import { getInvoice, issueInvoice, lockInvoice, unlockInvoice, voidInvoice, type Invoice } from "./api";
import { CreditNoteDialog } from "./CreditNoteDialog";
import { PaymentDialog } from "./PaymentDialog";

type Action = "issue" | "lock" | "unlock" | "void" | "pdf";

const OPEN = ["issued", "partially_paid", "overdue"];

/** An action's failure in words: a 409 says why the invoice's state forbids it. */
export function ActionError({ action, error }: { action: Action | null; error: unknown }) {
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
      title={conflict ? t(`billing.conflict.${action}`) : text(error)}
      description={conflict ? (error as ApiError).message : undefined}
    />
  );
}

export default function InvoicePage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const f = useFormat();
  const { can } = useAuth();
  const { message } = App.useApp();
  const client = useQueryClient();
  const query = useQuery({ queryKey: ["invoices", "one", id], queryFn: () => getInvoice(id) });
  const [paying, setPaying] = useState(false);
  const [crediting, setCrediting] = useState(false);
  const [voiding, setVoiding] = useState(false);
  const [failed, setFailed] = useState<{ action: Action; error: unknown } | null>(null);
  const [voidForm] = Form.useForm<{ reason: string }>();

  const act = useMutation({
    mutationFn: ({ action, reason }: { action: Action; reason?: string }): Promise<Invoice | void> => {
      const inv = query.data as Invoice;
      if (action === "issue") return issueInvoice(inv.id);
      if (action === "lock") return lockInvoice(inv.id);
      if (action === "unlock") return unlockInvoice(inv.id);
      if (action === "void") return voidInvoice(inv.id, reason ?? "");
      return download(`/api/v1/invoices/${inv.id}/pdf`, `${inv.number ?? `invoice-${inv.id}`}.pdf`);
    },
    onMutate: () => setFailed(null),
    onSuccess: (result, { action }) => {
      if (result) client.setQueryData(["invoices", "one", id], result);
      if (action !== "pdf") {
        void client.invalidateQueries({ queryKey: ["invoices"] });
        void message.success(t(`billing.done.${action}`));
      }
      if (action === "void") setVoiding(false);
    },
    onError: (error, { action }) => {
      setFailed({ action, error });
      // a 409 means the invoice changed meanwhile: show it as it is now, the alert says why
      if (error instanceof ApiError && error.status === 409) {
        setVoiding(false);
        void query.refetch();
      }
    },
  });

  if (query.isLoading) return <Skeleton active paragraph={{ rows: 8 }} />;
  if (query.error || !query.data) return <ErrorAlert error={query.error} />;
  const inv = query.data;
  const busy = (a: Action) => act.isPending && act.variables?.action === a;
  const write = can("invoices.write");
  const canPay = can("payments.record") && OPEN.includes(inv.status) && Number(inv.balance) > 0;
  const canCredit = write && !inv.locked && !["draft", "void"].includes(inv.status) && Number(inv.total) > Number(inv.credited);
  const canVoid = write && !inv.locked && inv.status !== "void" && Number(inv.paid) === 0 && Number(inv.credited) === 0;
  const money = (v: string | null | undefined) => <Money amount={v} currency={inv.currency} />;
  const title = inv.number ? t("billing.invoiceTitle", { number: inv.number }) : t("billing.draftInvoice");

  return (
    <>
      <PageHeader
        title={
          <Space wrap>
            {title}
            <StatusTag status={inv.status} />
            {inv.locked ? (
              <Tag icon={<LockOutlined />} color="purple">
                {t("billing.locked")}
              </Tag>
            ) : null}
          </Space>
        }
        subtitle={
          <Link to={`/customers/${inv.customer_id}`}>{inv.customer_name ?? inv.customer?.name ?? `#${inv.customer_id}`}</Link>
        }
        extra={
          <>
            <Button icon={<FilePdfOutlined />} loading={busy("pdf")} onClick={() => act.mutate({ action: "pdf" })}>
              {t("billing.pdf")}
            </Button>
            {canPay ? (
              <Button type="primary" icon={<DollarOutlined />} onClick={() => setPaying(true)}>
                {t("billing.recordPayment")}
              </Button>
            ) : null}
            {canCredit ? (
              <Button icon={<MinusCircleOutlined />} onClick={() => setCrediting(true)}>
                {t("billing.creditNote")}
              </Button>
            ) : null}
            {write && inv.status === "draft" ? (
              <Popconfirm title={t("billing.confirmIssue")} okText={t("billing.issue")} cancelText={t("common.cancel")} onConfirm={() => act.mutate({ action: "issue" })}>
                <Button icon={<SendOutlined />} loading={busy("issue")}>
                  {t("billing.issue")}
                </Button>
              </Popconfirm>
            ) : null}
            {canVoid ? (
              <Button danger icon={<StopOutlined />} onClick={() => (voidForm.resetFields(), setFailed(null), setVoiding(true))}>
                {t("billing.void")}
              </Button>
            ) : null}
            {write ? (
              <Popconfirm
                title={inv.locked ? t("billing.confirmUnlock") : t("billing.confirmLock")}
                okText={inv.locked ? t("billing.unlock") : t("billing.lock")}
                cancelText={t("common.cancel")}
                onConfirm={() => act.mutate({ action: inv.locked ? "unlock" : "lock" })}
              >
                <Button icon={inv.locked ? <UnlockOutlined /> : <LockOutlined />} loading={busy("lock") || busy("unlock")}>
                  {inv.locked ? t("billing.unlock") : t("billing.lock")}
                </Button>
              </Popconfirm>
            ) : null}
          </>
        }
      />
      {inv.locked ? (
        <Alert
          type="info"
          showIcon
          icon={<LockOutlined />}
          style={{ marginBottom: 16 }}
          title={t("billing.lockedText", { by: inv.locked_by ?? "—", at: f.dateTime(inv.locked_at) })}
        />
      ) : null}
      {inv.status === "void" ? (
        <Alert type="warning" showIcon style={{ marginBottom: 16 }} title={t("billing.voidText", { reason: inv.void_reason ?? "—" })} />
      ) : null}
      <ActionError action={failed?.action ?? null} error={failed?.error} />

      <Card style={{ marginBottom: 16 }}>
        <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3 }}>
          <Descriptions.Item label={t("common.customer")}>
            <Link to={`/customers/${inv.customer_id}`}>{inv.customer_name ?? inv.customer?.name ?? `#${inv.customer_id}`}</Link>
          </Descriptions.Item>
          <Descriptions.Item label={t("common.contract")}>
            {inv.contract_id ? <Link to={`/contracts/${inv.contract_id}`}>{inv.contract_number ?? `#${inv.contract_id}`}</Link> : "—"}
          </Descriptions.Item>
          <Descriptions.Item label={t("billing.kind")}>{t(`billing.kinds.${inv.kind}`)}</Descriptions.Item>
          <Descriptions.Item label={t("billing.issueDate")}>
            <DateText value={inv.issue_date} />
          </Descriptions.Item>
          <Descriptions.Item label={t("billing.dueDate")}>
            <DateText value={inv.due_date} />
            {inv.overdue_since ? (
              <Typography.Text type="danger" style={{ marginLeft: 8 }}>
                {t("billing.overdueSince", { date: f.date(inv.overdue_since) })}
              </Typography.Text>
            ) : null}
          </Descriptions.Item>
          <Descriptions.Item label={t("billing.period")}>
            {inv.period_start ? `${f.date(inv.period_start)} – ${f.date(inv.period_end)}` : "—"}
          </Descriptions.Item>
          {inv.notes ? <Descriptions.Item label={t("common.notes")}>{inv.notes}</Descriptions.Item> : null}
        </Descriptions>
      </Card>

      <Card style={{ marginBottom: 16 }} title={t("billing.totals")}>
        <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3 }} aria-label={t("billing.totals")}>
          <Descriptions.Item label={t("billing.subtotal")}>{money(inv.subtotal)}</Descriptions.Item>
          <Descriptions.Item label={t("billing.tax")}>{money(inv.tax)}</Descriptions.Item>
          <Descriptions.Item label={t("billing.total")}>
            <strong>{money(inv.total)}</strong>
          </Descriptions.Item>
          <Descriptions.Item label={t("billing.paid")}>{money(inv.paid)}</Descriptions.Item>
          <Descriptions.Item label={t("billing.credited")}>{money(inv.credited)}</Descriptions.Item>
          <Descriptions.Item label={t("billing.balance")}>
            <strong data-testid="invoice-balance">{money(inv.balance)}</strong>
          </Descriptions.Item>
        </Descriptions>
      </Card>

      <Card style={{ marginBottom: 16 }} title={t("billing.lines")}>
        <Table
          size="small"
          rowKey="id"
          pagination={false}
          scroll={{ x: "max-content" }}
          dataSource={inv.lines}
          locale={{ emptyText: t("common.empty") }}
          columns={[
            { title: "#", dataIndex: "position", width: 48 },
            {
              title: t("common.description"),
              dataIndex: "description",
              render: (d: string, l) => (
                <>
                  {d}
                  {l.period_start ? (
                    <Typography.Text type="secondary" style={{ display: "block", fontSize: 12 }}>
                      {f.date(l.period_start)} – {f.date(l.period_end)}
                    </Typography.Text>
                  ) : null}
                </>
              ),
            },
            { title: t("common.quantity"), dataIndex: "quantity", align: "right" },
            { title: t("common.price"), dataIndex: "unit_price", align: "right", render: money },
            { title: t("billing.discount"), dataIndex: "discount_percent", align: "right", render: (v: string) => (Number(v) ? `${v} %` : "—") },
            { title: t("billing.net"), dataIndex: "amount", align: "right", render: money },
            { title: t("billing.taxPercent"), dataIndex: "tax_percent", align: "right", render: (v: string) => `${v} %` },
            { title: t("billing.tax"), dataIndex: "tax_amount", align: "right", render: money },
          ]}
        />
      </Card>

      <Card style={{ marginBottom: 16 }} title={t("billing.paymentsAllocated")}>
        <Table
          size="small"
          rowKey={(a) => `${a.payment_id}-${a.received_at}`}
          pagination={false}
          scroll={{ x: "max-content" }}
          dataSource={inv.allocations}
          locale={{ emptyText: t("billing.noPayments") }}
          columns={[
            { title: t("billing.payment"), dataIndex: "payment_id", render: (p: number) => <Link to={`/payments/${p}`}>#{p}</Link> },
            { title: t("billing.receivedAt"), dataIndex: "received_at", render: (v: string) => <DateText value={v} /> },
            { title: t("billing.method"), dataIndex: "method", render: (m: string) => t(`billing.methods.${m}`, { defaultValue: m }) },
            { title: t("billing.reference"), dataIndex: "reference", render: (v: string | null) => v ?? "—" },
            { title: t("common.amount"), dataIndex: "amount", align: "right", render: money },
          ]}
        />
      </Card>

      <Card title={t("billing.creditNotes")}>
        <Table
          size="small"
          rowKey="id"
          pagination={false}
          scroll={{ x: "max-content" }}
          dataSource={inv.credit_notes}
          locale={{ emptyText: t("billing.noCreditNotes") }}
          columns={[
            { title: t("billing.number"), dataIndex: "number" },
            { title: t("billing.issueDate"), dataIndex: "issue_date", render: (v: string) => <DateText value={v} /> },
            { title: t("billing.reason"), dataIndex: "reason" },
            { title: t("common.amount"), dataIndex: "amount", align: "right", render: money },
            {
              title: t("common.pdf"),
              key: "pdf",
              render: (_: unknown, n) => (
                <Button
                  size="small"
                  icon={<FilePdfOutlined />}
                  aria-label={t("billing.creditNotePdf", { number: n.number })}
                  onClick={() => download(`/api/v1/credit-notes/${n.id}/pdf`, `${n.number}.pdf`).catch((e: unknown) => setFailed({ action: "pdf", error: e }))}
                />
              ),
            },
          ]}
        />
      </Card>

      <PaymentDialog open={paying} onClose={() => setPaying(false)} invoice={inv} onRecorded={() => void query.refetch()} />
      {crediting ? <CreditNoteDialog invoice={inv} open={crediting} onClose={() => (setCrediting(false), void query.refetch())} /> : null}
      <Modal
        open={voiding}
        title={t("billing.voidTitle", { number: inv.number ?? title })}
        okText={t("billing.void")}
        okButtonProps={{ danger: true, loading: busy("void") }}
        cancelText={t("common.cancel")}
        onCancel={() => setVoiding(false)}
        onOk={() => voidForm.submit()}
        forceRender
      >
        <Typography.Paragraph>{t("billing.voidHelp")}</Typography.Paragraph>
        {failed?.action === "void" ? <ActionError action="void" error={failed.error} /> : null}
        <Form form={voidForm} layout="vertical" name="void-invoice" onFinish={(v) => act.mutate({ action: "void", reason: v.reason.trim() })}>
          <Form.Item name="reason" label={t("billing.reason")} rules={[{ required: true, whitespace: true, message: t("auth.required") }]}>
            <Input.TextArea rows={2} maxLength={2000} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
