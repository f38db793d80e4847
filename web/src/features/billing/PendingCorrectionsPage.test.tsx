import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { App } from "antd";
import i18n from "i18next";
import { MemoryRouter } from "react-router-dom";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import PendingCorrectionsPage from "./PendingCorrectionsPage";

const roles = vi.hoisted(() => ({ current: [] as string[] }));
vi.mock("../../shared/auth/AuthProvider", () => ({
  useAuth: () => ({
    can: (permission: string) => permission === "invoices.write" && roles.current.some((r) => ["admin", "finance"].includes(r)),
    hasRole: (...wanted: string[]) => wanted.some((r) => roles.current.includes(r)),
  }),
}));

const CORRECTION = {
  id: 5,
  invoice_id: 71,
  invoice_number: "INV-2026-000071",
  invoice_locked: true,
  contract_id: 9,
  customer_id: 3,
  customer_name: "Fjord Vedlikehold AS",
  currency: "NOK",
  kind: "credit",
  status: "pending",
  amount: "1000.00",
  lines: [{ invoice_line_id: 140, amount: "1000.00" }],
  reason: "Contract C-2026-000009 changed: period 2026-04-01 – 2026-04-30 to settle (invoice INV-2026-000071 is locked by finance)",
  credit_note_id: null,
  comment: null,
  created_at: "2026-12-07T10:00:00Z",
  created_by: "system",
  decided_at: null,
  decided_by: null,
};

function answer(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

function show(who: string[]) {
  roles.current = who;
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <App>
        <MemoryRouter initialEntries={["/invoices/corrections"]}>
          <PendingCorrectionsPage />
        </MemoryRouter>
      </App>
    </QueryClientProvider>,
  );
}

beforeAll(async () => {
  await i18n.changeLanguage("en");
});
afterEach(() => vi.unstubAllGlobals());

describe("PendingCorrectionsPage", () => {
  it("lists what billing held back on locked invoices and lets finance apply one", async () => {
    const fetchMock = vi.fn(async (r: Request) =>
      r.method === "POST"
        ? answer(200, { ...CORRECTION, status: "applied", credit_note_id: 12, comment: "ok" })
        : answer(200, { items: [CORRECTION], total: 1, page: 1, page_size: 20 }),
    );
    vi.stubGlobal("fetch", fetchMock);
    show(["finance"]);
    expect(await screen.findByText("INV-2026-000071")).toBeInTheDocument();
    expect(screen.getByText(/is locked by finance/)).toBeInTheDocument();
    const list = fetchMock.mock.calls[0][0];
    expect(list.url).toContain("/api/v1/billing/pending-corrections");
    expect(new URL(list.url).searchParams.get("status")).toBe("pending");

    await userEvent.click(screen.getByRole("button", { name: "Apply" }));
    await userEvent.type(await screen.findByLabelText("Comment (optional)"), "ok");
    const buttons = screen.getAllByRole("button", { name: "Apply" });
    await userEvent.click(buttons[buttons.length - 1]);
    await waitFor(() => expect(fetchMock.mock.calls.some(([r]) => r.method === "POST")).toBe(true), { timeout: 8000 });
    const post = fetchMock.mock.calls.find(([r]) => r.method === "POST")![0];
    expect(post.url).toContain("/api/v1/billing/pending-corrections/5/apply");
    expect(JSON.parse(await post.text())).toEqual({ comment: "ok" });
  });

  it("offers no decision to who may not write invoices", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => answer(200, { items: [CORRECTION], total: 1, page: 1, page_size: 20 })));
    show(["sales_manager"]);
    expect(await screen.findByText("INV-2026-000071")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Apply" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Dismiss" })).not.toBeInTheDocument();
  });
});
