// Exact decimal-string checks for the billing forms (never through a float).
import { sumMoney } from "../../shared/format";

/** "1250", "1250.5", "1250.50": a positive amount with at most two decimals. */
export const AMOUNT_PATTERN = /^\d{1,13}(\.\d{1,2})?$/;

export function isAmount(value: string | undefined | null): value is string {
  return !!value && AMOUNT_PATTERN.test(value.trim()) && Number(value) > 0;
}

/** -1, 0 or 1 as a is less than, equal to or more than b. */
export function compareMoney(a: string, b: string): number {
  const diff = sumMoney([a, b.startsWith("-") ? b.slice(1) : `-${b}`]);
  if (/^-/.test(diff)) return -1;
  return /^0\.0+$/.test(diff) ? 0 : 1;
}

export function minMoney(a: string, b: string): string {
  return compareMoney(a, b) <= 0 ? a : b;
}
