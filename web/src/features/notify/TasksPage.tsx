import { useQueryClient } from "@tanstack/react-query";
import { Flex, Segmented, Select, Space, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams, type ListParams } from "../../shared/components/ServerTable";
import { useIsMobile } from "../../shared/components/useIsMobile";
import { DateText, StatusTag } from "../../shared/components/values";
import {
  closeReasonOf,
  closeTask,
  COLLECTION_CLOSERS,
  documentPath,
  listTasks,
  TASK_FILTERS,
  TASK_KINDS,
  TASK_STATUSES,
  type Task,
  type TaskClosing,
} from "./api";
import { CloseTaskButton } from "./CloseTaskButton";

/** Tasks: "Mine" or "All I can see", by kind and status (open unless chosen), all in the URL. */
export default function TasksPage() {
  const { t } = useTranslation();
  const { user, hasRole } = useAuth();
  const queryClient = useQueryClient();
  const { list, update } = useListParams(TASK_FILTERS);
  const view = list.filters.view === "all" ? "all" : "mine";
  const status = list.filters.status ?? "open";
  const fetch = (params: ListParams) => {
    const filters: Record<string, string> = { ...params.filters, view };
    if (status === "any") delete filters.status;
    else filters.status = status;
    return listTasks({ ...params, filters }, user?.id);
  };
  const close = async (task: Task, closing?: TaskClosing) => {
    await closeTask(task.id, closing);
    await queryClient.invalidateQueries({ queryKey: ["tasks"] });
  };
  // an open collection task means its invoice is unpaid: finance and admins close it with a reason;
  // anyone else is refused (409) and told why
  const closer = hasRole(...COLLECTION_CLOSERS);
  const closeButton = (row: Task) => (
    <CloseTaskButton
      title={row.title}
      withReason={row.kind === "collection" && closer}
      onConfirm={(closing) => close(row, closing)}
    />
  );
  const closedOn = (row: Task) => {
    if (!row.closed_at) return "—";
    const reason = closeReasonOf(row);
    return (
      <Space size={4} wrap>
        <DateText value={row.closed_at} />
        {reason ? <Tag>{t(`notify.closeReasons.${reason}`, { defaultValue: reason })}</Tag> : null}
      </Space>
    );
  };
  const today = dayjs().format("YYYY-MM-DD");
  const mobile = useIsMobile();
  const assignee = (row: Task) =>
    row.assignee_id !== null && row.assignee_id === user?.id
      ? t("notify.me")
      : row.assignee_id !== null
        ? t("notify.userNo", { id: row.assignee_id })
        : row.assignee_role
          ? t(`roles.${row.assignee_role}`, { defaultValue: row.assignee_role })
          : "—";
  const due = (row: Task) =>
    row.due_date ? (
      <Typography.Text type={row.status === "open" && row.due_date < today ? "danger" : undefined}>
        <DateText value={row.due_date} />
      </Typography.Text>
    ) : (
      "—"
    );
  // a phone gets one column per task: everything stacked, the close button within reach
  const phoneColumns = [
    {
      title: t("notify.task"),
      key: "task",
      render: (_: unknown, row: Task) => (
        <Flex vertical gap={4} style={{ whiteSpace: "normal" }}>
          <Typography.Text strong={row.status === "open"}>{row.title}</Typography.Text>
          <Space wrap size={4}>
            <Tag>{t(`notify.kinds.${row.kind}`, { defaultValue: row.kind })}</Tag>
            <StatusTag status={row.status} />
            <DocumentLink type={row.document_type} id={row.document_id} reference={row.reference} />
          </Space>
          <Typography.Text type="secondary">
            {t("notify.due")}: {due(row)} · {assignee(row)}
          </Typography.Text>
          {row.status === "open" ? closeButton(row) : null}
        </Flex>
      ),
    },
  ];
  return (
    <>
      <PageHeader title={t("nav.tasks")} />
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
        <Segmented
          aria-label={t("notify.view")}
          value={view}
          onChange={(v) => update({ view: v === "all" ? "all" : null })}
          options={[
            { value: "mine", label: t("notify.mine") },
            { value: "all", label: t("notify.allVisible") },
          ]}
        />
        <Select
          aria-label={t("notify.kind")}
          placeholder={t("notify.kind")}
          allowClear
          value={list.filters.kind}
          onChange={(kind) => update({ kind })}
          options={TASK_KINDS.map((k) => ({ value: k, label: t(`notify.kinds.${k}`) }))}
          style={{ width: 190 }}
        />
        <Select
          aria-label={t("common.status")}
          value={status}
          onChange={(s) => update({ status: s === "open" ? null : s })}
          options={[
            ...TASK_STATUSES.map((s) => ({ value: s, label: t(`notify.statuses.${s}`) })),
            { value: "any", label: t("notify.anyStatus") },
          ]}
          style={{ width: 150 }}
        />
      </Flex>
      <ServerTable<Task>
        caption={t("nav.tasks")}
        queryKey={["tasks", "list", view, status, user?.id]}
        fetch={fetch}
        filterNames={TASK_FILTERS}
        sortable={false}
        columns={mobile ? phoneColumns : [
          {
            title: t("notify.task"),
            dataIndex: "title",
            render: (title: string, row) => (
              <div style={{ minWidth: 200, maxWidth: 420, whiteSpace: "normal" }}>
                <Typography.Text strong={row.status === "open"}>{title}</Typography.Text>
                {row.notes ? (
                  <Typography.Paragraph type="secondary" style={{ margin: 0 }} ellipsis={{ rows: 2 }}>
                    {row.notes}
                  </Typography.Paragraph>
                ) : null}
              </div>
            ),
          },
          { title: t("notify.kind"), dataIndex: "kind", render: (k: string) => <Tag>{t(`notify.kinds.${k}`, { defaultValue: k })}</Tag> },
          {
            title: t("notify.document"),
            dataIndex: "document_id",
            render: (_: unknown, row) => <DocumentLink type={row.document_type} id={row.document_id} reference={row.reference} />,
          },
          {
            title: t("notify.due"),
            dataIndex: "due_date",
            render: (_: unknown, row) => due(row),
          },
          {
            title: t("notify.assignee"),
            dataIndex: "assignee_id",
            render: (_: unknown, row) => assignee(row),
          },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <StatusTag status={s} /> },
          { title: t("notify.closedOn"), dataIndex: "closed_at", render: (_: unknown, row) => closedOn(row) },
          {
            title: t("common.actions"),
            key: "actions",
            render: (_: unknown, row) => (row.status === "open" ? closeButton(row) : null),
          },
        ]}
      />
    </>
  );
}

function DocumentLink({ type, id, reference }: { type: string; id: string; reference: string | null }) {
  const { t } = useTranslation();
  // the task's title names the document's number; the id alone would mislead, so only a reference is added
  const name = t(`notify.documents.${type}`, { defaultValue: type.replace(/_/g, " ") });
  const label = reference ? `${name} ${reference}` : name;
  const path = documentPath(type, id);
  return path ? <Link to={path}>{label}</Link> : <span>{label}</span>;
}
