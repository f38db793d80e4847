import { LockOutlined, SyncOutlined } from "@ant-design/icons";
import { Button, Checkbox, DatePicker, Flex, Input, Select, Tooltip } from "antd";
import dayjs from "dayjs";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { useIsMobile } from "../../shared/components/useIsMobile";
import { DateText, Money, StatusTag } from "../../shared/components/values";
import { INVOICE_FILTERS, INVOICE_STATUSES, listInvoices, type InvoiceSummary } from "./api";
import { ContractSelect, CustomerSelect } from "./CustomerSelect";

export default function InvoicesPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const mobile = useIsMobile();
  const { list, update } = useListParams(INVOICE_FILTERS);
  const f = list.filters;
  const num = (v?: string) => (v ? Number(v) : undefined);
  // on a phone two filters share a row; on a desktop each keeps its width
  const half = (width: number) => (mobile ? { width: "calc(50% - 4px)", minWidth: 0 } : { width });
  return (
    <>
      <PageHeader
        title={t("nav.invoices")}
        extra={
          can("billingRuns.view") ? (
            <Link to="/invoices/runs">
              <Button icon={<SyncOutlined />}>{t("nav.billingRuns")}</Button>
            </Link>
          ) : null
        }
      />
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
        <Input.Search
          aria-label={t("billing.searchNumber")}
          placeholder={t("billing.searchNumber")}
          defaultValue={f.q}
          allowClear
          onSearch={(q) => update({ q })}
          style={{ width: 220, maxWidth: "100%" }}
        />
        <Select
          aria-label={t("common.status")}
          placeholder={t("common.status")}
          allowClear
          value={f.status}
          onChange={(status) => update({ status })}
          options={INVOICE_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
          style={half(160)}
        />
        <CustomerSelect aria-label={t("common.customer")} value={num(f.customer_id)} onChange={(v) => update({ customer_id: v })} style={{ ...half(240), minWidth: 0 }} />
        <ContractSelect aria-label={t("common.contract")} value={num(f.contract_id)} onChange={(v) => update({ contract_id: v })} style={{ ...half(240), minWidth: 0 }} />
        <Input
          aria-label={t("common.currency")}
          placeholder={t("common.currency")}
          defaultValue={f.currency}
          maxLength={3}
          allowClear
          onPressEnter={(e) => update({ currency: (e.target as HTMLInputElement).value.toUpperCase() })}
          onBlur={(e) => update({ currency: e.target.value.toUpperCase() })}
          style={half(110)}
        />
        <DatePicker.RangePicker
          aria-label={t("billing.issueDate")}
          placeholder={[t("billing.issuedFrom"), t("billing.issuedTo")]}
          value={[f.issued_from ? dayjs(f.issued_from) : null, f.issued_to ? dayjs(f.issued_to) : null]}
          allowEmpty={[true, true]}
          onChange={(range) =>
            update({ issued_from: range?.[0]?.format("YYYY-MM-DD") ?? null, issued_to: range?.[1]?.format("YYYY-MM-DD") ?? null })
          }
          style={{ maxWidth: "100%" }}
        />
        <Checkbox checked={f.overdue === "true"} onChange={(e) => update({ overdue: e.target.checked ? "true" : null })} style={{ alignSelf: "center" }}>
          {t("billing.overdueOnly")}
        </Checkbox>
      </Flex>
      <ServerTable<InvoiceSummary>
        caption={t("nav.invoices")}
        queryKey={["invoices", "list"]}
        fetch={listInvoices}
        filterNames={INVOICE_FILTERS}
        sortable={false}
        onRow={(row) => ({ onClick: () => navigate(`/invoices/${row.id}`), style: { cursor: "pointer" } })}
        columns={[
          {
            title: t("billing.number"),
            dataIndex: "number",
            render: (n: string | null, row) => (
              <Link to={`/invoices/${row.id}`} onClick={(e) => e.stopPropagation()}>
                {n ?? t("billing.draftNumber")}
              </Link>
            ),
          },
          {
            title: t("common.customer"),
            dataIndex: "customer_name",
            render: (name: string | null, row) => (
              <Link to={`/customers/${row.customer_id}`} onClick={(e) => e.stopPropagation()}>
                {name ?? row.customer?.name ?? `#${row.customer_id}`}
              </Link>
            ),
          },
          {
            title: t("common.contract"),
            dataIndex: "contract_number",
            render: (n: string | null, row) =>
              row.contract_id ? (
                <Link to={`/contracts/${row.contract_id}`} onClick={(e) => e.stopPropagation()}>
                  {n ?? `#${row.contract_id}`}
                </Link>
              ) : (
                "—"
              ),
          },
          { title: t("billing.issueDate"), dataIndex: "issue_date", render: (v: string | null) => <DateText value={v} /> },
          { title: t("billing.dueDate"), dataIndex: "due_date", render: (v: string | null) => <DateText value={v} /> },
          {
            title: t("common.status"),
            dataIndex: "status",
            render: (s: string, row) => (
              <Flex gap={4} align="center">
                <StatusTag status={s} />
                {row.locked ? (
                  <Tooltip title={t("billing.locked")}>
                    <LockOutlined aria-label={t("billing.locked")} />
                  </Tooltip>
                ) : null}
              </Flex>
            ),
          },
          { title: t("billing.total"), dataIndex: "total", align: "right", render: (v: string, row) => <Money amount={v} currency={row.currency} /> },
          { title: t("billing.balance"), dataIndex: "balance", align: "right", render: (v: string, row) => <Money amount={v} currency={row.currency} /> },
        ]}
      />
    </>
  );
}
