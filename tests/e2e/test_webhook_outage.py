"""Webhooks that outlast a partner's outage (issue 19 §5) through the gateway, every service a
process on a real broker: subscriptions to unknown types are refused, a test ping answers with
the outcome, a rotated secret signs deliveries together with the previous one, a delivery is
redelivered by hand, and the event log lets a partner catch up, scoped to the caller."""

from __future__ import annotations

import time
import uuid

from notify import domain

from ..conftest import poll

SECRET = "e2e-outage-secret-42"


def verified(secret: str, item: dict) -> bool:
    return domain.verify_signature(secret, item["signature"], item["raw"], now=int(time.time()))


def test_ping_rotation_redelivery_and_unknown_types(system, webhook_endpoint):
    endpoint = webhook_endpoint
    with system.client() as admin:
        bad = admin.post(
            "/api/v1/webhooks",
            json={"url": endpoint.url, "events": ["custmer_created", "customer_created"], "secret": SECRET},
        )
        assert bad.status_code == 422 and "custmer_created" in str(bad.json()["error"]["details"]["events"])
        created = admin.post(
            "/api/v1/webhooks", json={"url": endpoint.url, "events": ["customer_created"], "secret": SECRET}
        )
        assert created.status_code == 201, created.text
        hook = created.json()

        ping = admin.post(f"/api/v1/webhooks/{hook['id']}/ping")
        assert ping.status_code == 200, ping.text
        assert ping.json()["ok"] and ping.json()["status_code"] == 204
        assert endpoint.received[-1]["body"]["type"] == "ping" and verified(SECRET, endpoint.received[-1])

        rotated = admin.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret", json={"grace_seconds": 600})
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert "secret" not in admin.get(f"/api/v1/webhooks/{hook['id']}").json()

        name = f"Outage Partner {uuid.uuid4().hex[:6]}"
        assert admin.post("/api/v1/customers", json={"name": name, "kind": "company"}).status_code == 201
        got = poll(
            lambda: [x for x in endpoint.received if x["body"]["payload"].get("name") == name],
            message="the delivery",
        )
        assert verified(new, got[0]) and verified(SECRET, got[0])  # both signatures

        delivery = next(
            d
            for d in admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"]
            if d["event_type"] == "customer_created" and d["status"] == "sent"
        )
        again = admin.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver")
        assert again.status_code == 200 and again.json()["status"] == "pending"
        poll(
            lambda: len([x for x in endpoint.received if x["body"]["payload"].get("name") == name]) == 2,
            message="the redelivery",
        )
        rep = system.create_user(["sales_rep"])
        with system.as_user(rep) as r:
            assert r.post(f"/api/v1/webhooks/{hook['id']}/ping").status_code == 403
        assert admin.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204


def test_the_event_log_catches_up_within_the_callers_scope(system):
    rep = system.create_user(["sales_rep"])
    other = system.create_user(["sales_rep"])
    warehouse = system.create_user(["warehouse"])
    with system.client() as admin:
        start = admin.get("/api/v1/events", params={"page_size": 1})
        assert start.status_code == 200, start.text
        mark = f"Log {uuid.uuid4().hex[:6]}"
        with system.as_user(rep) as r:
            mine = r.post("/api/v1/customers", json={"name": f"{mark} mine", "kind": "company"})
            assert mine.status_code == 201, mine.text
        theirs = admin.post(
            "/api/v1/customers", json={"name": f"{mark} theirs", "kind": "company", "owner_id": other["id"]}
        )
        assert theirs.status_code == 201, theirs.text

        def logged(client, **params):
            items = client.get(
                "/api/v1/events", params={"type": "customer_created", "page_size": 500, **params}
            )
            assert items.status_code == 200, items.text
            return [
                e["payload"]["name"] for e in items.json()["items"] if mark in str(e["payload"].get("name"))
            ]

        names = poll(lambda: len(logged(admin)) == 2 and logged(admin), message="both events in the log")
        assert names == [f"{mark} mine", f"{mark} theirs"]  # in order
        first = admin.get("/api/v1/events", params={"type": "customer_created", "page_size": 500}).json()
        mine_event = next(e for e in first["items"] if e["payload"].get("name") == f"{mark} mine")
        assert logged(admin, after=mine_event["event_id"]) == [f"{mark} theirs"]
        with system.as_user(rep) as r:
            assert logged(r) == [f"{mark} mine"]
        with system.as_user(warehouse) as w:
            assert w.get("/api/v1/events").status_code == 403
        bad = admin.get("/api/v1/events", params={"type": "custmer_created"})
        assert bad.status_code == 422
