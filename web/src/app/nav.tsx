import {
  AppstoreOutlined,
  AuditOutlined,
  BarChartOutlined,
  BellOutlined,
  CheckSquareOutlined,
  DashboardOutlined,
  DollarOutlined,
  FileDoneOutlined,
  FileTextOutlined,
  FundOutlined,
  SettingOutlined,
  TeamOutlined,
} from "@ant-design/icons";
import type { ReactNode } from "react";
import type { Permission } from "../shared/auth/permissions";

export interface NavEntry {
  key: string;
  path: string;
  icon: ReactNode;
  permission: Permission;
}

/** The left navigation, in the order of the list; each entry shown per role. */
export const NAV: NavEntry[] = [
  { key: "dashboard", path: "/dashboard", icon: <DashboardOutlined />, permission: "dashboard.view" },
  { key: "customers", path: "/customers", icon: <TeamOutlined />, permission: "customers.view" },
  { key: "opportunities", path: "/opportunities", icon: <FundOutlined />, permission: "opportunities.view" },
  { key: "contracts", path: "/contracts", icon: <FileTextOutlined />, permission: "contracts.view" },
  { key: "approvals", path: "/approvals", icon: <AuditOutlined />, permission: "approvals.view" },
  { key: "invoices", path: "/invoices", icon: <FileDoneOutlined />, permission: "invoices.view" },
  { key: "payments", path: "/payments", icon: <DollarOutlined />, permission: "invoices.view" },
  { key: "inventory", path: "/inventory", icon: <AppstoreOutlined />, permission: "inventory.view" },
  { key: "tasks", path: "/tasks", icon: <CheckSquareOutlined />, permission: "tasks.view" },
  { key: "notifications", path: "/notifications", icon: <BellOutlined />, permission: "notifications.view" },
  { key: "reports", path: "/reports", icon: <BarChartOutlined />, permission: "reports.view" },
  { key: "admin", path: "/admin", icon: <SettingOutlined />, permission: "admin.users" },
];
