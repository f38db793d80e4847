// /approvals: "Waiting for me" (mine=true&status=pending) and "All" (with a status and document
// type filter), the tab and filters in the URL. Rows show the document (linked when it has a page),
// its amount and summary, the submitter, the step and the age; an approver decides from the row.
import { SettingOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { App, Button, Flex, Select, Space, Tabs, Typography } from "antd";
import dayjs from "dayjs";
import relativeTime from "dayjs/plugin/relativeTime";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { Money, StatusTag } from "../../shared/components/values";
import { APPROVAL_FILTERS, APPROVAL_STATUSES, decide, documentLink, documentName, DOCUMENT_TYPES, listApprovals, type ApprovalRequest } from "./api";
import { DecisionDialog } from "./DecisionDialog";

dayjs.extend(relativeTime);

export default function ApprovalsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [params, setParams] = useSearchParams();
  const tab = params.get("tab") === "all" ? "all" : "mine";
  const { list, update } = useListParams(APPROVAL_FILTERS);
  const [deciding, setDeciding] = useState<{ row: ApprovalRequest; decision: "approve" | "reject" } | null>(null);
  const mayDecide = can("approvals.decide");

  const columns = [
    {
      title: t("approvals.document"),
      key: "document",
      render: (_: unknown, a: ApprovalRequest) => {
        const link = documentLink(a);
        const name = documentName(a);
        return (
          <Flex vertical>
            <Typography.Text type="secondary">{t(`approvals.types.${a.document_type}`, { defaultValue: a.document_type })}</Typography.Text>
            {link ? (
              <Link to={link} onClick={(e) => e.stopPropagation()}>
                {name}
              </Link>
            ) : (
              name
            )}
          </Flex>
        );
      },
    },
    {
      title: t("approvals.summary"),
      key: "summary",
      render: (_: unknown, a: ApprovalRequest) => (
        <Flex vertical style={{ maxWidth: 360 }}>
          {a.amount ? (
            <strong>
              <Money amount={a.amount} currency={a.currency} />
            </strong>
          ) : null}
          <Typography.Text ellipsis={{ tooltip: a.summary }} style={{ maxWidth: 360 }}>
            {a.summary ?? "—"}
          </Typography.Text>
        </Flex>
      ),
    },
    { title: t("approvals.submitter"), dataIndex: "submitter", render: (v: number | null) => (v ? `#${v}` : "—") },
    {
      title: t("approvals.step"),
      key: "step",
      render: (_: unknown, a: ApprovalRequest) => (a.status === "pending" ? a.current_step_name ?? "—" : <StatusTag status={a.status} />),
    },
    { title: t("approvals.age"), dataIndex: "created_at", render: (v: string) => <span title={v}>{dayjs(v).fromNow(true)}</span> },
    ...(tab === "mine" && mayDecide
      ? [
          {
            title: t("common.actions"),
            key: "actions",
            render: (_: unknown, a: ApprovalRequest) =>
              a.may_decide ? (
                <Space onClick={(e) => e.stopPropagation()}>
                  <Button type="primary" size="small" onClick={() => setDeciding({ row: a, decision: "approve" })} data-testid={`approve-${a.id}`}>
                    {t("approvals.approve")}
                  </Button>
                  <Button danger size="small" onClick={() => setDeciding({ row: a, decision: "reject" })} data-testid={`reject-${a.id}`}>
                    {t("approvals.reject")}
                  </Button>
                </Space>
              ) : null,
          },
        ]
      : []),
  ];

  const table = (mine: boolean) => (
    <ServerTable<ApprovalRequest>
      caption={mine ? t("approvals.mine") : t("approvals.all")}
      queryKey={["approvals", mine ? "mine" : "all"]}
      fetch={(p) => listApprovals(p, mine)}
      filterNames={APPROVAL_FILTERS}
      sortable={false}
      onRow={(row) => ({ onClick: () => navigate(`/approvals/${row.id}`), style: { cursor: "pointer" }, "data-testid": `approval-row-${row.id}` } as never)}
      columns={columns}
    />
  );

  return (
    <>
      <PageHeader
        title={t("nav.approvals")}
        extra={
          can("approvalFlows.manage") ? (
            <Link to="/approvals/flows">
              <Button icon={<SettingOutlined />}>{t("approvals.flows")}</Button>
            </Link>
          ) : null
        }
      />
      <Tabs
        activeKey={tab}
        onChange={(key) => setParams(key === "all" ? { tab: "all" } : {})}
        items={[
          { key: "mine", label: t("approvals.mine"), children: tab === "mine" ? table(true) : null },
          {
            key: "all",
            label: t("approvals.all"),
            children:
              tab === "all" ? (
                <>
                  <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
                    <Select
                      aria-label={t("common.status")}
                      placeholder={t("common.status")}
                      allowClear
                      value={list.filters.status}
                      onChange={(status) => update({ status })}
                      options={APPROVAL_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
                      style={{ width: 170 }}
                    />
                    <Select
                      aria-label={t("approvals.documentType")}
                      placeholder={t("approvals.documentType")}
                      allowClear
                      value={list.filters.document_type}
                      onChange={(document_type) => update({ document_type })}
                      options={DOCUMENT_TYPES.map((d) => ({ value: d, label: t(`approvals.types.${d}`) }))}
                      style={{ width: 190 }}
                    />
                  </Flex>
                  {table(false)}
                </>
              ) : null,
          },
        ]}
      />
      {deciding ? (
        <DecisionDialog
          decision={deciding.decision}
          summary={deciding.row.summary}
          valuation={
            deciding.row.document_type === "trade_in"
              ? { requested: deciding.row.amount ?? null, currency: deciding.row.currency ?? null }
              : null
          }
          onClose={() => setDeciding(null)}
          onSend={async (body) => {
            await decide(deciding.row.id, body);
            message.success(body.decision === "approve" ? t("approvals.approved") : t("approvals.rejected"));
            await Promise.all([
              queryClient.invalidateQueries({ queryKey: ["approvals"] }),
              queryClient.invalidateQueries({ queryKey: ["contract"] }),
              queryClient.invalidateQueries({ queryKey: ["contracts"] }),
            ]);
          }}
        />
      ) : null}
    </>
  );
}
