import { lazy } from "react";
import type { RouteObject } from "react-router-dom";

const OpportunitiesPage = lazy(() => import("./OpportunitiesPage"));
const OpportunityCreatePage = lazy(() => import("./OpportunityCreatePage"));
const OpportunityPage = lazy(() => import("./OpportunityPage"));

export const routes: RouteObject[] = [
  { path: "opportunities", element: <OpportunitiesPage /> },
  { path: "opportunities/new", element: <OpportunityCreatePage /> },
  { path: "opportunities/:id", element: <OpportunityPage /> },
];
