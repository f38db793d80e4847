import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LoginPage } from "./LoginPage";

function renderLogin(onSignedIn = vi.fn()) {
  render(<LoginPage onSignedIn={onSignedIn} />);
  return onSignedIn;
}

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe("LoginPage", () => {
  it("labels its fields and explains a refused login", async () => {
    const fetchMock = vi.fn(async (_request: Request) =>
      new Response(JSON.stringify({ error: { code: "UNAUTHORIZED", message: "Incorrect username or password", details: {} } }), {
        status: 401,
        headers: { "Content-Type": "application/json" },
      }),
    );
    vi.stubGlobal("fetch", fetchMock);
    renderLogin();
    await userEvent.type(screen.getByLabelText("Username"), "rep");
    await userEvent.type(screen.getByLabelText("Password"), "wrong-password");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Incorrect username or password.");
    const request = fetchMock.mock.calls[0][0];
    expect(request.url).toContain("/api/v1/auth/token");
    expect(await request.text()).toBe("username=rep&password=wrong-password");
    expect(localStorage.getItem("crm.session")).toBeNull();
  });

  it("keeps the session and goes on to the page asked for", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(JSON.stringify({ access_token: "a.b.c", token_type: "bearer", refresh_token: "r" }), { status: 200, headers: { "Content-Type": "application/json" } })),
    );
    window.history.pushState({}, "", "/login?next=%2Fcontracts%2F7");
    const onSignedIn = renderLogin();
    await userEvent.type(screen.getByLabelText("Username"), "finance");
    await userEvent.type(screen.getByLabelText("Password"), "a-long-enough-password");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await vi.waitFor(() => expect(onSignedIn).toHaveBeenCalledWith("/contracts/7"));
    expect(JSON.parse(localStorage.getItem("crm.session") ?? "{}")).toEqual({ access: "a.b.c", refresh: "r" });
  });

  it("asks for both fields before sending anything", async () => {
    const fetchMock = vi.fn();
    vi.stubGlobal("fetch", fetchMock);
    renderLogin();
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findAllByText("Required")).toHaveLength(2);
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
