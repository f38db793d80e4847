// The payment dialog sends one Idempotency-Key per dialog session: a second click after a failed
// (or unanswered) attempt carries the same key, so the gateway records the payment at most once;
// the next session (the dialog opened again after a success) has a new key.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { App } from "antd";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PaymentDialog } from "./PaymentDialog";

const INVOICE = { id: 7, number: "INV-2026-000007", customer_id: 3, currency: "EUR", balance: "450.00" };
const PAYMENT = { id: 11, customer_id: 3, amount: "450.00", currency: "EUR", status: "confirmed", allocations: [] };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function answer(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

function dialog(open: boolean, client: QueryClient, onClose = vi.fn()) {
  return (
    <QueryClientProvider client={client}>
      <App>
        <PaymentDialog open={open} invoice={INVOICE} onClose={onClose} />
      </App>
    </QueryClientProvider>
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("PaymentDialog idempotency", () => {
  it("sends the same key on a double submit and a new one in the next session", async () => {
    const answers = [
      answer(503, { error: { code: "SERVICE_UNAVAILABLE", message: "Billing is not answering" } }),
      answer(201, PAYMENT),
      answer(201, { ...PAYMENT, id: 12 }),
    ];
    const fetchMock = vi.fn(async (_r: Request) => answers.shift() as Response);
    vi.stubGlobal("fetch", fetchMock);
    const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
    const { rerender } = render(dialog(true, client));
    await waitFor(() => expect(screen.getByLabelText("Amount")).toHaveValue("450.00"));
    const submit = () => userEvent.click(screen.getByRole("button", { name: "Record payment" }));

    await submit(); // the first attempt fails (503): nothing recorded, the dialog stays open
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1), { timeout: 8000 });
    expect(await screen.findByRole("alert", {}, { timeout: 8000 })).toBeInTheDocument();
    await submit(); // the user clicks again
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(2), { timeout: 8000 });

    const keys = fetchMock.mock.calls.map(([request]) => request.headers.get("Idempotency-Key"));
    expect(keys[0]).toMatch(UUID);
    expect(keys[1]).toBe(keys[0]);

    // closed after the success, opened again: a new session, a new key
    rerender(dialog(false, client));
    rerender(dialog(true, client));
    await waitFor(() => expect(screen.getByLabelText("Amount")).toHaveValue("450.00"));
    await submit();
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(3), { timeout: 8000 });
    const third = fetchMock.mock.calls[2][0].headers.get("Idempotency-Key");
    expect(third).toMatch(UUID);
    expect(third).not.toBe(keys[0]);
  });
});
