import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../shared/api/client";
import { nextPath, signIn } from "../shared/auth/signIn";
import { session } from "../shared/auth/session";
import { LANGUAGES, switchLanguage, type Language } from "../shared/i18n";
import "./login.css";

/** The sign-in page: labelled fields, the reason when a sign-in is refused, the language switch.
 * `onSignedIn(path)` goes on to the page the user asked for (`?next=`). */
export function LoginPage({ onSignedIn }: { onSignedIn: (path: string) => void }) {
  const { t, i18n } = useTranslation();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [missing, setMissing] = useState<{ username?: boolean; password?: boolean }>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const empty = { username: !username.trim(), password: !password };
    setMissing(empty);
    if (empty.username || empty.password) return;
    setBusy(true);
    setError(null);
    try {
      await signIn(username.trim(), password);
      onSignedIn(nextPath(window.location.search));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setError(t("auth.failed"));
      else if (e instanceof ApiError && e.status === 429) setError(t("errors.tooMany"));
      else if (e instanceof ApiError) setError(e.message);
      else setError(t("errors.network"));
    } finally {
      setBusy(false);
    }
  };

  const changeLanguage = (lang: Language) => {
    session.setLanguage(lang);
    void switchLanguage(lang);
  };

  return (
    <main className="login-page">
      <div className="login-card">
        <div className="login-head">
          <h1>{t("auth.title")}</h1>
          <select
            className="login-lang"
            aria-label={t("header.language")}
            value={i18n.language}
            onChange={(e) => changeLanguage(e.target.value as Language)}
          >
            {LANGUAGES.map((l) => (
              <option key={l.code} value={l.code}>
                {l.label}
              </option>
            ))}
          </select>
        </div>
        <p className="login-sub">{t("auth.subtitle")}</p>
        {error ? (
          <div className="login-error" role="alert">
            {error}
          </div>
        ) : null}
        <form onSubmit={(e) => void submit(e)} noValidate>
          <div className="login-field">
            <label htmlFor="username">{t("auth.username")}</label>
            <input
              id="username"
              name="username"
              autoComplete="username"
              autoFocus
              value={username}
              disabled={busy}
              aria-invalid={missing.username ? true : undefined}
              aria-describedby={missing.username ? "username-help" : undefined}
              onChange={(e) => setUsername(e.target.value)}
            />
            {missing.username ? (
              <div className="login-help" id="username-help">
                {t("auth.required")}
              </div>
            ) : null}
          </div>
          <div className="login-field">
            <label htmlFor="password">{t("auth.password")}</label>
            <input
              id="password"
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              disabled={busy}
              aria-invalid={missing.password ? true : undefined}
              aria-describedby={missing.password ? "password-help" : undefined}
              onChange={(e) => setPassword(e.target.value)}
            />
            {missing.password ? (
              <div className="login-help" id="password-help">
                {t("auth.required")}
              </div>
            ) : null}
          </div>
          <button className="login-submit" type="submit" disabled={busy}>
            {t("auth.submit")}
          </button>
        </form>
      </div>
      <div className="login-brand">{t("app.name")}</div>
    </main>
  );
}
