import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ConfigProvider } from "antd";
import bgBG from "antd/es/locale/bg_BG";
import enGB from "antd/es/locale/en_GB";
import trTR from "antd/es/locale/tr_TR";
import zhCN from "antd/es/locale/zh_CN";
import dayjs from "dayjs";
import "dayjs/locale/bg";
import "dayjs/locale/en-gb";
import "dayjs/locale/tr";
import "dayjs/locale/zh-cn";
import { lazy, Suspense, useEffect } from "react";
import { useTranslation } from "react-i18next";
import { createBrowserRouter, RouterProvider } from "react-router-dom";
import { ApiError } from "../shared/api/client";
import { AuthProvider } from "../shared/auth/AuthProvider";
import { Home } from "./Home";
import { NotFound } from "./NotFound";
import { ProfilePage } from "./ProfilePage";
import { RequireAuth } from "./RequireAuth";
import { featureRoutes } from "./routes";

// the shell of the signed-in screens: not needed by the sign-in page, so loaded after it
const AppLayout = lazy(() => import("./AppLayout").then((m) => ({ default: m.AppLayout })));

const ANT_LOCALES = { en: enGB, zh: zhCN, tr: trTR, bg: bgBG } as const;
const DAYJS_LOCALES = { en: "en-gb", zh: "zh-cn", tr: "tr", bg: "bg" } as const;

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      // a bad connection: retry what failed on the way, never a 4xx
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
    },
  },
});

const router = createBrowserRouter([
  {
    path: "/",
    element: (
      <RequireAuth>
        <Suspense fallback={null}>
          <AppLayout />
        </Suspense>
      </RequireAuth>
    ),
    children: [
      { index: true, element: <Home /> },
      { path: "profile", element: <ProfilePage /> },
      ...featureRoutes,
      { path: "*", element: <NotFound /> },
    ],
  },
]);

function Localized() {
  const { i18n } = useTranslation();
  const lang = (i18n.language in ANT_LOCALES ? i18n.language : "en") as keyof typeof ANT_LOCALES;
  useEffect(() => {
    dayjs.locale(DAYJS_LOCALES[lang]);
    document.documentElement.lang = lang;
  }, [lang]);
  return (
    <ConfigProvider locale={ANT_LOCALES[lang]} button={{ autoInsertSpace: false }} theme={{ token: { colorPrimary: "#1677ff", borderRadius: 6 } }}>
      <AuthProvider>
        <RouterProvider router={router} />
      </AuthProvider>
    </ConfigProvider>
  );
}

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <Localized />
    </QueryClientProvider>
  );
}
