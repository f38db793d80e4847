import { useTranslation } from "react-i18next";
import { formatDate, formatDateTime, formatMoney } from ".";

/** Formatters bound to the current language. */
export function useFormat() {
  const { i18n } = useTranslation();
  const lang = i18n.language;
  return {
    lang,
    money: (amount: string | number | null | undefined, currency: string | null | undefined) =>
      formatMoney(amount, currency, lang),
    date: (value: string | null | undefined) => formatDate(value, lang),
    dateTime: (value: string | null | undefined) => formatDateTime(value, lang),
  };
}
