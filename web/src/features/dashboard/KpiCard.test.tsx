import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { KpiCard } from "./KpiCard";

describe("KpiCard", () => {
  it("shows one amount per currency, each with its currency, never a sum", () => {
    render(<KpiCard title="Receivables" amounts={{ USD: "300.00", EUR: "1200.50" }} />);
    const card = screen.getByRole("region", { name: "Receivables" });
    const lines = within(card).getAllByRole("listitem");
    expect(lines.map((l) => l.getAttribute("data-currency"))).toEqual(["EUR", "USD"]);
    expect(lines[0]).toHaveTextContent("€1,200.50");
    expect(lines[1]).toHaveTextContent("US$300.00");
    expect(card).not.toHaveTextContent("1,500.50");
  });

  it("shows a currency the company works in as zero when it has no amount", () => {
    render(<KpiCard title="Overdue" amounts={{ EUR: "10.00" }} currencies={["EUR", "CNY"]} tone="danger" />);
    const card = screen.getByRole("region", { name: "Overdue" });
    expect(within(card).getByText("CN¥0.00")).toHaveAttribute("data-currency", "CNY");
    expect(within(card).getByText("€10.00")).toHaveAttribute("data-currency", "EUR");
  });

  it("keeps the count apart from the amounts", () => {
    render(<KpiCard title="Active contracts" count={2} amounts={{ EUR: "900.00" }} />);
    const card = screen.getByRole("region", { name: "Active contracts" });
    expect(within(card).getByTestId("kpi-count")).toHaveTextContent("2");
    expect(within(card).getByRole("listitem")).toHaveTextContent("€900.00");
  });

  it("says when there is nothing yet, and when the figure is unavailable", () => {
    const { rerender } = render(<KpiCard title="MRR" amounts={{}} />);
    expect(screen.getByRole("region", { name: "MRR" })).toHaveTextContent("Nothing yet");
    rerender(<KpiCard title="MRR" amounts={null} />);
    expect(screen.getByRole("region", { name: "MRR" })).toHaveTextContent("Not available right now");
  });
});
