import { Card, Result, Tabs } from "antd";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { DailyJobTab } from "./DailyJobTab";
import { RulesTab } from "./RulesTab";
import { TemplatesTab } from "./TemplatesTab";
import { UsersTab } from "./UsersTab";
import { WebhooksTab } from "./WebhooksTab";

const TABS = ["users", "templates", "rules", "webhooks", "jobs"] as const;

/** Administration, one tab per concern, the tab in the URL (`?tab=`). */
export default function AdminPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const [params, setParams] = useSearchParams();
  if (!can("admin.users")) return <Result status="403" title={t("admin.forbidden")} />;
  const current = params.get("tab");
  const tab = TABS.includes(current as (typeof TABS)[number]) ? (current as string) : "users";
  const items = [
    { key: "users", label: t("admin.tabs.users"), children: <UsersTab /> },
    { key: "templates", label: t("admin.tabs.templates"), children: <TemplatesTab /> },
    can("admin.rules") ? { key: "rules", label: t("admin.tabs.rules"), children: <RulesTab /> } : null,
    can("admin.webhooks") ? { key: "webhooks", label: t("admin.tabs.webhooks"), children: <WebhooksTab /> } : null,
    can("admin.jobs") ? { key: "jobs", label: t("admin.tabs.jobs"), children: <DailyJobTab /> } : null,
  ].filter((x) => x !== null);
  return (
    <>
      <PageHeader title={t("nav.admin")} />
      <Card>
        <Tabs activeKey={tab} onChange={(key) => setParams({ tab: key })} items={items} destroyOnHidden />
      </Card>
    </>
  );
}
