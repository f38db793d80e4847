import { PlusOutlined } from "@ant-design/icons";
import { Button, Flex, Input, Select, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { Money } from "../../shared/components/values";
import { KINDS, listProducts, PRODUCT_FILTERS, type Product } from "./api";
import { CategorySelect } from "./pickers";

export default function ProductsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const { list, update } = useListParams(PRODUCT_FILTERS);
  const f = list.filters;
  return (
    <>
      <PageHeader
        title={t("inventory.tabs.products")}
        extra={
          can("catalogue.write") ? (
            <Link to="/inventory/products/new">
              <Button type="primary" icon={<PlusOutlined />}>
                {t("inventory.product.new")}
              </Button>
            </Link>
          ) : null
        }
      />
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
        <Input.Search
          aria-label={t("common.search")}
          placeholder={t("inventory.product.searchHint")}
          defaultValue={f.q}
          allowClear
          onSearch={(q) => update({ q })}
          style={{ width: 280, maxWidth: "100%" }}
        />
        <CategorySelect
          aria-label={t("inventory.product.category")}
          placeholder={t("inventory.product.category")}
          value={f.category}
          onChange={(category) => update({ category: category as string })}
          style={{ width: 220, maxWidth: "100%" }}
        />
        <Select
          aria-label={t("inventory.product.kind")}
          placeholder={t("inventory.product.kind")}
          allowClear
          value={f.kind}
          onChange={(kind) => update({ kind })}
          options={KINDS.map((k) => ({ value: k, label: t(`inventory.kind.${k}`) }))}
          style={{ width: 160 }}
        />
      </Flex>
      <ServerTable<Product>
        caption={t("inventory.tabs.products")}
        queryKey={["inventory", "products"]}
        fetch={listProducts as never}
        filterNames={PRODUCT_FILTERS}
        sortable={false}
        onRow={(row) => ({ onClick: () => navigate(`/inventory/products/${row.id}`), style: { cursor: "pointer" } })}
        columns={[
          {
            title: t("inventory.product.sku"),
            dataIndex: "sku",
            render: (sku: string, row) => <Link to={`/inventory/products/${row.id}`}>{sku}</Link>,
          },
          {
            title: t("common.name"),
            dataIndex: "name",
            render: (name: string, row) => (
              <>
                {name} {row.active ? null : <Tag>{t("inventory.product.inactive")}</Tag>}
              </>
            ),
          },
          { title: t("inventory.product.kind"), dataIndex: "kind", render: (k: string) => t(`inventory.kind.${k}`) },
          { title: t("inventory.product.category"), dataIndex: "category", render: (v: string | null) => v ?? "—" },
          { title: t("inventory.product.model"), dataIndex: "model", render: (v: string | null) => v ?? "—" },
          { title: t("inventory.product.manufacturer"), dataIndex: "manufacturer", render: (v: string | null) => v ?? "—" },
          {
            title: t("common.price"),
            dataIndex: "unit_price",
            align: "right",
            render: (v: string, row) => <Money amount={v} currency={row.currency} />,
          },
          {
            title: t("inventory.product.serialized"),
            dataIndex: "serialized",
            render: (v: boolean) => (v ? <Tag color="blue">{t("common.yes")}</Tag> : t("common.no")),
          },
          {
            title: t("inventory.product.reorderPoint"),
            dataIndex: "reorder_point",
            align: "right",
            render: (v: number | null) => v ?? "—",
          },
        ]}
      />
    </>
  );
}
