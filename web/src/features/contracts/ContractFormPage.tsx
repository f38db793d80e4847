// The create wizard (/contracts/new, also ?customer_id=N) and the edit form of a draft
// (/contracts/:id/edit): customer, template and its fields, the terms; the lines; billing and
// renewal; a review with the totals per currency. One form across the steps; a 422 opens the step
// of the first field it names and shows every reason next to its field.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Col, DatePicker, Descriptions, Flex, Form, Input, InputNumber, Row, Select, Skeleton, Steps, Switch } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams, useSearchParams } from "react-router-dom";
import { ApiError } from "../../shared/api/client";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { useIsMobile } from "../../shared/components/useIsMobile";
import {
  CONTRACT_KINDS,
  createContract,
  CURRENCIES,
  FREQUENCIES,
  getContract,
  listTemplates,
  submitContract,
  updateContract,
  type ContractDetail,
  type Product,
} from "./api";
import { contractBody, iso } from "./body";
import { LinesEditor, LineTotals, type LineValues } from "./LinesEditor";
import { CustomerSelect } from "./pickers";
import { TemplateFields } from "./TemplateFields";
import { useIdempotencyKey } from "../../shared/api/idempotency";

const STEP_FIELDS: string[][] = [
  ["customer_id", "template_id", "field_values", "title", "kind", "currency", "start_date", "end_date", "signer", "signer_title"],
  ["lines"],
  ["billing", "auto_renew", "renewal_uplift_percent", "notice_days"],
];

function stepOf(field: string): number {
  const head = field.split(".")[0];
  const found = STEP_FIELDS.findIndex((names) => names.includes(head));
  return found < 0 ? 0 : found;
}

function initialFrom(c: ContractDetail): Record<string, unknown> {
  const fieldValues: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.field_values ?? {})) {
    fieldValues[k] = typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v) ? dayjs(v) : v;
  }
  return {
    customer_id: c.customer_id,
    template_id: c.template_id ?? undefined,
    field_values: fieldValues,
    title: c.title,
    kind: c.kind,
    currency: c.currency,
    start_date: dayjs(c.start_date),
    end_date: dayjs(c.end_date),
    signer: c.signer ?? undefined,
    signer_title: c.signer_title ?? undefined,
    billing: { frequency: c.billing.frequency, in_advance: c.billing.in_advance, payment_terms_days: c.billing.payment_terms_days },
    auto_renew: c.auto_renew,
    renewal_uplift_percent: c.renewal_uplift_percent,
    notice_days: c.notice_days,
    lines: c.lines.map((l) => ({
      product_id: l.product_id,
      quantity: l.quantity,
      unit_price: l.unit_price,
      discount_percent: l.discount_percent,
      serial_number: l.serial_number ?? undefined,
      start_date: l.start_date ? dayjs(l.start_date) : undefined,
      end_date: l.end_date ? dayjs(l.end_date) : undefined,
      price_currency: c.currency,
    })),
  };
}

function productsOf(c: ContractDetail): Map<number, Product> {
  const map = new Map<number, Product>();
  for (const l of c.lines) {
    map.set(l.product_id, {
      id: l.product_id,
      sku: l.sku ?? "",
      name: l.product_name,
      kind: l.product_kind ?? "device",
      unit_price: l.unit_price,
      currency: c.currency,
      serialized: Boolean(l.serial_number),
    } as Product);
  }
  return map;
}

export default function ContractFormPage() {
  const { id } = useParams();
  const existing = useQuery({ queryKey: ["contract", id], queryFn: () => getContract(id as string), enabled: Boolean(id) });
  if (id && !existing.data) {
    return existing.error ? <ErrorAlert error={existing.error} /> : <Skeleton active />;
  }
  return <ContractWizard contract={existing.data} key={id ?? "new"} />;
}

export function ContractWizard({ contract }: { contract?: ContractDetail }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const isMobile = useIsMobile();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [params] = useSearchParams();
  const [form] = Form.useForm();
  const [step, setStep] = useState(0);
  const [busy, setBusy] = useState(false);
  const idempotency = useIdempotencyKey();
  const [error, setError] = useState<unknown>(null);
  const [tier, setTier] = useState<string | null>(null);
  const [products, setProducts] = useState<Map<number, Product>>(() => (contract ? productsOf(contract) : new Map()));
  const remember = (p: Product) => setProducts((m) => new Map(m).set(p.id, p));
  const templates = useQuery({ queryKey: ["contract-templates", "active"], queryFn: listTemplates });
  const templateId = Form.useWatch("template_id", form) as number | undefined;
  const currency = (Form.useWatch("currency", form) as string | undefined) ?? contract?.currency ?? "EUR";
  const lines = (Form.useWatch("lines", form) ?? []) as LineValues[];
  const template = templates.data?.items.find((x) => x.id === templateId);
  const customerFromUrl = Number(params.get("customer_id")) || undefined;

  const initialValues = useMemo(
    () =>
      contract
        ? initialFrom(contract)
        : {
            customer_id: customerFromUrl,
            kind: "service",
            currency: "EUR",
            start_date: dayjs().add(1, "day"),
            end_date: dayjs().add(1, "day").add(1, "year").subtract(1, "day"),
            billing: { frequency: "monthly", in_advance: true, payment_terms_days: 30 },
            auto_renew: false,
            renewal_uplift_percent: "0",
            lines: [{ quantity: "1", discount_percent: "0" }],
          },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );

  const next = async () => {
    try {
      await form.validateFields(STEP_FIELDS[step], { recursive: true });
      setStep(step + 1);
    } catch {
      // the fields show their reasons
    }
  };

  const save = async (andSubmit: boolean) => {
    try {
      await form.validateFields(undefined, { recursive: true });
    } catch (e) {
      const first = (e as { errorFields?: Array<{ name: (string | number)[] }> }).errorFields?.[0];
      if (first) setStep(stepOf(String(first.name[0])));
      return;
    }
    const values = form.getFieldsValue(true) as Record<string, unknown>;
    setBusy(true);
    setError(null);
    try {
      const body = contractBody(values);
      const saved = contract ? await updateContract(contract.id, body) : await createContract(body, idempotency.key);
      if (!contract) idempotency.renew();
      if (andSubmit) await submitContract(saved.id);
      await queryClient.invalidateQueries({ queryKey: ["contracts"] });
      await queryClient.invalidateQueries({ queryKey: ["contract", String(saved.id)] });
      message.success(andSubmit ? t("contracts.savedSubmitted", { number: saved.number }) : t("contracts.saved", { number: saved.number }));
      navigate(`/contracts/${saved.id}`);
    } catch (e) {
      applyFieldErrors(form, e);
      if (e instanceof ApiError && e.status === 422) {
        const first = Object.keys(e.fieldErrors())[0];
        if (first) setStep(stepOf(first));
      }
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const steps = [t("contracts.stepTerms"), t("contracts.stepLines"), t("contracts.stepBilling"), t("contracts.stepReview")];
  const show = (i: number) => ({ display: step === i ? undefined : "none" });
  const values = form.getFieldsValue(true) as Record<string, unknown>;

  return (
    <>
      <PageHeader
        title={contract ? t("contracts.editTitle", { number: contract.number }) : t("contracts.new")}
        subtitle={contract ? contract.title : undefined}
      />
      {contract && contract.status !== "draft" ? (
        <Alert type="warning" showIcon title={t("contracts.onlyDrafts")} style={{ marginBottom: 16 }} />
      ) : null}
      <Card>
        <Steps
          current={step}
          onChange={(s) => (s < step ? setStep(s) : void next())}
          items={steps.map((title) => ({ title }))}
          size="small"
          orientation={isMobile ? "vertical" : "horizontal"}
          style={{ marginBottom: 24 }}
        />
        <ErrorAlert error={error} />
        <Form form={form} layout="vertical" initialValues={initialValues} name="contract">
          <div style={show(0)}>
            <Row gutter={16}>
              <Col xs={24} md={12}>
                <Form.Item label={t("common.customer")} name="customer_id" rules={[{ required: true, message: t("auth.required") }]}>
                  <CustomerSelect data-testid="contract-customer" onCustomer={(c) => setTier(c?.level ?? null)} />
                </Form.Item>
              </Col>
              <Col xs={24} md={12}>
                <Form.Item label={t("contracts.template")} name="template_id" tooltip={t("contracts.templateHelp")}>
                  <Select
                    data-testid="contract-template"
                    allowClear
                    loading={templates.isLoading}
                    placeholder={t("contracts.noTemplate")}
                    options={(templates.data?.items ?? []).map((x) => ({ value: x.id, label: `${x.name} (${x.language.toUpperCase()}, v${x.version})` }))}
                  />
                </Form.Item>
              </Col>
              <Col xs={24}>
                <TemplateFields template={template} currency={currency} />
              </Col>
              <Col xs={24} md={12}>
                <Form.Item label={t("contracts.title")} name="title" rules={[{ required: true, message: t("auth.required") }, { max: 300 }]}>
                  <Input data-testid="contract-title" />
                </Form.Item>
              </Col>
              <Col xs={12} md={6}>
                <Form.Item label={t("contracts.kind")} name="kind" rules={[{ required: true, message: t("auth.required") }]}>
                  <Select options={CONTRACT_KINDS.map((k) => ({ value: k, label: t(`contracts.kinds.${k}`) }))} />
                </Form.Item>
              </Col>
              <Col xs={12} md={6}>
                <Form.Item label={t("common.currency")} name="currency" rules={[{ required: true, message: t("auth.required") }]}>
                  <Select showSearch options={CURRENCIES.map((c) => ({ value: c, label: c }))} />
                </Form.Item>
              </Col>
              <Col xs={12} md={6}>
                <Form.Item label={t("contracts.start")} name="start_date" rules={[{ required: true, message: t("auth.required") }]}>
                  <DatePicker style={{ width: "100%" }} />
                </Form.Item>
              </Col>
              <Col xs={12} md={6}>
                <Form.Item
                  label={t("contracts.end")}
                  name="end_date"
                  dependencies={["start_date"]}
                  rules={[
                    { required: true, message: t("auth.required") },
                    ({ getFieldValue }) => ({
                      validator: (_, v: Dayjs | undefined) =>
                        !v || !getFieldValue("start_date") || !v.isBefore(getFieldValue("start_date"), "day")
                          ? Promise.resolve()
                          : Promise.reject(new Error(t("contracts.endBeforeStart"))),
                    }),
                  ]}
                >
                  <DatePicker style={{ width: "100%" }} />
                </Form.Item>
              </Col>
              <Col xs={24} md={6}>
                <Form.Item label={t("contracts.signer")} name="signer">
                  <Input autoComplete="name" />
                </Form.Item>
              </Col>
              <Col xs={24} md={6}>
                <Form.Item label={t("contracts.signerTitle")} name="signer_title">
                  <Input />
                </Form.Item>
              </Col>
            </Row>
          </div>
          <div style={show(1)}>
            <LinesEditor form={form} currency={currency} tier={tier} products={products} remember={remember} />
          </div>
          <div style={show(2)}>
            <Row gutter={16}>
              <Col xs={24} md={8}>
                <Form.Item label={t("contracts.frequency")} name={["billing", "frequency"]} rules={[{ required: true, message: t("auth.required") }]}>
                  <Select options={FREQUENCIES.map((f) => ({ value: f, label: t(`contracts.frequencies.${f}`) }))} />
                </Form.Item>
              </Col>
              <Col xs={12} md={8}>
                <Form.Item label={t("contracts.inAdvance")} name={["billing", "in_advance"]} valuePropName="checked" tooltip={t("contracts.inAdvanceHelp")}>
                  <Switch />
                </Form.Item>
              </Col>
              <Col xs={12} md={8}>
                <Form.Item label={t("contracts.paymentTerms")} name={["billing", "payment_terms_days"]} rules={[{ required: true, message: t("auth.required") }]}>
                  <InputNumber min={0} max={365} precision={0} style={{ width: "100%" }} suffix={t("contracts.days")} />
                </Form.Item>
              </Col>
              <Col xs={12} md={8}>
                <Form.Item label={t("contracts.autoRenew")} name="auto_renew" valuePropName="checked">
                  <Switch />
                </Form.Item>
              </Col>
              <Col xs={12} md={8}>
                <Form.Item label={t("contracts.uplift")} name="renewal_uplift_percent" rules={[{ pattern: /^-?\d+(\.\d+)?$/, message: t("contracts.badNumber") }]}>
                  <Input inputMode="decimal" suffix="%" />
                </Form.Item>
              </Col>
              <Col xs={24} md={8}>
                <Form.Item label={t("contracts.noticeDays")} name="notice_days">
                  <InputNumber min={0} max={3650} precision={0} style={{ width: "100%" }} suffix={t("contracts.days")} />
                </Form.Item>
              </Col>
            </Row>
          </div>
          <div style={show(3)}>
            <Descriptions
              size="small"
              bordered
              column={{ xs: 1, md: 2 }}
              style={{ marginBottom: 16 }}
              items={[
                { key: "title", label: t("contracts.title"), children: String(values.title ?? "—") },
                { key: "kind", label: t("contracts.kind"), children: values.kind ? t(`contracts.kinds.${String(values.kind)}`) : "—" },
                { key: "term", label: t("contracts.term"), children: `${iso(values.start_date) ?? "—"} → ${iso(values.end_date) ?? "—"}` },
                { key: "template", label: t("contracts.template"), children: template?.name ?? t("contracts.noTemplate") },
                { key: "lines", label: t("contracts.stepLines"), children: String(lines.length) },
                {
                  key: "billing",
                  label: t("contracts.frequency"),
                  children: t(`contracts.frequencies.${String((values.billing as { frequency?: string })?.frequency ?? "monthly")}`),
                },
              ]}
            />
            <LineTotals lines={lines} currency={currency} testId="contract-total" />
          </div>
          <Flex gap={8} wrap style={{ marginTop: 24 }} justify="space-between">
            <Button onClick={() => (step === 0 ? navigate(-1) : setStep(step - 1))}>{step === 0 ? t("common.cancel") : t("common.previous")}</Button>
            <Flex gap={8} wrap>
              {step < 3 ? (
                <Button key="next" type="primary" onClick={() => void next()} data-testid="wizard-next">
                  {t("common.next")}
                </Button>
              ) : (
                <>
                  <Button key="save" loading={busy} onClick={() => void save(false)} data-testid="contract-save">
                    {contract ? t("common.save") : t("contracts.saveDraft")}
                  </Button>
                  <Button key="submit" type="primary" loading={busy} onClick={() => void save(true)} data-testid="contract-save-submit">
                    {t("contracts.saveAndSubmit")}
                  </Button>
                </>
              )}
            </Flex>
          </Flex>
        </Form>
      </Card>
    </>
  );
}
