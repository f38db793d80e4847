import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { App } from "antd";
import i18n from "i18next";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../shared/api/client";
import { totalsByCurrency, type Opportunity } from "./api";
import { OpportunityForm } from "./OpportunityForm";

beforeAll(async () => {
  await i18n.changeLanguage("en");
});

const existing: Opportunity = {
  id: 5,
  customer_id: 1,
  customer_code: "C-000001",
  customer_name: "Nordlicht Druck GmbH",
  title: "Colour press upgrade",
  amount: "48500.00",
  currency: "EUR",
  stage: "proposal",
  expected_close: "2027-02-15",
  probability: 60,
  needs: null,
  competitors: ["Konica"],
  notes: null,
  lost_reason: null,
  owner_id: 1,
  closed_at: null,
  created_at: "2026-12-07T10:00:00+00:00",
  updated_at: "2026-12-07T10:00:00+00:00",
};

describe("the opportunity form", () => {
  it("sends the edited values with money as a string and the date as ISO", async () => {
    const onSubmit = vi.fn(async () => undefined);
    render(
      <App>
        <OpportunityForm initial={existing} onSubmit={onSubmit} />
      </App>,
    );
    fireEvent.change(screen.getByLabelText("Amount"), { target: { value: "51000.50" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(onSubmit).toHaveBeenCalled());
    expect(onSubmit).toHaveBeenCalledWith(
      expect.objectContaining({ title: "Colour press upgrade", amount: "51000.50", currency: "EUR", stage: "proposal", expected_close: "2027-02-15", probability: 60, competitors: ["Konica"] }),
    );
  });

  it("puts the API's 422 next to the field it names", async () => {
    const onSubmit = vi.fn(async () => {
      throw new ApiError(422, "VALIDATION", "Invalid request", { title: ["already used for this customer"] });
    });
    render(
      <App>
        <OpportunityForm initial={existing} onSubmit={onSubmit} />
      </App>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("already used for this customer")).toBeInTheDocument();
    expect(screen.getByText(/Please correct the highlighted fields/)).toBeInTheDocument();
  });

  it("refuses an amount that is not a number before sending", async () => {
    const onSubmit = vi.fn(async () => undefined);
    render(
      <App>
        <OpportunityForm initial={existing} onSubmit={onSubmit} />
      </App>,
    );
    fireEvent.change(screen.getByLabelText("Amount"), { target: { value: "12,5k" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText(/A number with at most two decimals/)).toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
  });
});

describe("stage totals", () => {
  it("adds exactly, per currency, never across currencies", () => {
    expect(
      totalsByCurrency([
        { amount: "0.10", currency: "EUR" },
        { amount: "0.20", currency: "EUR" },
        { amount: "120000.00", currency: "CNY" },
      ]),
    ).toEqual([
      { currency: "CNY", amount: "120000.00" },
      { currency: "EUR", amount: "0.30" },
    ]);
  });
});
