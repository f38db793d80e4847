import { useQuery } from "@tanstack/react-query";
import { Table } from "antd";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { ErrorAlert } from "../../shared/components/errors";
import { DateText, Money, StatusTag } from "../../shared/components/values";
import { customerContracts, customerInvoices, customerOpportunities } from "./api";

export function OpportunitiesTab({ customerId }: { customerId: number }) {
  const { t } = useTranslation();
  const q = useQuery({ queryKey: ["opportunities", { customerId }], queryFn: () => customerOpportunities(customerId) });
  return (
    <>
      <ErrorAlert error={q.error} />
      <Table
        rowKey="id"
        size="small"
        loading={q.isLoading}
        dataSource={q.data?.items ?? []}
        pagination={false}
        scroll={{ x: "max-content" }}
        columns={[
          { title: t("customers.opportunity"), dataIndex: "title", render: (v: string, row) => <Link to={`/opportunities/${row.id}`}>{v}</Link> },
          { title: t("customers.stage"), dataIndex: "stage", render: (s: string) => <StatusTag status={s} /> },
          { title: t("common.amount"), dataIndex: "amount", render: (v: string, row) => <Money amount={v} currency={row.currency} /> },
          { title: t("customers.expectedClose"), dataIndex: "expected_close", render: (v: string | null) => <DateText value={v} /> },
          { title: t("customers.probability"), dataIndex: "probability", render: (v: number | null) => (v === null ? "—" : `${v}%`) },
        ]}
      />
    </>
  );
}

export function ContractsTab({ customerId }: { customerId: number }) {
  const { t } = useTranslation();
  const q = useQuery({ queryKey: ["contracts", { customerId }], queryFn: () => customerContracts(customerId) });
  return (
    <>
      <ErrorAlert error={q.error} />
      <Table
        rowKey="id"
        size="small"
        loading={q.isLoading}
        dataSource={q.data?.items ?? []}
        pagination={false}
        scroll={{ x: "max-content" }}
        columns={[
          { title: t("common.number"), dataIndex: "number", render: (v: string, row) => <Link to={`/contracts/${row.id}`}>{v}</Link> },
          { title: t("customers.contractTitle"), dataIndex: "title" },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <StatusTag status={s} /> },
          { title: t("customers.start"), dataIndex: "start_date", render: (v: string) => <DateText value={v} /> },
          { title: t("customers.end"), dataIndex: "end_date", render: (v: string) => <DateText value={v} /> },
          { title: t("common.total_"), dataIndex: "total", render: (v: string, row) => <Money amount={v} currency={row.currency} /> },
        ]}
      />
    </>
  );
}

export function InvoicesTab({ customerId }: { customerId: number }) {
  const { t } = useTranslation();
  const q = useQuery({ queryKey: ["invoices", { customerId }], queryFn: () => customerInvoices(customerId) });
  return (
    <>
      <ErrorAlert error={q.error} />
      <Table
        rowKey="id"
        size="small"
        loading={q.isLoading}
        dataSource={q.data?.items ?? []}
        pagination={false}
        scroll={{ x: "max-content" }}
        columns={[
          { title: t("common.number"), dataIndex: "number", render: (v: string | null, row) => <Link to={`/invoices/${row.id}`}>{v ?? `#${row.id}`}</Link> },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <StatusTag status={s} /> },
          { title: t("customers.issueDate"), dataIndex: "issue_date", render: (v: string | null) => <DateText value={v} /> },
          { title: t("customers.dueDate"), dataIndex: "due_date", render: (v: string | null) => <DateText value={v} /> },
          { title: t("common.total_"), dataIndex: "total", render: (v: string, row) => <Money amount={v} currency={row.currency} /> },
          { title: t("customers.balance"), dataIndex: "balance", render: (v: string, row) => <Money amount={v} currency={row.currency} /> },
        ]}
      />
    </>
  );
}
