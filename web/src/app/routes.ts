// Every feature declares its screens in features/<feature>/routes.tsx (`export const routes`), so
// a new screen is a change inside its feature; the app collects them here.
import type { RouteObject } from "react-router-dom";

const modules = import.meta.glob<{ routes: RouteObject[] }>("../features/*/routes.tsx", { eager: true });

export const featureRoutes: RouteObject[] = Object.keys(modules)
  .sort()
  .flatMap((path) => modules[path].routes);
