import { EditOutlined, UndoOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Checkbox, Form, Input, Modal, Popconfirm, Select, Space, Switch, Table, Tabs, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { useIsMobile } from "../../shared/components/useIsMobile";
import { LANGUAGES } from "../../shared/i18n";
import { CHANNELS, listRules, RECIPIENTS, resetRule, updateRule, type Rule, type RuleUpdate } from "./api";

/** Notification rules, one per event type: channels, recipients, texts per language; reset to default. */
export function RulesTab() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const rules = useQuery({ queryKey: ["admin", "rules"], queryFn: listRules });
  const [editing, setEditing] = useState<Rule | null>(null);
  const reset = useMutation({
    mutationFn: (eventType: string) => resetRule(eventType),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["admin", "rules"] });
      message.success(t("admin.rules.wasReset"));
    },
  });
  const eventName = (e: string) => t(`admin.events.${e}`, { defaultValue: e.replace(/_/g, " ") });
  return (
    <>
      <Typography.Paragraph type="secondary">{t("admin.rules.intro")}</Typography.Paragraph>
      <ErrorAlert error={rules.error ?? reset.error} />
      <Table<Rule>
        size="middle"
        rowKey="event_type"
        loading={rules.isLoading}
        dataSource={rules.data?.items ?? []}
        pagination={false}
        scroll={{ x: "max-content" }}
        aria-label={t("admin.tabs.rules")}
        columns={[
          {
            title: t("admin.rules.event"),
            dataIndex: "event_type",
            render: (e: string, row) => (
              <>
                <Typography.Text strong>{eventName(e)}</Typography.Text>
                <br />
                <Typography.Text type="secondary" code style={{ fontSize: 12 }}>
                  {e}
                </Typography.Text>
                {row.customised ? <Tag color="blue" style={{ marginInlineStart: 6 }}>{t("admin.rules.customised")}</Tag> : null}
              </>
            ),
          },
          { title: t("admin.rules.channels"), dataIndex: "channels", render: (cs: string[]) => cs.map((c) => <Tag key={c}>{t(`admin.rules.channel.${c}`, { defaultValue: c })}</Tag>) },
          {
            title: t("admin.rules.recipients"),
            dataIndex: "recipients",
            render: (rs: string[]) => rs.map((r) => <Tag key={r}>{t(`admin.rules.recipient.${r}`, { defaultValue: r.replace(/_/g, " ") })}</Tag>),
          },
          { title: t("admin.rules.enabled"), dataIndex: "enabled", render: (on: boolean) => (on ? <Tag color="green">{t("admin.users.yes")}</Tag> : <Tag>{t("admin.users.no")}</Tag>) },
          {
            title: t("common.actions"),
            key: "actions",
            render: (_: unknown, row) => (
              <Space>
                <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(row)}>
                  {t("common.edit")}
                </Button>
                {row.customised ? (
                  <Popconfirm
                    title={t("admin.rules.resetConfirm", { event: eventName(row.event_type) })}
                    okText={t("admin.rules.reset")}
                    okButtonProps={{ danger: true }}
                    cancelText={t("common.cancel")}
                    onConfirm={() => reset.mutate(row.event_type)}
                  >
                    <Button size="small" icon={<UndoOutlined />}>
                      {t("admin.rules.reset")}
                    </Button>
                  </Popconfirm>
                ) : null}
              </Space>
            ),
          },
        ]}
      />
      {editing ? <RuleDialog rule={editing} title={eventName(editing.event_type)} onClose={() => setEditing(null)} /> : null}
    </>
  );
}

interface RuleValues {
  channels: string[];
  recipients: string[];
  enabled: boolean;
  description?: string;
  templates: Record<string, { subject?: string; body?: string }>;
}

function RuleDialog({ rule, title, onClose }: { rule: Rule; title: string; onClose: () => void }) {
  const { t } = useTranslation();
  const mobile = useIsMobile();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<RuleValues>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const recipientOptions = [...new Set([...RECIPIENTS, ...rule.recipients])];
  const save = async () => {
    const v = await form.validateFields();
    const templates: NonNullable<RuleUpdate["templates"]> = {};
    for (const lang of LANGUAGES) {
      const text = v.templates?.[lang.code];
      // only what was written: a part left empty keeps the built-in text (the API refuses nulls)
      const subject = text?.subject?.trim();
      const body = text?.body?.trim();
      if (subject || body) templates[lang.code] = { ...(subject ? { subject } : {}), ...(body ? { body } : {}) };
    }
    setBusy(true);
    setError(null);
    try {
      await updateRule(rule.event_type, {
        channels: v.channels as RuleUpdate["channels"],
        recipients: v.recipients as RuleUpdate["recipients"],
        enabled: v.enabled,
        description: v.description?.trim() || null,
        templates,
      });
      await queryClient.invalidateQueries({ queryKey: ["admin", "rules"] });
      message.success(t("common.saved"));
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
      title={t("admin.rules.editTitle", { event: title })}
      onCancel={onClose}
      onOk={() => void save()}
      okText={t("common.save")}
      cancelText={t("common.cancel")}
      confirmLoading={busy}
      width={mobile ? "100%" : 760}
      destroyOnHidden
    >
      <ErrorAlert error={error} />
      <Form<RuleValues>
        form={form}
        layout="vertical"
        initialValues={{
          channels: rule.channels,
          recipients: rule.recipients,
          enabled: rule.enabled,
          description: rule.description ?? undefined,
          templates: Object.fromEntries(Object.entries(rule.templates ?? {}).map(([k, v]) => [k, { subject: v.subject ?? undefined, body: v.body ?? undefined }])),
        }}
      >
        <Form.Item name="enabled" label={t("admin.rules.enabled")} valuePropName="checked">
          <Switch />
        </Form.Item>
        <Form.Item name="channels" label={t("admin.rules.channels")}>
          <Checkbox.Group options={CHANNELS.map((c) => ({ value: c, label: t(`admin.rules.channel.${c}`) }))} />
        </Form.Item>
        <Form.Item name="recipients" label={t("admin.rules.recipients")}>
          <Select mode="multiple" options={recipientOptions.map((r) => ({ value: r, label: t(`admin.rules.recipient.${r}`, { defaultValue: r.replace(/_/g, " ") }) }))} />
        </Form.Item>
        <Form.Item name="description" label={t("admin.rules.description")}>
          <Input />
        </Form.Item>
        <Typography.Title level={5}>{t("admin.rules.texts")}</Typography.Title>
        <Typography.Paragraph type="secondary">{t("admin.rules.textsHint")}</Typography.Paragraph>
        <Tabs
          items={LANGUAGES.map((l) => ({
            key: l.code,
            label: l.label,
            forceRender: true,
            children: (
              <>
                <Form.Item name={["templates", l.code, "subject"]} label={t("admin.rules.subject")}>
                  <Input />
                </Form.Item>
                <Form.Item name={["templates", l.code, "body"]} label={t("admin.rules.body")}>
                  <Input.TextArea autoSize={{ minRows: 3, maxRows: 10 }} />
                </Form.Item>
              </>
            ),
          }))}
        />
      </Form>
    </Modal>
  );
}
