import { AppstoreOutlined, PlusOutlined, TableOutlined } from "@ant-design/icons";
import { Button, Flex, Segmented, Select } from "antd";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { DateText, Money, StatusTag } from "../../shared/components/values";
import { listOpportunities, OPPORTUNITY_FILTERS, STAGES, type Opportunity } from "./api";
import { Board } from "./Board";
import { OwnerSelect, useOwnerName } from "./OwnerSelect";

/** The funnel: a board by stage (default) or a table (`?view=table`), owner and stage in the URL. */
export default function OpportunitiesPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const ownerName = useOwnerName();
  const { list, update } = useListParams(OPPORTUNITY_FILTERS);
  const f = list.filters;
  const table = f.view === "table";
  return (
    <>
      <PageHeader
        title={t("nav.opportunities")}
        extra={
          can("opportunities.write") ? (
            <Link to="/opportunities/new">
              <Button type="primary" icon={<PlusOutlined />}>
                {t("opportunities.new")}
              </Button>
            </Link>
          ) : null
        }
      />
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
        <Segmented
          aria-label={t("opportunities.layout")}
          value={table ? "table" : "board"}
          onChange={(v) => update({ view: v === "table" ? "table" : null, stage: null })}
          options={[
            { value: "board", icon: <AppstoreOutlined />, label: t("opportunities.board") },
            { value: "table", icon: <TableOutlined />, label: t("opportunities.table") },
          ]}
        />
        <OwnerSelect value={f.owner_id} onChange={(owner_id) => update({ owner_id })} />
        {table ? (
          <Select
            aria-label={t("opportunities.stage")}
            placeholder={t("opportunities.stage")}
            allowClear
            value={f.stage}
            onChange={(stage) => update({ stage })}
            options={STAGES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
            style={{ width: 160 }}
          />
        ) : null}
      </Flex>
      {table ? (
        <ServerTable<Opportunity>
          caption={t("nav.opportunities")}
          queryKey={["opportunities", "table"]}
          fetch={listOpportunities}
          filterNames={OPPORTUNITY_FILTERS}
          sortable={false}
          onRow={(row) => ({ onClick: () => navigate(`/opportunities/${row.id}`), style: { cursor: "pointer" } })}
          columns={[
            { title: t("opportunities.title"), dataIndex: "title", render: (title: string, row) => <Link to={`/opportunities/${row.id}`}>{title}</Link> },
            {
              title: t("common.customer"),
              dataIndex: "customer_name",
              render: (name: string, row) => (
                <Link to={`/customers/${row.customer_id}`} onClick={(e) => e.stopPropagation()}>
                  {name}
                </Link>
              ),
            },
            { title: t("opportunities.stage"), dataIndex: "stage", render: (s: string) => <StatusTag status={s} /> },
            { title: t("common.amount"), dataIndex: "amount", align: "right", render: (a: string, row) => <Money amount={a} currency={row.currency} /> },
            { title: t("opportunities.probability"), dataIndex: "probability", render: (p: number | null) => (p === null ? "—" : `${p}%`) },
            { title: t("opportunities.expectedClose"), dataIndex: "expected_close", render: (d: string | null) => (d ? <DateText value={d} /> : "—") },
            { title: t("common.owner"), dataIndex: "owner_id", render: (id: number | null) => ownerName(id) },
            { title: t("common.updatedAt"), dataIndex: "updated_at", render: (d: string) => <DateText value={d} /> },
          ]}
        />
      ) : (
        <Board ownerId={f.owner_id} canWrite={can("opportunities.write")} />
      )}
    </>
  );
}
