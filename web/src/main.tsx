import { lazy, StrictMode, Suspense } from "react";
import { createRoot } from "react-dom/client";
import "./app/global.css";
import { LoginPage } from "./app/LoginPage";
import { session } from "./shared/auth/session";
import { nextPath } from "./shared/auth/signIn";
import { ready } from "./shared/i18n";

// The sign-in page is served on its own (no component library, a fraction of the JavaScript);
// the console proper loads once someone is signed in.
const App = lazy(() => import("./app/App").then((m) => ({ default: m.App })));

function Root() {
  if (window.location.pathname === "/login") {
    if (session.signedIn()) {
      window.location.replace(nextPath(window.location.search));
      return null;
    }
    return <LoginPage onSignedIn={(path) => window.location.assign(path)} />;
  }
  return (
    <Suspense fallback={null}>
      <App />
    </Suspense>
  );
}

// the texts of the device's language first, so the first paint is already translated
void ready.finally(() =>
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <Root />
    </StrictMode>,
  ),
);
