import { EyeOutlined, MinusCircleOutlined, PlusOutlined, StopOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Checkbox, Col, Descriptions, Drawer, Flex, Form, Input, Modal, Popconfirm, Row, Select, Skeleton, Space, Switch, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { useIsMobile } from "../../shared/components/useIsMobile";
import { DateText } from "../../shared/components/values";
import { LANGUAGES } from "../../shared/i18n";
import { createTemplate, deactivateTemplate, FIELD_TYPES, getTemplate, listTemplates, placeholders, type TemplateCreate, type TemplateSummary } from "./api";
import { useIdempotencyKey } from "../../shared/api/idempotency";

const FILTERS = ["name", "language", "all_versions"] as const;
const langLabel = (code: string) => LANGUAGES.find((l) => l.code === code)?.label ?? code;

/** Contract templates: the latest version of each (or every version), create, view, deactivate. */
export function TemplatesTab() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const { list, update } = useListParams(FILTERS);
  const [creating, setCreating] = useState(false);
  const [viewing, setViewing] = useState<number | null>(null);
  const deactivate = useMutation({
    mutationFn: (id: number) => deactivateTemplate(id),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["admin", "templates"] });
      message.success(t("admin.templates.deactivated"));
    },
  });
  const f = list.filters;
  return (
    <>
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search" align="center">
        <Input.Search
          aria-label={t("admin.templates.name")}
          placeholder={t("admin.templates.name")}
          defaultValue={f.name}
          allowClear
          onSearch={(name) => update({ name })}
          style={{ width: 220, maxWidth: "100%" }}
        />
        <Select
          aria-label={t("admin.templates.language")}
          placeholder={t("admin.templates.language")}
          allowClear
          value={f.language}
          onChange={(language) => update({ language })}
          options={LANGUAGES.map((l) => ({ value: l.code, label: l.label }))}
          style={{ width: 150 }}
        />
        <label>
          <Space>
            <Switch size="small" checked={f.all_versions === "true"} onChange={(on) => update({ all_versions: on ? "true" : null })} />
            {t("admin.templates.allVersions")}
          </Space>
        </label>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} style={{ marginInlineStart: "auto" }}>
          {t("admin.templates.new")}
        </Button>
      </Flex>
      <ErrorAlert error={deactivate.error} />
      <ServerTable<TemplateSummary>
        caption={t("admin.tabs.templates")}
        queryKey={["admin", "templates"]}
        fetch={listTemplates}
        filterNames={FILTERS}
        sortable={false}
        columns={[
          { title: t("admin.templates.name"), dataIndex: "name" },
          { title: t("admin.templates.language"), dataIndex: "language", render: langLabel },
          { title: t("admin.templates.version"), dataIndex: "version", render: (v: number) => `v${v}` },
          { title: t("admin.templates.fields"), dataIndex: "fields", render: (fields: TemplateSummary["fields"]) => fields.length },
          {
            title: t("common.status"),
            dataIndex: "active",
            render: (a: boolean) => (a ? <Tag color="green">{t("admin.templates.active")}</Tag> : <Tag>{t("admin.templates.inactive")}</Tag>),
          },
          { title: t("common.createdAt"), dataIndex: "created_at", render: (v: string | null) => <DateText value={v} /> },
          {
            title: t("common.actions"),
            key: "actions",
            render: (_: unknown, row) => (
              <Space>
                <Button size="small" icon={<EyeOutlined />} onClick={() => setViewing(row.id)}>
                  {t("common.view")}
                </Button>
                {row.active ? (
                  <Popconfirm
                    title={t("admin.templates.deactivateConfirm", { name: row.name, version: row.version })}
                    description={t("admin.templates.deactivateText")}
                    okText={t("admin.templates.deactivate")}
                    okButtonProps={{ danger: true }}
                    cancelText={t("common.cancel")}
                    onConfirm={() => deactivate.mutate(row.id)}
                  >
                    <Button size="small" danger icon={<StopOutlined />}>
                      {t("admin.templates.deactivate")}
                    </Button>
                  </Popconfirm>
                ) : null}
              </Space>
            ),
          },
        ]}
      />
      {creating ? <TemplateDialog onClose={() => setCreating(false)} /> : null}
      <TemplateDrawer id={viewing} onClose={() => setViewing(null)} />
    </>
  );
}

function TemplateDrawer({ id, onClose }: { id: number | null; onClose: () => void }) {
  const { t } = useTranslation();
  const mobile = useIsMobile();
  const template = useQuery({ queryKey: ["admin", "templates", "one", id], queryFn: () => getTemplate(id as number), enabled: id !== null });
  const tpl = template.data;
  return (
    <Drawer open={id !== null} onClose={onClose} size={mobile ? "100%" : 720} title={tpl ? `${tpl.name} · v${tpl.version}` : t("admin.templates.template")}>
      <ErrorAlert error={template.error} />
      {template.isLoading || !tpl ? (
        <Skeleton active />
      ) : (
        <>
          <Descriptions column={1} size="small" bordered style={{ marginBottom: 16 }}>
            <Descriptions.Item label={t("admin.templates.language")}>{langLabel(tpl.language)}</Descriptions.Item>
            <Descriptions.Item label={t("admin.templates.version")}>
              v{tpl.version}
              {tpl.latest_version && tpl.latest_version !== tpl.version ? ` (${t("admin.templates.latest", { version: tpl.latest_version })})` : ""}
            </Descriptions.Item>
            <Descriptions.Item label={t("admin.templates.description")}>{tpl.description ?? "—"}</Descriptions.Item>
            <Descriptions.Item label={t("admin.templates.createdBy")}>{tpl.created_by ?? "—"}</Descriptions.Item>
          </Descriptions>
          <Table
            size="small"
            rowKey="name"
            pagination={false}
            aria-label={t("admin.templates.fields")}
            dataSource={tpl.fields}
            scroll={{ x: "max-content" }}
            style={{ marginBottom: 16 }}
            columns={[
              { title: t("admin.templates.fieldName"), dataIndex: "name", render: (n: string) => <Typography.Text code>{n}</Typography.Text> },
              { title: t("admin.templates.fieldLabel"), dataIndex: "label", render: (v: string | null) => v ?? "—" },
              { title: t("admin.templates.fieldType"), dataIndex: "type", render: (v: string) => t(`admin.templates.types.${v}`, { defaultValue: v }) },
              { title: t("admin.templates.required"), dataIndex: "required", render: (r: boolean) => (r ? t("admin.users.yes") : t("admin.users.no")) },
            ]}
          />
          <Typography.Title level={5}>{t("admin.templates.body")}</Typography.Title>
          <pre style={{ whiteSpace: "pre-wrap", background: "#fafafa", border: "1px solid #f0f0f0", padding: 12, borderRadius: 6, fontFamily: "inherit" }}>
            {tpl.body.split(/(\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\})/g).map((part, i) =>
              i % 2 ? (
                <Tag key={i} color="blue" style={{ marginInline: 2 }}>
                  {part.replace(/[{}\s]/g, "")}
                </Tag>
              ) : (
                part
              ),
            )}
          </pre>
          <Typography.Text type="secondary">{t("admin.templates.previewNote")}</Typography.Text>
        </>
      )}
    </Drawer>
  );
}

interface TemplateValues {
  name: string;
  language: string;
  description?: string;
  body: string;
  fields: { name: string; type: string; required?: boolean; label?: string }[];
}

function TemplateDialog({ onClose }: { onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const mobile = useIsMobile();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<TemplateValues>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const idempotency = useIdempotencyKey();
  const body = Form.useWatch("body", form) ?? "";
  const fields = Form.useWatch("fields", form) ?? [];
  const missing = placeholders(body).filter((p) => !fields.some((f) => f?.name === p));
  const required = [{ required: true, message: t("admin.required") }];
  const save = async () => {
    const v = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      const payload: TemplateCreate = {
        name: v.name.trim(),
        language: v.language as TemplateCreate["language"],
        body: v.body,
        description: v.description?.trim() || undefined,
        fields: (v.fields ?? []).map((f) => ({
          name: f.name.trim(),
          type: f.type as "text",
          required: Boolean(f.required),
          label: f.label?.trim() || undefined,
        })),
      };
      const created = await createTemplate(payload, idempotency.key);
      idempotency.renew();
      await queryClient.invalidateQueries({ queryKey: ["admin", "templates"] });
      message.success(t("admin.templates.created", { name: created.name, version: created.version }));
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
      title={t("admin.templates.new")}
      onCancel={onClose}
      onOk={() => void save()}
      okText={t("common.create")}
      cancelText={t("common.cancel")}
      confirmLoading={busy}
      width={mobile ? "100%" : 860}
      destroyOnHidden
    >
      <ErrorAlert error={error} />
      <Form<TemplateValues> form={form} layout="vertical" initialValues={{ language: i18n.language, fields: [] }}>
        <Row gutter={16}>
          <Col xs={24} md={12}>
            <Form.Item name="name" label={t("admin.templates.name")} rules={required} extra={t("admin.templates.nameHint")}>
              <Input />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="language" label={t("admin.templates.language")} rules={required}>
              <Select options={LANGUAGES.map((l) => ({ value: l.code, label: l.label }))} />
            </Form.Item>
          </Col>
          <Col xs={24}>
            <Form.Item name="description" label={t("admin.templates.description")}>
              <Input />
            </Form.Item>
          </Col>
          <Col xs={24}>
            <Form.Item name="body" label={t("admin.templates.body")} rules={required} extra={t("admin.templates.bodyHint")}>
              <Input.TextArea autoSize={{ minRows: 6, maxRows: 16 }} style={{ fontFamily: "monospace" }} />
            </Form.Item>
          </Col>
        </Row>
        <Typography.Title level={5}>{t("admin.templates.fields")}</Typography.Title>
        {missing.length ? (
          <Flex gap={8} wrap align="center" style={{ marginBottom: 12 }}>
            <Typography.Text type="warning">{t("admin.templates.missing", { names: missing.join(", ") })}</Typography.Text>
            <Button
              size="small"
              onClick={() => form.setFieldValue("fields", [...fields, ...missing.map((name) => ({ name, type: "text", required: true }))])}
            >
              {t("admin.templates.addMissing")}
            </Button>
          </Flex>
        ) : null}
        <Form.List name="fields">
          {(items, { add, remove }) => (
            <>
              {items.map(({ key, name }) => (
                <Row key={key} gutter={8} align="top">
                  <Col xs={12} md={6}>
                    <Form.Item name={[name, "name"]} label={t("admin.templates.fieldName")} rules={[...required, { pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, message: t("admin.templates.fieldNameRule") }]}>
                      <Input />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={6}>
                    <Form.Item name={[name, "label"]} label={t("admin.templates.fieldLabel")}>
                      <Input />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={5}>
                    <Form.Item name={[name, "type"]} label={t("admin.templates.fieldType")} rules={required}>
                      <Select options={FIELD_TYPES.map((x) => ({ value: x, label: t(`admin.templates.types.${x}`) }))} />
                    </Form.Item>
                  </Col>
                  <Col xs={8} md={5}>
                    <Form.Item name={[name, "required"]} label={t("admin.templates.required")} valuePropName="checked">
                      <Checkbox />
                    </Form.Item>
                  </Col>
                  <Col xs={4} md={2}>
                    <Form.Item label=" ">
                      <Button type="text" danger icon={<MinusCircleOutlined />} aria-label={t("common.remove")} onClick={() => remove(name)} />
                    </Form.Item>
                  </Col>
                </Row>
              ))}
              <Button icon={<PlusOutlined />} onClick={() => add({ type: "text", required: false })}>
                {t("admin.templates.addField")}
              </Button>
            </>
          )}
        </Form.List>
      </Form>
    </Modal>
  );
}
