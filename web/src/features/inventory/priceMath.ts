// The bulk price update's preview: which prices of a list change and to what, computed the way
// the inventory service does (percent on the current price, rounded half up to the minor unit).

export interface PriceChange {
  product_id: number;
  before: string;
  after: string;
}

/** Minor-unit digits of a currency (JPY 0, most 2), as Intl knows them. */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

function toUnits(value: string, scale: number): bigint {
  const negative = value.trim().startsWith("-");
  const [whole, frac = ""] = value.trim().replace(/^[-+]/, "").split(".");
  const digits = BigInt((whole || "0") + frac.padEnd(scale, "0").slice(0, scale));
  return negative ? -digits : digits;
}

function fromUnits(units: bigint, scale: number): string {
  const negative = units < 0n;
  const abs = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = abs.slice(0, abs.length - scale);
  const frac = abs.slice(abs.length - scale);
  return `${negative ? "-" : ""}${whole}${scale ? `.${frac}` : ""}`;
}

/** price × (1 + percent/100), exact, rounded half up (away from zero) to `digits` places. */
export function applyPercent(price: string, percent: string, digits = 2): string {
  const P = 8; // working precision of the price and the percent
  const priceUnits = toUnits(price, P);
  const factor = toUnits(percent, P) + 100n * 10n ** BigInt(P); // (100 + percent) at scale P
  const raw = priceUnits * factor; // scale 2P, times 100
  const divisor = 100n * 10n ** BigInt(2 * P - digits);
  const q = raw / divisor;
  const r = raw % divisor;
  const abs = r < 0n ? -r : r;
  const rounded = abs * 2n >= divisor ? q + (raw < 0n ? -1n : 1n) : q;
  return fromUnits(rounded, digits);
}

/** What a bulk update would change: the list's current items for the chosen products. */
export function previewBulk(
  items: readonly { product_id: number; unit_price: string }[],
  percent: string,
  currency: string,
  productIds: ReadonlySet<number> | null,
): PriceChange[] {
  const digits = minorDigits(currency);
  return items
    .filter((i) => productIds === null || productIds.has(i.product_id))
    .map((i) => ({ product_id: i.product_id, before: i.unit_price, after: applyPercent(i.unit_price, percent, digits) }));
}
