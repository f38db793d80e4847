import { Result, Skeleton } from "antd";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useLocation } from "react-router-dom";
import { useAuth } from "../shared/auth/AuthProvider";

/** Staff screens: signed in, else to the sign-in page (coming back here afterwards). */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { user, loading, hasRole } = useAuth();
  const location = useLocation();
  const { t } = useTranslation();
  if (loading) return <Skeleton active style={{ padding: 48 }} />;
  if (!user) {
    // the sign-in page is its own small page (main.tsx): a full navigation, back here afterwards
    const next = location.pathname + location.search;
    window.location.replace(`/login${next && next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`);
    return null;
  }
  if (hasRole("portal")) return <Result status="info" title={t("auth.portalOnly")} />;
  return <>{children}</>;
}
