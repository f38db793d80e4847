import { Button, Checkbox, Col, Form, Input, InputNumber, Radio, Row, Select } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../shared/api/client";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { IN_REASONS, OUT_REASONS, type Product, type StockMove } from "./api";
import { ContractSelect, ProductSelect, WarehouseSelect } from "./pickers";

export interface MoveValues {
  warehouse_id?: number;
  product_id?: number;
  direction: "in" | "out";
  reason?: StockMove["reason"];
  quantity?: number;
  serials?: string;
  contract_id?: number;
  reference?: string;
  note?: string;
  lease?: boolean;
}

/** The serial numbers typed one per line (or separated by commas), trimmed, blanks dropped. */
export function parseSerials(text: string | undefined): string[] {
  return (text ?? "")
    .split(/[\n,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Why a list of serial numbers cannot go with a quantity, or null when it can. */
export function serialProblem(serials: string[], quantity: number | undefined): { key: string; values?: Record<string, unknown> } | null {
  const seen = new Set<string>();
  for (const s of serials) {
    if (seen.has(s)) return { key: "inventory.move.serialTwice", values: { serial: s } };
    seen.add(s);
  }
  if (quantity && serials.length !== quantity)
    return { key: "inventory.move.serialCount", values: { count: quantity, given: serials.length } };
  return null;
}

export function moveBody(values: MoveValues, serialized: boolean): StockMove {
  return {
    warehouse_id: values.warehouse_id as number,
    product_id: values.product_id as number,
    quantity: values.quantity as number,
    direction: values.direction,
    reason: values.reason as StockMove["reason"],
    serial_numbers: serialized ? parseSerials(values.serials) : [],
    contract_id: values.contract_id ?? null,
    reference: values.reference?.trim() || null,
    note: values.note?.trim() || null,
    lease: values.direction === "out" && values.reason === "dispatch" && !!values.lease,
  };
}

/**
 * Record a stock move: in (purchase, trade-in, sales return, repossession, lease return,
 * adjustment) or out (dispatch to a contract, adjustment). A serialized product needs one serial
 * number per unit; the form checks the count before anything is sent.
 */
export function StockMoveForm({
  initial,
  product: initialProduct,
  onSubmit,
}: {
  initial?: Partial<MoveValues>;
  product?: Product;
  onSubmit: (body: StockMove) => Promise<void>;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<MoveValues>();
  const [product, setProduct] = useState<Product | undefined>(initialProduct);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const direction = Form.useWatch("direction", form) ?? initial?.direction ?? "in";
  const reason = Form.useWatch("reason", form);
  const serialized = !!product?.serialized;
  const reasons = direction === "in" ? IN_REASONS : OUT_REASONS;
  const required = { required: true, message: t("inventory.required") };

  const send = async (values: MoveValues) => {
    setBusy(true);
    setError(null);
    try {
      await onSubmit(moveBody(values, serialized));
    } catch (e) {
      applyFieldErrors(form, e);
      // the API names the serial numbers `serial_numbers` (or `serial_numbers.N`); the form shows them in `serials`
      if (e instanceof ApiError && e.status === 422) {
        const reasons = Object.entries(e.fieldErrors())
          .filter(([name]) => name.split(".")[0] === "serial_numbers")
          .flatMap(([, r]) => r);
        if (reasons.length) form.setFields([{ name: "serials", errors: reasons }]);
      }
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Form<MoveValues>
      form={form}
      layout="vertical"
      onFinish={send}
      initialValues={{ direction: "in", reason: "purchase", quantity: 1, ...initial }}
      onValuesChange={(changed: Partial<MoveValues>) => {
        if (changed.direction) form.setFieldValue("reason", changed.direction === "in" ? "purchase" : "dispatch");
      }}
    >
      <ErrorAlert error={error} />
      <Row gutter={16}>
        <Col xs={24} md={12}>
          <Form.Item name="product_id" label={t("inventory.product.one")} rules={[required]}>
            <ProductSelect onPick={setProduct} />
          </Form.Item>
        </Col>
        <Col xs={24} md={12}>
          <Form.Item name="warehouse_id" label={t("inventory.warehouse.one")} rules={[required]}>
            <WarehouseSelect />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="direction" label={t("inventory.move.direction")} rules={[required]}>
            <Radio.Group
              optionType="button"
              options={[
                { value: "in", label: t("inventory.direction.in") },
                { value: "out", label: t("inventory.direction.out") },
              ]}
            />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="reason" label={t("inventory.move.reason")} rules={[required]}>
            <Select options={reasons.map((r) => ({ value: r, label: t(`inventory.reason.${r}`) }))} />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="quantity" label={t("common.quantity")} rules={[required]}>
            <InputNumber min={1} max={1_000_000} precision={0} style={{ width: "100%" }} />
          </Form.Item>
        </Col>
        {serialized ? (
          <Col xs={24}>
            <Form.Item
              name="serials"
              label={t("inventory.move.serials")}
              extra={t("inventory.move.serialsHelp")}
              dependencies={["quantity"]}
              rules={[
                required,
                {
                  validator: async (_, value: string | undefined) => {
                    const problem = serialProblem(parseSerials(value), form.getFieldValue("quantity") as number | undefined);
                    if (problem) throw new Error(t(problem.key, problem.values));
                  },
                },
              ]}
            >
              <Input.TextArea rows={4} spellCheck={false} style={{ fontFamily: "monospace" }} />
            </Form.Item>
          </Col>
        ) : null}
        {direction === "out" ? (
          <Col xs={24} md={12}>
            <Form.Item
              name="contract_id"
              label={t("common.contract")}
              rules={reason === "dispatch" ? [required] : []}
              extra={t("inventory.move.contractHelp")}
            >
              <ContractSelect />
            </Form.Item>
          </Col>
        ) : null}
        {direction === "out" && reason === "dispatch" ? (
          <Col xs={24} md={12}>
            <Form.Item name="lease" valuePropName="checked" label={t("inventory.move.lease")}>
              <Checkbox>{t("inventory.reservation.lease")}</Checkbox>
            </Form.Item>
          </Col>
        ) : null}
        <Col xs={24} md={12}>
          <Form.Item name="reference" label={t("inventory.move.reference")} extra={t("inventory.move.referenceHelp")}>
            <Input maxLength={200} />
          </Form.Item>
        </Col>
        <Col xs={24}>
          <Form.Item name="note" label={t("common.notes")}>
            <Input.TextArea rows={2} maxLength={2000} />
          </Form.Item>
        </Col>
      </Row>
      <Button type="primary" htmlType="submit" loading={busy}>
        {t("inventory.move.record")}
      </Button>
    </Form>
  );
}
