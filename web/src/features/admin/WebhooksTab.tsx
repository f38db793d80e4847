import { DeleteOutlined, EditOutlined, HistoryOutlined, KeyOutlined, PlusOutlined, RedoOutlined, SendOutlined } from "@ant-design/icons";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Drawer, Flex, Form, Input, InputNumber, Modal, Popconfirm, Select, Space, Switch, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { ServerTable } from "../../shared/components/ServerTable";
import { useIsMobile } from "../../shared/components/useIsMobile";
import { DateText } from "../../shared/components/values";
import {
  createWebhook,
  deleteWebhook,
  listDeliveries,
  listPublicEventTypes,
  listWebhooks,
  pingWebhook,
  redeliverDelivery,
  rotateWebhookSecret,
  updateWebhook,
  type Delivery,
  type PingResult,
  type RotatedWebhook,
  type Webhook,
} from "./api";
import { useIdempotencyKey } from "../../shared/api/idempotency";

/** Webhooks of partner systems: create, edit, delete (confirmed), a test ping, secret rotation
 * with a grace period, and the delivery log of each with redelivery by hand. */
export function WebhooksTab() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Webhook | "new" | null>(null);
  const [log, setLog] = useState<Webhook | null>(null);
  const [rotating, setRotating] = useState<Webhook | null>(null);
  const [pinged, setPinged] = useState<PingResult | null>(null);
  const ping = useMutation({
    mutationFn: (id: number) => pingWebhook(id),
    onSuccess: async (result) => {
      setPinged(result);
      await queryClient.invalidateQueries({ queryKey: ["admin", "webhooks", "deliveries"] });
    },
  });
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
      <ErrorAlert error={remove.error ?? ping.error} />
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
                  title={t("admin.webhooks.pingConfirm")}
                  description={row.url}
                  okText={t("admin.webhooks.ping")}
                  cancelText={t("common.cancel")}
                  onConfirm={() => ping.mutate(row.id)}
                >
                  <Button size="small" icon={<SendOutlined />} loading={ping.isPending && ping.variables === row.id}>
                    {t("admin.webhooks.ping")}
                  </Button>
                </Popconfirm>
                <Button size="small" icon={<KeyOutlined />} onClick={() => setRotating(row)}>
                  {t("admin.webhooks.rotate")}
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
      {rotating ? <RotateSecretDialog webhook={rotating} onClose={() => setRotating(null)} /> : null}
      <Modal
        open={pinged !== null}
        title={t("admin.webhooks.pingTitle")}
        onCancel={() => setPinged(null)}
        footer={<Button onClick={() => setPinged(null)}>{t("common.close")}</Button>}
      >
        {pinged ? (
          <Alert
            type={pinged.ok ? "success" : "error"}
            showIcon
            message={
              pinged.ok
                ? t("admin.webhooks.pingOk", { status: pinged.status_code ?? "—", ms: pinged.duration_ms })
                : t("admin.webhooks.pingFailed", { error: pinged.error ?? String(pinged.status_code ?? "—") })
            }
            description={t("admin.webhooks.pingLogged", { id: pinged.delivery_id })}
          />
        ) : null}
      </Modal>
    </>
  );
}

/** Rotate a webhook's secret: confirm with a grace period, then show the new secret once. */
function RotateSecretDialog({ webhook, onClose }: { webhook: Webhook; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [hours, setHours] = useState<number>(24);
  const [rotated, setRotated] = useState<RotatedWebhook | null>(null);
  const rotate = useMutation({
    mutationFn: () => rotateWebhookSecret(webhook.id, Math.round(hours * 3600)),
    onSuccess: async (result) => {
      setRotated(result);
      await queryClient.invalidateQueries({ queryKey: ["admin", "webhooks"] });
    },
  });
  if (rotated) {
    return (
      <Modal open title={t("admin.webhooks.rotatedTitle")} onCancel={onClose} footer={<Button type="primary" onClick={onClose}>{t("common.close")}</Button>}>
        <Alert type="warning" showIcon message={t("admin.webhooks.rotatedOnce")} style={{ marginBottom: 12 }} />
        <Typography.Paragraph copyable={{ text: rotated.secret }}>
          <Typography.Text code>{rotated.secret}</Typography.Text>
        </Typography.Paragraph>
        <Typography.Paragraph type="secondary">
          {rotated.previous_secret_expires_at ? (
            <>
              {t("admin.webhooks.previousValidUntil")} <DateText value={rotated.previous_secret_expires_at} time />
            </>
          ) : (
            t("admin.webhooks.previousRevoked")
          )}
        </Typography.Paragraph>
      </Modal>
    );
  }
  return (
    <Modal
      open
      title={t("admin.webhooks.rotateTitle")}
      onCancel={onClose}
      onOk={() => rotate.mutate()}
      okText={t("admin.webhooks.rotate")}
      okButtonProps={{ danger: true }}
      cancelText={t("common.cancel")}
      confirmLoading={rotate.isPending}
      destroyOnHidden
    >
      <ErrorAlert error={rotate.error} />
      <Typography.Paragraph>{t("admin.webhooks.rotateIntro", { url: webhook.url })}</Typography.Paragraph>
      <Form layout="vertical">
        <Form.Item label={t("admin.webhooks.graceHours")} extra={t("admin.webhooks.graceHint")}>
          <InputNumber min={0} max={168} step={1} value={hours} onChange={(v) => setHours(typeof v === "number" ? v : 0)} />
        </Form.Item>
      </Form>
    </Modal>
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
  // what a webhook may subscribe to: the catalogue's public event types (others are refused, 422)
  const types = useQuery({ queryKey: ["event-types", "public"], queryFn: listPublicEventTypes, staleTime: 300_000 });
  const eventOptions = ["*", ...(types.data ?? [])].map((e) => ({
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
          <Select mode="tags" options={eventOptions} loading={types.isLoading} />
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
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const redeliver = useMutation({
    mutationFn: (deliveryId: number) => redeliverDelivery(webhook?.id as number, deliveryId),
    onSuccess: async () => {
      message.success(t("admin.webhooks.redelivered"));
      await queryClient.invalidateQueries({ queryKey: ["admin", "webhooks", "deliveries", webhook?.id] });
    },
  });
  const deliveries = useQuery({
    queryKey: ["admin", "webhooks", "deliveries", webhook?.id, page],
    queryFn: () => listDeliveries(webhook?.id as number, page),
    enabled: webhook !== null,
    placeholderData: keepPreviousData,
    // a delivery still pending (a retry, a redelivery) is followed until it is sent or fails
    refetchInterval: (query) => (query.state.data?.items.some((d) => d.status === "pending") ? 3000 : false),
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
      <ErrorAlert error={deliveries.error ?? redeliver.error} />
      {webhook && !webhook.active ? <Alert type="info" showIcon message={t("admin.webhooks.redeliverDisabled")} style={{ marginBottom: 12 }} /> : null}
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
          {
            title: t("common.actions"),
            key: "actions",
            render: (_: unknown, d) =>
              d.event_type === "ping" ? null : (
                <Popconfirm
                  title={t("admin.webhooks.redeliverConfirm")}
                  description={`${d.event_type} · ${d.event_id}`}
                  okText={t("admin.webhooks.redeliver")}
                  cancelText={t("common.cancel")}
                  onConfirm={() => redeliver.mutate(d.id)}
                  disabled={!webhook?.active}
                >
                  <Button
                    size="small"
                    icon={<RedoOutlined />}
                    disabled={!webhook?.active}
                    loading={redeliver.isPending && redeliver.variables === d.id}
                  >
                    {t("admin.webhooks.redeliver")}
                  </Button>
                </Popconfirm>
              ),
          },
        ]}
      />
    </Drawer>
  );
}
