import { ArrowLeftOutlined, DeleteOutlined, EditOutlined, FileAddOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Descriptions, Popconfirm, Skeleton, Space, Tabs, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { DateText } from "../../shared/components/values";
import { LANGUAGES } from "../../shared/i18n";
import { deleteCustomer, getCustomer } from "./api";
import { ContactsTab } from "./ContactsTab";
import { CustomerStatusActions } from "./CustomerStatusActions";
import { EditCustomerDialog } from "./EditCustomerDialog";
import { FollowUpsTab } from "./FollowUpsTab";
import { ContractsTab, InvoicesTab, OpportunitiesTab } from "./RelatedTabs";
import { TimelineTab } from "./TimelineTab";
import { useState } from "react";

export default function CustomerPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [params, setParams] = useSearchParams();
  const [editing, setEditing] = useState(false);
  const customer = useQuery({ queryKey: ["customers", id], queryFn: () => getCustomer(id) });
  const remove = useMutation({
    mutationFn: () => deleteCustomer(id),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["customers"] });
      message.success(t("customers.deleted"));
      navigate("/customers");
    },
  });

  if (customer.isLoading) return <Skeleton active />;
  if (customer.error || !customer.data) return <ErrorAlert error={customer.error} />;
  const c = customer.data;
  const tab = params.get("tab") ?? "overview";

  return (
    <>
      <PageHeader
        title={
          <Space wrap>
            <Link to="/customers" aria-label={t("common.back")}>
              <ArrowLeftOutlined />
            </Link>
            {c.name}
            {c.red_listed ? <Tag color="red">{t("customers.redListed")}</Tag> : null}
            {c.archived ? <Tag>{t("customers.archived")}</Tag> : null}
          </Space>
        }
        subtitle={`${c.code} · ${t(`customers.${c.kind}`)}${c.level ? ` · ${t("customers.level")} ${c.level}` : ""}`}
        extra={
          <>
            {can("contracts.write") && !c.archived ? (
              <Link to={`/contracts/new?customer_id=${c.id}`}>
                <Button icon={<FileAddOutlined />}>{t("customers.newContract")}</Button>
              </Link>
            ) : null}
            <CustomerStatusActions customer={c} />
            {can("customers.write") ? (
              <Button icon={<EditOutlined />} onClick={() => setEditing(true)}>
                {t("common.edit")}
              </Button>
            ) : null}
            {can("customers.write") ? (
              <Popconfirm
                title={t("customers.deleteConfirm", { name: c.name })}
                okText={t("common.delete")}
                okButtonProps={{ danger: true }}
                cancelText={t("common.cancel")}
                onConfirm={() => remove.mutate()}
              >
                <Button danger icon={<DeleteOutlined />} loading={remove.isPending}>
                  {t("common.delete")}
                </Button>
              </Popconfirm>
            ) : null}
          </>
        }
      />
      <ErrorAlert error={remove.error} />
      {c.red_listed ? (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 16 }}
          title={t("customers.redListBanner", { reason: c.red_list_reason ?? "—" })}
        />
      ) : null}
      {c.archived ? <Alert type="info" showIcon style={{ marginBottom: 16 }} title={t("customers.archivedBanner")} /> : null}
      <Card>
        <Tabs
          activeKey={tab}
          onChange={(key) => setParams({ tab: key }, { replace: true })}
          items={[
            {
              key: "overview",
              label: t("customers.tabs.overview"),
              children: (
                <Descriptions column={{ xs: 1, sm: 2, lg: 3 }} bordered size="small">
                  <Descriptions.Item label={t("customers.code")}>{c.code}</Descriptions.Item>
                  <Descriptions.Item label={t("customers.taxId")}>{c.tax_id ?? "—"}</Descriptions.Item>
                  <Descriptions.Item label={t("customers.email")}>{c.email ?? "—"}</Descriptions.Item>
                  <Descriptions.Item label={t("customers.phone")}>{c.phone ?? "—"}</Descriptions.Item>
                  <Descriptions.Item label={t("customers.industry")}>{c.industry ?? "—"}</Descriptions.Item>
                  <Descriptions.Item label={t("customers.region")}>{c.region ?? "—"}</Descriptions.Item>
                  <Descriptions.Item label={t("customers.size")}>{c.size ?? "—"}</Descriptions.Item>
                  <Descriptions.Item label={t("customers.language")}>
                    {LANGUAGES.find((l) => l.code === c.language)?.label ?? c.language}
                  </Descriptions.Item>
                  <Descriptions.Item label={t("customers.tags")}>
                    {c.tags.length ? c.tags.map((x) => <Tag key={x}>{x}</Tag>) : "—"}
                  </Descriptions.Item>
                  <Descriptions.Item label={t("customers.address")}>{c.address ?? "—"}</Descriptions.Item>
                  {c.red_listed ? (
                    <Descriptions.Item label={t("customers.redListReason")} span={3}>
                      {c.red_list_reason ?? "—"}
                      {c.red_listed_at ? (
                        <>
                          {" · "}
                          {c.red_listed_by ?? ""} <DateText value={c.red_listed_at} time />
                        </>
                      ) : null}
                    </Descriptions.Item>
                  ) : null}
                  {c.archived && c.archived_at ? (
                    <Descriptions.Item label={t("customers.archived")} span={3}>
                      {c.archived_by ?? ""} <DateText value={c.archived_at} time />
                    </Descriptions.Item>
                  ) : null}
                  <Descriptions.Item label={t("common.createdAt")}>
                    <DateText value={c.created_at} time />
                  </Descriptions.Item>
                  <Descriptions.Item label={t("common.updatedAt")}>
                    <DateText value={c.updated_at} time />
                  </Descriptions.Item>
                  <Descriptions.Item label={t("common.notes")} span={3}>
                    <span style={{ whiteSpace: "pre-wrap" }}>{c.notes ?? "—"}</span>
                  </Descriptions.Item>
                </Descriptions>
              ),
            },
            { key: "contacts", label: t("customers.tabs.contacts"), children: <ContactsTab customerId={c.id} /> },
            { key: "follow-ups", label: t("customers.tabs.followUps"), children: <FollowUpsTab customerId={c.id} /> },
            { key: "opportunities", label: t("customers.tabs.opportunities"), children: <OpportunitiesTab customerId={c.id} /> },
            { key: "contracts", label: t("customers.tabs.contracts"), children: <ContractsTab customerId={c.id} /> },
            { key: "invoices", label: t("customers.tabs.invoices"), children: <InvoicesTab customerId={c.id} /> },
            { key: "timeline", label: t("customers.tabs.timeline"), children: <TimelineTab customerId={c.id} /> },
          ]}
        />
      </Card>
      <EditCustomerDialog customer={c} open={editing} onClose={() => setEditing(false)} />
    </>
  );
}
