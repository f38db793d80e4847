import { PercentageOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Collapse, Descriptions, Form, Skeleton, Table, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { DateText, Money } from "../../shared/components/values";
import { bulkUpdatePriceList, getPriceList, setPrices, type PriceListDetail } from "./api";
import { BulkUpdateDialog } from "./BulkUpdateDialog";
import { ProductLink } from "./common";
import { priceItems, PriceItemsEditor, type PriceRow } from "./PriceItemsEditor";

type Price = PriceListDetail["items"][number];

export default function PriceListPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm();
  const [bulkOpen, setBulkOpen] = useState(false);
  const priceList = useQuery({ queryKey: ["inventory", "price-lists", id], queryFn: () => getPriceList(id) });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["inventory", "price-lists"] });
  const save = useMutation({
    mutationFn: (values: { items?: PriceRow[] }) => setPrices(id, priceItems(values.items)),
    onSuccess: async () => {
      await refresh();
      form.resetFields();
      message.success(t("common.saved"));
    },
    onError: (e) => applyFieldErrors(form, e),
  });
  if (priceList.isLoading) return <Skeleton active />;
  if (!priceList.data) return <ErrorAlert error={priceList.error} />;
  const pl = priceList.data;
  const priceColumns = [
    { title: t("inventory.product.one"), dataIndex: "product_id", render: (p: number) => <ProductLink id={p} /> },
    {
      title: t("common.price"),
      dataIndex: "unit_price",
      align: "right" as const,
      render: (v: string) => <Money amount={v} currency={pl.currency} />,
    },
    { title: t("inventory.priceList.validFrom"), dataIndex: "valid_from", render: (v: string) => <DateText value={v} /> },
    {
      title: t("inventory.priceList.validTo"),
      dataIndex: "valid_to",
      render: (v: string | null) => (v ? <DateText value={v} /> : "—"),
    },
  ];

  return (
    <>
      <PageHeader
        title={pl.name}
        subtitle={`${t(`inventory.channel.${pl.channel}`)} · ${pl.currency}`}
        extra={
          can("priceLists.write") && pl.items.length ? (
            <Button icon={<PercentageOutlined />} onClick={() => setBulkOpen(true)}>
              {t("inventory.bulk.open")}
            </Button>
          ) : null
        }
      />
      <Card style={{ marginBottom: 16 }}>
        <Descriptions column={{ xs: 1, sm: 2, lg: 4 }} size="small">
          <Descriptions.Item label={t("inventory.priceList.channel")}>{t(`inventory.channel.${pl.channel}`)}</Descriptions.Item>
          <Descriptions.Item label={t("common.currency")}>{pl.currency}</Descriptions.Item>
          <Descriptions.Item label={t("inventory.priceList.tier")}>{pl.tier ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("common.status")}>
            {pl.active ? <Tag color="green">{t("status.active")}</Tag> : <Tag>{t("inventory.product.inactive")}</Tag>}
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title={t("inventory.priceList.current")} style={{ marginBottom: 16 }}>
        <Table<Price>
          size="small"
          rowKey="id"
          dataSource={pl.items}
          columns={priceColumns}
          pagination={{ pageSize: 50, hideOnSinglePage: true }}
          scroll={{ x: "max-content" }}
          locale={{ emptyText: t("inventory.priceList.noItems") }}
        />
        {pl.history.length > pl.items.length ? (
          <Collapse
            ghost
            items={[
              {
                key: "history",
                label: t("inventory.priceList.history"),
                children: (
                  <Table<Price>
                    size="small"
                    rowKey="id"
                    dataSource={pl.history}
                    columns={priceColumns}
                    pagination={{ pageSize: 20, hideOnSinglePage: true }}
                    scroll={{ x: "max-content" }}
                  />
                ),
              },
            ]}
          />
        ) : null}
      </Card>
      {can("priceLists.write") ? (
        <Card title={t("inventory.priceList.setPrices")}>
          <ErrorAlert error={save.error} />
          <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)} initialValues={{ items: [{}] }}>
            <PriceItemsEditor withDates minRows={1} />
            <div>
              <Button type="primary" htmlType="submit" loading={save.isPending}>
                {t("common.save")}
              </Button>
            </div>
          </Form>
        </Card>
      ) : null}
      {can("priceLists.write") ? (
        <BulkUpdateDialog
          list={pl}
          open={bulkOpen}
          onClose={() => setBulkOpen(false)}
          onSend={async (body) => {
            const result = await bulkUpdatePriceList(pl.id, body);
            await refresh();
            message.success(t("inventory.bulk.done", { count: result.updated }));
            return result;
          }}
        />
      ) : null}
    </>
  );
}
