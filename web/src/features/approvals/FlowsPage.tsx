// /approvals/flows (admins): the approval flows with their document type, conditions and steps.
import { PlusOutlined } from "@ant-design/icons";
import { Button, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable } from "../../shared/components/ServerTable";
import { useFormat } from "../../shared/format/useFormat";
import { listFlows, type Flow } from "./api";

export default function FlowsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const f = useFormat();
  const navigate = useNavigate();
  if (!can("approvalFlows.manage")) return <Tag color="red">{t("common.notAllowed")}</Tag>;
  return (
    <>
      <PageHeader
        title={t("approvals.flows")}
        extra={
          <Link to="/approvals/flows/new">
            <Button type="primary" icon={<PlusOutlined />} data-testid="new-flow">
              {t("approvals.newFlow")}
            </Button>
          </Link>
        }
      />
      <ServerTable<Flow>
        caption={t("approvals.flows")}
        queryKey={["approval-flows"]}
        fetch={listFlows}
        sortable={false}
        onRow={(row) => ({ onClick: () => navigate(`/approvals/flows/${row.id}`), style: { cursor: "pointer" } })}
        columns={[
          { title: t("common.name"), dataIndex: "name", render: (v: string, row) => <Link to={`/approvals/flows/${row.id}`}>{v}</Link> },
          { title: t("approvals.documentType"), dataIndex: "document_type", render: (v: string) => t(`approvals.types.${v}`, { defaultValue: v }) },
          {
            title: t("approvals.conditions"),
            key: "cond",
            render: (_: unknown, row) => {
              const c = row.conditions;
              const parts = [
                c.min_amount ? `≥ ${f.money(c.min_amount, c.currency)}` : null,
                c.max_amount ? `≤ ${f.money(c.max_amount, c.currency)}` : null,
                c.department ? `${t("approvals.department")}: ${c.department}` : null,
                c.contract_kind ? `${t("approvals.contractKind")}: ${c.contract_kind}` : null,
              ].filter(Boolean);
              return parts.length ? parts.join(" · ") : t("approvals.always");
            },
          },
          { title: t("approvals.steps"), key: "steps", render: (_: unknown, row) => row.steps.map((s) => s.name).join(" → ") },
          { title: t("approvals.sla"), dataIndex: "sla_hours", render: (v: number) => `${v} h` },
          { title: t("approvals.priority"), dataIndex: "priority" },
          { title: t("common.status"), dataIndex: "active", render: (v: boolean) => (v ? <Tag color="green">{t("approvals.active")}</Tag> : <Tag>{t("approvals.inactive")}</Tag>) },
          { title: t("approvals.version"), dataIndex: "version", render: (v: number) => `v${v}` },
        ]}
      />
    </>
  );
}
