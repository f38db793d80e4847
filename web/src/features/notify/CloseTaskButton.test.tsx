import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { App } from "antd";
import i18n from "i18next";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../shared/api/client";
import { CloseTaskButton } from "./CloseTaskButton";
import { documentPath } from "./api";

beforeAll(async () => {
  await i18n.changeLanguage("en");
});

function show(onConfirm: () => Promise<unknown>) {
  render(
    <App>
      <CloseTaskButton title="Collect overdue invoice INV-2027-000004" onConfirm={onConfirm} />
    </App>,
  );
}

describe("closing a task", () => {
  it("asks first and closes only when confirmed", async () => {
    const onConfirm = vi.fn(async () => undefined);
    show(onConfirm);
    fireEvent.click(screen.getByRole("button", { name: /Close task/ }));
    expect(await screen.findByText("Close this task?")).toBeInTheDocument();
    expect(onConfirm).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: "Yes, close it" }));
    await waitFor(() => expect(onConfirm).toHaveBeenCalledTimes(1));
    expect(await screen.findByText("The task is closed.")).toBeInTheDocument();
  });

  it("says in words why the API refused (409)", async () => {
    show(async () => {
      throw new ApiError(409, "CONFLICT", "Invoice INV-2027-000004 is still unpaid");
    });
    fireEvent.click(screen.getByRole("button", { name: /Close task/ }));
    fireEvent.click(await screen.findByRole("button", { name: "Yes, close it" }));
    expect((await screen.findAllByText("This task cannot be closed yet")).length).toBeGreaterThan(0);
    expect(screen.getAllByText(/its reason still holds: Invoice INV-2027-000004 is still unpaid/).length).toBeGreaterThan(0);
  });
});

describe("related documents", () => {
  it("link to their page in the console", () => {
    expect(documentPath("invoice", "4")).toBe("/invoices/4");
    expect(documentPath("approval", "12")).toBe("/approvals/12");
    expect(documentPath("contract", 7)).toBe("/contracts/7");
    expect(documentPath("customer", "3")).toBe("/customers/3");
    expect(documentPath("unknown_thing", "3")).toBeNull();
  });
});
