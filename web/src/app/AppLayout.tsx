import { BellOutlined, DownOutlined, KeyOutlined, LogoutOutlined, MenuOutlined, UserOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { App as AntApp, Avatar, Badge, Button, Drawer, Dropdown, Flex, Layout, Menu, Skeleton, Typography } from "antd";
import { Suspense, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, Outlet, useLocation, useNavigate } from "react-router-dom";
import { api } from "../shared/api/client";
import { useAuth } from "../shared/auth/AuthProvider";
import { useIsMobile } from "../shared/components/useIsMobile";
import { useLiveUpdates } from "../shared/live";
import { GlobalSearch } from "./GlobalSearch";
import { LanguageSwitch } from "./LanguageSwitch";
import { NAV } from "./nav";
import { PasswordDialog } from "./PasswordDialog";

const { Header, Sider, Content } = Layout;

export function AppLayout() {
  const { t } = useTranslation();
  const { user, can, signOut } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const mobile = useIsMobile();
  const [drawer, setDrawer] = useState(false);
  const [passwordOpen, setPasswordOpen] = useState(false);
  useLiveUpdates(Boolean(user));

  const unread = useQuery({
    queryKey: ["unread"],
    enabled: can("notifications.view"),
    refetchInterval: 60_000,
    queryFn: async () => {
      const { data } = await api.GET("/api/v1/notifications", { params: { query: { unread: true, page_size: 1 } } });
      return data?.unread ?? data?.total ?? 0;
    },
  });

  const entries = NAV.filter((entry) => can(entry.permission));
  const selected = entries.find((e) => location.pathname.startsWith(e.path))?.key ?? "dashboard";
  const menu = (
    <Menu
      mode="inline"
      selectedKeys={[selected]}
      onClick={() => setDrawer(false)}
      items={entries.map((e) => ({ key: e.key, icon: e.icon, label: <Link to={e.path}>{t(`nav.${e.key}`)}</Link> }))}
      style={{ borderInlineEnd: 0 }}
    />
  );
  const brand = (
    <Link to="/dashboard" style={{ display: "block", padding: "16px 20px", fontWeight: 600, fontSize: 16, color: "inherit" }}>
      {t("app.name")}
    </Link>
  );

  return (
    // AntApp (message, modal, notification for App.useApp()) lives here: the sign-in page needs none
    <AntApp>
    <Layout style={{ minHeight: "100vh" }}>
      {mobile ? (
        <Drawer open={drawer} onClose={() => setDrawer(false)} placement="left" size={260} title={t("app.name")} styles={{ body: { padding: 0 } }}>
          {menu}
        </Drawer>
      ) : (
        <Sider width={220} theme="light" style={{ borderInlineEnd: "1px solid #f0f0f0" }} breakpoint="lg" collapsedWidth={64}>
          {brand}
          <nav aria-label={t("nav.menu")}>{menu}</nav>
        </Sider>
      )}
      <Layout>
        <Header
          style={{
            background: "#fff",
            padding: mobile ? "0 8px" : "0 20px",
            borderBottom: "1px solid #f0f0f0",
            display: "flex",
            alignItems: "center",
            gap: 8,
            position: "sticky",
            top: 0,
            zIndex: 10,
          }}
        >
          {mobile ? <Button type="text" icon={<MenuOutlined />} aria-label={t("nav.menu")} onClick={() => setDrawer(true)} /> : null}
          <div style={{ flex: 1, minWidth: 0 }}>
            <GlobalSearch />
          </div>
          {can("notifications.view") ? (
            <Link to="/notifications" aria-label={t("header.notifications")}>
              <Badge count={unread.data ?? 0} size="small" overflowCount={99}>
                <Button type="text" icon={<BellOutlined style={{ fontSize: 18 }} />} aria-hidden tabIndex={-1} />
              </Badge>
            </Link>
          ) : null}
          {mobile ? null : <LanguageSwitch remember />}
          <Dropdown
            trigger={["click"]}
            menu={{
              items: [
                { key: "profile", icon: <UserOutlined />, label: t("header.profile") },
                { key: "password", icon: <KeyOutlined />, label: t("header.password") },
                ...(mobile ? [{ key: "language", label: <LanguageSwitch remember /> }] : []),
                { type: "divider" as const },
                { key: "signout", icon: <LogoutOutlined />, label: t("header.signOut") },
              ],
              onClick: ({ key }) => {
                if (key === "signout") void signOut().then(() => window.location.assign("/login"));
                if (key === "password") setPasswordOpen(true);
                if (key === "profile") navigate("/profile");
              },
            }}
          >
            <Button type="text" aria-label={user?.username ?? ""}>
              <Flex align="center" gap={6}>
                <Avatar size="small" icon={<UserOutlined />} />
                {mobile ? null : <Typography.Text>{user?.full_name || user?.username}</Typography.Text>}
                <DownOutlined style={{ fontSize: 10 }} />
              </Flex>
            </Button>
          </Dropdown>
        </Header>
        <Content style={{ padding: mobile ? 12 : 24, minWidth: 0 }}>
          <Suspense fallback={<Skeleton active />}>
            <Outlet />
          </Suspense>
        </Content>
      </Layout>
      <PasswordDialog open={passwordOpen} onClose={() => setPasswordOpen(false)} />
    </Layout>
    </AntApp>
  );
}
