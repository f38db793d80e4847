import { SwapOutlined } from "@ant-design/icons";
import { Button, Flex, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { DateText } from "../../shared/components/values";
import { listMoves, MOVE_FILTERS, type Move } from "./api";
import { ContractLink, Direction, ProductLink, unitPath } from "./common";
import { ContractSelect, ProductSelect, useWarehouseName, WarehouseSelect } from "./pickers";

export default function MovesPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const warehouseName = useWarehouseName();
  const { list, update } = useListParams(MOVE_FILTERS);
  const f = list.filters;
  const num = (v?: string) => (v ? Number(v) : undefined);
  return (
    <>
      <PageHeader
        title={t("inventory.tabs.moves")}
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
        <ContractSelect
          aria-label={t("common.contract")}
          value={f.contract_id ? Number(f.contract_id) : undefined}
          onChange={(v) => update({ contract_id: v ?? null })}
          style={{ width: 260, maxWidth: "100%" }}
        />
      </Flex>
      <ServerTable<Move>
        caption={t("inventory.tabs.moves")}
        queryKey={["inventory", "moves"]}
        fetch={listMoves as never}
        filterNames={MOVE_FILTERS}
        sortable={false}
        columns={[
          { title: t("common.date"), dataIndex: "created_at", render: (v: string) => <DateText value={v} time /> },
          { title: t("inventory.move.direction"), dataIndex: "direction", render: (d: string) => <Direction value={d} /> },
          { title: t("inventory.move.reason"), dataIndex: "reason", render: (r: string) => t(`inventory.reason.${r}`) },
          { title: t("inventory.product.one"), dataIndex: "product_id", render: (p: number) => <ProductLink id={p} /> },
          { title: t("inventory.warehouse.one"), dataIndex: "warehouse_id", render: warehouseName },
          { title: t("common.quantity"), dataIndex: "quantity", align: "right" },
          {
            title: t("inventory.move.serials"),
            dataIndex: "serial_numbers",
            render: (serials: string[]) =>
              serials.length ? (
                <Flex gap={4} wrap style={{ maxWidth: 320 }}>
                  {serials.slice(0, 5).map((s) => (
                    <Tag key={s}>
                      <Link to={unitPath(s)}>{s}</Link>
                    </Tag>
                  ))}
                  {serials.length > 5 ? <Tag>+{serials.length - 5}</Tag> : null}
                </Flex>
              ) : (
                "—"
              ),
          },
          { title: t("common.contract"), dataIndex: "contract_id", render: (c) => <ContractLink id={c} /> },
          { title: t("inventory.move.reference"), dataIndex: "reference", render: (v: string | null) => v ?? "—" },
          { title: t("inventory.move.by"), dataIndex: "created_by", render: (v: string | null) => v ?? "—" },
        ]}
      />
    </>
  );
}
