import { useQuery } from "@tanstack/react-query";
import { Card, Descriptions, Skeleton, Timeline, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router-dom";
import { ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { DateText } from "../../shared/components/values";
import { getUnit } from "./api";
import { ContractLink, InvStatus } from "./common";
import { useWarehouseName } from "./pickers";

/** A serial unit: where it is now (warehouse or contract) and everything that happened to it. */
export default function UnitPage() {
  const { serial = "" } = useParams();
  const { t } = useTranslation();
  const warehouseName = useWarehouseName();
  const unit = useQuery({ queryKey: ["inventory", "unit", serial], queryFn: () => getUnit(serial), retry: false });
  if (unit.isLoading) return <Skeleton active />;
  if (!unit.data) return <ErrorAlert error={unit.error} />;
  const u = unit.data;
  const where = u.warehouse ? (
    <Link to={`/inventory/stock?warehouse_id=${u.warehouse.id}`}>
      {u.warehouse.code} · {u.warehouse.name}
    </Link>
  ) : u.contract_id !== null ? (
    <>
      {t("inventory.unit.atContract")} <ContractLink id={u.contract_id} />
    </>
  ) : (
    "—"
  );
  return (
    <>
      <PageHeader title={u.serial_number} subtitle={`${u.product.sku} · ${u.product.name}`} extra={<InvStatus status={u.status} />} />
      <Card style={{ marginBottom: 16 }}>
        <Descriptions column={{ xs: 1, sm: 2, lg: 3 }} bordered size="small">
          <Descriptions.Item label={t("inventory.product.one")}>
            <Link to={`/inventory/products/${u.product.id}`}>
              {u.product.sku} · {u.product.name}
            </Link>
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.product.model")}>{u.product.model ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("common.status")}>
            <InvStatus status={u.status} />
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.unit.where")}>{where}</Descriptions.Item>
          <Descriptions.Item label={t("common.contract")}>
            <ContractLink id={u.contract_id} />
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.unit.manufacturingNumber")}>{u.manufacturing_number ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("inventory.unit.since")}>
            <DateText value={u.created_at} time />
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title={t("inventory.unit.history")}>
        <Timeline
          items={[...u.history].reverse().map((h, i) => ({
            key: i,
            content: (
              <>
                <Typography.Text strong>{t(`inventory.event.${h.event}`, { defaultValue: h.event.replace(/_/g, " ") })}</Typography.Text>{" "}
                <InvStatus status={h.status} />
                <div>
                  <Typography.Text type="secondary">
                    <DateText value={h.at} time />
                    {h.actor ? ` · ${h.actor}` : ""}
                  </Typography.Text>
                </div>
                {h.warehouse_id !== null ? (
                  <div>
                    {t("inventory.warehouse.one")}: {warehouseName(h.warehouse_id)}
                  </div>
                ) : null}
                {h.contract_id !== null ? (
                  <div>
                    {t("common.contract")}: <ContractLink id={h.contract_id} />
                  </div>
                ) : null}
                {h.note ? <div style={{ whiteSpace: "pre-wrap" }}>{h.note}</div> : null}
              </>
            ),
          }))}
        />
      </Card>
    </>
  );
}
