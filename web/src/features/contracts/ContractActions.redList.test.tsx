// A red-listed customer's draft: a sales manager submits it only with an override reason (sent as
// override_red_list); a rep is offered no submit at all.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { App } from "antd";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ContractDetail } from "./api";
import { ContractActions } from "./ContractActions";

const roles = vi.hoisted(() => ({ current: [] as string[] }));
vi.mock("../../shared/auth/AuthProvider", () => ({
  useAuth: () => ({
    can: (permission: string) => permission === "contracts.write",
    hasRole: (...wanted: string[]) => wanted.some((r) => roles.current.includes(r)),
  }),
}));

const CONTRACT = {
  id: 9,
  number: "C-2026-000009",
  status: "draft",
  customer_red_listed: true,
  customer_red_list_reason: "Unpaid for 120 days",
  amounts_locked: false,
  renewed_by_id: null,
} as unknown as ContractDetail;

function show() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <MemoryRouter>
        <App>
          <ContractActions contract={CONTRACT} />
        </App>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("ContractActions on a red-listed customer's draft", () => {
  it("lets a sales manager submit with an override reason, never without one", async () => {
    roles.current = ["sales_manager"];
    const fetchMock = vi.fn(
      async (_r: Request) => new Response(JSON.stringify({ ...CONTRACT, status: "pending_approval" }), { status: 200, headers: { "Content-Type": "application/json" } }),
    );
    vi.stubGlobal("fetch", fetchMock);
    show();
    await userEvent.click(screen.getByTestId("action-submit"));
    await userEvent.click(await screen.findByTestId("override-confirm"));
    expect(await screen.findByText("Required")).toBeInTheDocument();
    expect(fetchMock).not.toHaveBeenCalled();
    await userEvent.type(screen.getByLabelText("Override reason"), "Payment plan signed");
    await userEvent.click(screen.getByTestId("override-confirm"));
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1), { timeout: 8000 });
    const request = fetchMock.mock.calls[0][0];
    expect(request.url).toContain("/api/v1/contracts/9/submit");
    expect(JSON.parse(await request.text())).toEqual({ override_red_list: "Payment plan signed" });
  });

  it("offers a rep no submit", () => {
    roles.current = ["sales_rep"];
    vi.stubGlobal("fetch", vi.fn());
    show();
    expect(screen.queryByTestId("action-submit")).toBeNull();
    expect(screen.queryByText("Submit with override")).toBeNull();
    expect(screen.queryByText("Submit for approval")).toBeNull();
  });
});
