import { EditOutlined, SwapOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Button, Card, Descriptions, Skeleton, Table, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { DateText, Money } from "../../shared/components/values";
import { getProduct, productStock, productUnits, type StockLevel, type UnitSummary } from "./api";
import { ContractLink, InvStatus, unitPath } from "./common";
import { useWarehouseName } from "./pickers";

export default function ProductPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const { can } = useAuth();
  const warehouseName = useWarehouseName();
  const product = useQuery({ queryKey: ["inventory", "product", Number(id)], queryFn: () => getProduct(id) });
  const stock = useQuery({ queryKey: ["inventory", "stock", "product", id], queryFn: () => productStock(Number(id)) });
  const units = useQuery({
    queryKey: ["inventory", "units", "product", id],
    queryFn: () => productUnits(Number(id)),
    enabled: !!product.data?.serialized,
  });
  if (product.isLoading) return <Skeleton active />;
  if (!product.data) return <ErrorAlert error={product.error} />;
  const p = product.data;
  const dash = (v: string | number | null | undefined) => (v === null || v === undefined || v === "" ? "—" : v);

  return (
    <>
      <PageHeader
        title={`${p.sku} · ${p.name}`}
        subtitle={`${t(`inventory.kind.${p.kind}`)}${p.category ? ` · ${p.category}` : ""}`}
        extra={
          <>
            {can("stock.move") ? (
              <Link to={`/inventory/moves/new?product_id=${p.id}`}>
                <Button icon={<SwapOutlined />}>{t("inventory.move.new")}</Button>
              </Link>
            ) : null}
            {can("catalogue.write") ? (
              <Link to={`/inventory/products/${p.id}/edit`}>
                <Button icon={<EditOutlined />}>{t("common.edit")}</Button>
              </Link>
            ) : null}
          </>
        }
      />
      <Card style={{ marginBottom: 16 }}>
        <Descriptions column={{ xs: 1, sm: 2, lg: 3 }} bordered size="small">
          <Descriptions.Item label={t("inventory.product.sku")}>{p.sku}</Descriptions.Item>
          <Descriptions.Item label={t("common.price")}>
            <Money amount={p.unit_price} currency={p.currency} />
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.product.kind")}>{t(`inventory.kind.${p.kind}`)}</Descriptions.Item>
          <Descriptions.Item label={t("inventory.product.model")}>{dash(p.model)}</Descriptions.Item>
          <Descriptions.Item label={t("inventory.product.manufacturer")}>{dash(p.manufacturer)}</Descriptions.Item>
          <Descriptions.Item label={t("inventory.product.category")}>{dash(p.category)}</Descriptions.Item>
          <Descriptions.Item label={t("inventory.product.serialized")}>
            {p.serialized ? t("common.yes") : t("common.no")}
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.product.reorderPoint")}>{dash(p.reorder_point)}</Descriptions.Item>
          <Descriptions.Item label={t("inventory.product.active")}>
            {p.active ? t("common.yes") : <Tag>{t("inventory.product.inactive")}</Tag>}
          </Descriptions.Item>
          <Descriptions.Item label={t("common.updatedAt")}>
            <DateText value={p.updated_at} time />
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title={t("inventory.product.stockTitle")} style={{ marginBottom: 16 }}>
        <ErrorAlert error={stock.error} />
        <Table<StockLevel>
          size="small"
          rowKey="warehouse_id"
          loading={stock.isLoading}
          dataSource={stock.data?.items ?? []}
          pagination={false}
          scroll={{ x: "max-content" }}
          locale={{ emptyText: t("inventory.product.noStock") }}
          columns={[
            {
              title: t("inventory.warehouse.one"),
              dataIndex: "warehouse_id",
              render: (w: number) => <Link to={`/inventory/stock?warehouse_id=${w}`}>{warehouseName(w)}</Link>,
            },
            { title: t("inventory.stock.onHand"), dataIndex: "on_hand", align: "right" },
            { title: t("inventory.stock.reserved"), dataIndex: "reserved", align: "right" },
            { title: t("inventory.stock.available"), dataIndex: "available", align: "right" },
          ]}
        />
      </Card>
      {p.serialized ? (
        <Card title={t("inventory.product.unitsTitle")}>
          <ErrorAlert error={units.error} />
          <Table<UnitSummary>
            size="small"
            rowKey="id"
            loading={units.isLoading}
            dataSource={units.data?.items ?? []}
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            scroll={{ x: "max-content" }}
            locale={{ emptyText: t("inventory.product.noUnits") }}
            columns={[
              {
                title: t("inventory.unit.serial"),
                dataIndex: "serial_number",
                render: (s: string) => <Link to={unitPath(s)}>{s}</Link>,
              },
              { title: t("common.status"), dataIndex: "status", render: (s: string) => <InvStatus status={s} /> },
              { title: t("inventory.warehouse.one"), dataIndex: "warehouse_id", render: warehouseName },
              { title: t("common.contract"), dataIndex: "contract_id", render: (c) => <ContractLink id={c} /> },
            ]}
          />
        </Card>
      ) : null}
    </>
  );
}
