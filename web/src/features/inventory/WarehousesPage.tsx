import { PlusOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Col, Form, Input, Row, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable } from "../../shared/components/ServerTable";
import { createWarehouse, listWarehouses, type Warehouse } from "./api";
import { useIdempotencyKey } from "../../shared/api/idempotency";

export default function WarehousesPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const idempotency = useIdempotencyKey();
  const required = { required: true, whitespace: true, message: t("inventory.required") };

  const save = async (values: { code: string; name: string; address?: string }) => {
    setBusy(true);
    setError(null);
    try {
      const created = await createWarehouse({ code: values.code, name: values.name, address: values.address || null }, idempotency.key);
      idempotency.renew();
      await queryClient.invalidateQueries({ queryKey: ["inventory", "warehouses"] });
      message.success(t("inventory.warehouse.created", { code: created.code }));
      form.resetFields();
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title={t("inventory.tabs.warehouses")} />
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={can("warehouses.write") ? 15 : 24}>
          <ServerTable<Warehouse>
            caption={t("inventory.tabs.warehouses")}
            queryKey={["inventory", "warehouses", "page"]}
            fetch={listWarehouses as never}
            sortable={false}
            columns={[
              { title: t("inventory.warehouse.code"), dataIndex: "code" },
              { title: t("common.name"), dataIndex: "name" },
              { title: t("inventory.warehouse.address"), dataIndex: "address", render: (v: string | null) => v ?? "—" },
              {
                title: t("common.status"),
                dataIndex: "active",
                render: (a: boolean) => (a ? <Tag color="green">{t("status.active")}</Tag> : <Tag>{t("inventory.product.inactive")}</Tag>),
              },
              {
                title: t("inventory.tabs.stock"),
                key: "stock",
                render: (_: unknown, row) => <Link to={`/inventory/stock?warehouse_id=${row.id}`}>{t("inventory.warehouse.seeStock")}</Link>,
              },
            ]}
          />
        </Col>
        {can("warehouses.write") ? (
          <Col xs={24} lg={9}>
            <Card title={t("inventory.warehouse.new")}>
              <ErrorAlert error={error} />
              <Form form={form} layout="vertical" onFinish={save}>
                <Form.Item name="code" label={t("inventory.warehouse.code")} rules={[required]} extra={t("inventory.warehouse.codeHelp")}>
                  <Input maxLength={50} />
                </Form.Item>
                <Form.Item name="name" label={t("common.name")} rules={[required]}>
                  <Input maxLength={200} />
                </Form.Item>
                <Form.Item name="address" label={t("inventory.warehouse.address")}>
                  <Input.TextArea rows={2} maxLength={2000} />
                </Form.Item>
                <Button type="primary" htmlType="submit" icon={<PlusOutlined />} loading={busy}>
                  {t("common.create")}
                </Button>
              </Form>
            </Card>
          </Col>
        ) : null}
      </Row>
    </>
  );
}
