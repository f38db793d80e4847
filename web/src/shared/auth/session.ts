// The signed-in session: a short access token and a rotating refresh token (kept for a working
// day, never the password), plus the chosen language. Stored in localStorage so a reload or a
// second tab stays signed in; sign-out and a failed refresh clear it everywhere.

const KEY = "crm.session";
const LANG_KEY = "crm.language";

export interface Tokens {
  access_token: string;
  refresh_token?: string | null;
  expires_in?: number | null;
}

interface Stored {
  access: string;
  refresh: string | null;
}

type Listener = () => void;
const listeners = new Set<Listener>();

function read(): Stored | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Stored) : null;
  } catch {
    return null;
  }
}

function write(value: Stored | null): void {
  if (value) localStorage.setItem(KEY, JSON.stringify(value));
  else localStorage.removeItem(KEY);
  listeners.forEach((fn) => fn());
}

export const session = {
  accessToken(): string | null {
    return read()?.access ?? null;
  },
  hasRefresh(): boolean {
    return Boolean(read()?.refresh);
  },
  signedIn(): boolean {
    return read() !== null;
  },
  store(tokens: Tokens): void {
    write({ access: tokens.access_token, refresh: tokens.refresh_token ?? null });
  },
  /** Trades the refresh token for new tokens; false when the session is over. Tabs take turns
   * (a refresh token works once: two tabs using it together would end the session), and a tab
   * that finds the token already renewed by another simply uses the new one. */
  async refresh(): Promise<boolean> {
    const before = read()?.refresh;
    if (!before) return false;
    const run = async (): Promise<boolean> => {
      const current = read();
      if (!current?.refresh) return false;
      if (current.refresh !== before) return true;
      try {
        const response = await fetch("/api/v1/auth/refresh", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: current.refresh }),
        });
        if (!response.ok) return false;
        session.store((await response.json()) as Tokens);
        return true;
      } catch {
        return false;
      }
    };
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    return locks ? locks.request("crm.session.refresh", run) : run();
  },
  /** Ends the session on this device (the caller tells the server first where it can). */
  clear(): void {
    write(null);
  },
  /** The session ended by itself (refresh refused): back to the sign-in page. */
  expire(): void {
    write(null);
  },
  refreshToken(): string | null {
    return read()?.refresh ?? null;
  },
  language(): string | null {
    return localStorage.getItem(LANG_KEY);
  },
  setLanguage(lang: string): void {
    localStorage.setItem(LANG_KEY, lang);
  },
  subscribe(fn: Listener): () => void {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

if (typeof window !== "undefined") {
  window.addEventListener("storage", (event) => {
    if (event.key === KEY) listeners.forEach((fn) => fn());
  });
}
