// Live updates: the server-sent events stream of the signed-in user's inbox and tasks
// (GET /api/v1/notifications/stream). `ready` (sent first) and each event refresh what they touch.
// EventSource cannot send headers, so the access token rides in the query string; the stream ends
// when that token expires, so a new one is opened whenever the session's token changes, and after
// a pause when the connection drops. The badge also polls slowly, for proxies that buffer.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useSyncExternalStore } from "react";
import { session } from "./auth/session";

export function useLiveUpdates(enabled: boolean): void {
  const queryClient = useQueryClient();
  const token = useSyncExternalStore(session.subscribe, session.accessToken, () => null);
  useEffect(() => {
    if (!enabled || !token || typeof EventSource === "undefined") return;
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let closed = false;
    const refresh = (keys: string[][]) => () => keys.forEach((key) => void queryClient.invalidateQueries({ queryKey: key }));
    const open = () => {
      if (closed) return;
      source = new EventSource(`/api/v1/notifications/stream?access_token=${encodeURIComponent(token)}`);
      source.addEventListener("ready", refresh([["unread"], ["notifications"], ["tasks"]]));
      source.addEventListener("notification", refresh([["notifications"], ["unread"]]));
      source.addEventListener("task", refresh([["tasks"]]));
      source.onerror = () => {
        source?.close();
        retry = setTimeout(open, 15_000);
      };
    };
    open();
    return () => {
      closed = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [enabled, token, queryClient]);
}
