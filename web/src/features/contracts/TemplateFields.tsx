// A template's fields as inputs by type (text, number, date, money); required ones required.
// Values live under `field_values.<name>` so a 422 on `field_values.x` lands next to its input.
import { Col, DatePicker, Form, Input, Row } from "antd";
import { useTranslation } from "react-i18next";
import type { Template } from "./api";

type Field = Template["fields"][number];

const DECIMAL = /^-?\d+(\.\d+)?$/;

export function fieldLabel(field: Field): string {
  if (field.label) return field.label;
  const words = field.name.replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function TemplateFields({ template, currency }: { template?: Template; currency: string }) {
  const { t } = useTranslation();
  if (!template || template.fields.length === 0) return null;
  return (
    <Row gutter={16}>
      {template.fields.map((field) => {
        const rules = [
          ...(field.required ? [{ required: true, message: t("auth.required") }] : []),
          ...(field.type === "number" || field.type === "money" ? [{ pattern: DECIMAL, message: t("contracts.badNumber") }] : []),
        ];
        let input;
        switch (field.type) {
          case "date":
            input = <DatePicker style={{ width: "100%" }} data-testid={`template-field-${field.name}`} />;
            break;
          case "number":
            input = <Input inputMode="decimal" data-testid={`template-field-${field.name}`} />;
            break;
          case "money":
            input = <Input inputMode="decimal" suffix={currency} data-testid={`template-field-${field.name}`} />;
            break;
          default:
            input = <Input data-testid={`template-field-${field.name}`} />;
        }
        return (
          <Col xs={24} md={12} key={field.name}>
            <Form.Item label={fieldLabel(field)} name={["field_values", field.name]} rules={rules}>
              {input}
            </Form.Item>
          </Col>
        );
      })}
    </Row>
  );
}
