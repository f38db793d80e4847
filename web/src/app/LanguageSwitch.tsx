import { GlobalOutlined } from "@ant-design/icons";
import { Select } from "antd";
import { useTranslation } from "react-i18next";
import { api } from "../shared/api/client";
import { session } from "../shared/auth/session";
import { LANGUAGES, switchLanguage, type Language } from "../shared/i18n";

/** English, 中文, Türkçe, Български: switched at once, remembered on the device and (when signed
 * in) in the user's profile. */
export function LanguageSwitch({ remember = false }: { remember?: boolean }) {
  const { t, i18n } = useTranslation();
  const change = (lang: Language) => {
    session.setLanguage(lang);
    void switchLanguage(lang);
    if (remember) void api.PATCH("/api/v1/users/me", { body: { language: lang } }).catch(() => undefined);
  };
  return (
    <Select<Language>
      aria-label={t("header.language")}
      value={(i18n.language as Language) ?? "en"}
      onChange={change}
      prefix={<GlobalOutlined />}
      variant="borderless"
      style={{ minWidth: 120 }}
      options={LANGUAGES.map((l) => ({ value: l.code, label: l.label }))}
      popupMatchSelectWidth={false}
    />
  );
}
