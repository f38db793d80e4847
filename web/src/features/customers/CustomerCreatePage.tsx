import { Alert, App, Button, Card, Flex, Form, List, Tag, Typography } from "antd";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { ApiError } from "../../shared/api/client";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { createCustomer, type CustomerCreate } from "./api";
import { customerBody, CustomerFields } from "./CustomerForm";
import { useIdempotencyKey } from "../../shared/api/idempotency";

// a likely duplicate as the service shows it: whose it is and which keys matched, never the
// record itself (it may belong to another rep)
interface Candidate {
  id: number;
  name: string;
  owner_name?: string | null;
  reasons?: string[];
}

export default function CustomerCreatePage() {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const [candidates, setCandidates] = useState<Candidate[] | null>(null);
  const [busy, setBusy] = useState(false);
  const idempotency = useIdempotencyKey();

  const save = async (allowDuplicate: boolean) => {
    const values = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      const body = { ...customerBody(values), allow_duplicate: allowDuplicate } as CustomerCreate;
      const created = await createCustomer(body, idempotency.key);
      idempotency.renew();
      await queryClient.invalidateQueries({ queryKey: ["customers"] });
      message.success(t("customers.created", { code: created.code }));
      navigate(`/customers/${created.id}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && Array.isArray(e.details.candidates)) {
        setCandidates(e.details.candidates as Candidate[]);
      } else {
        applyFieldErrors(form, e);
        setError(e);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title={t("customers.new")} />
      <Card>
        <ErrorAlert error={error} />
        {candidates ? (
          <Alert
            type="warning"
            showIcon
            role="alert"
            style={{ marginBottom: 16 }}
            title={t("customers.duplicateTitle")}
            description={
              <>
                <Typography.Paragraph>{t("customers.duplicateText")}</Typography.Paragraph>
                <List
                  size="small"
                  dataSource={candidates}
                  renderItem={(c) => (
                    <List.Item>
                      <Link to={`/customers/${c.id}`}>{c.name}</Link>
                      {c.owner_name ? (
                        <Typography.Text type="secondary"> · {c.owner_name}</Typography.Text>
                      ) : null}{" "}
                      {(c.reasons ?? []).map((r) => (
                        <Tag key={r}>{t(`customers.reason.${r}`, { defaultValue: r })}</Tag>
                      ))}
                    </List.Item>
                  )}
                />
                <Flex gap={8} style={{ marginTop: 8 }}>
                  <Button danger onClick={() => void save(true)} loading={busy}>
                    {t("customers.createAnyway")}
                  </Button>
                  <Button onClick={() => setCandidates(null)}>{t("common.cancel")}</Button>
                </Flex>
              </>
            }
          />
        ) : null}
        <Form
          form={form}
          layout="vertical"
          initialValues={{ kind: "company", language: i18n.language }}
          onFinish={() => void save(false)}
          onValuesChange={() => setCandidates(null)}
        >
          <CustomerFields form={form} withContact />
          <Flex gap={8}>
            <Button type="primary" htmlType="submit" loading={busy}>
              {t("common.create")}
            </Button>
            <Button onClick={() => navigate(-1)}>{t("common.cancel")}</Button>
          </Flex>
        </Form>
      </Card>
    </>
  );
}
