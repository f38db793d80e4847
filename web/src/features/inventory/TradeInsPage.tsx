import { PlusOutlined } from "@ant-design/icons";
import { Button, Flex, Select } from "antd";
import { useTranslation } from "react-i18next";
import { Link, Navigate, useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { DateText, Money } from "../../shared/components/values";
import { listTradeIns, TRADE_IN_FILTERS, type TradeIn } from "./api";
import { InvStatus, ProductLink } from "./common";

export default function TradeInsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const { list, update } = useListParams(TRADE_IN_FILTERS);
  if (!can("tradeIns.view") && !can("tradeIns.decide")) return <Navigate to="/inventory/products" replace />;
  return (
    <>
      <PageHeader
        title={t("inventory.tabs.trade-ins")}
        extra={
          can("tradeIns.view") ? (
            <Link to="/inventory/trade-ins/new">
              <Button type="primary" icon={<PlusOutlined />}>
                {t("inventory.tradeIn.new")}
              </Button>
            </Link>
          ) : null
        }
      />
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
        <Select
          aria-label={t("common.status")}
          placeholder={t("common.status")}
          allowClear
          value={list.filters.status}
          onChange={(status) => update({ status })}
          options={["submitted", "approved", "rejected", "received"].map((s) => ({ value: s, label: t(`inventory.status.${s}`) }))}
          style={{ width: 160 }}
        />
      </Flex>
      <ServerTable<TradeIn>
        caption={t("inventory.tabs.trade-ins")}
        queryKey={["inventory", "trade-ins"]}
        fetch={listTradeIns as never}
        filterNames={TRADE_IN_FILTERS}
        sortable={false}
        onRow={(row) => ({ onClick: () => navigate(`/inventory/trade-ins/${row.id}`), style: { cursor: "pointer" } })}
        columns={[
          { title: "#", dataIndex: "id", render: (id: number) => <Link to={`/inventory/trade-ins/${id}`}>{id}</Link> },
          { title: t("inventory.unit.serial"), dataIndex: "serial_number" },
          {
            title: t("inventory.product.one"),
            dataIndex: "product_id",
            render: (p: number | null, row) => (p ? <ProductLink id={p} /> : (row.model ?? "—")),
          },
          { title: t("inventory.tradeIn.condition"), dataIndex: "condition", render: (c: string) => t(`inventory.condition.${c}`) },
          {
            title: t("inventory.tradeIn.requested"),
            dataIndex: "requested_value",
            align: "right",
            render: (v: string, row) => <Money amount={v} currency={row.currency} />,
          },
          {
            title: t("inventory.tradeIn.approvedValue"),
            dataIndex: "approved_value",
            align: "right",
            render: (v: string | null, row) => (v ? <Money amount={v} currency={row.currency} /> : "—"),
          },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <InvStatus status={s} /> },
          { title: t("common.createdAt"), dataIndex: "created_at", render: (v: string) => <DateText value={v} /> },
        ]}
      />
    </>
  );
}
