import { lazy } from "react";
import type { RouteObject } from "react-router-dom";

const ApprovalsPage = lazy(() => import("./ApprovalsPage"));
const ApprovalPage = lazy(() => import("./ApprovalPage"));
const FlowsPage = lazy(() => import("./FlowsPage"));
const FlowEditPage = lazy(() => import("./FlowEditPage"));

export const routes: RouteObject[] = [
  { path: "approvals", element: <ApprovalsPage /> },
  { path: "approvals/flows", element: <FlowsPage /> },
  { path: "approvals/flows/new", element: <FlowEditPage /> },
  { path: "approvals/flows/:id", element: <FlowEditPage /> },
  { path: "approvals/:id", element: <ApprovalPage /> },
];
