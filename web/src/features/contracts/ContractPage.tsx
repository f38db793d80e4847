// /contracts/:id — the contract 360: header with the actions the status and role allow, and tabs
// (overview, lines, versions, amendments, attachments, approvals, invoices and payments,
// progress, tasks), the open tab in the URL (?tab=) so it can be shared and Back works.
import { LockOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Alert, Skeleton, Space, Tabs, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { useParams, useSearchParams } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { StatusTag } from "../../shared/components/values";
import { getContract, getOverview, RED_LIST_OVERRIDERS, type ContractDetail } from "./api";
import { ContractActions } from "./ContractActions";
import { AmendmentsTab } from "./tabs/AmendmentsTab";
import { ApprovalsTab } from "./tabs/ApprovalsTab";
import { AttachmentsTab } from "./tabs/AttachmentsTab";
import { LinesTab } from "./tabs/LinesTab";
import { MoneyTab } from "./tabs/MoneyTab";
import { OverviewTab } from "./tabs/OverviewTab";
import { ProgressTab } from "./tabs/ProgressTab";
import { TasksTab } from "./tabs/TasksTab";
import { VersionsTab } from "./tabs/VersionsTab";

const TABS = ["overview", "lines", "versions", "amendments", "attachments", "approvals", "money", "progress", "tasks"] as const;

export default function ContractPage() {
  const { t } = useTranslation();
  const { id = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const tab = (TABS as readonly string[]).includes(params.get("tab") ?? "") ? (params.get("tab") as string) : "overview";
  const contract = useQuery({ queryKey: ["contract", id], queryFn: () => getContract(id) });
  const overview = useQuery({ queryKey: ["contract", id, "overview"], queryFn: () => getOverview(id) });

  if (!contract.data) return contract.error ? <ErrorAlert error={contract.error} /> : <Skeleton active />;
  const c = contract.data;
  const o = overview.data;
  const content: Record<string, React.ReactNode> = {
    overview: <OverviewTab contract={c} overview={o} loading={overview.isLoading} />,
    lines: <LinesTab contract={c} />,
    versions: <VersionsTab contract={c} />,
    amendments: <AmendmentsTab contract={c} />,
    attachments: <AttachmentsTab contract={c} />,
    approvals: <ApprovalsTab contract={c} overview={o} />,
    money: <MoneyTab contract={c} overview={o} />,
    progress: <ProgressTab contract={c} />,
    tasks: <TasksTab contract={c} overview={o} />,
  };
  return (
    <>
      <PageHeader
        title={
          <Space wrap size={8}>
            <span data-testid="contract-number">{c.number}</span>
            <StatusTag status={c.status} />
            {c.amounts_locked ? (
              <Tag icon={<LockOutlined />} color="purple">
                {t("contracts.amountsLocked")}
              </Tag>
            ) : null}
          </Space>
        }
        subtitle={`${c.title} · ${c.customer.name}`}
        extra={<ContractActions contract={c} />}
      />
      {c.customer_red_listed ? <RedListBanner contract={c} /> : null}
      {c.status === "draft" && c.rejection_comment ? (
        <Alert type="warning" showIcon style={{ marginBottom: 16 }} title={t("contracts.rejectedWith")} description={c.rejection_comment} />
      ) : null}
      <ErrorAlert error={overview.error} />
      {o && o.unavailable.length ? (
        <Alert type="info" showIcon style={{ marginBottom: 16 }} title={t("contracts.partsUnavailable", { parts: o.unavailable.join(", ") })} />
      ) : null}
      <Tabs
        activeKey={tab}
        onChange={(key) =>
          setParams((cur) => {
            const next = new URLSearchParams(cur);
            if (key === "overview") next.delete("tab");
            else next.set("tab", key);
            return next;
          })
        }
        items={TABS.map((key) => ({
          key,
          label: t(`contracts.tabs.${key}`),
          children: tab === key ? content[key] : null,
        }))}
      />
    </>
  );
}

/** The customer is on the red list: why, and what that means for this contract and this user. */
function RedListBanner({ contract }: { contract: ContractDetail }) {
  const { t } = useTranslation();
  const { hasRole } = useAuth();
  const draft = contract.status === "draft";
  const explanation = !draft
    ? t("contracts.redList.explainOther")
    : hasRole(...RED_LIST_OVERRIDERS)
      ? t("contracts.redList.explainOverride")
      : t("contracts.redList.explainRep");
  return (
    <Alert
      type="warning"
      showIcon
      style={{ marginBottom: 16 }}
      data-testid="red-list-banner"
      title={t("contracts.redList.title", { customer: contract.customer.name })}
      description={
        <>
          {contract.customer_red_list_reason ? (
            <div>{t("contracts.redList.reason", { reason: contract.customer_red_list_reason })}</div>
          ) : null}
          <div>{explanation}</div>
        </>
      }
    />
  );
}
