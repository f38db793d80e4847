import { PlusOutlined, UploadOutlined } from "@ant-design/icons";
import { Button, Flex, Input, Select, Switch, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { DateText } from "../../shared/components/values";
import { CUSTOMER_FILTERS, listCustomers, type Customer } from "./api";

export default function CustomersPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const { list, update } = useListParams(CUSTOMER_FILTERS);
  const f = list.filters;
  return (
    <>
      <PageHeader
        title={t("nav.customers")}
        extra={
          <>
            {can("customers.import") ? (
              <Link to="/customers/import">
                <Button icon={<UploadOutlined />}>{t("customers.import")}</Button>
              </Link>
            ) : null}
            {can("customers.write") ? (
              <Link to="/customers/new">
                <Button type="primary" icon={<PlusOutlined />}>
                  {t("customers.new")}
                </Button>
              </Link>
            ) : null}
          </>
        }
      />
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
        <Input.Search
          aria-label={t("customers.searchLabel")}
          placeholder={t("customers.searchHint")}
          defaultValue={f.q}
          allowClear
          onSearch={(q) => update({ q })}
          style={{ width: 280, maxWidth: "100%" }}
        />
        <Select
          aria-label={t("customers.level")}
          placeholder={t("customers.level")}
          allowClear
          value={f.level}
          onChange={(level) => update({ level })}
          options={["A", "B", "C"].map((v) => ({ value: v, label: v }))}
          style={{ width: 110 }}
        />
        <Input
          aria-label={t("customers.region")}
          placeholder={t("customers.region")}
          defaultValue={f.region}
          allowClear
          onPressEnter={(e) => update({ region: (e.target as HTMLInputElement).value })}
          onBlur={(e) => update({ region: e.target.value })}
          style={{ width: 150 }}
        />
        <Input
          aria-label={t("customers.industry")}
          placeholder={t("customers.industry")}
          defaultValue={f.industry}
          allowClear
          onPressEnter={(e) => update({ industry: (e.target as HTMLInputElement).value })}
          onBlur={(e) => update({ industry: e.target.value })}
          style={{ width: 150 }}
        />
        <Input
          aria-label={t("customers.tag")}
          placeholder={t("customers.tag")}
          defaultValue={f.tag}
          allowClear
          onPressEnter={(e) => update({ tag: (e.target as HTMLInputElement).value })}
          onBlur={(e) => update({ tag: e.target.value })}
          style={{ width: 130 }}
        />
        <Select
          aria-label={t("customers.kind")}
          placeholder={t("customers.kind")}
          allowClear
          value={f.kind}
          onChange={(kind) => update({ kind })}
          options={[
            { value: "company", label: t("customers.company") },
            { value: "person", label: t("customers.person") },
          ]}
          style={{ width: 140 }}
        />
        <Select
          aria-label={t("customers.redListed")}
          placeholder={t("customers.redListed")}
          allowClear
          value={f.red_listed}
          onChange={(red_listed) => update({ red_listed })}
          options={[
            { value: "true", label: t("customers.redListOnly") },
            { value: "false", label: t("customers.redListNot") },
          ]}
          style={{ width: 170 }}
        />
        <Flex align="center" gap={6}>
          <Switch
            id="customers-include-archived"
            size="small"
            checked={f.include_archived === "true"}
            onChange={(on) => update({ include_archived: on ? "true" : undefined })}
          />
          <label htmlFor="customers-include-archived">{t("customers.includeArchived")}</label>
        </Flex>
      </Flex>
      <ServerTable<Customer>
        caption={t("nav.customers")}
        queryKey={["customers"]}
        fetch={listCustomers as never}
        filterNames={CUSTOMER_FILTERS}
        onRow={(row) => ({ onClick: () => navigate(`/customers/${row.id}`), style: { cursor: "pointer" } })}
        columns={[
          { title: t("customers.code"), dataIndex: "code", render: (code: string, row) => <Link to={`/customers/${row.id}`}>{code}</Link> },
          {
            title: t("common.name"),
            dataIndex: "name",
            render: (name: string, row) => (
              <>
                {name} {row.red_listed ? <Tag color="red">{t("customers.redListed")}</Tag> : null}
                {row.archived ? <Tag>{t("customers.archived")}</Tag> : null}
              </>
            ),
          },
          { title: t("customers.kind"), dataIndex: "kind", render: (kind: string) => t(`customers.${kind}`) },
          { title: t("customers.level"), dataIndex: "level" },
          { title: t("customers.region"), dataIndex: "region" },
          { title: t("customers.industry"), dataIndex: "industry" },
          { title: t("customers.tags"), dataIndex: "tags", render: (tags: string[]) => tags?.map((x) => <Tag key={x}>{x}</Tag>) },
          { title: t("common.createdAt"), dataIndex: "created_at", render: (v: string) => <DateText value={v} /> },
        ]}
      />
    </>
  );
}
