// Delivery milestones: the plan with its progress, add one, mark one done.
import { CheckOutlined, PlusOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Col, DatePicker, Form, Input, Progress, Row, Table, Tag } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useAuth } from "../../../shared/auth/AuthProvider";
import { applyFieldErrors, ErrorAlert, useErrorText } from "../../../shared/components/errors";
import { DateText } from "../../../shared/components/values";
import { addMilestone, getProgress, listMilestones, updateMilestone, type ContractDetail, type Milestone } from "../api";
import { useIdempotencyKey } from "../../../shared/api/idempotency";

export function ProgressTab({ contract }: { contract: ContractDetail }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const key = ["contract", String(contract.id), "milestones"];
  const idempotency = useIdempotencyKey();
  const milestones = useQuery({ queryKey: key, queryFn: () => listMilestones(contract.id) });
  const progress = useQuery({ queryKey: ["contract", String(contract.id), "progress"], queryFn: () => getProgress(contract.id) });
  const may = can("contracts.write") && contract.status !== "cancelled";
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["contract", String(contract.id)] });

  const add = async () => {
    const v = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      await addMilestone(
        contract.id,
        {
        name: v.name.trim(),
        planned_date: (v.planned_date as Dayjs).format("YYYY-MM-DD"),
          weight: v.weight?.trim() || undefined,
        },
        idempotency.key,
      );
      idempotency.renew();
      form.resetFields();
      await refresh();
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const done = async (m: Milestone) => {
    try {
      await updateMilestone(contract.id, m.id, { percent_complete: 100, completed_on: dayjs().format("YYYY-MM-DD") });
      message.success(t("contracts.milestoneDone", { name: m.name }));
      await refresh();
    } catch (e) {
      message.error(errorText(e));
    }
  };
  const delivery = progress.data?.delivery;
  return (
    <>
      {delivery && delivery.milestones > 0 ? (
        <Row gutter={16} style={{ marginBottom: 16 }}>
          <Col xs={12} md={6}>
            <div>{t("contracts.actual")}</div>
            <Progress percent={Number(delivery.actual_percent ?? 0)} status={delivery.behind ? "exception" : "normal"} />
          </Col>
          <Col xs={12} md={6}>
            <div>{t("contracts.planned")}</div>
            <Progress percent={Number(delivery.planned_percent ?? 0)} strokeColor="#8c8c8c" />
          </Col>
          {delivery.behind ? (
            <Col xs={24} md={12}>
              <Tag color="red">{t("contracts.behindPlan")}</Tag>
            </Col>
          ) : null}
        </Row>
      ) : null}
      {may ? (
        <Form form={form} layout="vertical" style={{ marginBottom: 8 }}>
          <ErrorAlert error={error} />
          <Row gutter={12} align="bottom">
            <Col xs={24} md={10}>
              <Form.Item label={t("contracts.milestone")} name="name" rules={[{ required: true, whitespace: true, message: t("auth.required") }]}>
                <Input />
              </Form.Item>
            </Col>
            <Col xs={12} md={6}>
              <Form.Item label={t("contracts.plannedDate")} name="planned_date" rules={[{ required: true, message: t("auth.required") }]}>
                <DatePicker style={{ width: "100%" }} />
              </Form.Item>
            </Col>
            <Col xs={12} md={4}>
              <Form.Item label={t("contracts.weight")} name="weight" rules={[{ pattern: /^\d+(\.\d+)?$/, message: t("contracts.badNumber") }]}>
                <Input inputMode="decimal" placeholder="1" />
              </Form.Item>
            </Col>
            <Col xs={24} md={4}>
              <Form.Item>
                <Button icon={<PlusOutlined />} onClick={() => void add()} loading={busy} block>
                  {t("common.add")}
                </Button>
              </Form.Item>
            </Col>
          </Row>
        </Form>
      ) : null}
      <ErrorAlert error={milestones.error} />
      <Table<Milestone>
        size="small"
        rowKey="id"
        loading={milestones.isLoading}
        pagination={false}
        scroll={{ x: "max-content" }}
        dataSource={milestones.data?.items ?? []}
        locale={{ emptyText: t("contracts.noMilestones") }}
        columns={[
          { title: t("contracts.milestone"), dataIndex: "name" },
          { title: t("contracts.plannedDate"), dataIndex: "planned_date", render: (v: string, m) => <>{<DateText value={v} />} {m.overdue ? <Tag color="red">{t("status.overdue")}</Tag> : null}</> },
          { title: t("contracts.weight"), dataIndex: "weight", align: "right" },
          { title: t("contracts.complete"), dataIndex: "percent_complete", render: (v: number) => <Progress percent={v} size="small" style={{ width: 120 }} /> },
          { title: t("contracts.completedOn"), dataIndex: "completed_on", render: (v: string | null) => <DateText value={v} /> },
          {
            title: t("common.actions"),
            key: "a",
            render: (_: unknown, m) =>
              may && m.percent_complete < 100 ? (
                <Button size="small" icon={<CheckOutlined />} onClick={() => void done(m)}>
                  {t("contracts.markDone")}
                </Button>
              ) : null,
          },
        ]}
      />
    </>
  );
}
