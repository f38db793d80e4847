// Client-side checks that match the gateway's request shapes, so most mistakes show before sending.

/** A decimal amount as the API takes money: digits, optionally a point and up to four decimals. */
export const MONEY_RULE = { pattern: /^-?\d{1,12}(\.\d{1,4})?$/ };
/** An ISO 4217 code such as EUR. */
export const CURRENCY_RULE = { pattern: /^[A-Z]{3}$/ };
