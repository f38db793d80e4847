import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { Button, Col, DatePicker, Form, Input, Row } from "antd";
import type { Dayjs } from "dayjs";
import { useTranslation } from "react-i18next";
import type { PriceItem } from "./api";
import { ProductSelect } from "./pickers";
import { MONEY_RULE } from "./rules";

export interface PriceRow {
  product_id?: number;
  unit_price?: string;
  valid_from?: Dayjs | null;
}

export function priceItems(rows: PriceRow[] | undefined): PriceItem[] {
  return (rows ?? [])
    .filter((r) => r.product_id)
    .map((r) => ({
      product_id: r.product_id as number,
      unit_price: String(r.unit_price ?? "").trim(),
      valid_from: r.valid_from ? r.valid_from.format("YYYY-MM-DD") : null,
    }));
}

/** Rows of product + price (+ the day the price starts), inside a Form under `items`. */
export function PriceItemsEditor({ withDates = false, minRows = 0 }: { withDates?: boolean; minRows?: number }) {
  const { t } = useTranslation();
  const required = { required: true, message: t("inventory.required") };
  return (
    <Form.List name="items">
      {(fields, { add, remove }) => (
        <>
          {fields.map((field) => (
            <Row gutter={8} key={field.key} align="top">
              <Col xs={24} md={withDates ? 10 : 14}>
                <Form.Item name={[field.name, "product_id"]} label={t("inventory.product.one")} rules={[required]}>
                  <ProductSelect />
                </Form.Item>
              </Col>
              <Col xs={withDates ? 12 : 20} md={withDates ? 6 : 8}>
                <Form.Item
                  name={[field.name, "unit_price"]}
                  label={t("common.price")}
                  rules={[required, { ...MONEY_RULE, message: t("inventory.badMoney") }]}
                >
                  <Input inputMode="decimal" placeholder="0.00" />
                </Form.Item>
              </Col>
              {withDates ? (
                <Col xs={10} md={6}>
                  <Form.Item name={[field.name, "valid_from"]} label={t("inventory.priceList.validFrom")}>
                    <DatePicker style={{ width: "100%" }} placeholder={t("inventory.priceList.today")} />
                  </Form.Item>
                </Col>
              ) : null}
              <Col xs={2} md={2}>
                <Form.Item label=" ">
                  <Button
                    aria-label={t("common.remove")}
                    icon={<DeleteOutlined />}
                    disabled={fields.length <= minRows}
                    onClick={() => remove(field.name)}
                  />
                </Form.Item>
              </Col>
            </Row>
          ))}
          <Button icon={<PlusOutlined />} onClick={() => add({})} style={{ marginBottom: 16 }}>
            {t("inventory.priceList.addItem")}
          </Button>
        </>
      )}
    </Form.List>
  );
}
