import { lazy } from "react";
import type { RouteObject } from "react-router-dom";

const CustomersPage = lazy(() => import("./CustomersPage"));
const CustomerCreatePage = lazy(() => import("./CustomerCreatePage"));
const CustomerPage = lazy(() => import("./CustomerPage"));
const ImportPage = lazy(() => import("./ImportPage"));

export const routes: RouteObject[] = [
  { path: "customers", element: <CustomersPage /> },
  { path: "customers/new", element: <CustomerCreatePage /> },
  { path: "customers/import", element: <ImportPage /> },
  { path: "customers/:id", element: <CustomerPage /> },
];
