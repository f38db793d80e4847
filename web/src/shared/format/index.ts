// Money and dates as a person reads them: per locale, money always with its currency, and
// amounts formatted from their exact decimal strings (never through a float).
import { intlLocale } from "../i18n";

/** "1250.5" + "EUR" → "€1,250.50" (en) / "1.250,50 €" (tr). The amount stays a string. */
export function formatMoney(amount: string | number | null | undefined, currency: string | null | undefined, lang: string): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  const code = currency || "";
  try {
    const nf = new Intl.NumberFormat(intlLocale(lang), code ? { style: "currency", currency: code } : { minimumFractionDigits: 2 });
    // Intl.NumberFormat formats decimal strings exactly (no float rounding)
    return nf.format(String(amount) as unknown as number);
  } catch {
    return `${amount} ${code}`.trim();
  }
}

/** A date "2027-01-15" (or a timestamp) in the reader's locale. */
export function formatDate(value: string | null | undefined, lang: string): string {
  if (!value) return "—";
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return new Intl.DateTimeFormat(intlLocale(lang), { dateStyle: "medium", timeZone: "UTC" }).format(date);
}

export function formatDateTime(value: string | null | undefined, lang: string): string {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return new Intl.DateTimeFormat(intlLocale(lang), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** Sums exact decimal strings of one currency (minor units as BigInt, up to 6 places). */
export function sumMoney(amounts: Array<string | null | undefined>): string {
  const SCALE = 6;
  let total = 0n;
  for (const raw of amounts) {
    if (!raw) continue;
    const negative = raw.trim().startsWith("-");
    const [whole, frac = ""] = raw.trim().replace(/^[-+]/, "").split(".");
    const units = BigInt(whole || "0") * 10n ** BigInt(SCALE) + BigInt((frac + "0".repeat(SCALE)).slice(0, SCALE));
    total += negative ? -units : units;
  }
  const negative = total < 0n;
  const abs = negative ? -total : total;
  const whole = abs / 10n ** BigInt(SCALE);
  const frac = (abs % 10n ** BigInt(SCALE)).toString().padStart(SCALE, "0").replace(/0+$/, "").padEnd(2, "0");
  return `${negative ? "-" : ""}${whole}.${frac}`;
}

/** A money string as a number for charts only (never for arithmetic that is shown as money). */
export function chartNumber(amount: string | null | undefined): number {
  return amount ? Number(amount) : 0;
}
