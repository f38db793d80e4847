import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { App } from "antd";
import i18n from "i18next";
import { MemoryRouter } from "react-router-dom";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { WebhooksTab } from "./WebhooksTab";

const HOOK = {
  id: 7,
  url: "https://partner.example.com/hooks/crm",
  events: ["customer_created"],
  description: null,
  active: true,
  consecutive_failures: 0,
  disabled_at: null,
  disabled_reason: null,
  created_at: "2026-12-01T09:00:00+00:00",
  secret_hint: "…abcd",
};
const DELIVERY = {
  id: 31,
  webhook_id: 7,
  channel: "webhook",
  event_id: "e-31",
  event_type: "customer_created",
  status: "failed",
  attempts: 79,
  status_code: 503,
  last_error: "HTTP 503",
  next_attempt_at: null,
  created_at: "2026-12-01T09:00:00+00:00",
  sent_at: null,
  log: [],
};
const calls = vi.hoisted(() => ({ ping: vi.fn(), rotate: vi.fn(), redeliver: vi.fn() }));
vi.mock("./api", async (original) => ({
  ...(await original<typeof import("./api")>()),
  listWebhooks: async () => ({ items: [HOOK], total: 1, page: 1, page_size: 20 }),
  listPublicEventTypes: async () => ["customer_created", "invoice_issued"],
  listDeliveries: async () => ({ items: [DELIVERY], total: 1, page: 1, page_size: 20 }),
  pingWebhook: calls.ping,
  rotateWebhookSecret: calls.rotate,
  redeliverDelivery: calls.redeliver,
}));

beforeAll(async () => {
  await i18n.changeLanguage("en");
});

beforeEach(() => {
  calls.ping.mockReset();
  calls.rotate.mockReset();
  calls.redeliver.mockReset();
});

function show() {
  render(
    <MemoryRouter>
      <QueryClientProvider client={new QueryClient()}>
        <App>
          <WebhooksTab />
        </App>
      </QueryClientProvider>
    </MemoryRouter>,
  );
}

const SLOW = { timeout: 15_000 }; // antd renders slowly on a busy machine

async function confirm(okName: RegExp) {
  const popover = await screen.findByRole("tooltip", {}, SLOW);
  fireEvent.click(within(popover).getByRole("button", { name: okName }));
}

describe("webhook actions", () => {
  it("pings after confirmation and shows the outcome", async () => {
    calls.ping.mockResolvedValue({ delivery_id: 40, ok: false, status_code: 500, error: "HTTP 500", duration_ms: 12 });
    show();
    fireEvent.click(await screen.findByRole("button", { name: /Ping/ }, SLOW));
    expect(calls.ping).not.toHaveBeenCalled();
    await confirm(/Ping/);
    await waitFor(() => expect(calls.ping).toHaveBeenCalledWith(7), SLOW);
    expect(await screen.findByText("The ping failed: HTTP 500", {}, SLOW)).toBeTruthy();
    expect(screen.getByText("Kept in the delivery log (delivery 40).")).toBeTruthy();
  }, 90_000);

  it("rotates the secret with the chosen grace period and shows the new secret once", async () => {
    calls.rotate.mockResolvedValue({ ...HOOK, secret: "whsec_new-secret-value", previous_secret_expires_at: "2026-12-02T09:00:00+00:00" });
    show();
    fireEvent.click(await screen.findByRole("button", { name: /Rotate secret/ }, SLOW));
    const dialog = await screen.findByRole("dialog", {}, SLOW);
    fireEvent.change(within(dialog).getByRole("spinbutton"), { target: { value: "2" } });
    fireEvent.click(within(dialog).getByRole("button", { name: /Rotate secret/ }));
    await waitFor(() => expect(calls.rotate).toHaveBeenCalledWith(7, 7200), SLOW);
    expect(await screen.findByText("whsec_new-secret-value", {}, SLOW)).toBeTruthy();
    expect(screen.getByText(/shown only this once/)).toBeTruthy();
    expect(screen.getByText(/The previous secret stays valid until/)).toBeTruthy();
  }, 90_000);

  it("redelivers a delivery from the log after confirmation", async () => {
    calls.redeliver.mockResolvedValue({ ...DELIVERY, status: "pending" });
    show();
    fireEvent.click(await screen.findByRole("button", { name: /Delivery log/ }, SLOW));
    fireEvent.click(await screen.findByRole("button", { name: /Redeliver/ }, SLOW));
    await confirm(/Redeliver/);
    await waitFor(() => expect(calls.redeliver).toHaveBeenCalledWith(7, 31), SLOW);
    expect(await screen.findByText("The delivery is queued again.", {}, SLOW)).toBeTruthy();
  }, 90_000);
});
