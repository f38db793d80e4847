import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { App } from "antd";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PaymentDialog } from "./PaymentDialog";

const INVOICE = { id: 7, number: "INV-2026-000007", customer_id: 3, currency: "EUR", balance: "450.00" };

function renderDialog(onRecorded = vi.fn(), onClose = vi.fn()) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <App>
        <PaymentDialog open invoice={INVOICE} onClose={onClose} onRecorded={onRecorded} />
      </App>
    </QueryClientProvider>,
  );
  return { onRecorded, onClose };
}

function answer(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

const PAYMENT = {
  id: 11,
  customer_id: 3,
  amount: "500.00",
  currency: "EUR",
  status: "confirmed",
  allocations: [{ invoice_id: 7, invoice_number: "INV-2026-000007", amount: "450.00", allocated_at: "2026-12-07T10:00:00Z" }],
};

afterEach(() => vi.unstubAllGlobals());

describe("PaymentDialog", () => {
  it("records a payment allocated to the invoice, at most its balance", async () => {
    const fetchMock = vi.fn(async (_r: Request) => answer(201, PAYMENT));
    vi.stubGlobal("fetch", fetchMock);
    const { onRecorded, onClose } = renderDialog();
    const amount = await screen.findByLabelText("Amount");
    await waitFor(() => expect(amount).toHaveValue("450.00"));
    expect(screen.getByLabelText("Currency")).toHaveValue("EUR");
    await userEvent.clear(amount);
    await userEvent.type(amount, "500");
    await userEvent.type(screen.getByLabelText("Reference (optional)"), "SEPA 42");
    // the allocation follows the amount but never passes the invoice's open balance
    await waitFor(() => expect(screen.getByLabelText("Amount for invoice INV-2026-000007")).toHaveValue("450.00"));
    await userEvent.click(screen.getByRole("button", { name: "Record payment" }));
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1), { timeout: 8000 });
    const request = fetchMock.mock.calls[0][0];
    expect(request.method).toBe("POST");
    expect(request.url).toContain("/api/v1/payments");
    const body = JSON.parse(await request.text());
    expect(body).toMatchObject({
      customer_id: 3,
      amount: "500",
      currency: "EUR",
      method: "bank_transfer",
      reference: "SEPA 42",
      allocations: [{ invoice_id: 7, amount: "450.00" }],
    });
    expect(typeof body.received_at).toBe("string");
    await waitFor(() => expect(onRecorded).toHaveBeenCalledWith(expect.objectContaining({ id: 11 })), { timeout: 8000 });
    expect(onClose).toHaveBeenCalled();
  });

  it("refuses a malformed amount and an allocation above the balance without sending", async () => {
    const fetchMock = vi.fn();
    vi.stubGlobal("fetch", fetchMock);
    renderDialog();
    const amount = await screen.findByLabelText("Amount");
    await waitFor(() => expect(amount).toHaveValue("450.00"));
    await userEvent.clear(amount);
    await userEvent.type(amount, "12,50");
    const allocation = screen.getByLabelText("Amount for invoice INV-2026-000007");
    // the allocation followed the amount while it was valid ("12"), then stopped
    await waitFor(() => expect(allocation).toHaveValue("12"), { timeout: 8000 });
    await userEvent.clear(allocation);
    await userEvent.type(allocation, "900");
    await userEvent.click(screen.getByRole("button", { name: "Record payment" }));
    expect(await screen.findByText("Enter a positive amount, e.g. 1250.00", {}, { timeout: 8000 })).toBeInTheDocument();
    expect(await screen.findByText("More than the invoice's open balance", {}, { timeout: 8000 })).toBeInTheDocument();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("puts the gateway's 422 reasons next to the field they name", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        answer(422, {
          error: { code: "VALIDATION_ERROR", message: "Invalid allocation", details: { "allocations.0.amount": ["more than the invoice's balance"] } },
        }),
      ),
    );
    const { onRecorded } = renderDialog();
    await waitFor(() => expect(screen.getByLabelText("Amount")).toHaveValue("450.00"));
    await userEvent.click(screen.getByRole("button", { name: "Record payment" }));
    const field = screen.getByLabelText("Amount for invoice INV-2026-000007").closest(".ant-form-item") as HTMLElement;
    expect(await within(field).findByText("more than the invoice's balance", {}, { timeout: 8000 })).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("Please correct the highlighted fields. Invalid allocation");
    expect(onRecorded).not.toHaveBeenCalled();
  });
});
