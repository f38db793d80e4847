import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useSyncExternalStore, type ReactNode } from "react";
import { api, apiError, type components } from "../api/client";
import { allowed, type Permission } from "./permissions";
import { session } from "./session";
import { isLanguage, switchLanguage } from "../i18n";

export type Me = components["schemas"]["UserPublic"];

interface AuthValue {
  user: Me | null;
  loading: boolean;
  signOut: () => Promise<void>;
  can: (permission: Permission) => boolean;
  hasRole: (...roles: string[]) => boolean;
}

const AuthContext = createContext<AuthValue | null>(null);

function useSignedIn(): boolean {
  return useSyncExternalStore(session.subscribe, session.signedIn, () => false);
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const signedIn = useSignedIn();
  const queryClient = useQueryClient();
  const me = useQuery({
    queryKey: ["me", signedIn],
    enabled: signedIn,
    staleTime: 60_000,
    queryFn: async (): Promise<Me> => {
      const { data, error, response } = await api.GET("/api/v1/users/me");
      if (response.status === 403) {
        // a portal user: the staff console is not theirs
        const portal = await api.GET("/api/v1/portal/me");
        if (!portal.response.ok) throw apiError(portal.response.status, portal.response.statusText, portal.error);
        return portal.data as Me;
      }
      if (!response.ok) throw apiError(response.status, response.statusText, error);
      return data as Me;
    },
    retry: false,
  });

  useEffect(() => {
    if (!signedIn) queryClient.clear();
  }, [signedIn, queryClient]);

  // the language remembered in the profile, on a device where none was chosen yet
  const profileLanguage = me.data?.language;
  useEffect(() => {
    if (profileLanguage && isLanguage(profileLanguage) && !session.language()) void switchLanguage(profileLanguage);
  }, [profileLanguage]);

  useEffect(() => {
    const status = (me.error as { status?: number } | null)?.status;
    if (status === 401) session.expire();
  }, [me.error]);

  const signOut = useCallback(async () => {
    const refresh = session.refreshToken();
    try {
      await fetch("/api/v1/auth/logout", {
        method: "POST",
        headers: { Authorization: `Bearer ${session.accessToken() ?? ""}`, "Content-Type": "application/json" },
        body: JSON.stringify(refresh ? { refresh_token: refresh } : {}),
      });
    } catch {
      // signed out on this device whatever the server says
    }
    session.clear();
  }, []);

  const value = useMemo<AuthValue>(() => {
    const user = signedIn ? (me.data ?? null) : null;
    const roles: string[] = (user?.roles as string[] | undefined) ?? [];
    return {
      user,
      loading: signedIn && me.isLoading,
      signOut,
      can: (permission) => allowed(roles, permission),
      hasRole: (...wanted) => wanted.some((r) => roles.includes(r)),
    };
  }, [signedIn, me.data, me.isLoading, signOut]);

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}
