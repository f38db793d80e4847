import { ArrowLeftOutlined, EditOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Descriptions, Modal, Skeleton, Space, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { useIsMobile } from "../../shared/components/useIsMobile";
import { DateText, Money, StatusTag } from "../../shared/components/values";
import { getOpportunity, updateOpportunity } from "./api";
import { OpportunityForm } from "./OpportunityForm";
import { useOwnerName } from "./OwnerSelect";

export default function OpportunityPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const { can } = useAuth();
  const mobile = useIsMobile();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const ownerName = useOwnerName();
  const [editing, setEditing] = useState(false);
  const opportunity = useQuery({ queryKey: ["opportunities", "one", id], queryFn: () => getOpportunity(id) });
  if (opportunity.isLoading) return <Skeleton active />;
  if (opportunity.error || !opportunity.data) return <ErrorAlert error={opportunity.error} />;
  const o = opportunity.data;
  const competitors = Array.isArray(o.competitors) ? o.competitors : o.competitors ? [o.competitors] : [];
  const text = (v: string | null) => (v ? <span style={{ whiteSpace: "pre-wrap" }}>{v}</span> : "—");
  return (
    <>
      <PageHeader
        title={
          <Space wrap>
            <Link to="/opportunities" aria-label={t("common.back")}>
              <ArrowLeftOutlined />
            </Link>
            {o.title}
            <StatusTag status={o.stage} />
          </Space>
        }
        subtitle={`${o.customer_name} (${o.customer_code})`}
        extra={
          can("opportunities.write") ? (
            <Button icon={<EditOutlined />} onClick={() => setEditing(true)}>
              {t("common.edit")}
            </Button>
          ) : null
        }
      />
      <Card>
        <Descriptions column={{ xs: 1, sm: 2, lg: 3 }} bordered size="small">
          <Descriptions.Item label={t("common.customer")}>
            <Link to={`/customers/${o.customer_id}`}>
              {o.customer_name} ({o.customer_code})
            </Link>
          </Descriptions.Item>
          <Descriptions.Item label={t("opportunities.stage")}>
            <StatusTag status={o.stage} />
          </Descriptions.Item>
          <Descriptions.Item label={t("common.amount")}>
            <Money amount={o.amount} currency={o.currency} />
          </Descriptions.Item>
          <Descriptions.Item label={t("opportunities.probability")}>{o.probability === null ? "—" : `${o.probability}%`}</Descriptions.Item>
          <Descriptions.Item label={t("opportunities.expectedClose")}>{o.expected_close ? <DateText value={o.expected_close} /> : "—"}</Descriptions.Item>
          <Descriptions.Item label={t("common.owner")}>{ownerName(o.owner_id)}</Descriptions.Item>
          <Descriptions.Item label={t("opportunities.competitors")}>
            {competitors.length ? competitors.map((c) => <Tag key={c}>{c}</Tag>) : "—"}
          </Descriptions.Item>
          <Descriptions.Item label={t("opportunities.closedAt")}>{o.closed_at ? <DateText value={o.closed_at} time /> : "—"}</Descriptions.Item>
          <Descriptions.Item label={t("common.updatedAt")}>
            <DateText value={o.updated_at} time />
          </Descriptions.Item>
          <Descriptions.Item label={t("opportunities.needs")} span={3}>
            {text(o.needs)}
          </Descriptions.Item>
          <Descriptions.Item label={t("common.notes")} span={3}>
            {text(o.notes)}
          </Descriptions.Item>
          {o.stage === "lost" ? (
            <Descriptions.Item label={t("opportunities.lostReason")} span={3}>
              {text(o.lost_reason)}
            </Descriptions.Item>
          ) : null}
        </Descriptions>
      </Card>
      <Modal open={editing} title={t("opportunities.edit")} footer={null} onCancel={() => setEditing(false)} width={mobile ? "100%" : 820} destroyOnHidden>
        <OpportunityForm
          initial={o}
          onCancel={() => setEditing(false)}
          onSubmit={async (body) => {
            const { customer_id: _customer, ...changes } = body;
            const saved = await updateOpportunity(o.id, changes);
            queryClient.setQueryData(["opportunities", "one", id], saved);
            await queryClient.invalidateQueries({ queryKey: ["opportunities"] });
            message.success(t("common.saved"));
            setEditing(false);
          }}
        />
      </Modal>
    </>
  );
}
