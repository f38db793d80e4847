import { PlusOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { App, Button, Flex, Form, Input, InputNumber, Modal, Select, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { DateText } from "../../shared/components/values";
import { createPurchaseOrder, listPurchaseOrders, PO_FILTERS, type PurchaseOrder } from "./api";
import { InvStatus } from "./common";
import { ProductSelect, useWarehouseName, WarehouseSelect } from "./pickers";
import { useIdempotencyKey } from "../../shared/api/idempotency";

export default function PurchaseOrdersPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const warehouseName = useWarehouseName();
  const { list, update } = useListParams(PO_FILTERS);
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const idempotency = useIdempotencyKey(open);
  const required = { required: true, message: t("inventory.required") };

  const save = async (values: { product_id: number; quantity: number; warehouse_id?: number; partner?: string }) => {
    setBusy(true);
    setError(null);
    try {
      const po = await createPurchaseOrder({
        product_id: values.product_id,
        quantity: values.quantity,
        warehouse_id: values.warehouse_id ?? null,
        partner: values.partner?.trim() || null,
      }, idempotency.key);
      idempotency.renew();
      await queryClient.invalidateQueries({ queryKey: ["inventory", "purchase-orders"] });
      message.success(t("inventory.po.created", { number: po.number }));
      navigate(`/inventory/purchase-orders/${po.id}`);
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader
        title={t("inventory.tabs.purchase-orders")}
        extra={
          can("stock.move") ? (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)}>
              {t("inventory.po.new")}
            </Button>
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
          options={["open", "received", "cancelled"].map((s) => ({ value: s, label: t(`inventory.status.${s}`) }))}
          style={{ width: 160 }}
        />
        <ProductSelect
          aria-label={t("inventory.product.one")}
          value={list.filters.product_id ? Number(list.filters.product_id) : undefined}
          onChange={(v) => update({ product_id: v ?? null })}
          style={{ width: 280, maxWidth: "100%" }}
        />
      </Flex>
      <ServerTable<PurchaseOrder>
        caption={t("inventory.tabs.purchase-orders")}
        queryKey={["inventory", "purchase-orders"]}
        fetch={listPurchaseOrders as never}
        filterNames={PO_FILTERS}
        sortable={false}
        onRow={(row) => ({ onClick: () => navigate(`/inventory/purchase-orders/${row.id}`), style: { cursor: "pointer" } })}
        columns={[
          {
            title: t("common.number"),
            dataIndex: "number",
            render: (n: string, row) => <Link to={`/inventory/purchase-orders/${row.id}`}>{n}</Link>,
          },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <InvStatus status={s} /> },
          {
            title: t("inventory.product.one"),
            dataIndex: "sku",
            render: (sku: string, row) => `${sku} · ${row.product_name}`,
          },
          { title: t("common.quantity"), dataIndex: "quantity", align: "right" },
          { title: t("inventory.po.partner"), dataIndex: "partner", render: (v: string | null) => v ?? "—" },
          { title: t("inventory.warehouse.one"), dataIndex: "warehouse_id", render: warehouseName },
          {
            title: t("inventory.po.trigger"),
            dataIndex: "trigger",
            render: (v: string) => <Tag>{t(`inventory.po.triggers.${v}`)}</Tag>,
          },
          { title: t("common.createdAt"), dataIndex: "created_at", render: (v: string) => <DateText value={v} /> },
        ]}
      />
      <Modal
        open={open}
        title={t("inventory.po.new")}
        okText={t("common.create")}
        cancelText={t("common.cancel")}
        okButtonProps={{ loading: busy }}
        onOk={() => form.submit()}
        onCancel={() => {
          setOpen(false);
          setError(null);
        }}
        destroyOnHidden
      >
        <ErrorAlert error={error} />
        <Form form={form} layout="vertical" onFinish={save} initialValues={{ quantity: 1 }} preserve={false}>
          <Form.Item name="product_id" label={t("inventory.product.one")} rules={[required]}>
            <ProductSelect />
          </Form.Item>
          <Form.Item name="quantity" label={t("common.quantity")} rules={[required]}>
            <InputNumber min={1} max={1_000_000} precision={0} style={{ width: "100%" }} />
          </Form.Item>
          <Form.Item name="warehouse_id" label={t("inventory.po.deliverTo")}>
            <WarehouseSelect />
          </Form.Item>
          <Form.Item name="partner" label={t("inventory.po.partner")}>
            <Input maxLength={200} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
