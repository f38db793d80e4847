import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Checkbox, Col, Form, Input, InputNumber, Row, Select, Skeleton } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router-dom";
import { ApiError } from "../../shared/api/client";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { createProduct, getProduct, KINDS, updateProduct, type Product, type ProductCreate } from "./api";
import { CategorySelect } from "./pickers";
import { CURRENCY_RULE, MONEY_RULE } from "./rules";
import { useIdempotencyKey } from "../../shared/api/idempotency";


const blank = (v: unknown) => (v === undefined || v === "" ? null : v);

/** Create (/inventory/products/new) or edit (/inventory/products/:id/edit) a product. */
export default function ProductFormPage() {
  const { id } = useParams();
  const editing = id !== undefined;
  const product = useQuery({ queryKey: ["inventory", "product", Number(id)], queryFn: () => getProduct(id!), enabled: editing });
  if (editing && product.isLoading) return <Skeleton active />;
  if (editing && !product.data) return <ErrorAlert error={product.error} />;
  return <ProductForm product={product.data} />;
}

function ProductForm({ product }: { product?: Product }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const idempotency = useIdempotencyKey();
  const required = { required: true, message: t("inventory.required") };

  const save = async (values: Record<string, unknown>) => {
    setBusy(true);
    setError(null);
    const common = {
      name: values.name as string,
      kind: values.kind as ProductCreate["kind"],
      unit_price: String(values.unit_price).trim(),
      currency: values.currency as string,
      model: blank(values.model) as string | null,
      manufacturer: blank(values.manufacturer) as string | null,
      category: blank(values.category) as string | null,
      reorder_point: blank(values.reorder_point) as number | null,
    };
    try {
      const saved = product
        ? await updateProduct(product.id, { ...common, active: Boolean(values.active) })
        : await createProduct(
            { ...common, sku: values.sku as string, serialized: Boolean(values.serialized), active: true },
            idempotency.key,
          );
      if (!product) idempotency.renew();
      await queryClient.invalidateQueries({ queryKey: ["inventory"] });
      message.success(t("common.saved"));
      navigate(`/inventory/products/${saved.id}`);
    } catch (e) {
      applyFieldErrors(form, e);
      if (!product && e instanceof ApiError && e.status === 409)
        form.setFields([{ name: "sku", errors: [t("inventory.product.skuTaken")] }]);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title={product ? `${product.sku} · ${product.name}` : t("inventory.product.new")} />
      <Card>
        <ErrorAlert error={error} />
        <Form
          form={form}
          layout="vertical"
          onFinish={save}
          initialValues={
            product ?? { kind: "device", currency: "EUR", serialized: false, active: true }
          }
        >
          <Row gutter={16}>
            <Col xs={24} md={8}>
              <Form.Item name="sku" label={t("inventory.product.sku")} rules={[required]}>
                <Input maxLength={64} disabled={!!product} autoFocus={!product} />
              </Form.Item>
            </Col>
            <Col xs={24} md={16}>
              <Form.Item name="name" label={t("common.name")} rules={[required]}>
                <Input maxLength={300} />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item name="kind" label={t("inventory.product.kind")} rules={[required]}>
                <Select options={KINDS.map((k) => ({ value: k, label: t(`inventory.kind.${k}`) }))} />
              </Form.Item>
            </Col>
            <Col xs={14} md={8}>
              <Form.Item
                name="unit_price"
                label={t("common.price")}
                rules={[required, { ...MONEY_RULE, message: t("inventory.badMoney") }]}
              >
                <Input inputMode="decimal" placeholder="0.00" />
              </Form.Item>
            </Col>
            <Col xs={10} md={8}>
              <Form.Item
                name="currency"
                label={t("common.currency")}
                rules={[required, { ...CURRENCY_RULE, message: t("inventory.badCurrency") }]}
                normalize={(v: string) => v?.toUpperCase()}
              >
                <Input maxLength={3} />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item name="model" label={t("inventory.product.model")}>
                <Input maxLength={200} />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item name="manufacturer" label={t("inventory.product.manufacturer")}>
                <Input maxLength={200} />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item name="category" label={t("inventory.product.category")}>
                <CategorySelect />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item
                name="reorder_point"
                label={t("inventory.product.reorderPoint")}
                extra={t("inventory.product.reorderHelp")}
              >
                <InputNumber min={0} max={1_000_000} precision={0} style={{ width: "100%" }} />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item
                name="serialized"
                valuePropName="checked"
                label={t("inventory.product.serialized")}
                extra={product ? t("inventory.product.serializedFixed") : t("inventory.product.serializedHelp")}
              >
                <Checkbox disabled={!!product}>{t("inventory.product.serializedBox")}</Checkbox>
              </Form.Item>
            </Col>
            {product ? (
              <Col xs={24} md={8}>
                <Form.Item name="active" valuePropName="checked" label={t("inventory.product.active")}>
                  <Checkbox>{t("inventory.product.activeBox")}</Checkbox>
                </Form.Item>
              </Col>
            ) : null}
          </Row>
          <Button type="primary" htmlType="submit" loading={busy}>
            {product ? t("common.save") : t("common.create")}
          </Button>{" "}
          <Button onClick={() => navigate(-1)}>{t("common.cancel")}</Button>
        </Form>
      </Card>
    </>
  );
}
