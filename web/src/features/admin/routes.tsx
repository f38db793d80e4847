import { lazy } from "react";
import type { RouteObject } from "react-router-dom";

const AdminPage = lazy(() => import("./AdminPage"));

export const routes: RouteObject[] = [{ path: "admin", element: <AdminPage /> }];
