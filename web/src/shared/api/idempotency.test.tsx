import { act, renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { idempotencyHeader, newIdempotencyKey, useIdempotencyKey } from "./idempotency";

describe("useIdempotencyKey", () => {
  it("keeps one key per session, renews it after a success and when a dialog opens again", () => {
    const { result, rerender } = renderHook(({ open }) => useIdempotencyKey(open), { initialProps: { open: true } });
    const first = result.current.key;
    rerender({ open: true });
    expect(result.current.key).toBe(first); // re-renders (retries, double clicks) keep it
    act(() => result.current.renew());
    const second = result.current.key;
    expect(second).not.toBe(first);
    rerender({ open: false });
    expect(result.current.key).toBe(second);
    rerender({ open: true });
    expect(result.current.key).not.toBe(second);
  });

  it("makes distinct UUID-shaped keys and a header only when there is a key", () => {
    const a = newIdempotencyKey();
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(newIdempotencyKey()).not.toBe(a);
    expect(idempotencyHeader(a)).toEqual({ "Idempotency-Key": a });
    expect(idempotencyHeader(undefined)).toEqual({});
  });
});
