import { lazy } from "react";
import type { RouteObject } from "react-router-dom";

const TasksPage = lazy(() => import("./TasksPage"));
const NotificationsPage = lazy(() => import("./NotificationsPage"));

export const routes: RouteObject[] = [
  { path: "tasks", element: <TasksPage /> },
  { path: "notifications", element: <NotificationsPage /> },
];
