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

describe("closing an unpaid invoice's collection task (finance)", () => {
  function showWithReason(onConfirm: (closing?: unknown) => Promise<unknown>) {
    render(
      <App>
        <CloseTaskButton title="Collect overdue invoice INV-2027-000004" withReason onConfirm={onConfirm} />
      </App>,
    );
    fireEvent.click(screen.getByRole("button", { name: /Close task/ }));
  }

  it("asks for a reason, and a note when the reason is other", async () => {
    const onConfirm = vi.fn(async () => undefined);
    showWithReason(onConfirm);
    expect(await screen.findByText("Close the collection task")).toBeInTheDocument();
    fireEvent.click(screen.getByTestId("close-reason-confirm"));
    expect(await screen.findByText("Choose a reason.")).toBeInTheDocument();
    expect(onConfirm).not.toHaveBeenCalled();
    fireEvent.mouseDown(screen.getByLabelText("Reason"));
    fireEvent.click(await screen.findByText("Other"));
    fireEvent.click(screen.getByTestId("close-reason-confirm"));
    expect(await screen.findByText("Say what the reason is.")).toBeInTheDocument();
    expect(onConfirm).not.toHaveBeenCalled();
    fireEvent.change(screen.getByLabelText("Note"), { target: { value: "  agreed with the customer  " } });
    fireEvent.click(screen.getByTestId("close-reason-confirm"));
    await waitFor(() =>
      expect(onConfirm).toHaveBeenCalledWith({ close_reason: "other", note: "agreed with the customer" }),
    );
    expect(await screen.findByText("The task is closed.")).toBeInTheDocument();
  });

  it("sends a write-off and keeps the dialog open with the API's refusal", async () => {
    const onConfirm = vi.fn(async () => {
      throw new ApiError(409, "CONFLICT", "Task 4: the invoice is not paid");
    });
    showWithReason(onConfirm);
    fireEvent.mouseDown(await screen.findByLabelText("Reason"));
    fireEvent.click(await screen.findByText("Written off"));
    fireEvent.click(screen.getByTestId("close-reason-confirm"));
    await waitFor(() => expect(onConfirm).toHaveBeenCalledWith({ close_reason: "write_off", note: undefined }));
    expect(await screen.findByText(/the invoice is not paid/)).toBeInTheDocument();
    expect(screen.getByText("Close the collection task")).toBeInTheDocument();
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
