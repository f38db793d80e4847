import { Skeleton, Tabs, Typography } from "antd";
import { Suspense } from "react";
import { useTranslation } from "react-i18next";
import { Outlet, useLocation, useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";

const TABS = [
  "products",
  "categories",
  "price-lists",
  "warehouses",
  "stock",
  "units",
  "moves",
  "reservations",
  "purchase-orders",
  "trade-ins",
] as const;

/** The inventory area: one tab per part, the tab in the URL (/inventory/<tab>/...). */
export default function InventoryLayout() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const active = pathname.split("/")[2] ?? "products";
  const tabs = TABS.filter((tab) => tab !== "trade-ins" || can("tradeIns.view") || can("tradeIns.decide"));
  return (
    <>
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t("nav.inventory")}
      </Typography.Title>
      <Tabs
        activeKey={active}
        onChange={(key) => navigate(`/inventory/${key}`)}
        items={tabs.map((key) => ({ key, label: t(`inventory.tabs.${key}`) }))}
        style={{ marginBottom: 8 }}
      />
      <Suspense fallback={<Skeleton active />}>
        <Outlet />
      </Suspense>
    </>
  );
}
