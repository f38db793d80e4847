import { lazy } from "react";
import { Navigate, type RouteObject } from "react-router-dom";

const InvoicesPage = lazy(() => import("./InvoicesPage"));
const InvoicePage = lazy(() => import("./InvoicePage"));
const PaymentsPage = lazy(() => import("./PaymentsPage"));
const PaymentPage = lazy(() => import("./PaymentPage"));
const BillingRunsPage = lazy(() => import("./BillingRunsPage"));
const BillingRunPage = lazy(() => import("./BillingRunPage"));
const PendingCorrectionsPage = lazy(() => import("./PendingCorrectionsPage"));

export const routes: RouteObject[] = [
  { path: "invoices", element: <InvoicesPage /> },
  { path: "invoices/runs", element: <BillingRunsPage /> },
  { path: "invoices/runs/:id", element: <BillingRunPage /> },
  { path: "invoices/corrections", element: <PendingCorrectionsPage /> },
  { path: "invoices/:id", element: <InvoicePage /> },
  { path: "billing/runs", element: <Navigate to="/invoices/runs" replace /> },
  { path: "payments", element: <PaymentsPage /> },
  { path: "payments/:id", element: <PaymentPage /> },
];
