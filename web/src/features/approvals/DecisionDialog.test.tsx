import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { App } from "antd";
import i18n from "i18next";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../shared/api/client";
import { DecisionDialog } from "./DecisionDialog";

beforeAll(async () => {
  await i18n.changeLanguage("en");
});

function open(decision: "approve" | "reject", onSend = vi.fn(async () => undefined), onClose = vi.fn()) {
  render(
    <App>
      <DecisionDialog decision={decision} summary="C-2027-000001 Fleet — Atlas: 40000.00 EUR" onSend={onSend} onClose={onClose} />
    </App>,
  );
  return { onSend, onClose };
}

describe("the decision dialog", () => {
  it("will not reject without an opinion", async () => {
    const { onSend, onClose } = open("reject");
    fireEvent.click(screen.getByRole("button", { name: "Reject" }));
    expect(await screen.findByText("Say why you reject it.")).toBeInTheDocument();
    expect(onSend).not.toHaveBeenCalled();
    expect(onClose).not.toHaveBeenCalled();
  });

  it("sends the rejection with the opinion and closes", async () => {
    const { onSend, onClose } = open("reject");
    fireEvent.change(screen.getByLabelText("Opinion"), { target: { value: "  Discount above policy  " } });
    fireEvent.click(screen.getByRole("button", { name: "Reject" }));
    await waitFor(() => expect(onSend).toHaveBeenCalledWith({ decision: "reject", comment: "Discount above policy" }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
  });

  it("approves with or without an opinion and shows the document's summary", async () => {
    const { onSend } = open("approve");
    expect(screen.getByText("C-2027-000001 Fleet — Atlas: 40000.00 EUR")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    await waitFor(() => expect(onSend).toHaveBeenCalledWith({ decision: "approve", comment: undefined }));
  });

  it("keeps the dialog open and explains a conflict", async () => {
    const onSend = vi.fn(async () => {
      throw new ApiError(409, "CONFLICT", "The request is already approved");
    });
    const { onClose } = open("approve", onSend);
    fireEvent.change(screen.getByLabelText("Opinion"), { target: { value: "ok" } });
    fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    expect(await screen.findByText(/The request is already approved/)).toBeInTheDocument();
    expect(screen.getByText(/cannot be done in the record's current state/)).toBeInTheDocument();
    expect(onClose).not.toHaveBeenCalled();
  });

  it("approves a trade-in at the approved value, its requested value unless changed", async () => {
    const onSend = vi.fn(async () => undefined);
    render(
      <App>
        <DecisionDialog
          decision="approve"
          summary="Trade-in OLD-1"
          valuation={{ requested: "400.00", currency: "EUR" }}
          onSend={onSend}
          onClose={vi.fn()}
        />
      </App>,
    );
    const value = screen.getByLabelText("Approved value");
    expect(value).toHaveValue("400.00");
    fireEvent.change(value, { target: { value: "-5" } });
    fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    expect(await screen.findByText("Enter an amount such as 10000.00")).toBeInTheDocument();
    expect(onSend).not.toHaveBeenCalled();
    fireEvent.change(value, { target: { value: "320.00" } });
    fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    await waitFor(() =>
      expect(onSend).toHaveBeenCalledWith({ decision: "approve", comment: undefined, approved_value: "320.00", currency: "EUR" }),
    );
  });

  it("asks no value when rejecting a trade-in", async () => {
    const onSend = vi.fn(async () => undefined);
    render(
      <App>
        <DecisionDialog decision="reject" valuation={{ requested: "400.00", currency: "EUR" }} onSend={onSend} onClose={vi.fn()} />
      </App>,
    );
    expect(screen.queryByLabelText("Approved value")).toBeNull();
  });
});
