// The console's own texts in English, Chinese, Turkish and Bulgarian (Ant Design's own texts come
// from its locales, switched at the root in App). Shared texts live in ./locales; each feature
// keeps its own in features/<feature>/locales/<lang>.json, reached as `<feature>.<key>`.
// The language is remembered on the device and in the user's profile.
import i18n from "i18next";
import { initReactI18next } from "react-i18next";

export const LANGUAGES = [
  { code: "en", label: "English", intl: "en-GB" },
  { code: "zh", label: "中文", intl: "zh-CN" },
  { code: "tr", label: "Türkçe", intl: "tr-TR" },
  { code: "bg", label: "Български", intl: "bg-BG" },
] as const;

export type Language = (typeof LANGUAGES)[number]["code"];

export function isLanguage(value: unknown): value is Language {
  return LANGUAGES.some((l) => l.code === value);
}

export function intlLocale(lang: string): string {
  return LANGUAGES.find((l) => l.code === lang)?.intl ?? "en-GB";
}

export function initialLanguage(): Language {
  const stored = typeof localStorage !== "undefined" ? localStorage.getItem("crm.language") : null;
  if (isLanguage(stored)) return stored;
  const browser = typeof navigator !== "undefined" ? navigator.language.slice(0, 2) : "en";
  return isLanguage(browser) ? browser : "en";
}

// Texts are fetched per language, when it is first needed: the sign-in page loads only the
// language it shows (and English, the fallback), not every text of every feature.
const sharedFiles = import.meta.glob<Record<string, unknown>>("./locales/*.json", { import: "default" });
const featureFiles = import.meta.glob<Record<string, unknown>>("../../features/*/locales/*.json", {
  import: "default",
});

async function textsOf(lang: Language): Promise<Record<string, unknown>> {
  const loads: Promise<void>[] = [];
  const texts: Record<string, unknown> = {};
  const base = sharedFiles[`./locales/${lang}.json`];
  if (base) loads.push(base().then((t) => void Object.assign(texts, t)));
  for (const [path, load] of Object.entries(featureFiles)) {
    const match = /features\/([^/]+)\/locales\/([a-z]+)\.json$/.exec(path);
    if (match && match[2] === lang) loads.push(load().then((t) => void (texts[match[1]] = t)));
  }
  await Promise.all(loads);
  return texts;
}

/** Makes the language's texts available (once), then switches to it. */
export async function switchLanguage(lang: Language): Promise<void> {
  for (const code of new Set<Language>(["en", lang])) {
    if (!i18n.hasResourceBundle(code, "translation")) i18n.addResourceBundle(code, "translation", await textsOf(code), true, true);
  }
  await i18n.changeLanguage(lang);
}

/** Starts i18next with the device's language; resolves once its texts are loaded. */
export const ready: Promise<void> = i18n
  .use(initReactI18next)
  .init({
    resources: {},
    lng: initialLanguage(),
    fallbackLng: "en",
    interpolation: { escapeValue: false },
    returnNull: false,
    partialBundledLanguages: true,
  })
  .then(() => switchLanguage(initialLanguage()));

export default i18n;
