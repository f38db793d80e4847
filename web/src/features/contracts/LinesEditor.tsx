// The lines step of the wizard: products from the catalogue, quantity, a unit price that defaults
// to the customer's price (else the product's), discount, the serial number of a serialized
// device (picked from the units in stock, or typed), optional own dates; each line's amount and
// the totals per currency as the user types.
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { AutoComplete, Button, Card, Col, DatePicker, Descriptions, Empty, Form, Input, Row, Typography, type FormInstance } from "antd";
import { useTranslation } from "react-i18next";
import { Money } from "../../shared/components/values";
import { listUnitsOf, priceFor, type Product } from "./api";
import { lineAmount, totalsByCurrency } from "./lineMath";
import { ProductSelect } from "./pickers";

const DECIMAL = /^\d+(\.\d+)?$/;

export interface LineValues {
  product_id?: number;
  quantity?: string;
  unit_price?: string;
  discount_percent?: string;
  serial_number?: string;
  start_date?: unknown;
  end_date?: unknown;
  /** the currency of the unit price (not sent: lines are priced in the contract's currency) */
  price_currency?: string;
}

function SerialInput({ productId, id, value, onChange }: { productId: number; id?: string; value?: string; onChange?: (v: string) => void }) {
  const { t } = useTranslation();
  const units = useQuery({ queryKey: ["units", "in_stock", productId], queryFn: () => listUnitsOf(productId) });
  const options = (units.data?.items ?? []).map((u) => ({ value: u.serial_number, label: u.serial_number }));
  return (
    <AutoComplete
      id={id}
      value={value}
      onChange={onChange}
      options={options}
      placeholder={options.length ? t("contracts.serialPick") : t("contracts.serialType")}
      showSearch={{ filterOption: (input, option) => String(option?.value ?? "").toLowerCase().includes(input.toLowerCase()) }}
    />
  );
}

function LineCard({
  form,
  name,
  index,
  currency,
  tier,
  products,
  remember,
  onRemove,
}: {
  form: FormInstance;
  name: number;
  index: number;
  currency: string;
  tier?: string | null;
  products: Map<number, Product>;
  remember: (p: Product) => void;
  onRemove: () => void;
}) {
  const { t } = useTranslation();
  const line = (Form.useWatch(["lines", name], form) ?? {}) as LineValues;
  const product = line.product_id ? products.get(line.product_id) : undefined;
  const amount = lineAmount(line);
  const priceCurrency = line.price_currency || currency;
  const pickProduct = async (p: Product | undefined) => {
    if (!p) return;
    remember(p);
    const setLine = (values: Partial<LineValues>) =>
      form.setFieldValue(["lines", name], { ...form.getFieldValue(["lines", name]), ...values });
    setLine({ unit_price: p.unit_price, price_currency: p.currency, serial_number: undefined });
    try {
      const quote = await priceFor(p.id, currency, tier);
      setLine({ unit_price: quote.unit_price, price_currency: quote.currency });
    } catch {
      // no price list answer: the product's own price stays
    }
  };
  return (
    <Card
      size="small"
      title={t("contracts.lineN", { n: index + 1 })}
      data-testid={`line-${index}`}
      extra={
        <Button type="text" danger icon={<DeleteOutlined />} onClick={onRemove} aria-label={t("contracts.removeLine", { n: index + 1 })} />
      }
      style={{ marginBottom: 12 }}
    >
      <Row gutter={12}>
        <Col xs={24} md={12}>
          <Form.Item label={t("contracts.product")} name={[name, "product_id"]} rules={[{ required: true, message: t("auth.required") }]}>
            <ProductSelect data-testid={`line-product-${index}`} known={[...products.values()]} onProduct={(p) => void pickProduct(p)} />
          </Form.Item>
        </Col>
        <Col xs={12} md={4}>
          <Form.Item
            label={t("common.quantity")}
            name={[name, "quantity"]}
            rules={[{ required: true, message: t("auth.required") }, { pattern: DECIMAL, message: t("contracts.badNumber") }]}
          >
            <Input inputMode="decimal" data-testid={`line-quantity-${index}`} />
          </Form.Item>
        </Col>
        <Col xs={12} md={4}>
          <Form.Item
            label={t("common.price")}
            name={[name, "unit_price"]}
            rules={[{ pattern: DECIMAL, message: t("contracts.badNumber") }]}
            extra={priceCurrency !== currency ? <Typography.Text type="warning">{t("contracts.otherCurrency", { currency: priceCurrency })}</Typography.Text> : undefined}
          >
            <Input
              inputMode="decimal"
              suffix={priceCurrency}
              data-testid={`line-price-${index}`}
              onChange={() => form.setFieldValue(["lines", name, "price_currency"], currency)}
            />
          </Form.Item>
          <Form.Item name={[name, "price_currency"]} hidden>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={12} md={4}>
          <Form.Item
            label={t("contracts.discount")}
            name={[name, "discount_percent"]}
            rules={[{ pattern: DECIMAL, message: t("contracts.badNumber") }]}
          >
            <Input inputMode="decimal" suffix="%" data-testid={`line-discount-${index}`} />
          </Form.Item>
        </Col>
        {product?.serialized ? (
          <Col xs={24} md={8}>
            <Form.Item label={t("contracts.serialNumber")} name={[name, "serial_number"]} tooltip={t("contracts.serialHelp")}>
              <SerialInput productId={product.id} />
            </Form.Item>
          </Col>
        ) : null}
        <Col xs={12} md={product?.serialized ? 5 : 6}>
          <Form.Item label={t("contracts.lineStart")} name={[name, "start_date"]} tooltip={t("contracts.lineDatesHelp")}>
            <DatePicker style={{ width: "100%" }} />
          </Form.Item>
        </Col>
        <Col xs={12} md={product?.serialized ? 5 : 6}>
          <Form.Item label={t("contracts.lineEnd")} name={[name, "end_date"]}>
            <DatePicker style={{ width: "100%" }} />
          </Form.Item>
        </Col>
        <Col xs={24} md={product?.serialized ? 6 : 12} style={{ display: "flex", alignItems: "center", justifyContent: "flex-end" }}>
          <Typography.Text strong data-testid={`line-amount-${index}`}>
            {t("contracts.lineAmount")}: {amount === null ? "—" : <Money amount={amount} currency={priceCurrency} />}
          </Typography.Text>
        </Col>
      </Row>
    </Card>
  );
}

/** The totals of the lines per currency, shown before saving. */
export function LineTotals({ lines, currency, testId = "lines-total" }: { lines: LineValues[]; currency: string; testId?: string }) {
  const { t } = useTranslation();
  const totals = totalsByCurrency(
    lines.map((l) => ({ ...l, currency: l.price_currency || currency })),
    currency,
  );
  const entries = Object.entries(totals);
  return (
    <Descriptions
      size="small"
      bordered
      column={1}
      data-testid={testId}
      items={
        entries.length
          ? entries.map(([cur, total]) => ({ key: cur, label: t("contracts.totalIn", { currency: cur }), children: <Money amount={total} currency={cur} /> }))
          : [{ key: "none", label: t("common.total_"), children: "—" }]
      }
    />
  );
}

export function LinesEditor({
  form,
  currency,
  tier,
  products,
  remember,
}: {
  form: FormInstance;
  currency: string;
  tier?: string | null;
  products: Map<number, Product>;
  remember: (p: Product) => void;
}) {
  const { t } = useTranslation();
  const lines = (Form.useWatch("lines", form) ?? []) as LineValues[];
  return (
    <>
      <Form.List name="lines">
        {(fields, { add, remove }) => (
          <>
            {fields.length === 0 ? <Empty description={t("contracts.noLines")} style={{ marginBottom: 12 }} /> : null}
            {fields.map((field, index) => (
              <LineCard
                key={field.key}
                form={form}
                name={field.name}
                index={index}
                currency={currency}
                tier={tier}
                products={products}
                remember={remember}
                onRemove={() => remove(field.name)}
              />
            ))}
            <Button type="dashed" block icon={<PlusOutlined />} onClick={() => add({ quantity: "1", discount_percent: "0" })} data-testid="add-line" style={{ marginBottom: 16 }}>
              {t("contracts.addLine")}
            </Button>
          </>
        )}
      </Form.List>
      <LineTotals lines={lines} currency={currency} />
    </>
  );
}
