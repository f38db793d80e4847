// /contracts: the list with its filters in the URL (status — several —, kind, owner, customer,
// "expiring within N days", text), rows selectable for the managers' bulk actions.
import { FieldTimeOutlined, PercentageOutlined, PlusOutlined } from "@ant-design/icons";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Button, Flex, Input, InputNumber, Select, Switch, Table, type TablePaginationConfig } from "antd";
import type { SorterResult } from "antd/es/table/interface";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { useListParams } from "../../shared/components/ServerTable";
import { DateText, Money, StatusTag } from "../../shared/components/values";
import { CONTRACT_FILTERS, CONTRACT_KINDS, CONTRACT_STATUSES, listContracts, listUsers, type ContractSummary } from "./api";
import { BulkPriceDialog, CoTerminateDialog } from "./BulkDialogs";
import { CustomerSelect } from "./pickers";

export default function ContractsPage() {
  const { t } = useTranslation();
  const { can, user } = useAuth();
  const navigate = useNavigate();
  const { list, update } = useListParams(CONTRACT_FILTERS);
  const f = list.filters;
  const [selected, setSelected] = useState<ContractSummary[]>([]);
  const [dialog, setDialog] = useState<"coterm" | "price" | null>(null);
  const query = useQuery({ queryKey: ["contracts", list], queryFn: () => listContracts(list), placeholderData: keepPreviousData });
  const users = useQuery({ queryKey: ["users", "all"], queryFn: listUsers, enabled: can("admin.users") });
  const bulk = can("contracts.bulk");
  const ownerOptions = [
    ...(user ? [{ value: String(user.id), label: t("contracts.mine") }] : []),
    ...(users.data?.items ?? []).filter((u) => u.id !== user?.id).map((u) => ({ value: String(u.id), label: u.full_name || u.username })),
  ];
  const onChange = (p: TablePaginationConfig, _f: unknown, sorter: SorterResult<ContractSummary> | SorterResult<ContractSummary>[]) => {
    const s = Array.isArray(sorter) ? sorter[0] : sorter;
    const field = (s?.column as { dataIndex?: string } | undefined)?.dataIndex;
    const sort = s?.order && field ? `${s.order === "descend" ? "-" : ""}${field}` : null;
    update({ page: p.current, page_size: p.pageSize === 20 ? null : p.pageSize, sort }, false);
  };
  return (
    <>
      <PageHeader
        title={t("nav.contracts")}
        extra={
          <>
            {bulk ? (
              <>
                <Button icon={<FieldTimeOutlined />} disabled={selected.length === 0} onClick={() => setDialog("coterm")} data-testid="bulk-coterminate">
                  {t("contracts.coTerminate")}
                  {selected.length ? ` (${selected.length})` : ""}
                </Button>
                <Button icon={<PercentageOutlined />} onClick={() => setDialog("price")} data-testid="bulk-price">
                  {t("contracts.bulkPrice")}
                </Button>
              </>
            ) : null}
            {can("contracts.write") ? (
              <Link to="/contracts/new">
                <Button type="primary" icon={<PlusOutlined />} data-testid="new-contract">
                  {t("contracts.new")}
                </Button>
              </Link>
            ) : null}
          </>
        }
      />
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
        <Input.Search
          aria-label={t("common.search")}
          placeholder={t("contracts.searchHint")}
          defaultValue={f.q}
          allowClear
          onSearch={(q) => update({ q })}
          style={{ width: 260, maxWidth: "100%" }}
        />
        <Select
          aria-label={t("common.status")}
          placeholder={t("common.status")}
          mode="multiple"
          allowClear
          maxTagCount="responsive"
          value={f.status ? f.status.split(",") : []}
          onChange={(v: string[]) => update({ status: v.join(",") })}
          options={CONTRACT_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
          style={{ width: 240, maxWidth: "100%" }}
        />
        <Select
          aria-label={t("contracts.kind")}
          placeholder={t("contracts.kind")}
          allowClear
          value={f.kind}
          onChange={(kind) => update({ kind })}
          options={CONTRACT_KINDS.map((k) => ({ value: k, label: t(`contracts.kinds.${k}`) }))}
          style={{ width: 150 }}
        />
        <Select
          aria-label={t("common.owner")}
          placeholder={t("common.owner")}
          allowClear
          value={f.owner_id}
          onChange={(owner_id) => update({ owner_id })}
          options={ownerOptions}
          style={{ width: 170 }}
        />
        <div style={{ width: 240, maxWidth: "100%" }}>
          <CustomerSelect
            placeholder={t("common.customer")}
            value={f.customer_id ? Number(f.customer_id) : undefined}
            onChange={(v) => update({ customer_id: v ?? null })}
          />
        </div>
        <InputNumber
          aria-label={t("contracts.expiringWithin")}
          placeholder={t("contracts.expiringWithin")}
          min={0}
          max={3650}
          precision={0}
          defaultValue={f.expiring_within_days ? Number(f.expiring_within_days) : undefined}
          onPressEnter={(e) => update({ expiring_within_days: (e.target as HTMLInputElement).value })}
          onBlur={(e) => update({ expiring_within_days: e.target.value })}
          suffix={t("contracts.days")}
          style={{ width: 200 }}
        />
        <Flex gap={6} align="center">
          <Switch
            size="small"
            aria-label={t("contracts.includeArchived")}
            checked={f.include_archived === "true"}
            onChange={(on) => update({ include_archived: on ? "true" : null })}
            data-testid="include-archived"
          />
          <span>{t("contracts.includeArchived")}</span>
        </Flex>
      </Flex>
      <ErrorAlert error={query.error} />
      <Table<ContractSummary>
        size="middle"
        rowKey="id"
        aria-label={t("nav.contracts")}
        dataSource={query.data?.items ?? []}
        loading={query.isFetching}
        scroll={{ x: "max-content" }}
        onChange={onChange}
        rowSelection={
          bulk
            ? {
                selectedRowKeys: selected.map((r) => r.id),
                preserveSelectedRowKeys: true,
                onChange: (_keys, rows) =>
                  setSelected((prev) => {
                    const keep = prev.filter((p) => _keys.includes(p.id) && !rows.some((r) => r?.id === p.id));
                    return [...keep, ...rows.filter(Boolean)];
                  }),
              }
            : undefined
        }
        onRow={(row) => ({ onDoubleClick: () => navigate(`/contracts/${row.id}`) })}
        locale={{ emptyText: query.isLoading ? t("common.loading") : t("common.empty") }}
        pagination={{
          current: list.page,
          pageSize: list.page_size,
          total: query.data?.total ?? 0,
          showSizeChanger: true,
          showTotal: (total) => t("common.total", { count: total }),
        }}
        columns={[
          { title: t("common.number"), dataIndex: "number", render: (n: string, row) => <Link to={`/contracts/${row.id}`}>{n}</Link> },
          { title: t("contracts.title"), dataIndex: "title", ellipsis: true, width: 240 },
          { title: t("common.customer"), dataIndex: "customer_name", render: (name: string, row) => <Link to={`/customers/${row.customer_id}`}>{name}</Link> },
          { title: t("contracts.kind"), dataIndex: "kind", render: (k: string) => t(`contracts.kinds.${k}`, { defaultValue: k }) },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <StatusTag status={s} /> },
          { title: t("contracts.start"), dataIndex: "start_date", render: (v: string) => <DateText value={v} /> },
          { title: t("contracts.end"), dataIndex: "end_date", render: (v: string) => <DateText value={v} /> },
          { title: t("common.total_"), dataIndex: "total", align: "right", render: (v: string, row) => <Money amount={v} currency={row.currency} /> },
        ]}
      />
      {dialog === "coterm" ? (
        <CoTerminateDialog
          contracts={selected}
          onClose={(done) => {
            setDialog(null);
            if (done) setSelected([]);
          }}
        />
      ) : null}
      {dialog === "price" ? <BulkPriceDialog onClose={() => setDialog(null)} /> : null}
    </>
  );
}
