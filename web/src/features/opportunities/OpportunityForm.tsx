import { Button, Col, DatePicker, Flex, Form, Input, InputNumber, Row, Select } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { CURRENCIES, STAGES, type Opportunity, type OpportunityCreate } from "./api";
import { CustomerSelect } from "../../shared/components/CustomerSelect";

interface Values {
  customer_id?: number;
  title: string;
  amount: string;
  currency: string;
  stage: string;
  expected_close?: Dayjs | null;
  probability?: number | null;
  needs?: string;
  competitors?: string[];
  notes?: string;
  lost_reason?: string;
}

function competitorsOf(value: Opportunity["competitors"]): string[] {
  if (!value) return [];
  return Array.isArray(value) ? value : value.split(/[,;\n]/).map((s) => s.trim()).filter(Boolean);
}

/** What the form holds as the API's body (empty optional fields left out, or cleared on edit). */
export function opportunityBody(values: Values, creating: boolean): OpportunityCreate {
  const text = (v: string | undefined) => (v && v.trim() ? v.trim() : creating ? undefined : null);
  const body: Record<string, unknown> = {
    title: values.title.trim(),
    amount: values.amount.trim(),
    currency: values.currency,
    stage: values.stage,
    expected_close: values.expected_close ? values.expected_close.format("YYYY-MM-DD") : creating ? undefined : null,
    probability: values.probability ?? (creating ? undefined : null),
    needs: text(values.needs),
    competitors: values.competitors?.length ? values.competitors : creating ? undefined : null,
    notes: text(values.notes),
    lost_reason: values.stage === "lost" ? text(values.lost_reason) : undefined,
  };
  if (creating) body.customer_id = values.customer_id;
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as OpportunityCreate;
}

interface Props {
  initial?: Opportunity;
  /** Sends the body; rejects with the API's error (422 details go next to their fields). */
  onSubmit: (body: OpportunityCreate) => Promise<unknown>;
  onCancel?: () => void;
}

/** Create (no `initial`: with the customer) or edit an opportunity. */
export function OpportunityForm({ initial, onSubmit, onCancel }: Props) {
  const { t } = useTranslation();
  const [form] = Form.useForm<Values>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const creating = !initial;
  const stage = Form.useWatch("stage", form);
  const initialValues: Partial<Values> = initial
    ? {
        title: initial.title,
        amount: initial.amount,
        currency: initial.currency,
        stage: initial.stage,
        expected_close: initial.expected_close ? dayjs(initial.expected_close) : null,
        probability: initial.probability,
        needs: initial.needs ?? undefined,
        competitors: competitorsOf(initial.competitors),
        notes: initial.notes ?? undefined,
        lost_reason: initial.lost_reason ?? undefined,
      }
    : { currency: "EUR", stage: "lead" };
  const finish = async (values: Values) => {
    setBusy(true);
    setError(null);
    try {
      await onSubmit(opportunityBody(values, creating));
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const required = [{ required: true, message: t("opportunities.required") }];
  return (
    <Form<Values> form={form} layout="vertical" initialValues={initialValues} onFinish={(v) => void finish(v)}>
      <ErrorAlert error={error} />
      <Row gutter={16}>
        {creating ? (
          <Col xs={24} md={12}>
            <Form.Item name="customer_id" label={t("common.customer")} rules={required}>
              <CustomerSelect aria-label={t("common.customer")} placeholder={t("opportunities.customerPick")} />
            </Form.Item>
          </Col>
        ) : null}
        <Col xs={24} md={12}>
          <Form.Item name="title" label={t("opportunities.title")} rules={[...required, { max: 200 }]}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={14} md={6}>
          <Form.Item
            name="amount"
            label={t("common.amount")}
            rules={[...required, { pattern: /^\d+(\.\d{1,2})?$/, message: t("opportunities.amountFormat") }]}
          >
            <Input inputMode="decimal" placeholder="12500.00" />
          </Form.Item>
        </Col>
        <Col xs={10} md={4}>
          <Form.Item name="currency" label={t("common.currency")} rules={required}>
            <Select showSearch options={CURRENCIES.map((c) => ({ value: c, label: c }))} />
          </Form.Item>
        </Col>
        <Col xs={24} md={6}>
          <Form.Item name="stage" label={t("opportunities.stage")} rules={required}>
            <Select options={STAGES.map((s) => ({ value: s, label: t(`status.${s}`) }))} />
          </Form.Item>
        </Col>
        <Col xs={12} md={4}>
          <Form.Item name="expected_close" label={t("opportunities.expectedClose")}>
            <DatePicker style={{ width: "100%" }} />
          </Form.Item>
        </Col>
        <Col xs={12} md={4}>
          <Form.Item name="probability" label={t("opportunities.probability")}>
            <InputNumber min={0} max={100} suffix="%" style={{ width: "100%" }} />
          </Form.Item>
        </Col>
        <Col xs={24} md={12}>
          <Form.Item name="needs" label={t("opportunities.needs")}>
            <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} />
          </Form.Item>
        </Col>
        <Col xs={24} md={12}>
          <Form.Item name="competitors" label={t("opportunities.competitors")} extra={t("opportunities.competitorsHint")}>
            <Select mode="tags" open={false} suffixIcon={null} tokenSeparators={[","]} />
          </Form.Item>
        </Col>
        <Col xs={24} md={12}>
          <Form.Item name="notes" label={t("common.notes")}>
            <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} />
          </Form.Item>
        </Col>
        {stage === "lost" ? (
          <Col xs={24} md={12}>
            <Form.Item name="lost_reason" label={t("opportunities.lostReason")}>
              <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} />
            </Form.Item>
          </Col>
        ) : null}
      </Row>
      <Flex gap={8}>
        <Button type="primary" htmlType="submit" loading={busy}>
          {creating ? t("common.create") : t("common.save")}
        </Button>
        {onCancel ? <Button onClick={onCancel}>{t("common.cancel")}</Button> : null}
      </Flex>
    </Form>
  );
}
