import { PlusOutlined } from "@ant-design/icons";
import { Button, Flex, Select, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { CHANNELS, listPriceLists, PRICE_LIST_FILTERS, type PriceListSummary } from "./api";

export default function PriceListsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const { list, update } = useListParams(PRICE_LIST_FILTERS);
  return (
    <>
      <PageHeader
        title={t("inventory.tabs.price-lists")}
        extra={
          can("priceLists.write") ? (
            <Link to="/inventory/price-lists/new">
              <Button type="primary" icon={<PlusOutlined />}>
                {t("inventory.priceList.new")}
              </Button>
            </Link>
          ) : null
        }
      />
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
        <Select
          aria-label={t("inventory.priceList.channel")}
          placeholder={t("inventory.priceList.channel")}
          allowClear
          value={list.filters.channel}
          onChange={(channel) => update({ channel })}
          options={CHANNELS.map((c) => ({ value: c, label: t(`inventory.channel.${c}`) }))}
          style={{ width: 180 }}
        />
      </Flex>
      <ServerTable<PriceListSummary>
        caption={t("inventory.tabs.price-lists")}
        queryKey={["inventory", "price-lists"]}
        fetch={listPriceLists as never}
        filterNames={PRICE_LIST_FILTERS}
        sortable={false}
        onRow={(row) => ({ onClick: () => navigate(`/inventory/price-lists/${row.id}`), style: { cursor: "pointer" } })}
        columns={[
          {
            title: t("common.name"),
            dataIndex: "name",
            render: (name: string, row) => <Link to={`/inventory/price-lists/${row.id}`}>{name}</Link>,
          },
          { title: t("inventory.priceList.channel"), dataIndex: "channel", render: (c: string) => t(`inventory.channel.${c}`) },
          { title: t("common.currency"), dataIndex: "currency" },
          { title: t("inventory.priceList.tier"), dataIndex: "tier", render: (v: string | null) => v ?? "—" },
          {
            title: t("common.status"),
            dataIndex: "active",
            render: (a: boolean) => (a ? <Tag color="green">{t("status.active")}</Tag> : <Tag>{t("inventory.product.inactive")}</Tag>),
          },
        ]}
      />
    </>
  );
}
