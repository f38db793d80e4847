import { PlusOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Col, Empty, Form, Input, Row, Skeleton, Tree } from "antd";
import type { DataNode } from "antd/es/tree";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { createCategory, type Category } from "./api";
import { CategorySelect, useCategories } from "./pickers";
import { useIdempotencyKey } from "../../shared/api/idempotency";

/** The category tree built from each category's parent. */
export function categoryTree(categories: readonly Category[]): DataNode[] {
  const byParent = new Map<number | null, Category[]>();
  for (const c of categories) {
    const key = c.parent_id ?? null;
    byParent.set(key, [...(byParent.get(key) ?? []), c]);
  }
  const build = (parent: number | null): DataNode[] =>
    (byParent.get(parent) ?? [])
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((c) => ({
        key: c.id,
        title: <Link to={`/inventory/products?category=${encodeURIComponent(c.path)}`}>{c.name}</Link>,
        children: build(c.id),
      }));
  return build(null);
}

export default function CategoriesPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const categories = useCategories();
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const idempotency = useIdempotencyKey();

  const save = async (values: { name: string; parent_id?: number }) => {
    setBusy(true);
    setError(null);
    try {
      const created = await createCategory({ name: values.name, parent_id: values.parent_id ?? null }, idempotency.key);
      idempotency.renew();
      await queryClient.invalidateQueries({ queryKey: ["inventory", "categories"] });
      message.success(t("inventory.category.created", { path: created.path }));
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
      <PageHeader title={t("inventory.tabs.categories")} />
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={can("catalogue.write") ? 14 : 24}>
          <Card title={t("inventory.category.tree")}>
            <ErrorAlert error={categories.error} />
            {categories.isLoading ? (
              <Skeleton active />
            ) : categories.data?.length ? (
              <Tree treeData={categoryTree(categories.data)} defaultExpandAll selectable={false} showLine />
            ) : (
              <Empty description={t("inventory.category.none")} />
            )}
          </Card>
        </Col>
        {can("catalogue.write") ? (
          <Col xs={24} lg={10}>
            <Card title={t("inventory.category.new")}>
              <ErrorAlert error={error} />
              <Form form={form} layout="vertical" onFinish={save}>
                <Form.Item
                  name="name"
                  label={t("common.name")}
                  rules={[{ required: true, whitespace: true, message: t("inventory.required") }]}
                >
                  <Input maxLength={200} />
                </Form.Item>
                <Form.Item name="parent_id" label={t("inventory.category.parent")} extra={t("inventory.category.parentHelp")}>
                  <CategorySelect byId />
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
