import { lazy } from "react";
import type { RouteObject } from "react-router-dom";

const ContractsPage = lazy(() => import("./ContractsPage"));
const ContractFormPage = lazy(() => import("./ContractFormPage"));
const ContractPage = lazy(() => import("./ContractPage"));

export const routes: RouteObject[] = [
  { path: "contracts", element: <ContractsPage /> },
  { path: "contracts/new", element: <ContractFormPage /> },
  { path: "contracts/:id", element: <ContractPage /> },
  { path: "contracts/:id/edit", element: <ContractFormPage /> },
];
