import { Flex, Input, Select } from "antd";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { listUnits, UNIT_FILTERS, UNIT_STATUSES, type UnitSummary } from "./api";
import { ContractLink, InvStatus, ProductLink, unitPath } from "./common";
import { ProductSelect, useWarehouseName, WarehouseSelect } from "./pickers";

export default function UnitsPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const warehouseName = useWarehouseName();
  const { list, update } = useListParams(UNIT_FILTERS);
  const f = list.filters;
  const num = (v?: string) => (v ? Number(v) : undefined);
  return (
    <>
      <PageHeader title={t("inventory.tabs.units")} />
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
        <Input.Search
          aria-label={t("inventory.unit.serial")}
          placeholder={t("inventory.unit.searchHint")}
          defaultValue={f.q}
          allowClear
          onSearch={(q) => update({ q })}
          style={{ width: 260, maxWidth: "100%" }}
        />
        <Select
          aria-label={t("common.status")}
          placeholder={t("common.status")}
          allowClear
          value={f.status}
          onChange={(status) => update({ status })}
          options={UNIT_STATUSES.map((s) => ({ value: s, label: t(`inventory.status.${s}`) }))}
          style={{ width: 160 }}
        />
        <ProductSelect
          aria-label={t("inventory.product.one")}
          value={num(f.product_id)}
          onChange={(v) => update({ product_id: v ?? null })}
          style={{ width: 280, maxWidth: "100%" }}
        />
        <WarehouseSelect
          aria-label={t("inventory.warehouse.one")}
          value={num(f.warehouse_id)}
          onChange={(v) => update({ warehouse_id: v ?? null })}
          style={{ width: 220, maxWidth: "100%" }}
        />
      </Flex>
      <ServerTable<UnitSummary>
        caption={t("inventory.tabs.units")}
        queryKey={["inventory", "units"]}
        fetch={listUnits as never}
        filterNames={UNIT_FILTERS}
        sortable={false}
        onRow={(row) => ({ onClick: () => navigate(unitPath(row.serial_number)), style: { cursor: "pointer" } })}
        columns={[
          {
            title: t("inventory.unit.serial"),
            dataIndex: "serial_number",
            render: (s: string) => <Link to={unitPath(s)}>{s}</Link>,
          },
          { title: t("inventory.product.one"), dataIndex: "product_id", render: (p: number) => <ProductLink id={p} /> },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <InvStatus status={s} /> },
          { title: t("inventory.warehouse.one"), dataIndex: "warehouse_id", render: warehouseName },
          { title: t("common.contract"), dataIndex: "contract_id", render: (c) => <ContractLink id={c} /> },
          {
            title: t("inventory.unit.manufacturingNumber"),
            dataIndex: "manufacturing_number",
            render: (v: string | null) => v ?? "—",
          },
        ]}
      />
    </>
  );
}
