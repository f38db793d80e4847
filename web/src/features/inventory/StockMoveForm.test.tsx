import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { App } from "antd";
import i18n from "i18next";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../shared/api/client";
import type { Product } from "./api";
import { parseSerials, StockMoveForm } from "./StockMoveForm";

const printer = {
  id: 5,
  sku: "INV-LP-M600",
  name: "Laser printer M600",
  kind: "device",
  serialized: true,
  unit_price: "1890.00",
  currency: "EUR",
} as Product;

vi.mock("./api", async (original) => ({
  ...(await original<typeof import("./api")>()),
  searchProducts: async () => ({ items: [printer], total: 1, page: 1, page_size: 20 }),
  getProduct: async () => printer,
  allWarehouses: async () => ({
    items: [{ id: 2, code: "SOF-1", name: "Sofia", address: null, active: true }],
    total: 1,
    page: 1,
    page_size: 500,
  }),
  searchContracts: async () => ({ items: [], total: 0, page: 1, page_size: 20 }),
}));

beforeAll(async () => {
  await i18n.changeLanguage("en");
});

function renderForm(onSubmit = vi.fn(async () => undefined)) {
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <App>
        <StockMoveForm product={printer} initial={{ product_id: 5, warehouse_id: 2, quantity: 3 }} onSubmit={onSubmit} />
      </App>
    </QueryClientProvider>,
  );
  return onSubmit;
}

const serials = () => screen.getByRole("textbox", { name: "Serial numbers" });
const record = () => fireEvent.click(screen.getByRole("button", { name: "Record the move" }));

describe("the stock move form", () => {
  it("reads serial numbers one per line or separated by commas", () => {
    expect(parseSerials(" A1\n\nA2, A3 ;A4 \n")).toEqual(["A1", "A2", "A3", "A4"]);
  });

  it("will not send fewer serial numbers than units", async () => {
    const onSubmit = renderForm();
    fireEvent.change(serials(), { target: { value: "M600-SN-1\nM600-SN-2" } });
    record();
    expect(await screen.findByText("3 serial number(s) needed, one per unit; 2 given.")).toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("will not send the same serial number twice", async () => {
    const onSubmit = renderForm();
    fireEvent.change(serials(), { target: { value: "M600-SN-1\nM600-SN-1\nM600-SN-2" } });
    record();
    expect(await screen.findByText("M600-SN-1 is listed twice.")).toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("sends a purchase with one serial number per unit", async () => {
    const onSubmit = renderForm();
    fireEvent.change(serials(), { target: { value: "M600-SN-1\nM600-SN-2\nM600-SN-3" } });
    record();
    await waitFor(() =>
      expect(onSubmit).toHaveBeenCalledWith(
        expect.objectContaining({
          product_id: 5,
          warehouse_id: 2,
          quantity: 3,
          direction: "in",
          reason: "purchase",
          serial_numbers: ["M600-SN-1", "M600-SN-2", "M600-SN-3"],
          contract_id: null,
        }),
      ),
    );
  });

  it("shows the server's reason next to the serial numbers", async () => {
    const onSubmit = vi.fn(async () => {
      throw new ApiError(422, "VALIDATION", "Invalid serial numbers", {
        "serial_numbers.1": ["M600-SN-2 belongs to another product"],
      });
    });
    renderForm(onSubmit);
    fireEvent.change(serials(), { target: { value: "M600-SN-1\nM600-SN-2\nM600-SN-3" } });
    record();
    expect(await screen.findByRole("alert")).toHaveTextContent("Invalid serial numbers");
    expect(await screen.findByText("M600-SN-2 belongs to another product")).toBeInTheDocument();
  });
});
