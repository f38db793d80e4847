// Invoices of the contract (billing's list filtered by contract_id) and the payments allocated to
// them (from the contract 360), each amount with its currency.
import { useQuery } from "@tanstack/react-query";
import { Table, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { ErrorAlert } from "../../../shared/components/errors";
import { DateText, Money, StatusTag } from "../../../shared/components/values";
import { listContractInvoices, type ContractDetail, type ContractOverview, type Invoice } from "../api";

type Row = Record<string, unknown>;
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function MoneyTab({ contract, overview }: { contract: ContractDetail; overview?: ContractOverview }) {
  const { t } = useTranslation();
  const invoices = useQuery({ queryKey: ["invoices", { contract_id: contract.id }], queryFn: () => listContractInvoices(contract.id) });
  const payments = (overview?.payments?.items ?? []) as Row[];
  return (
    <>
      <Typography.Title level={5}>{t("nav.invoices")}</Typography.Title>
      <ErrorAlert error={invoices.error} />
      <Table<Invoice>
        size="small"
        rowKey="id"
        loading={invoices.isLoading}
        pagination={false}
        scroll={{ x: "max-content" }}
        dataSource={invoices.data?.items ?? []}
        locale={{ emptyText: t("contracts.noInvoices") }}
        columns={[
          { title: t("common.number"), dataIndex: "number", render: (n: string | null, i) => <Link to={`/invoices/${i.id}`}>{n ?? `#${i.id}`}</Link> },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <StatusTag status={s} /> },
          { title: t("contracts.period"), key: "period", render: (_: unknown, i) => (i.period_start ? <><DateText value={i.period_start} /> – <DateText value={i.period_end} /></> : "—") },
          { title: t("contracts.issued"), dataIndex: "issue_date", render: (v: string | null) => <DateText value={v} /> },
          { title: t("contracts.due"), dataIndex: "due_date", render: (v: string | null) => <DateText value={v} /> },
          { title: t("common.total_"), dataIndex: "total", align: "right", render: (v: string, i) => <Money amount={v} currency={i.currency} /> },
          { title: t("contracts.balance"), dataIndex: "balance", align: "right", render: (v: string, i) => <Money amount={v} currency={i.currency} /> },
        ]}
      />
      <Typography.Title level={5} style={{ marginTop: 24 }}>
        {t("nav.payments")}
      </Typography.Title>
      {overview && overview.payments === null ? (
        <Typography.Text type="secondary">{overview.forbidden.includes("payments") ? t("contracts.partForbidden") : t("contracts.partUnavailable")}</Typography.Text>
      ) : (
        <Table<Row>
          size="small"
          rowKey={(r) => String(r.id)}
          pagination={false}
          scroll={{ x: "max-content" }}
          dataSource={payments}
          locale={{ emptyText: t("contracts.noPayments") }}
          columns={[
            { title: t("contracts.received"), dataIndex: "received_at", render: (v: unknown) => <DateText value={str(v)} /> },
            { title: t("contracts.method"), dataIndex: "method", render: (v: unknown) => (str(v) ? t(`contracts.methods.${str(v)}`, { defaultValue: str(v) as string }) : "—") },
            { title: t("contracts.reference"), dataIndex: "reference", render: (v: unknown) => str(v) ?? "—" },
            { title: t("common.status"), dataIndex: "status", render: (v: unknown) => <StatusTag status={str(v)} /> },
            { title: t("common.amount"), dataIndex: "amount", align: "right", render: (v: unknown, r) => <Money amount={str(v)} currency={str(r.currency)} /> },
          ]}
        />
      )}
    </>
  );
}
