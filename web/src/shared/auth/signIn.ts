// Signing in needs nothing but the API client and the session store, so the sign-in page can be
// served without the rest of the console (its first visit loads a fraction of the JavaScript).
import { api, unwrap } from "../api/client";
import { session, type Tokens } from "./session";

export async function signIn(username: string, password: string): Promise<void> {
  const tokens = await unwrap(
    api.POST("/api/v1/auth/token", {
      body: { username, password, scope: "" },
      bodySerializer: (body) => new URLSearchParams({ username: body.username, password: body.password }),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    }),
  );
  session.store(tokens as Tokens);
}

/** Where to go after signing in: the `next` of the sign-in link when it is a path of this site. */
export function nextPath(search: string): string {
  const next = new URLSearchParams(search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/login") ? next : "/";
}
