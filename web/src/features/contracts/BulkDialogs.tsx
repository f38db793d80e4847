// The managers' bulk actions from the list: co-terminate the selected contracts (a preview of each
// one's current end → new end before anything is sent) and the bulk price update (a summary before
// sending — the API offers no dry run — and the lines it changed, or the batch sent for approval).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Col, DatePicker, Form, Input, List, Modal, Result, Row, Select, Spin, Table, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { DateText, StatusTag } from "../../shared/components/values";
import { useFormat } from "../../shared/format/useFormat";
import {
  bulkPriceUpdate,
  coTerminate,
  listCategories,
  searchProducts,
  type ContractSummary,
  type CoTerminateOutcome,
  type PriceUpdateResult,
} from "./api";

const IN_FORCE = ["approved", "active"];

export function CoTerminateDialog({ contracts, onClose }: { contracts: ContractSummary[]; onClose: (done: boolean) => void }) {
  const { t } = useTranslation();
  const f = useFormat();
  const queryClient = useQueryClient();
  const [form] = Form.useForm();
  const endDate = Form.useWatch("end_date", form) as Dayjs | undefined;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<CoTerminateOutcome | null>(null);
  const newEnd = endDate ? endDate.format("YYYY-MM-DD") : null;
  const note = (c: ContractSummary): string | null => {
    if (!IN_FORCE.includes(c.status)) return t("contracts.skipNotInForce");
    if (c.amounts_locked) return t("contracts.skipLocked");
    if (newEnd && c.start_date > newEnd) return t("contracts.skipStartsAfter");
    return null;
  };
  const send = async () => {
    const values = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      const out = await coTerminate({
        contract_ids: contracts.map((c) => c.id),
        end_date: (values.end_date as Dayjs).format("YYYY-MM-DD"),
        reason: values.reason || undefined,
      });
      setResult(out);
      await queryClient.invalidateQueries({ queryKey: ["contracts"] });
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open
      width={760}
      title={t("contracts.coTerminateTitle", { count: contracts.length })}
      onCancel={() => onClose(Boolean(result))}
      onOk={result ? () => onClose(true) : () => void send()}
      okText={result ? t("common.close") : t("contracts.coTerminateSend")}
      okButtonProps={{ loading: busy, disabled: !result && !endDate, danger: !result }}
      cancelButtonProps={{ style: result ? { display: "none" } : undefined }}
    >
      {result ? (
        <>
          {result.status === "pending_approval" ? (
            <Result
              status="info"
              title={t("contracts.coTerminatePending", { count: result.contracts.length, date: f.date(result.end_date) })}
              subTitle={t("contracts.sentForApproval")}
              style={{ padding: 16 }}
            />
          ) : (
            <Result status="success" title={t("contracts.coTerminated", { count: result.changed, date: f.date(result.end_date) })} style={{ padding: 16 }} />
          )}
          {result.skipped.length ? (
            <Alert
              type="warning"
              showIcon
              title={t("contracts.skipped", { count: result.skipped.length })}
              description={
                <List size="small" dataSource={result.skipped} renderItem={(s) => <List.Item>{`${s.number ?? s.contract_id}: ${s.reason}`}</List.Item>} />
              }
            />
          ) : null}
        </>
      ) : (
        <>
          <Typography.Paragraph>{t("contracts.coTerminateText")}</Typography.Paragraph>
          <ErrorAlert error={error} />
          <Form form={form} layout="vertical">
            <Row gutter={12}>
              <Col xs={24} md={10}>
                <Form.Item label={t("contracts.newEndDate")} name="end_date" rules={[{ required: true, message: t("auth.required") }]}>
                  <DatePicker style={{ width: "100%" }} data-testid="coterm-date" />
                </Form.Item>
              </Col>
              <Col xs={24} md={14}>
                <Form.Item label={t("contracts.reason")} name="reason">
                  <Input />
                </Form.Item>
              </Col>
            </Row>
          </Form>
          <Typography.Title level={5}>{t("contracts.preview")}</Typography.Title>
          <Table<ContractSummary>
            size="small"
            rowKey="id"
            pagination={false}
            scroll={{ x: "max-content", y: 320 }}
            dataSource={contracts}
            columns={[
              { title: t("common.number"), dataIndex: "number" },
              { title: t("common.customer"), dataIndex: "customer_name", ellipsis: true },
              { title: t("common.status"), dataIndex: "status", render: (s: string) => <StatusTag status={s} /> },
              { title: t("contracts.currentEnd"), dataIndex: "end_date", render: (v: string) => <DateText value={v} /> },
              {
                title: t("contracts.newEnd"),
                key: "new",
                render: (_: unknown, c) => {
                  const skip = note(c);
                  if (skip) return <Typography.Text type="warning">{skip}</Typography.Text>;
                  return newEnd ? <strong>{f.date(newEnd)}</strong> : "—";
                },
              },
            ]}
          />
        </>
      )}
    </Modal>
  );
}

function ProductsSelect({ id, value, onChange }: { id?: string; value?: number[]; onChange?: (v: number[]) => void }) {
  const { t } = useTranslation();
  const [q, setQ] = useState("");
  const [seen, setSeen] = useState<Map<number, string>>(new Map());
  const found = useQuery({ queryKey: ["products", "pick", q], queryFn: () => searchProducts(q) });
  useEffect(() => {
    if (!found.data) return;
    setSeen((m) => {
      const next = new Map(m);
      for (const p of found.data.items) next.set(p.id, `${p.sku} · ${p.name}`);
      return next;
    });
  }, [found.data]);
  return (
    <Select
      id={id}
      mode="multiple"
      allowClear
      value={value}
      onChange={onChange}
      showSearch={{ filterOption: false, onSearch: setQ }}
      notFoundContent={found.isFetching ? <Spin size="small" /> : t("common.empty")}
      placeholder={t("contracts.productSearch")}
      options={[...seen.entries()].map(([v, label]) => ({ value: v, label }))}
    />
  );
}

export function BulkPriceDialog({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const f = useFormat();
  const queryClient = useQueryClient();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<PriceUpdateResult | null>(null);
  const categories = useQuery({ queryKey: ["categories"], queryFn: listCategories });
  const values = Form.useWatch([], form) as { percent?: string; product_ids?: number[]; category?: string; effective_date?: Dayjs } | undefined;

  const review = async () => {
    await form.validateFields();
    setConfirming(true);
  };
  const send = async () => {
    const v = form.getFieldsValue(true);
    setBusy(true);
    setError(null);
    try {
      const out = await bulkPriceUpdate({
        percent: String(v.percent).trim(),
        product_ids: v.product_ids?.length ? v.product_ids : undefined,
        category: v.category || undefined,
        effective_date: (v.effective_date as Dayjs).format("YYYY-MM-DD"),
        direct: false,
        reason: v.reason || undefined,
      });
      setResult(out);
      await queryClient.invalidateQueries({ queryKey: ["contracts"] });
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };
  const scope = [
    values?.product_ids?.length ? t("contracts.scopeProducts", { count: values.product_ids.length }) : null,
    values?.category ? t("contracts.scopeCategory", { category: values.category }) : null,
  ]
    .filter(Boolean)
    .join(" + ");

  const changes = (result?.changes ?? []).flatMap((c) => c.lines.map((l) => ({ key: `${c.contract_id}-${l.line_id}`, number: c.number, ...l })));
  return (
    <Modal
      open
      width={760}
      title={t("contracts.bulkPriceTitle")}
      onCancel={onClose}
      onOk={result ? onClose : confirming ? () => void send() : () => void review()}
      okText={result ? t("common.close") : confirming ? t("contracts.bulkPriceSend") : t("contracts.reviewChange")}
      okButtonProps={{ loading: busy, danger: confirming && !result }}
      cancelButtonProps={{ style: result ? { display: "none" } : undefined }}
    >
      <ErrorAlert error={error} />
      {result ? (
        <>
          <Result
            status={result.status === "unchanged" ? "info" : "success"}
            title={t(`contracts.priceResult.${result.status}`, { defaultValue: result.status })}
            subTitle={t("contracts.priceResultText", { contracts: result.contracts_changed, lines: result.lines_changed })}
            style={{ padding: 16 }}
          />
          {changes.length ? (
            <Table
              size="small"
              pagination={{ pageSize: 10 }}
              scroll={{ x: "max-content" }}
              dataSource={changes}
              columns={[
                { title: t("common.contract"), dataIndex: "number" },
                { title: t("contracts.line"), dataIndex: "line_id" },
                { title: t("contracts.oldPrice"), dataIndex: "from", align: "right" },
                { title: t("contracts.newPrice"), dataIndex: "to", align: "right", render: (v: string) => <strong>{v}</strong> },
              ]}
            />
          ) : null}
          {result.skipped.length ? (
            <Alert type="warning" showIcon style={{ marginTop: 12 }} title={t("contracts.skipped", { count: result.skipped.length })} />
          ) : null}
        </>
      ) : (
        <>
          <Form form={form} layout="vertical" disabled={confirming} initialValues={{ effective_date: dayjs().add(1, "month").startOf("month") }}>
            <Row gutter={12}>
              <Col xs={12} md={8}>
                <Form.Item
                  label={t("contracts.percent")}
                  name="percent"
                  tooltip={t("contracts.percentHelp")}
                  rules={[{ required: true, message: t("auth.required") }, { pattern: /^-?\d+(\.\d+)?$/, message: t("contracts.badNumber") }]}
                >
                  <Input inputMode="decimal" suffix="%" data-testid="price-percent" />
                </Form.Item>
              </Col>
              <Col xs={12} md={8}>
                <Form.Item label={t("contracts.effectiveDate")} name="effective_date" rules={[{ required: true, message: t("auth.required") }]}>
                  <DatePicker style={{ width: "100%" }} />
                </Form.Item>
              </Col>
              <Col xs={24} md={8}>
                <Form.Item label={t("contracts.category")} name="category">
                  <Select allowClear options={(categories.data ?? []).map((c) => ({ value: c.path, label: c.path }))} />
                </Form.Item>
              </Col>
              <Col xs={24}>
                <Form.Item
                  label={t("contracts.products")}
                  name="product_ids"
                  dependencies={["category"]}
                  rules={[
                    ({ getFieldValue }) => ({
                      validator: (_, v: number[] | undefined) =>
                        v?.length || getFieldValue("category") ? Promise.resolve() : Promise.reject(new Error(t("contracts.productsOrCategory"))),
                    }),
                  ]}
                >
                  <ProductsSelect />
                </Form.Item>
              </Col>
              <Col xs={24}>
                <Form.Item label={t("contracts.reason")} name="reason">
                  <Input />
                </Form.Item>
              </Col>
            </Row>
          </Form>
          {confirming && values ? (
            <Alert
              type="info"
              showIcon
              title={t("contracts.priceSummary", {
                percent: values.percent,
                scope,
                date: f.date(values.effective_date?.format("YYYY-MM-DD")),
              })}
              description={t("contracts.priceSummaryNote")}
            />
          ) : null}
        </>
      )}
    </Modal>
  );
}

