// One Idempotency-Key per form or dialog session for the create and money routes that accept it
// (the gateway answers a replay with the first answer instead of creating twice): the key is made
// when the form opens, kept for retries and double clicks, and renewed after a success.
import { useCallback, useEffect, useRef, useState } from "react";

/** A fresh key: crypto.randomUUID() where the browser has it (secure contexts), random bytes otherwise. */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === "function") return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof c?.getRandomValues === "function") c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** openapi-fetch's `params.header` for a key (nothing when there is none). */
export function idempotencyHeader(key?: string): { "Idempotency-Key"?: string } {
  return key ? { "Idempotency-Key": key } : {};
}

/**
 * The key of one form/dialog session. `open` (a dialog's visibility; forms on their own page leave
 * it out) renews the key each time the dialog opens again; `renew()` after a success.
 */
export function useIdempotencyKey(open = true): { key: string; renew: () => void } {
  const [key, setKey] = useState(newIdempotencyKey);
  const wasOpen = useRef(open);
  useEffect(() => {
    if (open && !wasOpen.current) setKey(newIdempotencyKey());
    wasOpen.current = open;
  }, [open]);
  const renew = useCallback(() => setKey(newIdempotencyKey()), []);
  return { key, renew };
}
