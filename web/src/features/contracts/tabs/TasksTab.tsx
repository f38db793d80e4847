// Open tasks of the contract (and of its unpaid invoices, from the contract 360) and the
// contract's closed ones; an open task can be closed here.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Popconfirm, Table } from "antd";
import { useTranslation } from "react-i18next";
import { ErrorAlert, useErrorText } from "../../../shared/components/errors";
import { DateText, StatusTag } from "../../../shared/components/values";
import { closeTask, listContractTasks, type ContractDetail, type ContractOverview, type Task } from "../api";

export function TasksTab({ contract, overview }: { contract: ContractDetail; overview?: ContractOverview }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const own = useQuery({ queryKey: ["tasks", { contract: contract.id }], queryFn: () => listContractTasks(contract.id) });
  const rows = new Map<number, Task>();
  for (const task of own.data?.items ?? []) rows.set(task.id, task);
  for (const task of (overview?.tasks?.items ?? []) as unknown as Task[]) if (!rows.has(task.id)) rows.set(task.id, task);
  const close = async (task: Task) => {
    try {
      await closeTask(task.id);
      message.success(t("contracts.taskClosed"));
      await queryClient.invalidateQueries({ queryKey: ["tasks"] });
      await queryClient.invalidateQueries({ queryKey: ["contract", String(contract.id)] });
    } catch (e) {
      message.error(errorText(e));
    }
  };
  return (
    <>
      <ErrorAlert error={own.error} />
      <Table<Task>
        size="small"
        rowKey="id"
        loading={own.isLoading}
        pagination={false}
        scroll={{ x: "max-content" }}
        dataSource={[...rows.values()].sort((a, b) => (a.status === b.status ? 0 : a.status === "open" ? -1 : 1))}
        locale={{ emptyText: t("contracts.noTasks") }}
        columns={[
          { title: t("contracts.task"), dataIndex: "title" },
          { title: t("contracts.taskKind"), dataIndex: "kind", render: (k: string) => t(`contracts.taskKinds.${k}`, { defaultValue: k }) },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <StatusTag status={s} /> },
          { title: t("contracts.due"), dataIndex: "due_date", render: (v: string | null) => <DateText value={v} /> },
          {
            title: t("common.actions"),
            key: "a",
            render: (_: unknown, task) =>
              task.status === "open" ? (
                <Popconfirm title={t("contracts.closeTaskConfirm")} okText={t("common.yes")} cancelText={t("common.no")} onConfirm={() => void close(task)}>
                  <Button size="small">{t("contracts.closeTask")}</Button>
                </Popconfirm>
              ) : null,
          },
        ]}
      />
    </>
  );
}
