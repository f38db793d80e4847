// Amendments (change orders) of an approved or active contract: the list with status and amounts,
// and a new one — reason, header changes, lines to add (from the catalogue) and to remove. It goes
// to approval at once and becomes a new version when approved.
import { PlusOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Col, DatePicker, Form, Input, Row, Select, Switch, Table } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { ApiError } from "../../../shared/api/client";
import { ErrorAlert } from "../../../shared/components/errors";
import { DateText, Money, StatusTag } from "../../../shared/components/values";
import { useAuth } from "../../../shared/auth/AuthProvider";
import { createAmendment, listAmendments, type Amendment, type ContractDetail, type Product } from "../api";
import { contractBody } from "../body";
import { LinesEditor } from "../LinesEditor";
import { useIdempotencyKey } from "../../../shared/api/idempotency";

function AmendmentForm({ contract, onDone }: { contract: ContractDetail; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [products, setProducts] = useState<Map<number, Product>>(new Map());
  const idempotency = useIdempotencyKey();
  // an amendment takes effect inside the term: today, or the start of a contract not begun yet
  const start = dayjs(contract.start_date);
  const effective = dayjs().isBefore(start, "day") ? start : dayjs();
  const save = async () => {
    const v = await form.validateFields(undefined, { recursive: true });
    const changes: Record<string, unknown> = {};
    if (v.title?.trim()) changes.title = v.title.trim();
    if (v.end_date) changes.end_date = (v.end_date as Dayjs).format("YYYY-MM-DD");
    if (v.signer?.trim()) changes.signer = v.signer.trim();
    if (v.auto_renew !== undefined && v.auto_renew !== contract.auto_renew) changes.auto_renew = v.auto_renew;
    if (v.renewal_uplift_percent?.trim()) changes.renewal_uplift_percent = v.renewal_uplift_percent.trim();
    if (v.notes?.trim()) changes.notes = v.notes.trim();
    const lines = contractBody({ ...v, billing: {} }).lines ?? [];
    setBusy(true);
    setError(null);
    try {
      const made = await createAmendment(
        contract.id,
        {
        reason: v.reason.trim(),
        effective_date: v.effective_date ? (v.effective_date as Dayjs).format("YYYY-MM-DD") : undefined,
        changes,
        add_lines: lines,
          remove_line_ids: v.remove_line_ids ?? [],
        },
        idempotency.key,
      );
      idempotency.renew();
      message.success(t("contracts.amendmentCreated", { number: made.number }));
      await queryClient.invalidateQueries({ queryKey: ["contract", String(contract.id)] });
      await queryClient.invalidateQueries({ queryKey: ["approvals"] });
      onDone();
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        form.setFields(
          Object.entries(e.fieldErrors()).map(([name, errors]) => ({
            name: name
              .replace(/^add_lines/, "lines")
              .replace(/^changes\./, "")
              .split(".")
              .map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
            errors,
          })) as never,
        );
      }
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card size="small" title={t("contracts.newAmendment")} style={{ marginBottom: 16 }}>
      <ErrorAlert error={error} />
      <Form form={form} layout="vertical" initialValues={{ effective_date: effective, lines: [], auto_renew: contract.auto_renew }}>
        <Row gutter={12}>
          <Col xs={24} md={16}>
            <Form.Item label={t("contracts.reason")} name="reason" rules={[{ required: true, whitespace: true, message: t("auth.required") }]}>
              <Input data-testid="amendment-reason" />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label={t("contracts.effectiveDate")} name="effective_date">
              <DatePicker style={{ width: "100%" }} />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label={t("contracts.newTitle")} name="title">
              <Input placeholder={contract.title} />
            </Form.Item>
          </Col>
          <Col xs={12} md={8}>
            <Form.Item label={t("contracts.newEndDate")} name="end_date">
              <DatePicker style={{ width: "100%" }} placeholder={contract.end_date} />
            </Form.Item>
          </Col>
          <Col xs={12} md={8}>
            <Form.Item label={t("contracts.signer")} name="signer">
              <Input placeholder={contract.signer ?? ""} />
            </Form.Item>
          </Col>
          <Col xs={12} md={8}>
            <Form.Item label={t("contracts.autoRenew")} name="auto_renew" valuePropName="checked">
              <Switch />
            </Form.Item>
          </Col>
          <Col xs={12} md={8}>
            <Form.Item label={t("contracts.uplift")} name="renewal_uplift_percent">
              <Input inputMode="decimal" suffix="%" placeholder={contract.renewal_uplift_percent} />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label={t("common.notes")} name="notes">
              <Input />
            </Form.Item>
          </Col>
          <Col xs={24}>
            <Form.Item label={t("contracts.removeLines")} name="remove_line_ids">
              <Select
                mode="multiple"
                allowClear
                options={contract.lines.map((l) => ({
                  value: l.id,
                  label: `#${l.position} ${l.sku ?? ""} ${l.product_name}${l.serial_number ? ` (${l.serial_number})` : ""}`,
                }))}
              />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item label={t("contracts.addLines")} style={{ marginBottom: 0 }}>
          <LinesEditor
            form={form}
            currency={contract.currency}
            products={products}
            remember={(p) => setProducts((m) => new Map(m).set(p.id, p))}
          />
        </Form.Item>
        <Button type="primary" loading={busy} onClick={() => void save()} style={{ marginTop: 16 }} data-testid="amendment-save">
          {t("contracts.sendAmendment")}
        </Button>
      </Form>
    </Card>
  );
}

export function AmendmentsTab({ contract }: { contract: ContractDetail }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const [open, setOpen] = useState(false);
  const list = useQuery({
    queryKey: ["contract", String(contract.id), "amendments"],
    queryFn: () => listAmendments(contract.id),
    initialData: contract.amendments,
  });
  const allowed = can("contracts.write") && ["approved", "active"].includes(contract.status);
  return (
    <>
      {allowed && !open ? (
        <Button icon={<PlusOutlined />} onClick={() => setOpen(true)} style={{ marginBottom: 12 }} data-testid="new-amendment">
          {t("contracts.newAmendment")}
        </Button>
      ) : null}
      {open ? <AmendmentForm contract={contract} onDone={() => setOpen(false)} /> : null}
      <ErrorAlert error={list.error} />
      <Table<Amendment>
        size="small"
        rowKey="id"
        pagination={false}
        scroll={{ x: "max-content" }}
        dataSource={list.data ?? []}
        locale={{ emptyText: t("contracts.noAmendments") }}
        columns={[
          { title: t("common.number"), dataIndex: "number" },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <StatusTag status={s} /> },
          { title: t("contracts.reason"), dataIndex: "reason" },
          { title: t("contracts.effectiveDate"), dataIndex: "effective_date", render: (v: string) => <DateText value={v} /> },
          { title: t("contracts.amountBefore"), dataIndex: "amount_before", align: "right", render: (v: string | null) => <Money amount={v} currency={contract.currency} /> },
          { title: t("contracts.amountAfter"), dataIndex: "amount_after", align: "right", render: (v: string | null) => <Money amount={v} currency={contract.currency} /> },
          {
            title: t("contracts.tabs.approvals"),
            dataIndex: "approval_id",
            render: (v: string | null) => (v ? <Link to={`/approvals/${v}`}>#{v}</Link> : "—"),
          },
          { title: t("common.comment"), dataIndex: "comment", render: (v: string | null) => v ?? "—" },
        ]}
      />
    </>
  );
}
