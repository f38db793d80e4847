// Open tasks of the contract (and of its unpaid invoices, from the contract 360) and the
// contract's closed ones; an open task can be closed here.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Table } from "antd";
import { useTranslation } from "react-i18next";
import { useAuth } from "../../../shared/auth/AuthProvider";
import { ErrorAlert } from "../../../shared/components/errors";
import { DateText, StatusTag } from "../../../shared/components/values";
import { closeTask, COLLECTION_CLOSERS, type TaskClosing } from "../../notify/api";
import { CloseTaskButton } from "../../notify/CloseTaskButton";
import { listContractTasks, type ContractDetail, type ContractOverview, type Task } from "../api";

export function TasksTab({ contract, overview }: { contract: ContractDetail; overview?: ContractOverview }) {
  const { t } = useTranslation();
  const { hasRole } = useAuth();
  const closer = hasRole(...COLLECTION_CLOSERS);
  const queryClient = useQueryClient();
  const own = useQuery({ queryKey: ["tasks", { contract: contract.id }], queryFn: () => listContractTasks(contract.id) });
  const rows = new Map<number, Task>();
  for (const task of own.data?.items ?? []) rows.set(task.id, task);
  // the overview's parts are generic in the schema (OverviewPart: items of any record); its tasks are TaskPublic rows
  for (const task of (overview?.tasks?.items ?? []) as unknown as Task[]) if (!rows.has(task.id)) rows.set(task.id, task);
  // the API's refusal (409: an unpaid invoice's collection task) is shown by the button;
  // finance and admins close such a task with a reason
  const close = async (task: Task, closing?: TaskClosing) => {
    await closeTask(task.id, closing);
    await queryClient.invalidateQueries({ queryKey: ["tasks"] });
    await queryClient.invalidateQueries({ queryKey: ["contract", String(contract.id)] });
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
                <CloseTaskButton
                  title={task.title}
                  withReason={task.kind === "collection" && closer}
                  onConfirm={(closing) => close(task, closing)}
                />
              ) : null,
          },
        ]}
      />
    </>
  );
}
