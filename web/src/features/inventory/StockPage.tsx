import { SwapOutlined } from "@ant-design/icons";
import { Button, Flex, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { listStock, STOCK_FILTERS, type StockLevel } from "./api";
import { ProductSelect, WarehouseSelect } from "./pickers";

export default function StockPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { list, update } = useListParams(STOCK_FILTERS);
  const num = (v?: string) => (v ? Number(v) : undefined);
  return (
    <>
      <PageHeader
        title={t("inventory.tabs.stock")}
        extra={
          can("stock.move") ? (
            <Link to="/inventory/moves/new">
              <Button type="primary" icon={<SwapOutlined />}>
                {t("inventory.move.new")}
              </Button>
            </Link>
          ) : null
        }
      />
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
        <ProductSelect
          aria-label={t("inventory.product.one")}
          value={num(list.filters.product_id)}
          onChange={(v) => update({ product_id: v ?? null })}
          style={{ width: 300, maxWidth: "100%" }}
        />
        <WarehouseSelect
          aria-label={t("inventory.warehouse.one")}
          value={num(list.filters.warehouse_id)}
          onChange={(v) => update({ warehouse_id: v ?? null })}
          style={{ width: 240, maxWidth: "100%" }}
        />
      </Flex>
      <ServerTable<StockLevel>
        caption={t("inventory.tabs.stock")}
        queryKey={["inventory", "stock"]}
        fetch={listStock as never}
        filterNames={STOCK_FILTERS}
        sortable={false}
        rowKey={(r) => `${r.product_id}-${r.warehouse_id}`}
        columns={[
          {
            title: t("inventory.product.one"),
            dataIndex: "sku",
            render: (sku: string, row) => (
              <Link to={`/inventory/products/${row.product_id}`}>
                {sku} · {row.product_name}
              </Link>
            ),
          },
          { title: t("inventory.warehouse.one"), dataIndex: "warehouse_code" },
          { title: t("inventory.stock.onHand"), dataIndex: "on_hand", align: "right" },
          { title: t("inventory.stock.reserved"), dataIndex: "reserved", align: "right" },
          {
            title: t("inventory.stock.available"),
            dataIndex: "available",
            align: "right",
            render: (v: number) => <Typography.Text type={v <= 0 ? "danger" : undefined} strong>{v}</Typography.Text>,
          },
        ]}
      />
    </>
  );
}
