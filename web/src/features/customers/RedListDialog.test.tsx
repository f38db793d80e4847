import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { App } from "antd";
import i18n from "i18next";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../shared/api/client";
import type { Customer } from "./api";
import { CustomerStatusActions } from "./CustomerStatusActions";
import { RedListDialog } from "./RedListDialog";

const roles = vi.hoisted(() => ({ current: [] as string[] }));
vi.mock("../../shared/auth/AuthProvider", () => ({
  useAuth: () => ({
    can: (permission: string) => permission === "customers.write" && roles.current.some((r) => ["admin", "sales_manager", "sales_rep"].includes(r)),
    hasRole: (...wanted: string[]) => wanted.some((r) => roles.current.includes(r)),
  }),
}));
const calls = vi.hoisted(() => ({ archive: vi.fn(), restore: vi.fn(), redList: vi.fn(), clear: vi.fn() }));
vi.mock("./api", async (original) => ({
  ...(await original<typeof import("./api")>()),
  archiveCustomer: calls.archive,
  restoreCustomer: calls.restore,
  redListCustomer: calls.redList,
  clearRedList: calls.clear,
}));

beforeAll(async () => {
  await i18n.changeLanguage("en");
});

beforeEach(() => {
  for (const fn of Object.values(calls)) fn.mockReset().mockResolvedValue({});
});

const customer = { id: 42, name: "Nordlicht Druck GmbH", red_listed: false, archived: false } as Customer;

function show(c: Partial<Customer>, who: string[]) {
  roles.current = who;
  render(
    <QueryClientProvider client={new QueryClient()}>
      <App>
        <CustomerStatusActions customer={{ ...customer, ...c } as Customer} />
      </App>
    </QueryClientProvider>,
  );
}

describe("the red list dialog", () => {
  it("will not send without a reason", async () => {
    const onSend = vi.fn(async () => undefined);
    render(
      <App>
        <RedListDialog name="Nordlicht" onSend={onSend} onClose={vi.fn()} />
      </App>,
    );
    fireEvent.change(screen.getByLabelText("Reason for the red list"), { target: { value: "   " } });
    fireEvent.click(screen.getByRole("button", { name: "Red list" }));
    expect(await screen.findByText("Say why the customer goes on the red list.")).toBeInTheDocument();
    expect(onSend).not.toHaveBeenCalled();
  });

  it("sends the trimmed reason, and shows a refusal without closing", async () => {
    const onClose = vi.fn();
    const onSend = vi.fn(async () => {
      throw new ApiError(403, "FORBIDDEN", "Not allowed to put customers on the red list or take them off");
    });
    render(
      <App>
        <RedListDialog name="Nordlicht" onSend={onSend} onClose={onClose} />
      </App>,
    );
    fireEvent.change(screen.getByLabelText("Reason for the red list"), { target: { value: "  Unpaid since March " } });
    fireEvent.click(screen.getByRole("button", { name: "Red list" }));
    await waitFor(() => expect(onSend).toHaveBeenCalledWith("Unpaid since March"));
    expect(await screen.findByRole("alert")).toBeInTheDocument();
    expect(onClose).not.toHaveBeenCalled();
  });
});

describe("archive, restore and red list actions", () => {
  it("a sales rep archives but neither restores nor red-lists", async () => {
    show({}, ["sales_rep"]);
    expect(screen.queryByRole("button", { name: /Red list/ })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: /Archive/ }));
    fireEvent.click(await screen.findByRole("button", { name: "Archive" }));
    await waitFor(() => expect(calls.archive).toHaveBeenCalledTimes(1));
  });

  it("an archived customer shows Restore to a sales manager only", () => {
    show({ archived: true }, ["sales_rep"]);
    expect(screen.queryByRole("button", { name: /Restore/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Archive/ })).toBeNull();
  });

  it("a sales manager restores an archived customer", async () => {
    show({ archived: true }, ["sales_manager"]);
    fireEvent.click(screen.getByRole("button", { name: /Restore/ }));
    await waitFor(() => expect(calls.restore).toHaveBeenCalledTimes(1));
  });

  it("finance red-lists with a reason", async () => {
    show({}, ["finance"]);
    expect(screen.queryByRole("button", { name: /Archive/ })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: /Red list/ }));
    fireEvent.change(await screen.findByLabelText("Reason for the red list"), { target: { value: "Fraud" } });
    fireEvent.click(screen.getAllByRole("button", { name: "Red list" }).at(-1)!);
    await waitFor(() => expect(calls.redList).toHaveBeenCalledWith(42, "Fraud"));
  });

  it("a red-listed customer offers 'Off the red list' to finance", async () => {
    show({ red_listed: true }, ["finance"]);
    fireEvent.click(screen.getByRole("button", { name: /Off the red list/ }));
    fireEvent.click(await screen.findByRole("button", { name: "Off the red list" }));
    await waitFor(() => expect(calls.clear).toHaveBeenCalledTimes(1));
  });
});
