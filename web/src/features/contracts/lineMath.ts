// A contract line's amount as the contracts service computes it — quantity × unit price ×
// (1 − discount %) — from exact decimal strings (scaled BigInts, never floats), and the totals per
// currency the create wizard shows before saving.

const SCALE = 6;
const ONE = 10n ** BigInt(SCALE);

/** "12.5" → 12500000n (scale 6); null when the text is not a plain decimal number. */
export function parseDecimal(raw: string | number | null | undefined): bigint | null {
  if (raw === null || raw === undefined) return null;
  const text = String(raw).trim();
  if (!/^[-+]?\d+(\.\d*)?$|^[-+]?\.\d+$/.test(text)) return null;
  const negative = text.startsWith("-");
  const [whole, frac = ""] = text.replace(/^[-+]/, "").split(".");
  const units = BigInt(whole || "0") * ONE + BigInt((frac + "0".repeat(SCALE)).slice(0, SCALE));
  return negative ? -units : units;
}

/** A scaled value rounded half away from zero to `places` decimals, as a string. */
export function formatScaled(value: bigint, scale: number, places = 2): string {
  const negative = value < 0n;
  let abs = negative ? -value : value;
  const drop = scale - places;
  if (drop > 0) {
    const div = 10n ** BigInt(drop);
    abs = (abs + div / 2n) / div;
  } else if (drop < 0) {
    abs *= 10n ** BigInt(-drop);
  }
  const base = 10n ** BigInt(places);
  const whole = abs / base;
  const frac = places > 0 ? "." + (abs % base).toString().padStart(places, "0") : "";
  return `${negative && abs !== 0n ? "-" : ""}${whole}${frac}`;
}

export interface LineInput {
  quantity?: string | number | null;
  unit_price?: string | number | null;
  discount_percent?: string | number | null;
}

/** quantity × unit price × (100 − discount) / 100, rounded to cents; null while incomplete. */
export function lineAmount(line: LineInput): string | null {
  const q = parseDecimal(line.quantity === undefined || line.quantity === null || line.quantity === "" ? "1" : line.quantity);
  const p = parseDecimal(line.unit_price);
  const d = parseDecimal(line.discount_percent === undefined || line.discount_percent === null || line.discount_percent === "" ? "0" : line.discount_percent);
  if (q === null || p === null || d === null) return null;
  // scale: q (6) × p (6) × (100·ONE − d) (6) → 18, then ÷ 100
  const exact = q * p * (100n * ONE - d);
  return formatScaled(exact / 100n, SCALE * 3);
}

/** Sums line amounts per currency; lines without an amount yet are left out. */
export function totalsByCurrency(lines: Array<LineInput & { currency?: string | null }>, fallbackCurrency: string): Record<string, string> {
  const sums = new Map<string, bigint>();
  for (const line of lines) {
    const amount = lineAmount(line);
    if (amount === null) continue;
    const currency = line.currency || fallbackCurrency;
    sums.set(currency, (sums.get(currency) ?? 0n) + (parseDecimal(amount) ?? 0n));
  }
  const out: Record<string, string> = {};
  for (const [currency, value] of sums) out[currency] = formatScaled(value, SCALE);
  return out;
}
