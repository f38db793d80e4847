import { useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Col, Form, Input, Row, Select } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Navigate, useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { CONDITIONS, createTradeIn, type TradeInCreate } from "./api";
import { CustomerSelect, ProductSelect } from "./pickers";
import { CURRENCY_RULE, MONEY_RULE } from "./rules";
import { useIdempotencyKey } from "../../shared/api/idempotency";

type Values = Omit<TradeInCreate, "requested_value"> & { requested_value: string };

export default function TradeInCreatePage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const idempotency = useIdempotencyKey();
  const required = { required: true, message: t("inventory.required") };
  if (!can("tradeIns.view")) return <Navigate to="/inventory/trade-ins" replace />;

  const save = async (values: Values) => {
    setBusy(true);
    setError(null);
    const opt = (v: string | null | undefined) => (v && v.trim() ? v.trim() : null);
    try {
      const created = await createTradeIn(
        {
        serial_number: values.serial_number,
        condition: values.condition,
        requested_value: values.requested_value.trim(),
        currency: values.currency,
        customer_id: values.customer_id ?? null,
        product_id: values.product_id ?? null,
        model: opt(values.model),
        manufacturing_number: opt(values.manufacturing_number),
        against_product_id: values.against_product_id ?? null,
          notes: opt(values.notes),
        },
        idempotency.key,
      );
      idempotency.renew();
      await queryClient.invalidateQueries({ queryKey: ["inventory", "trade-ins"] });
      message.success(t("inventory.tradeIn.created"));
      navigate(`/inventory/trade-ins/${created.id}`);
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title={t("inventory.tradeIn.new")} />
      <Card>
        <ErrorAlert error={error} />
        <Form<Values> form={form} layout="vertical" onFinish={save} initialValues={{ condition: "good", currency: "EUR" }}>
          <Row gutter={16}>
            <Col xs={24} md={12}>
              <Form.Item name="customer_id" label={t("common.customer")}>
                <CustomerSelect />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="product_id" label={t("inventory.tradeIn.product")} extra={t("inventory.tradeIn.productHelp")}>
                <ProductSelect />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item name="model" label={t("inventory.product.model")}>
                <Input maxLength={200} />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item name="serial_number" label={t("inventory.unit.serial")} rules={[{ ...required, whitespace: true }]}>
                <Input maxLength={100} spellCheck={false} />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item name="manufacturing_number" label={t("inventory.unit.manufacturingNumber")}>
                <Input maxLength={200} />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item name="condition" label={t("inventory.tradeIn.condition")} rules={[required]}>
                <Select options={CONDITIONS.map((c) => ({ value: c, label: t(`inventory.condition.${c}`) }))} />
              </Form.Item>
            </Col>
            <Col xs={14} md={8}>
              <Form.Item
                name="requested_value"
                label={t("inventory.tradeIn.requested")}
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
            <Col xs={24} md={12}>
              <Form.Item name="against_product_id" label={t("inventory.tradeIn.against")} extra={t("inventory.tradeIn.againstHelp")}>
                <ProductSelect />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="notes" label={t("common.notes")}>
                <Input.TextArea rows={2} maxLength={2000} />
              </Form.Item>
            </Col>
          </Row>
          <Button type="primary" htmlType="submit" loading={busy}>
            {t("common.submit")}
          </Button>{" "}
          <Button onClick={() => navigate(-1)}>{t("common.cancel")}</Button>
        </Form>
      </Card>
    </>
  );
}
