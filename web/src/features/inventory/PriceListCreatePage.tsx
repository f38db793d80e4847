import { useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Col, Form, Input, Row, Select } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { CHANNELS, createPriceList, type PriceListCreate } from "./api";
import { priceItems, PriceItemsEditor, type PriceRow } from "./PriceItemsEditor";
import { CURRENCY_RULE } from "./rules";
import { useIdempotencyKey } from "../../shared/api/idempotency";

export default function PriceListCreatePage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const idempotency = useIdempotencyKey();
  const required = { required: true, message: t("inventory.required") };

  const save = async (values: { name: string; channel: PriceListCreate["channel"]; currency: string; tier?: string; items?: PriceRow[] }) => {
    setBusy(true);
    setError(null);
    try {
      const created = await createPriceList({
        name: values.name,
        channel: values.channel,
        currency: values.currency,
        tier: values.tier || null,
        items: priceItems(values.items),
      }, idempotency.key);
      idempotency.renew();
      await queryClient.invalidateQueries({ queryKey: ["inventory", "price-lists"] });
      message.success(t("common.saved"));
      navigate(`/inventory/price-lists/${created.id}`);
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title={t("inventory.priceList.new")} />
      <Card>
        <ErrorAlert error={error} />
        <Form form={form} layout="vertical" onFinish={save} initialValues={{ channel: "customer", currency: "EUR", items: [] }}>
          <Row gutter={16}>
            <Col xs={24} md={10}>
              <Form.Item name="name" label={t("common.name")} rules={[required]}>
                <Input maxLength={200} autoFocus />
              </Form.Item>
            </Col>
            <Col xs={14} md={6}>
              <Form.Item name="channel" label={t("inventory.priceList.channel")} rules={[required]}>
                <Select options={CHANNELS.map((c) => ({ value: c, label: t(`inventory.channel.${c}`) }))} />
              </Form.Item>
            </Col>
            <Col xs={10} md={4}>
              <Form.Item
                name="currency"
                label={t("common.currency")}
                rules={[required, { ...CURRENCY_RULE, message: t("inventory.badCurrency") }]}
                normalize={(v: string) => v?.toUpperCase()}
              >
                <Input maxLength={3} />
              </Form.Item>
            </Col>
            <Col xs={24} md={4}>
              <Form.Item name="tier" label={t("inventory.priceList.tier")}>
                <Input maxLength={200} />
              </Form.Item>
            </Col>
          </Row>
          <PriceItemsEditor />
          <div>
            <Button type="primary" htmlType="submit" loading={busy}>
              {t("common.create")}
            </Button>{" "}
            <Button onClick={() => navigate(-1)}>{t("common.cancel")}</Button>
          </div>
        </Form>
      </Card>
    </>
  );
}
