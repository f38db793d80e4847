import { lazy } from "react";
import type { RouteObject } from "react-router-dom";

const DashboardPage = lazy(() => import("./DashboardPage"));
const ReportsPage = lazy(() => import("./ReportsPage"));

export const routes: RouteObject[] = [
  { path: "dashboard", element: <DashboardPage /> },
  { path: "reports", element: <ReportsPage /> },
];
