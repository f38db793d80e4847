"""The administrator's webhooks tab in the browser (issue 19 §5): a webhook to a partner endpoint
that answers is pinged (the outcome shown), its secret rotated with a grace period (the new secret
shown once), and a delivery of its log sent again. The webhook is created through the API; the
partner endpoint is a local HTTP server that records what it receives."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from ..conftest import poll
from .texts import T


def test_ping_rotate_and_redeliver_from_the_webhooks_tab(console, system, webhook_endpoint):
    partner = webhook_endpoint
    t = lambda key, **v: T("en", key, **v)  # noqa: E731
    with system.client() as admin_api:
        created = admin_api.post(
            "/api/v1/webhooks",
            json={"url": partner.url, "events": ["customer_created"], "secret": "partner-secret-0001"},
        )
        assert created.status_code == 201, created.text
        hook = created.json()

    admin = console.sign_in("admin", system.admin_password)
    admin.goto("/admin?tab=webhooks")
    row = admin.locator("tr", has_text=partner.url)
    expect(row).to_be_visible()

    # ping: the partner answers 204, the dialog says so and names the logged delivery
    row.get_by_role("button", name=t("admin.webhooks.ping")).click()
    admin.locator(".ant-popconfirm").get_by_role("button", name=t("admin.webhooks.ping")).click()
    dialog = admin.get_by_role("dialog", name=t("admin.webhooks.pingTitle"))
    expect(dialog.get_by_text("204", exact=False)).to_be_visible()
    assert partner.received, "the ping reached the partner"
    console.shot(admin, "webhooks-ping")
    dialog.locator(".ant-modal-footer").get_by_role("button", name=t("common.close")).click()

    # rotate the secret with a grace period: the new secret is shown once
    row.get_by_role("button", name=t("admin.webhooks.rotate")).click()
    rotate = admin.get_by_role("dialog", name=t("admin.webhooks.rotateTitle"))
    rotate.locator(".ant-modal-footer").get_by_role("button", name=t("admin.webhooks.rotate")).click()
    shown = admin.get_by_role("dialog", name=t("admin.webhooks.rotatedTitle"))
    expect(shown.get_by_text("whsec_", exact=False).first).to_be_visible()
    expect(shown.get_by_text(t("admin.webhooks.rotatedOnce"))).to_be_visible()
    console.shot(admin, "webhooks-rotated")
    shown.locator(".ant-modal-footer").get_by_role("button", name=t("common.close")).click()

    # a customer event is delivered; the admin sends that delivery again from the log
    with system.client() as admin_api:
        customer = admin_api.post(
            "/api/v1/customers", json={"name": f"Hook Partner {uuid.uuid4().hex[:6]}", "kind": "company"}
        )
        assert customer.status_code == 201, customer.text
    before = len(partner.received)
    poll(lambda: len(partner.received) > before, timeout=30, message="the customer_created delivery")
    delivered = len(partner.received)
    row.get_by_role("button", name=t("admin.webhooks.deliveries")).click()
    log = admin.get_by_role("dialog", name=t("admin.webhooks.logTitle", url=hook["url"]))
    entry = log.locator("tr", has_text="customer_created").first
    expect(entry).to_be_visible()
    entry.get_by_role("button", name=t("admin.webhooks.redeliver")).click()
    admin.locator(".ant-popconfirm").get_by_role("button", name=t("admin.webhooks.redeliver")).click()
    expect(admin.get_by_text(t("admin.webhooks.redelivered"))).to_be_visible()
    poll(lambda: len(partner.received) > delivered, timeout=30, message="the redelivery")
    # the log follows a pending delivery until it is sent
    expect(entry.locator(".ant-tag", has_text=t("admin.webhooks.delivery.sent"))).to_be_visible()
    console.shot(admin, "webhooks-log")
    assert not admin.js_errors, admin.js_errors  # type: ignore[attr-defined]
