import { DeleteOutlined, EditOutlined, HistoryOutlined, PlusOutlined } from "@ant-design/icons";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Drawer, Flex, Form, Input, Modal, Popconfirm, Select, Space, Switch, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { ServerTable } from "../../shared/components/ServerTable";
import { useIsMobile } from "../../shared/components/useIsMobile";
import { DateText } from "../../shared/components/values";
import { createWebhook, deleteWebhook, listDeliveries, listRules, listWebhooks, updateWebhook, type Delivery, type Webhook } from "./api";
import { useIdempotencyKey } from "../../shared/api/idempotency";

/** Webhooks of partner systems: create, edit, delete (confirmed) and the delivery log of each. */
export function WebhooksTab() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Webhook | "new" | null>(null);
  const [log, setLog] = useState<Webhook | null>(null);
  const remove = useMutation({
    mutationFn: (id: number) => deleteWebhook(id),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["admin", "webhooks"] });
      message.success(t("admin.webhooks.deleted"));
    },
  });
  return (
    <>
      <Flex justify="space-between" wrap gap={8} style={{ marginBottom: 12 }}>
        <Typography.Text type="secondary">{t("admin.webhooks.intro")}</Typography.Text>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing("new")}>
          {t("admin.webhooks.new")}
        </Button>
      </Flex>
      <ErrorAlert error={remove.error} />
      <ServerTable<Webhook>
        caption={t("admin.tabs.webhooks")}
        queryKey={["admin", "webhooks"]}
        fetch={listWebhooks}
        sortable={false}
        columns={[
          {
            title: t("admin.webhooks.url"),
            dataIndex: "url",
            render: (url: string, row) => (
              <div style={{ maxWidth: 360, whiteSpace: "normal", overflowWrap: "anywhere" }}>
                <Typography.Text code>{url}</Typography.Text>
                {row.description ? <div style={{ color: "#8c8c8c" }}>{row.description}</div> : null}
              </div>
            ),
          },
          { title: t("admin.webhooks.events"), dataIndex: "events", render: (es: string[]) => es.map((e) => <Tag key={e}>{e}</Tag>) },
          {
            title: t("common.status"),
            dataIndex: "active",
            render: (active: boolean, row) =>
              active ? (
                <Tag color="green">{t("admin.webhooks.active")}</Tag>
              ) : (
                <>
                  <Tag color="red">{t("admin.webhooks.disabled")}</Tag>
                  {row.disabled_reason ? <div style={{ fontSize: 12, maxWidth: 240, whiteSpace: "normal" }}>{row.disabled_reason}</div> : null}
                </>
              ),
          },
          { title: t("admin.webhooks.failures"), dataIndex: "consecutive_failures" },
          { title: t("admin.webhooks.secret"), dataIndex: "secret_hint", render: (s: string) => <Typography.Text code>{s}</Typography.Text> },
          { title: t("common.createdAt"), dataIndex: "created_at", render: (v: string) => <DateText value={v} /> },
          {
            title: t("common.actions"),
            key: "actions",
            render: (_: unknown, row) => (
              <Space wrap>
                <Button size="small" icon={<HistoryOutlined />} onClick={() => setLog(row)}>
                  {t("admin.webhooks.deliveries")}
                </Button>
                <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(row)}>
                  {t("common.edit")}
                </Button>
                <Popconfirm
                  title={t("admin.webhooks.deleteConfirm")}
                  description={row.url}
                  okText={t("common.delete")}
                  okButtonProps={{ danger: true }}
                  cancelText={t("common.cancel")}
                  onConfirm={() => remove.mutate(row.id)}
                >
                  <Button size="small" danger icon={<DeleteOutlined />}>
                    {t("common.delete")}
                  </Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      {editing ? <WebhookDialog webhook={editing === "new" ? null : editing} onClose={() => setEditing(null)} /> : null}
      <DeliveriesDrawer webhook={log} onClose={() => setLog(null)} />
    </>
  );
}

interface WebhookValues {
  url: string;
  events: string[];
  secret?: string;
  description?: string;
  active?: boolean;
}

function WebhookDialog({ webhook, onClose }: { webhook: Webhook | null; onClose: () => void }) {
  const { t } = useTranslation();
  const mobile = useIsMobile();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<WebhookValues>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const idempotency = useIdempotencyKey();
  const rules = useQuery({ queryKey: ["admin", "rules"], queryFn: listRules, staleTime: 300_000 });
  const eventOptions = ["*", ...(rules.data?.items ?? []).map((r) => r.event_type)].map((e) => ({
    value: e,
    label: e === "*" ? t("admin.webhooks.allEvents") : e,
  }));
  const required = [{ required: true, message: t("admin.required") }];
  const save = async () => {
    const v = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      if (webhook) {
        await updateWebhook(webhook.id, {
          url: v.url.trim(),
          events: v.events,
          description: v.description?.trim() || null,
          active: v.active,
          ...(v.secret ? { secret: v.secret } : {}),
        });
      } else {
        await createWebhook({ url: v.url.trim(), events: v.events, secret: v.secret ?? "", description: v.description?.trim() || undefined }, idempotency.key);
        idempotency.renew();
      }
      await queryClient.invalidateQueries({ queryKey: ["admin", "webhooks"] });
      message.success(webhook ? t("common.saved") : t("admin.webhooks.created"));
      onClose();
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
      title={webhook ? t("admin.webhooks.editTitle") : t("admin.webhooks.new")}
      onCancel={onClose}
      onOk={() => void save()}
      okText={webhook ? t("common.save") : t("common.create")}
      cancelText={t("common.cancel")}
      confirmLoading={busy}
      width={mobile ? "100%" : 640}
      destroyOnHidden
    >
      <ErrorAlert error={error} />
      <Form<WebhookValues>
        form={form}
        layout="vertical"
        initialValues={webhook ? { url: webhook.url, events: webhook.events, description: webhook.description ?? undefined, active: webhook.active } : { events: [] }}
      >
        <Form.Item name="url" label={t("admin.webhooks.url")} rules={[...required, { type: "url", message: t("admin.webhooks.urlRule") }]}>
          <Input placeholder="https://partner.example.com/hooks/crm" />
        </Form.Item>
        <Form.Item name="events" label={t("admin.webhooks.events")} rules={required} extra={t("admin.webhooks.eventsHint")}>
          <Select mode="tags" options={eventOptions} loading={rules.isLoading} />
        </Form.Item>
        <Form.Item
          name="secret"
          label={t("admin.webhooks.secret")}
          extra={webhook ? t("admin.webhooks.secretKeep", { hint: webhook.secret_hint }) : t("admin.webhooks.secretHint")}
          rules={[...(webhook ? [] : required), { min: 8, message: t("admin.webhooks.secretMin") }]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item name="description" label={t("admin.webhooks.description")}>
          <Input />
        </Form.Item>
        {webhook ? (
          <Form.Item name="active" label={t("admin.webhooks.active")} valuePropName="checked" extra={t("admin.webhooks.activeHint")}>
            <Switch />
          </Form.Item>
        ) : null}
      </Form>
    </Modal>
  );
}

function DeliveriesDrawer({ webhook, onClose }: { webhook: Webhook | null; onClose: () => void }) {
  const { t } = useTranslation();
  const mobile = useIsMobile();
  const [page, setPage] = useState(1);
  const deliveries = useQuery({
    queryKey: ["admin", "webhooks", "deliveries", webhook?.id, page],
    queryFn: () => listDeliveries(webhook?.id as number, page),
    enabled: webhook !== null,
    placeholderData: keepPreviousData,
  });
  const color = { sent: "green", failed: "red", pending: "processing" } as Record<string, string>;
  return (
    <Drawer
      open={webhook !== null}
      onClose={() => {
        setPage(1);
        onClose();
      }}
      size={mobile ? "100%" : 900}
      title={t("admin.webhooks.logTitle", { url: webhook?.url ?? "" })}
    >
      <ErrorAlert error={deliveries.error} />
      <Table<Delivery>
        size="small"
        rowKey="id"
        loading={deliveries.isFetching}
        dataSource={deliveries.data?.items ?? []}
        scroll={{ x: "max-content" }}
        aria-label={t("admin.webhooks.deliveries")}
        locale={{ emptyText: t("admin.webhooks.noDeliveries") }}
        pagination={{ current: page, pageSize: 20, total: deliveries.data?.total ?? 0, onChange: setPage, showSizeChanger: false }}
        expandable={{
          rowExpandable: (d) => d.log.length > 0,
          expandedRowRender: (d) => (
            <Table
              size="small"
              rowKey="attempt"
              pagination={false}
              dataSource={d.log}
              columns={[
                { title: t("admin.webhooks.attempt"), dataIndex: "attempt" },
                { title: t("common.date"), dataIndex: "at", render: (v: string) => <DateText value={v} time /> },
                { title: t("admin.webhooks.httpStatus"), dataIndex: "status_code", render: (v: number | null) => v ?? "—" },
                { title: t("admin.webhooks.duration"), dataIndex: "duration_ms", render: (v: number | null) => (v === null ? "—" : `${v} ms`) },
                { title: t("admin.webhooks.error"), dataIndex: "error", render: (v: string | null) => v ?? "—" },
              ]}
            />
          ),
        }}
        columns={[
          { title: t("admin.webhooks.event"), dataIndex: "event_type" },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <Tag color={color[s]}>{t(`admin.webhooks.delivery.${s}`, { defaultValue: s })}</Tag> },
          { title: t("admin.webhooks.attempts"), dataIndex: "attempts" },
          { title: t("admin.webhooks.httpStatus"), dataIndex: "status_code", render: (v: number | null) => v ?? "—" },
          { title: t("admin.webhooks.lastError"), dataIndex: "last_error", render: (v: string | null) => <span style={{ whiteSpace: "normal" }}>{v ?? "—"}</span> },
          { title: t("common.createdAt"), dataIndex: "created_at", render: (v: string) => <DateText value={v} time /> },
          { title: t("admin.webhooks.nextAttempt"), dataIndex: "next_attempt_at", render: (v: string | null) => (v ? <DateText value={v} time /> : "—") },
        ]}
      />
    </Drawer>
  );
}
