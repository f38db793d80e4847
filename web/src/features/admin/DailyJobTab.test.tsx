import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { App } from "antd";
import i18n from "i18next";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../shared/api/client";
import { jobRows } from "./api";
import { DailyJobTab } from "./DailyJobTab";

beforeAll(async () => {
  await i18n.changeLanguage("en");
});

function show(run: (asOf: string) => Promise<never> | Promise<{ as_of: string; results: Record<string, unknown> }>) {
  render(
    <QueryClientProvider client={new QueryClient()}>
      <App>
        <DailyJobTab run={run as never} />
      </App>
    </QueryClientProvider>,
  );
}

describe("the daily job", () => {
  it("runs for the chosen date and shows what each service did, failures in words", async () => {
    const run = vi.fn(async (asOf: string) => ({
      as_of: asOf,
      results: {
        billing: { invoices_created: 3, invoices_overdue: 1 },
        contracts: { contracts_activated: 2 },
        inventory: { error: { code: "UNAVAILABLE", message: "inventory did not answer" }, status: 504 },
      },
    }));
    show(run);
    const date = screen.getByLabelText("Date");
    fireEvent.mouseDown(date);
    fireEvent.change(date, { target: { value: "2027-01-31" } });
    fireEvent.keyDown(date, { key: "Enter" });
    fireEvent.click(screen.getByRole("button", { name: /Run daily jobs/ }));
    await waitFor(() => expect(run).toHaveBeenCalledWith("2027-01-31"));
    const table = await screen.findByRole("table", { name: "What each job did" });
    expect(within(table).getByText("Invoices created")).toBeInTheDocument();
    expect(within(table).getByText("3")).toBeInTheDocument();
    expect(within(table).getByText("Contracts activated")).toBeInTheDocument();
    expect(within(table).getByText("inventory did not answer")).toBeInTheDocument();
    expect(screen.getByText("Jobs for 2027-01-31 ran; 1 service failed.")).toBeInTheDocument();
  });

  it("explains a refusal and shows no result", async () => {
    show(async () => {
      throw new ApiError(403, "FORBIDDEN", "admins only");
    });
    fireEvent.click(screen.getByRole("button", { name: /Run daily jobs/ }));
    expect(await screen.findByText("Your role may not do this.")).toBeInTheDocument();
    expect(screen.queryByRole("table")).not.toBeInTheDocument();
  });
});

describe("job rows", () => {
  it("one row per figure and one per failed service", () => {
    const rows = jobRows({ as_of: "2027-01-31", results: { notify: { reminders_fired: 0 }, approvals: {} } });
    expect(rows.map((r) => [r.service, r.job, r.value])).toEqual([
      ["notify", "reminders_fired", "0"],
      ["approvals", "nothing", "—"],
    ]);
  });
});
