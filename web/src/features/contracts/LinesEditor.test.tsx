import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { App, Form } from "antd";
import i18n from "i18next";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { LinesEditor, type LineValues } from "./LinesEditor";
import { lineAmount, totalsByCurrency } from "./lineMath";

vi.mock("./api", () => ({
  searchProducts: vi.fn(async () => ({ items: [], total: 0, page: 1, page_size: 30 })),
  listUnitsOf: vi.fn(async () => ({ items: [], total: 0, page: 1, page_size: 100 })),
  priceFor: vi.fn(async () => {
    throw new Error("no price list");
  }),
}));

function Harness({ lines }: { lines: LineValues[] }) {
  const [form] = Form.useForm();
  return (
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <App>
        <Form form={form} initialValues={{ lines }} layout="vertical">
          <LinesEditor form={form} currency="EUR" products={new Map()} remember={() => undefined} />
        </Form>
      </App>
    </QueryClientProvider>
  );
}

beforeAll(async () => {
  await i18n.changeLanguage("en");
});

describe("line amounts", () => {
  it("is quantity × unit price less the discount, exact to the cent", () => {
    expect(lineAmount({ quantity: "2", unit_price: "89.50", discount_percent: "10" })).toBe("161.10");
    expect(lineAmount({ quantity: "3", unit_price: "0.10" })).toBe("0.30");
    expect(lineAmount({ quantity: "1", unit_price: "10.005", discount_percent: "0" })).toBe("10.01");
    expect(lineAmount({ quantity: "1", unit_price: "abc" })).toBeNull();
  });

  it("totals lines per currency, never across currencies", () => {
    const totals = totalsByCurrency(
      [
        { quantity: "1", unit_price: "3200.00", currency: "EUR" },
        { quantity: "2", unit_price: "89.50", discount_percent: "10", currency: "EUR" },
        { quantity: "1", unit_price: "100", currency: "USD" },
        { quantity: "1", unit_price: "" },
      ],
      "EUR",
    );
    expect(totals).toEqual({ EUR: "3361.10", USD: "100.00" });
  });
});

describe("the wizard's lines step", () => {
  it("shows each line's amount and the total, and follows the quantity as it is typed", async () => {
    render(
      <Harness
        lines={[
          { quantity: "1", unit_price: "3200.00", discount_percent: "0", price_currency: "EUR" },
          { quantity: "2", unit_price: "89.50", discount_percent: "10", price_currency: "EUR" },
        ]}
      />,
    );
    expect(await screen.findByTestId("line-amount-1")).toHaveTextContent("€161.10");
    expect(screen.getByTestId("line-amount-0")).toHaveTextContent("€3,200.00");
    expect(within(screen.getByTestId("lines-total")).getByText("€3,361.10")).toBeInTheDocument();

    fireEvent.change(screen.getByTestId("line-quantity-1"), { target: { value: "3" } });
    await waitFor(() => expect(screen.getByTestId("line-amount-1")).toHaveTextContent("€241.65"));
    expect(within(screen.getByTestId("lines-total")).getByText("€3,441.65")).toBeInTheDocument();
  });

  it("leaves a line without a valid price out of the total", async () => {
    render(<Harness lines={[{ quantity: "2", unit_price: "12.5x", discount_percent: "0" }]} />);
    expect(await screen.findByTestId("line-amount-0")).toHaveTextContent("Amount: —");
    expect(within(screen.getByTestId("lines-total")).getByText("—")).toBeInTheDocument();
  });
});
