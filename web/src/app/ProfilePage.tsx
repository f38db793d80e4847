import { Button, Card, Descriptions, Flex, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useAuth } from "../shared/auth/AuthProvider";
import { PageHeader } from "../shared/components/PageHeader";
import { DateText } from "../shared/components/values";
import { LanguageSwitch } from "./LanguageSwitch";
import { PasswordDialog } from "./PasswordDialog";

/** The signed-in user's own profile: who they are, their roles, their language and password. */
export function ProfilePage() {
  const { t } = useTranslation();
  const { user } = useAuth();
  const [passwordOpen, setPasswordOpen] = useState(false);
  if (!user) return null;
  return (
    <>
      <PageHeader title={t("header.profile")} />
      <Card>
        <Descriptions column={{ xs: 1, md: 2 }} bordered size="small">
          <Descriptions.Item label={t("auth.username")}>{user.username}</Descriptions.Item>
          <Descriptions.Item label={t("common.name")}>{user.full_name ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("profile.email")}>{user.email ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("profile.department")}>{user.department ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("profile.roles")}>
            {user.roles.map((r) => (
              <Tag key={r}>{t(`roles.${r}`, { defaultValue: r })}</Tag>
            ))}
          </Descriptions.Item>
          <Descriptions.Item label={t("common.createdAt")}>
            <DateText value={user.created_at} />
          </Descriptions.Item>
          <Descriptions.Item label={t("header.language")}>
            <LanguageSwitch remember />
          </Descriptions.Item>
        </Descriptions>
        <Flex style={{ marginTop: 16 }}>
          <Button onClick={() => setPasswordOpen(true)}>{t("header.password")}</Button>
        </Flex>
      </Card>
      <PasswordDialog open={passwordOpen} onClose={() => setPasswordOpen(false)} />
    </>
  );
}
