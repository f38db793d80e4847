import { LockOutlined, PlusOutlined } from "@ant-design/icons";
import { Button, Flex, Input, Select } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { DateText, Money, StatusTag } from "../../shared/components/values";
import { PAYMENT_FILTERS, PAYMENT_METHODS, listPayments, type Payment } from "./api";
import { CustomerSelect } from "./CustomerSelect";
import { PaymentDialog } from "./PaymentDialog";

export default function PaymentsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const { list, update } = useListParams(PAYMENT_FILTERS);
  const [recording, setRecording] = useState(false);
  const f = list.filters;
  return (
    <>
      <PageHeader
        title={t("nav.payments")}
        extra={
          can("payments.record") ? (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setRecording(true)}>
              {t("billing.recordPayment")}
            </Button>
          ) : null
        }
      />
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
        <CustomerSelect
          aria-label={t("common.customer")}
          value={f.customer_id ? Number(f.customer_id) : undefined}
          onChange={(v) => update({ customer_id: v })}
          style={{ width: 260 }}
        />
        <Select
          aria-label={t("billing.method")}
          placeholder={t("billing.method")}
          allowClear
          value={f.method}
          onChange={(method) => update({ method })}
          options={PAYMENT_METHODS.map((m) => ({ value: m, label: t(`billing.methods.${m}`) }))}
          style={{ width: 170 }}
        />
        <Select
          aria-label={t("common.status")}
          placeholder={t("common.status")}
          allowClear
          value={f.status}
          onChange={(status) => update({ status })}
          options={["pending", "confirmed"].map((s) => ({ value: s, label: t(`status.${s}`) }))}
          style={{ width: 150 }}
        />
        <Input
          aria-label={t("common.currency")}
          placeholder={t("common.currency")}
          defaultValue={f.currency}
          maxLength={3}
          allowClear
          onPressEnter={(e) => update({ currency: (e.target as HTMLInputElement).value.toUpperCase() })}
          onBlur={(e) => update({ currency: e.target.value.toUpperCase() })}
          style={{ width: 110 }}
        />
      </Flex>
      <ServerTable<Payment>
        caption={t("nav.payments")}
        queryKey={["payments", "list"]}
        fetch={listPayments}
        filterNames={PAYMENT_FILTERS}
        sortable={false}
        onRow={(row) => ({ onClick: () => navigate(`/payments/${row.id}`), style: { cursor: "pointer" } })}
        columns={[
          {
            title: t("billing.payment"),
            dataIndex: "id",
            render: (id: number) => (
              <Link to={`/payments/${id}`} onClick={(e) => e.stopPropagation()}>
                #{id}
              </Link>
            ),
          },
          {
            title: t("common.customer"),
            dataIndex: "customer_name",
            render: (n: string | null, row) => (
              <Link to={`/customers/${row.customer_id}`} onClick={(e) => e.stopPropagation()}>
                {n ?? `#${row.customer_id}`}
              </Link>
            ),
          },
          { title: t("billing.receivedAt"), dataIndex: "received_at", render: (v: string) => <DateText value={v} /> },
          { title: t("billing.method"), dataIndex: "method", render: (m: string) => t(`billing.methods.${m}`) },
          { title: t("billing.reference"), dataIndex: "reference", render: (v: string | null) => v ?? "—" },
          {
            title: t("common.status"),
            dataIndex: "status",
            render: (s: string, row) => (
              <>
                <StatusTag status={s} />
                {row.locked ? <LockOutlined aria-label={t("billing.locked")} /> : null}
              </>
            ),
          },
          { title: t("common.amount"), dataIndex: "amount", align: "right", render: (v: string, r) => <Money amount={v} currency={r.currency} /> },
          { title: t("billing.unallocated"), dataIndex: "unallocated", align: "right", render: (v: string, r) => <Money amount={v} currency={r.currency} /> },
        ]}
      />
      <PaymentDialog open={recording} onClose={() => setRecording(false)} onRecorded={(p) => navigate(`/payments/${p.id}`)} />
    </>
  );
}
