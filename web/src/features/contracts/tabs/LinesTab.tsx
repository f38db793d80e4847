import { Table } from "antd";
import { useTranslation } from "react-i18next";
import { DateText, Money } from "../../../shared/components/values";
import type { ContractDetail, ContractLine } from "../api";

export function LinesTable({ lines, currency, total }: { lines: ContractLine[]; currency: string; total?: string }) {
  const { t } = useTranslation();
  return (
    <Table<ContractLine>
      size="small"
      rowKey="id"
      pagination={false}
      scroll={{ x: "max-content" }}
      dataSource={lines}
      locale={{ emptyText: t("contracts.noLines") }}
      columns={[
        { title: "#", dataIndex: "position" },
        { title: "SKU", dataIndex: "sku" },
        { title: t("contracts.product"), dataIndex: "product_name" },
        { title: t("contracts.serialNumber"), dataIndex: "serial_number", render: (v: string | null) => v ?? "—" },
        { title: t("common.quantity"), dataIndex: "quantity", align: "right" },
        { title: t("common.price"), dataIndex: "unit_price", align: "right", render: (v: string) => <Money amount={v} currency={currency} /> },
        { title: t("contracts.discount"), dataIndex: "discount_percent", align: "right", render: (v: string) => `${v} %` },
        { title: t("common.amount"), dataIndex: "amount", align: "right", render: (v: string) => <Money amount={v} currency={currency} /> },
        { title: t("contracts.start"), dataIndex: "start_date", render: (v: string | null) => <DateText value={v} /> },
        { title: t("contracts.end"), dataIndex: "end_date", render: (v: string | null) => <DateText value={v} /> },
      ]}
      summary={() =>
        lines.length && total ? (
          <Table.Summary.Row>
            <Table.Summary.Cell index={0} colSpan={7}>
              <strong>{t("contracts.periodTotal")}</strong>
            </Table.Summary.Cell>
            <Table.Summary.Cell index={7} align="right">
              <strong>
                <Money amount={total} currency={currency} />
              </strong>
            </Table.Summary.Cell>
            <Table.Summary.Cell index={8} colSpan={2} />
          </Table.Summary.Row>
        ) : null
      }
    />
  );
}

export function LinesTab({ contract }: { contract: ContractDetail }) {
  return <LinesTable lines={contract.lines} currency={contract.currency} total={contract.total} />;
}
