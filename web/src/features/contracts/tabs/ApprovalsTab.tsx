// The approval request(s) of this contract: status, steps, every decision with its opinion, a link
// to the request and its approval sheet (PDF).
import { FilePdfOutlined } from "@ant-design/icons";
import { App, Button, Card, Empty, Flex, Space, Steps, Timeline, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { useErrorText } from "../../../shared/components/errors";
import { DateText, Money, StatusTag } from "../../../shared/components/values";
import { approvalSheet, type ContractDetail, type ContractOverview } from "../api";

export function ApprovalsTab({ contract, overview }: { contract: ContractDetail; overview?: ContractOverview }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const errorText = useErrorText();
  if (overview && overview.approvals === null) {
    return <Empty description={overview.forbidden.includes("approvals") ? t("contracts.partForbidden") : t("contracts.partUnavailable")} />;
  }
  const items = overview?.approvals?.items ?? [];
  if (!items.length) return <Empty description={contract.status === "draft" ? t("contracts.notSubmitted") : t("contracts.noApprovals")} />;
  return (
    <Flex vertical gap={16}>
      {items.map((a) => (
        <Card
          key={a.id}
          size="small"
          title={
            <Space wrap>
              <Link to={`/approvals/${a.id}`}>{t("contracts.approvalN", { id: a.id })}</Link>
              <StatusTag status={a.status} />
              {a.amount ? <Money amount={a.amount} currency={a.currency} /> : null}
            </Space>
          }
          extra={
            <Button
              size="small"
              icon={<FilePdfOutlined />}
              onClick={() => void approvalSheet(a.id).catch((e: unknown) => message.error(errorText(e)))}
            >
              {t("contracts.approvalSheet")}
            </Button>
          }
        >
          <Steps
            size="small"
            orientation="vertical"
            current={Math.max(0, a.steps.findIndex((s) => s.status === "pending"))}
            items={a.steps.map((s) => ({
              title: s.name,
              description: t(`contracts.stepStatus.${s.status}`, { defaultValue: s.status }),
              status: s.status === "approved" ? "finish" : s.status === "rejected" ? "error" : s.status === "pending" ? "process" : "wait",
            }))}
          />
          {a.decisions.length ? (
            <Timeline
              items={a.decisions.map((d) => ({
                key: d.id,
                color: d.decision === "approve" ? "green" : "red",
                content: (
                  <>
                    <Typography.Text strong>{d.username ?? `#${d.user}`}</Typography.Text> ·{" "}
                    {d.decision === "approve" ? t("contracts.approvedIt") : t("contracts.rejectedIt")} · {d.step_name} ·{" "}
                    <DateText value={d.decided_at} time />
                    {d.comment ? <Typography.Paragraph style={{ margin: 0 }}>“{d.comment}”</Typography.Paragraph> : null}
                  </>
                ),
              }))}
            />
          ) : (
            <Typography.Text type="secondary">{t("contracts.noDecisions")}</Typography.Text>
          )}
        </Card>
      ))}
    </Flex>
  );
}
