// /approvals/flows/new and /approvals/flows/:id (admins): name, document type, conditions (amount
// range, currency, department, contract kind), SLA, priority and the ordered steps — each with one
// kind of approver (a role, a user, or the submitter's department head) and any/all — added,
// removed and moved up or down. Saving an existing flow makes a new version.
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, AutoComplete, Button, Card, Col, Flex, Form, Input, InputNumber, Radio, Row, Select, Skeleton, Switch, Tag, type FormInstance } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { createFlow, DOCUMENT_TYPES, getFlow, updateFlow, type FlowCreate, type FlowDetail, type FlowStepInput } from "./api";
import { useIdempotencyKey } from "../../shared/api/idempotency";

const ROLES = ["admin", "sales_manager", "sales_rep", "finance", "approver", "warehouse", "readonly"] as const;
type Approver = "role" | "user" | "department_head";

interface StepValues {
  name?: string;
  approver?: Approver;
  approver_role?: string;
  approver_user_id?: number;
  mode?: "any" | "all";
}

function toForm(flow?: FlowDetail): Record<string, unknown> {
  if (!flow) {
    return { document_type: "contract", sla_hours: 48, active: true, allow_self_approval: false, conditions: {}, steps: [{ approver: "role", approver_role: "approver", mode: "any" }] };
  }
  return {
    name: flow.name,
    document_type: flow.document_type,
    conditions: { ...flow.conditions },
    priority: flow.priority,
    sla_hours: flow.sla_hours,
    allow_self_approval: flow.allow_self_approval,
    active: flow.active,
    steps: flow.steps.map((s) => ({
      name: s.name,
      mode: s.mode,
      approver: s.department_head ? "department_head" : s.approver_user_id || s.approver_user_ids?.length ? "user" : "role",
      approver_role: s.approver_role ?? undefined,
      approver_user_id: s.approver_user_id ?? s.approver_user_ids?.[0] ?? undefined,
    })),
  };
}

export function flowBody(values: Record<string, unknown>): FlowCreate {
  const c = (values.conditions ?? {}) as Record<string, unknown>;
  const conditions: Record<string, unknown> = {};
  for (const key of ["min_amount", "max_amount", "currency", "department", "contract_kind"]) {
    const v = c[key];
    if (typeof v === "string" && v.trim()) conditions[key] = v.trim();
  }
  const steps: FlowStepInput[] = ((values.steps ?? []) as StepValues[]).map((s) => {
    const step: FlowStepInput = { name: (s.name ?? "").trim(), mode: s.mode ?? "any" };
    if (s.approver === "department_head") step.department_head = true;
    else if (s.approver === "user") step.approver_user_id = s.approver_user_id;
    else step.approver_role = s.approver_role;
    return step;
  });
  return {
    name: String(values.name ?? "").trim(),
    document_type: String(values.document_type ?? "").trim(),
    conditions,
    priority: typeof values.priority === "number" ? values.priority : undefined,
    sla_hours: typeof values.sla_hours === "number" ? values.sla_hours : undefined,
    allow_self_approval: Boolean(values.allow_self_approval),
    active: Boolean(values.active),
    steps,
  };
}

function StepCard({ form, name, index, count, move, remove }: { form: FormInstance; name: number; index: number; count: number; move: (a: number, b: number) => void; remove: (i: number) => void }) {
  const { t } = useTranslation();
  const approver = Form.useWatch(["steps", name, "approver"], form) as Approver | undefined;
  return (
    <Card
      size="small"
      style={{ marginBottom: 12 }}
      title={
        <>
          <Tag>{index + 1}</Tag>
          {t("approvals.stepN", { n: index + 1 })}
        </>
      }
      extra={
        <Flex gap={4}>
          <Button size="small" icon={<ArrowUpOutlined />} disabled={index === 0} onClick={() => move(index, index - 1)} aria-label={t("approvals.moveUp")} />
          <Button size="small" icon={<ArrowDownOutlined />} disabled={index === count - 1} onClick={() => move(index, index + 1)} aria-label={t("approvals.moveDown")} />
          <Button size="small" danger icon={<DeleteOutlined />} disabled={count === 1} onClick={() => remove(name)} aria-label={t("approvals.removeStep")} />
        </Flex>
      }
    >
      <Row gutter={12}>
        <Col xs={24} md={8}>
          <Form.Item label={t("approvals.stepName")} name={[name, "name"]} rules={[{ required: true, whitespace: true, message: t("auth.required") }]}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={24} md={10}>
          <Form.Item label={t("approvals.approver")} name={[name, "approver"]}>
            <Radio.Group
              optionType="button"
              options={[
                { value: "role", label: t("approvals.byRole") },
                { value: "user", label: t("approvals.byUser") },
                { value: "department_head", label: t("approvals.departmentHead") },
              ]}
            />
          </Form.Item>
        </Col>
        <Col xs={24} md={6}>
          <Form.Item label={t("approvals.mode")} name={[name, "mode"]} tooltip={t("approvals.modeHelp")}>
            <Select options={["any", "all"].map((m) => ({ value: m, label: t(`approvals.modes.${m}`) }))} />
          </Form.Item>
        </Col>
        {approver === "user" ? (
          <Col xs={24} md={8}>
            <Form.Item label={t("approvals.userId")} name={[name, "approver_user_id"]} rules={[{ required: true, message: t("auth.required") }]}>
              <InputNumber min={1} precision={0} style={{ width: "100%" }} />
            </Form.Item>
          </Col>
        ) : approver === "department_head" ? null : (
          <Col xs={24} md={8}>
            <Form.Item label={t("approvals.role")} name={[name, "approver_role"]} rules={[{ required: true, message: t("auth.required") }]}>
              <Select options={ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }))} />
            </Form.Item>
          </Col>
        )}
      </Row>
    </Card>
  );
}

export default function FlowEditPage() {
  const { id } = useParams();
  const flow = useQuery({ queryKey: ["approval-flows", id], queryFn: () => getFlow(id as string), enabled: Boolean(id) });
  if (id && !flow.data) return flow.error ? <ErrorAlert error={flow.error} /> : <Skeleton active />;
  return <FlowEditor flow={flow.data} key={id ?? "new"} />;
}

function FlowEditor({ flow }: { flow?: FlowDetail }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const idempotency = useIdempotencyKey();
  const [error, setError] = useState<unknown>(null);
  if (!can("approvalFlows.manage")) return <Tag color="red">{t("common.notAllowed")}</Tag>;

  const save = async () => {
    try {
      await form.validateFields(undefined, { recursive: true });
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const body = flowBody(form.getFieldsValue(true));
      const saved = flow ? await updateFlow(flow.id, body) : await createFlow(body, idempotency.key);
      idempotency.renew();
      await queryClient.invalidateQueries({ queryKey: ["approval-flows"] });
      message.success(t("approvals.flowSaved", { name: saved.name, version: saved.version }));
      navigate("/approvals/flows");
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title={flow ? t("approvals.editFlow", { name: flow.name }) : t("approvals.newFlow")} subtitle={flow ? `v${flow.version}` : undefined} />
      <Card>
        <ErrorAlert error={error} />
        <Form form={form} layout="vertical" initialValues={toForm(flow)} onFinish={() => void save()}>
          <Row gutter={16}>
            <Col xs={24} md={10}>
              <Form.Item label={t("common.name")} name="name" rules={[{ required: true, whitespace: true, message: t("auth.required") }]}>
                <Input data-testid="flow-name" />
              </Form.Item>
            </Col>
            <Col xs={24} md={6}>
              <Form.Item
                label={t("approvals.documentType")}
                name="document_type"
                rules={[{ required: true, message: t("auth.required") }, { pattern: /^[a-z][a-z0-9_]{0,49}$/, message: t("approvals.badType") }]}
              >
                <AutoComplete options={DOCUMENT_TYPES.map((d) => ({ value: d, label: `${d} — ${t(`approvals.types.${d}`)}` }))} />
              </Form.Item>
            </Col>
            <Col xs={12} md={4}>
              <Form.Item label={t("approvals.sla")} name="sla_hours" tooltip={t("approvals.slaHelp")}>
                <InputNumber min={1} max={8760} precision={0} suffix="h" style={{ width: "100%" }} />
              </Form.Item>
            </Col>
            <Col xs={12} md={4}>
              <Form.Item label={t("approvals.priority")} name="priority" tooltip={t("approvals.priorityHelp")}>
                <InputNumber precision={0} style={{ width: "100%" }} />
              </Form.Item>
            </Col>
          </Row>
          <Card size="small" title={t("approvals.conditions")} style={{ marginBottom: 16 }}>
            <Row gutter={12}>
              <Col xs={12} md={5}>
                <Form.Item label={t("approvals.minAmount")} name={["conditions", "min_amount"]} rules={[{ pattern: /^\d+(\.\d+)?$/, message: t("approvals.badNumber") }]}>
                  <Input inputMode="decimal" />
                </Form.Item>
              </Col>
              <Col xs={12} md={5}>
                <Form.Item label={t("approvals.maxAmount")} name={["conditions", "max_amount"]} rules={[{ pattern: /^\d+(\.\d+)?$/, message: t("approvals.badNumber") }]}>
                  <Input inputMode="decimal" />
                </Form.Item>
              </Col>
              <Col xs={8} md={4}>
                <Form.Item label={t("common.currency")} name={["conditions", "currency"]} rules={[{ pattern: /^[A-Z]{3}$/, message: "EUR, USD…" }]}>
                  <Input maxLength={3} placeholder="EUR" />
                </Form.Item>
              </Col>
              <Col xs={16} md={5}>
                <Form.Item label={t("approvals.department")} name={["conditions", "department"]}>
                  <Input />
                </Form.Item>
              </Col>
              <Col xs={24} md={5}>
                <Form.Item label={t("approvals.contractKind")} name={["conditions", "contract_kind"]}>
                  <Select allowClear options={["sales", "maintenance", "lease", "service"].map((k) => ({ value: k, label: t(`approvals.kinds.${k}`) }))} />
                </Form.Item>
              </Col>
            </Row>
          </Card>
          <Form.List name="steps">
            {(fields, { add, remove, move }) => (
              <>
                {fields.map((field, index) => (
                  <StepCard key={field.key} form={form} name={field.name} index={index} count={fields.length} move={move} remove={remove} />
                ))}
                <Button type="dashed" block icon={<PlusOutlined />} onClick={() => add({ approver: "role", mode: "any" })} style={{ marginBottom: 16 }} disabled={fields.length >= 20}>
                  {t("approvals.addStep")}
                </Button>
              </>
            )}
          </Form.List>
          <Row gutter={16}>
            <Col xs={12} md={6}>
              <Form.Item label={t("approvals.active")} name="active" valuePropName="checked">
                <Switch />
              </Form.Item>
            </Col>
            <Col xs={12} md={6}>
              <Form.Item label={t("approvals.selfApproval")} name="allow_self_approval" valuePropName="checked" tooltip={t("approvals.selfApprovalHelp")}>
                <Switch />
              </Form.Item>
            </Col>
          </Row>
          <Flex gap={8}>
            <Button type="primary" htmlType="submit" loading={busy} data-testid="flow-save">
              {t("common.save")}
            </Button>
            <Button onClick={() => navigate("/approvals/flows")}>{t("common.cancel")}</Button>
          </Flex>
        </Form>
      </Card>
    </>
  );
}
