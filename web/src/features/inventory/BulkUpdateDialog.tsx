import { useQueries } from "@tanstack/react-query";
import { Alert, Button, DatePicker, Form, Input, Modal, Radio, Select, Table, Typography } from "antd";
import type { Dayjs } from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { Money } from "../../shared/components/values";
import { useFormat } from "../../shared/format/useFormat";
import { getProduct, listProducts, type BulkPriceUpdate, type PriceListDetail } from "./api";
import { CategorySelect } from "./pickers";
import { previewBulk, type PriceChange } from "./priceMath";

const PERCENT = /^-?\d{1,3}(\.\d{1,4})?$/;

interface Values {
  percent: string;
  scope: "all" | "category" | "products";
  category?: string;
  product_ids?: number[];
  effective_date?: Dayjs | null;
}

/**
 * The bulk price update of one list: percent and scope, then a preview of every price that will
 * change (before → after) and only then, on a second click, the request.
 */
export function BulkUpdateDialog({
  list,
  open,
  onClose,
  onSend,
}: {
  list: PriceListDetail;
  open: boolean;
  onClose: () => void;
  onSend: (body: BulkPriceUpdate) => Promise<{ updated: number }>;
}) {
  const { t } = useTranslation();
  const f = useFormat();
  const [form] = Form.useForm<Values>();
  const scope = Form.useWatch("scope", form);
  const [preview, setPreview] = useState<{ body: BulkPriceUpdate; changes: PriceChange[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const names = useQueries({
    queries: list.items.map((i) => ({
      queryKey: ["inventory", "product", i.product_id],
      queryFn: () => getProduct(i.product_id),
      staleTime: 60_000,
    })),
  });
  const label = (id: number) => {
    const p = names.find((q) => q.data?.id === id)?.data;
    return p ? `${p.sku} · ${p.name}` : `#${id}`;
  };

  const close = () => {
    setPreview(null);
    setError(null);
    form.resetFields();
    onClose();
  };

  const review = async (values: Values) => {
    setError(null);
    setBusy(true);
    try {
      let ids: Set<number> | null = null;
      if (values.scope === "products") ids = new Set(values.product_ids ?? []);
      if (values.scope === "category" && values.category) {
        const inCategory = await listProducts({ page: 1, page_size: 500, filters: { category: values.category } });
        ids = new Set(inCategory.items.map((p) => p.id));
      }
      const body: BulkPriceUpdate = {
        percent: values.percent.trim(),
        category: values.scope === "category" ? values.category : null,
        product_ids: values.scope === "products" ? values.product_ids : null,
        effective_date: values.effective_date ? values.effective_date.format("YYYY-MM-DD") : null,
      };
      setPreview({ body, changes: previewBulk(list.items, body.percent, list.currency, ids) });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const send = async () => {
    if (!preview) return;
    setBusy(true);
    setError(null);
    try {
      await onSend(preview.body);
      close();
    } catch (e) {
      setPreview(null);
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const when = preview?.body.effective_date ? f.date(preview.body.effective_date) : t("inventory.bulk.today");
  return (
    <Modal
      open={open}
      title={t("inventory.bulk.title", { name: list.name })}
      onCancel={close}
      width={720}
      destroyOnHidden
      footer={
        preview
          ? [
              <Button key="back" onClick={() => setPreview(null)}>
                {t("common.back")}
              </Button>,
              <Button key="send" type="primary" danger loading={busy} disabled={!preview.changes.length} onClick={send}>
                {t("inventory.bulk.apply", { count: preview.changes.length })}
              </Button>,
            ]
          : [
              <Button key="cancel" onClick={close}>
                {t("common.cancel")}
              </Button>,
              <Button key="review" type="primary" loading={busy} onClick={() => form.submit()}>
                {t("inventory.bulk.review")}
              </Button>,
            ]
      }
    >
      <ErrorAlert error={error} />
      <Form<Values>
        form={form}
        layout="vertical"
        onFinish={review}
        initialValues={{ scope: "all" }}
        style={{ display: preview ? "none" : undefined }}
      >
        <Form.Item
          name="percent"
          label={t("inventory.bulk.percent")}
          extra={t("inventory.bulk.percentHelp")}
          rules={[
            { required: true, message: t("inventory.required") },
            { pattern: PERCENT, message: t("inventory.bulk.badPercent") },
          ]}
        >
          <Input inputMode="decimal" suffix="%" style={{ maxWidth: 200 }} />
        </Form.Item>
        <Form.Item name="scope" label={t("inventory.bulk.scope")}>
          <Radio.Group
            options={[
              { value: "all", label: t("inventory.bulk.scopeAll") },
              { value: "category", label: t("inventory.bulk.scopeCategory") },
              { value: "products", label: t("inventory.bulk.scopeProducts") },
            ]}
          />
        </Form.Item>
        {scope === "category" ? (
          <Form.Item name="category" label={t("inventory.product.category")} rules={[{ required: true, message: t("inventory.required") }]}>
            <CategorySelect />
          </Form.Item>
        ) : null}
        {scope === "products" ? (
          <Form.Item
            name="product_ids"
            label={t("inventory.bulk.products")}
            rules={[{ required: true, message: t("inventory.required") }]}
          >
            <Select
              mode="multiple"
              showSearch={{ optionFilterProp: "label" }}
              options={list.items.map((i) => ({ value: i.product_id, label: label(i.product_id) }))}
            />
          </Form.Item>
        ) : null}
        <Form.Item name="effective_date" label={t("inventory.bulk.effective")}>
          <DatePicker placeholder={t("inventory.priceList.today")} />
        </Form.Item>
      </Form>
      {preview ? (
        <>
          <Alert
            type={preview.changes.length ? "warning" : "info"}
            showIcon
            style={{ marginBottom: 12 }}
            title={
              preview.changes.length
                ? t("inventory.bulk.summary", {
                    count: preview.changes.length,
                    percent: `${preview.body.percent.startsWith("-") ? "" : "+"}${preview.body.percent}`,
                    date: when,
                  })
                : t("inventory.bulk.nothing")
            }
            description={t("inventory.bulk.historyNote")}
          />
          <Table<PriceChange>
            size="small"
            rowKey="product_id"
            dataSource={preview.changes}
            pagination={{ pageSize: 10, hideOnSinglePage: true }}
            scroll={{ x: "max-content" }}
            columns={[
              { title: t("inventory.product.one"), dataIndex: "product_id", render: (id: number) => label(id) },
              {
                title: t("inventory.bulk.before"),
                dataIndex: "before",
                align: "right",
                render: (v: string) => <Money amount={v} currency={list.currency} />,
              },
              {
                title: t("inventory.bulk.after"),
                dataIndex: "after",
                align: "right",
                render: (v: string) => (
                  <Typography.Text strong>
                    <Money amount={v} currency={list.currency} />
                  </Typography.Text>
                ),
              },
            ]}
          />
        </>
      ) : null}
    </Modal>
  );
}
