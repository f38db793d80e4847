"""The one page the gateway serves itself: ``GET /portal/accept``, where an invitation link
lands (``#token=...``) when no front end is configured (``CRM_PORTAL_ACCEPT_URL``). It shows whom
the link is for and sets the password through the API (``/api/v1/auth/invitations/...``). No
external resources; the inline script runs under a per-response CSP nonce."""

from __future__ import annotations

import secrets

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer portal: set your password</title>
<style nonce="{nonce}">
body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}}
label{{display:block;margin:.8rem 0 .2rem}} input{{width:100%;padding:.5rem;font-size:1rem}}
button{{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem}} .err{{color:#b00020}} .ok{{color:#0a6b2d}}
</style></head><body>
<h1>Customer portal</h1>
<p id="who">Checking your invitation…</p>
<form id="form" hidden>
<label for="pw">New password (at least 8 characters)</label>
<input id="pw" type="password" minlength="8" maxlength="1024" autocomplete="new-password" required>
<label for="pw2">Repeat it</label>
<input id="pw2" type="password" minlength="8" maxlength="1024" autocomplete="new-password" required>
<button type="submit">Set password</button>
</form>
<p id="msg" role="status"></p>
<script nonce="{nonce}">
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const api = "../api/v1/auth/invitations/";
const who = document.getElementById("who"), form = document.getElementById("form"),
      msg = document.getElementById("msg");
function fail(text) {{ msg.className = "err"; msg.textContent = text; }}
async function errorOf(r) {{
  try {{ return (await r.json()).error.message; }} catch (e) {{ return "Error " + r.status; }}
}}
(async () => {{
  if (!token) {{ who.textContent = ""; return fail("This link has no invitation token."); }}
  const r = await fetch(api + encodeURIComponent(token));
  if (!r.ok) {{ who.textContent = ""; return fail(await errorOf(r)); }}
  const inv = await r.json();
  who.textContent = "Invitation for " + (inv.full_name || inv.username) + " (user name: " +
    inv.username + "), valid until " + new Date(inv.expires_at).toLocaleString() + ".";
  form.hidden = false;
}})();
form.addEventListener("submit", async (ev) => {{
  ev.preventDefault();
  const pw = document.getElementById("pw").value;
  if (pw !== document.getElementById("pw2").value) return fail("The two passwords differ.");
  const r = await fetch(api + "accept", {{method: "POST", headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{token: token, password: pw}})}});
  if (!r.ok) return fail(await errorOf(r));
  form.hidden = true; msg.className = "ok";
  msg.textContent = "Your password is set. Sign in to the customer portal with your user name.";
  history.replaceState(null, "", location.pathname);
}});
</script></body></html>
"""


@router.get("/portal/accept", response_class=HTMLResponse)
async def portal_accept_page() -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    return HTMLResponse(
        PAGE.format(nonce=nonce),
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
                "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
            ),
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
