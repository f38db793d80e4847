import { Col, Form, Input, Row, Select, Switch, type FormInstance } from "antd";
import { useTranslation } from "react-i18next";
import { LANGUAGES } from "../../shared/i18n";

/** The fields of a customer, shared by create and edit (the red list is changed by its own action
 * once a customer exists: `redList={false}`). */
export function CustomerFields({
  form,
  withContact = false,
  redList = true,
}: {
  form: FormInstance;
  withContact?: boolean;
  redList?: boolean;
}) {
  const { t } = useTranslation();
  const kind = Form.useWatch("kind", form);
  return (
    <Row gutter={16}>
      <Col xs={24} md={12}>
        <Form.Item label={t("common.name")} name="name" rules={[{ required: true, message: t("auth.required") }, { max: 200 }]}>
          <Input autoComplete="organization" />
        </Form.Item>
      </Col>
      <Col xs={24} md={6}>
        <Form.Item label={t("customers.kind")} name="kind" rules={[{ required: true }]}>
          <Select
            options={[
              { value: "company", label: t("customers.company") },
              { value: "person", label: t("customers.person") },
            ]}
          />
        </Form.Item>
      </Col>
      <Col xs={24} md={6}>
        <Form.Item label={t("customers.level")} name="level">
          <Select allowClear options={["A", "B", "C"].map((v) => ({ value: v, label: v }))} />
        </Form.Item>
      </Col>
      <Col xs={24} md={8}>
        <Form.Item label={t("customers.taxId")} name="tax_id">
          <Input />
        </Form.Item>
      </Col>
      <Col xs={24} md={8}>
        <Form.Item label={t("customers.email")} name="email" rules={[{ type: "email", message: t("customers.badEmail") }]}>
          <Input type="email" autoComplete="email" />
        </Form.Item>
      </Col>
      <Col xs={24} md={8}>
        <Form.Item label={t("customers.phone")} name="phone">
          <Input type="tel" autoComplete="tel" />
        </Form.Item>
      </Col>
      <Col xs={24} md={8}>
        <Form.Item label={t("customers.industry")} name="industry">
          <Input />
        </Form.Item>
      </Col>
      <Col xs={24} md={8}>
        <Form.Item label={t("customers.region")} name="region">
          <Input />
        </Form.Item>
      </Col>
      <Col xs={24} md={8}>
        <Form.Item label={t("customers.size")} name="size">
          <Input />
        </Form.Item>
      </Col>
      <Col xs={24} md={8}>
        <Form.Item label={t("customers.language")} name="language" tooltip={t("customers.languageHelp")}>
          <Select options={LANGUAGES.map((l) => ({ value: l.code, label: l.label }))} />
        </Form.Item>
      </Col>
      <Col xs={24} md={8}>
        <Form.Item label={t("customers.tags")} name="tags">
          <Select mode="tags" tokenSeparators={[","]} open={false} suffixIcon={null} />
        </Form.Item>
      </Col>
      {redList ? (
        <Col xs={24} md={8}>
          <Form.Item label={t("customers.redListed")} name="red_listed" valuePropName="checked" tooltip={t("customers.redListHelp")}>
            <Switch />
          </Form.Item>
        </Col>
      ) : null}
      {kind === "person" ? (
        <Col xs={24} md={8}>
          <Form.Item label={t("customers.birthday")} name="birthday" tooltip="YYYY-MM-DD">
            <Input placeholder="1980-05-17" />
          </Form.Item>
        </Col>
      ) : null}
      <Col xs={24}>
        <Form.Item label={t("customers.address")} name="address">
          <Input.TextArea rows={2} />
        </Form.Item>
      </Col>
      {withContact ? (
        <>
          <Col xs={24} md={8}>
            <Form.Item label={t("customers.contactName")} name={["contact", "name"]}>
              <Input />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label={t("customers.contactEmail")} name={["contact", "email"]}>
              <Input type="email" />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label={t("customers.contactPhone")} name={["contact", "phone"]}>
              <Input type="tel" />
            </Form.Item>
          </Col>
        </>
      ) : null}
      <Col xs={24}>
        <Form.Item label={t("common.notes")} name="notes">
          <Input.TextArea rows={3} />
        </Form.Item>
      </Col>
    </Row>
  );
}

/** Form values → the API's body: empty texts left out, a contact only when named. */
export function customerBody(values: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (key === "contact") continue;
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value) && value.length === 0) continue;
    body[key] = typeof value === "string" ? value.trim() : value;
  }
  const contact = values.contact as { name?: string; email?: string; phone?: string } | undefined;
  if (contact?.name?.trim()) {
    body.contacts = [
      Object.fromEntries(Object.entries(contact).filter(([, v]) => typeof v === "string" && v.trim() !== "").map(([k, v]) => [k, (v as string).trim()])),
    ];
  }
  return body;
}
