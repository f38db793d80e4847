import { EditOutlined, KeyOutlined, PlusOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { App, Button, Checkbox, Col, Flex, Form, Input, Modal, Row, Select, Space, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { useIsMobile } from "../../shared/components/useIsMobile";
import { DateText } from "../../shared/components/values";
import { LANGUAGES } from "../../shared/i18n";
import { createUser, listUsers, ROLES, updateUser, USER_FILTERS, type User } from "./api";
import { CustomerSelect } from "../../shared/components/CustomerSelect";

/** Users: list with filters, create, edit roles/active and the rest, reset a password. */
export function UsersTab() {
  const { t } = useTranslation();
  const { list, update } = useListParams(USER_FILTERS);
  const [editing, setEditing] = useState<User | "new" | null>(null);
  const [resetting, setResetting] = useState<User | null>(null);
  const f = list.filters;
  return (
    <>
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
        <Input.Search
          aria-label={t("admin.users.search")}
          placeholder={t("admin.users.search")}
          defaultValue={f.q}
          allowClear
          onSearch={(q) => update({ q })}
          style={{ width: 240, maxWidth: "100%" }}
        />
        <Select
          aria-label={t("admin.users.role")}
          placeholder={t("admin.users.role")}
          allowClear
          value={f.role}
          onChange={(role) => update({ role })}
          options={ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }))}
          style={{ width: 170 }}
        />
        <Select
          aria-label={t("admin.users.active")}
          placeholder={t("admin.users.active")}
          allowClear
          value={f.active}
          onChange={(active) => update({ active })}
          options={[
            { value: "true", label: t("admin.users.activeOnly") },
            { value: "false", label: t("admin.users.inactiveOnly") },
          ]}
          style={{ width: 150 }}
        />
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing("new")} style={{ marginInlineStart: "auto" }}>
          {t("admin.users.new")}
        </Button>
      </Flex>
      <ServerTable<User>
        caption={t("admin.tabs.users")}
        queryKey={["admin", "users"]}
        fetch={listUsers}
        filterNames={USER_FILTERS}
        sortable={false}
        columns={[
          { title: t("admin.users.username"), dataIndex: "username" },
          { title: t("admin.users.fullName"), dataIndex: "full_name", render: (v: string | null) => v ?? "—" },
          {
            title: t("admin.users.roles"),
            dataIndex: "roles",
            render: (roles: string[]) => roles.map((r) => <Tag key={r}>{t(`roles.${r}`, { defaultValue: r })}</Tag>),
          },
          {
            title: t("admin.users.department"),
            dataIndex: "department",
            render: (v: string | null, row) => (v ? `${v}${row.is_department_head ? ` · ${t("admin.users.head")}` : ""}` : "—"),
          },
          {
            title: t("admin.users.active"),
            dataIndex: "active",
            render: (a: boolean) => (a ? <Tag color="green">{t("admin.users.yes")}</Tag> : <Tag>{t("admin.users.no")}</Tag>),
          },
          { title: t("common.createdAt"), dataIndex: "created_at", render: (v: string | null) => <DateText value={v} /> },
          {
            title: t("common.actions"),
            key: "actions",
            render: (_: unknown, row) => (
              <Space>
                <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(row)} aria-label={`${t("common.edit")} ${row.username}`}>
                  {t("common.edit")}
                </Button>
                <Button size="small" icon={<KeyOutlined />} onClick={() => setResetting(row)}>
                  {t("admin.users.resetPassword")}
                </Button>
              </Space>
            ),
          },
        ]}
      />
      {editing ? <UserDialog user={editing === "new" ? null : editing} onClose={() => setEditing(null)} /> : null}
      {resetting ? <PasswordDialog user={resetting} onClose={() => setResetting(null)} /> : null}
    </>
  );
}

/** A portal user has no other role: choosing portal drops the staff roles, and the other way round. */
export function portalAlone(next: string[] | undefined, prev: string[] | undefined): string[] {
  const roles = next ?? [];
  if (!roles.includes("portal")) return roles;
  return (prev ?? []).includes("portal") ? roles.filter((r) => r !== "portal") : ["portal"];
}

interface UserValues {
  username?: string;
  password?: string;
  full_name?: string;
  email?: string;
  department?: string;
  is_department_head?: boolean;
  roles: string[];
  customer_id?: number | null;
  language: string;
  active: boolean;
}

function UserDialog({ user, onClose }: { user: User | null; onClose: () => void }) {
  const { t } = useTranslation();
  const mobile = useIsMobile();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<UserValues>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const roles = Form.useWatch("roles", form) ?? user?.roles ?? [];
  const portal = roles.includes("portal");
  const required = [{ required: true, message: t("admin.required") }];
  const save = async () => {
    const v = await form.validateFields();
    const text = (s: string | undefined) => (s && s.trim() ? s.trim() : user ? null : undefined);
    const common = {
      roles: v.roles as never,
      full_name: text(v.full_name),
      email: text(v.email),
      department: text(v.department),
      is_department_head: Boolean(v.is_department_head),
      customer_id: portal ? (v.customer_id ?? null) : user?.customer_id ? null : undefined,
      language: v.language as never,
      active: v.active,
    };
    setBusy(true);
    setError(null);
    try {
      if (user) await updateUser(user.id, common);
      else await createUser({ ...common, username: (v.username ?? "").trim(), password: v.password ?? "" } as never);
      await queryClient.invalidateQueries({ queryKey: ["admin", "users"] });
      message.success(user ? t("common.saved") : t("admin.users.created"));
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
      title={user ? t("admin.users.editTitle", { name: user.username }) : t("admin.users.new")}
      onCancel={onClose}
      onOk={() => void save()}
      okText={user ? t("common.save") : t("common.create")}
      cancelText={t("common.cancel")}
      confirmLoading={busy}
      width={mobile ? "100%" : 720}
      destroyOnHidden
    >
      <ErrorAlert error={error} />
      <Form<UserValues>
        form={form}
        layout="vertical"
        initialValues={
          user
            ? { ...user, full_name: user.full_name ?? undefined, email: user.email ?? undefined, department: user.department ?? undefined }
            : { roles: ["sales_rep"], language: "en", active: true, is_department_head: false }
        }
      >
        <Row gutter={16}>
          {user ? null : (
            <>
              <Col xs={24} md={12}>
                <Form.Item name="username" label={t("admin.users.username")} rules={required}>
                  <Input autoComplete="off" />
                </Form.Item>
              </Col>
              <Col xs={24} md={12}>
                <Form.Item name="password" label={t("admin.users.password")} rules={[...required, { min: 8, message: t("admin.users.passwordMin") }]}>
                  <Input.Password autoComplete="new-password" />
                </Form.Item>
              </Col>
            </>
          )}
          <Col xs={24} md={12}>
            <Form.Item name="full_name" label={t("admin.users.fullName")}>
              <Input />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="email" label={t("admin.users.email")}>
              <Input type="email" />
            </Form.Item>
          </Col>
          <Col xs={24}>
            <Form.Item name="roles" label={t("admin.users.roles")} rules={required} normalize={portalAlone} extra={t("admin.users.portalAlone")}>
              <Select mode="multiple" options={ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }))} />
            </Form.Item>
          </Col>
          {portal ? (
            <Col xs={24}>
              <Form.Item name="customer_id" label={t("admin.users.customer")} rules={required}>
                <CustomerSelect placeholder={t("admin.users.customerPick")} />
              </Form.Item>
            </Col>
          ) : null}
          <Col xs={24} md={12}>
            <Form.Item name="department" label={t("admin.users.department")}>
              <Input />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="language" label={t("admin.users.language")}>
              <Select options={LANGUAGES.map((l) => ({ value: l.code, label: l.label }))} />
            </Form.Item>
          </Col>
          <Col xs={12}>
            <Form.Item name="is_department_head" valuePropName="checked">
              <Checkbox>{t("admin.users.head")}</Checkbox>
            </Form.Item>
          </Col>
          <Col xs={12}>
            <Form.Item name="active" valuePropName="checked">
              <Checkbox>{t("admin.users.activeLabel")}</Checkbox>
            </Form.Item>
          </Col>
        </Row>
      </Form>
    </Modal>
  );
}

function PasswordDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ password: string }>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const save = async () => {
    const { password } = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      await updateUser(user.id, { password });
      message.success(t("admin.users.passwordReset", { name: user.username }));
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
      title={t("admin.users.resetTitle", { name: user.username })}
      onCancel={onClose}
      onOk={() => void save()}
      okText={t("admin.users.resetPassword")}
      cancelText={t("common.cancel")}
      confirmLoading={busy}
      destroyOnHidden
    >
      <ErrorAlert error={error} />
      <Form form={form} layout="vertical">
        <Form.Item
          name="password"
          label={t("admin.users.newPassword")}
          extra={t("admin.users.resetHint")}
          rules={[{ required: true, message: t("admin.required") }, { min: 8, message: t("admin.users.passwordMin") }]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
