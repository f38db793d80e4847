"""What a browser app needs from the gateway: gzip, CORS for the configured origins, ETag and
If-Match on records people edit, and the notifications stream (server-sent events) — the stream
through a real HTTP server and real events on the broker."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import httpx
import pydantic
import pytest
import uvicorn
from conftest import ADMIN_PASSWORD, create_user, login, make_settings
from crm_common.testing import free_port, publish_event
from gateway.main import create_app
from gateway.settings import Settings
from gateway.stream import EventHub, user_events

pytestmark = pytest.mark.asyncio

CONSOLE = "https://console.example.com"


@contextlib.asynccontextmanager
async def light_client(tmp_path: Path, **overrides):
    """The app without its lifespan: enough for middleware that answers before any route."""
    app = create_app(make_settings("amqp://unused", tmp_path / "gateway.db", **overrides))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        yield client


# -- compression ----------------------------------------------------------------------------


async def test_large_json_is_gzipped_and_small_answers_are_not(tmp_path):
    async with light_client(tmp_path) as c:
        plain = await c.get("/openapi.json", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        r = await c.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in r.headers["vary"].lower()
        assert int(r.headers["content-length"]) < len(plain.content) / 3
        assert json.loads(gzip.decompress(await _raw(c, "/openapi.json"))) == plain.json()
        small = await c.get("/api/v1/nothing-here", headers={"Accept-Encoding": "gzip"})
        assert small.status_code == 404 and "content-encoding" not in small.headers


async def _raw(client: httpx.AsyncClient, path: str) -> bytes:
    async with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as r:
        return b"".join([chunk async for chunk in r.aiter_raw()])


# -- CORS -----------------------------------------------------------------------------------


async def test_preflight_for_every_method_from_a_configured_origin(tmp_path):
    async with light_client(tmp_path, crm_cors_origins=f"{CONSOLE}, http://localhost:5173/") as c:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            r = await c.options(
                "/api/v1/customers/5",
                headers={
                    "Origin": CONSOLE,
                    "Access-Control-Request-Method": method,
                    "Access-Control-Request-Headers": "authorization, content-type, if-match, x-request-id",
                },
            )
            assert r.status_code == 200, (method, r.text)
            assert r.headers["access-control-allow-origin"] == CONSOLE
            assert method in r.headers["access-control-allow-methods"]
            allowed = r.headers["access-control-allow-headers"].lower()
            assert "authorization" in allowed and "if-match" in allowed
        # the trailing slash of a configured origin does not matter
        r = await c.options(
            "/api/v1/contracts",
            headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
        )
        assert r.headers["access-control-allow-origin"] == "http://localhost:5173"

        # an answer to a real request exposes the headers a front end reads
        r = await c.get("/api/v1/nothing-here", headers={"Origin": CONSOLE})
        assert r.headers["access-control-allow-origin"] == CONSOLE
        exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
        assert {"x-request-id", "etag", "location", "content-disposition"} <= exposed

        # an origin not listed gets no permission
        r = await c.options(
            "/api/v1/customers",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in r.headers
        r = await c.get("/api/v1/nothing-here", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


async def test_no_cors_unless_origins_are_configured(tmp_path):
    async with light_client(tmp_path) as c:
        r = await c.get("/api/v1/nothing-here", headers={"Origin": CONSOLE})
        assert "access-control-allow-origin" not in r.headers


async def test_cors_origins_setting_is_checked():
    s = Settings(crm_cors_origins=" https://a.example ,http://localhost:5173/,")
    assert s.crm_cors_origins == ["https://a.example", "http://localhost:5173"]
    assert Settings().crm_cors_origins == []
    for bad in ("a.example", "https://a.example/app", "ftp://a.example"):
        with pytest.raises(pydantic.ValidationError, match="CRM_CORS_ORIGINS"):
            Settings(crm_cors_origins=bad)


# -- ETag / If-Match ------------------------------------------------------------------------


async def test_a_stale_if_match_is_refused_and_nothing_is_written(client, admin_headers):
    created = await client.post(
        "/api/v1/customers",
        json={"name": f"ETag {uuid.uuid4().hex[:6]}", "kind": "company"},
        headers=admin_headers,
    )
    path = f"/api/v1/customers/{created.json()['id']}"
    first = await client.get(path, headers=admin_headers)
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) > 10
    assert (await client.get(path, headers=admin_headers)).headers["etag"] == tag  # stable

    # the browser's cache revalidates
    cached = await client.get(path, headers={**admin_headers, "If-None-Match": tag})
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["etag"] == tag

    # Alice saves with the version she read: accepted, with the new version
    alice = await client.patch(path, json={"level": "A"}, headers={**admin_headers, "If-Match": tag})
    assert alice.status_code == 200 and alice.json()["level"] == "A"
    new_tag = alice.headers["etag"]
    assert new_tag != tag
    assert (await client.get(path, headers=admin_headers)).headers["etag"] == new_tag

    # Bob still holds the old version: 412, and his change is not written
    bob = await client.patch(path, json={"level": "C"}, headers={**admin_headers, "If-Match": tag})
    assert bob.status_code == 412
    error = bob.json()["error"]
    assert error["code"] == "PRECONDITION_FAILED" and error["details"]["etag"] == new_tag
    assert bob.headers["etag"] == new_tag
    assert (await client.get(path, headers=admin_headers)).json()["level"] == "A"

    # one of several tags, or *, is enough; without If-Match nothing changes for old clients
    ok = await client.patch(
        path, json={"level": "B"}, headers={**admin_headers, "If-Match": f'"stale", {new_tag}'}
    )
    assert ok.status_code == 200 and ok.json()["level"] == "B"
    assert (
        await client.patch(path, json={"level": "C"}, headers={**admin_headers, "If-Match": "*"})
    ).status_code == 200
    assert (await client.patch(path, json={"level": "A"}, headers=admin_headers)).status_code == 200

    # a record that is not there (or not readable) answers as before, not 412
    missing = await client.patch(
        "/api/v1/customers/999999", json={"level": "A"}, headers={**admin_headers, "If-Match": tag}
    )
    assert missing.status_code == 404
    assert (await client.get("/api/v1/customers/999999", headers=admin_headers)).headers.get("etag") is None
    # the OpenAPI document says so, for generated clients
    doc = (await client.get("/openapi.json")).json()["paths"]["/api/v1/customers/{customer_id}"]
    assert (
        "If-Match" in [p["name"] for p in doc["patch"]["parameters"]] and "412" in doc["patch"]["responses"]
    )
    assert "ETag" in doc["get"]["responses"]["200"]["headers"] and "304" in doc["get"]["responses"]
    # without a token: 401 as before
    assert (await client.patch(path, json={"level": "A"}, headers={"If-Match": tag})).status_code == 401


# -- the notifications stream ---------------------------------------------------------------


@contextlib.asynccontextmanager
async def live_gateway(amqp_uri: str, tmp_path: Path, **overrides):
    """The gateway on a real port (streaming answers need a real server, not ASGITransport)."""
    app = create_app(make_settings(amqp_uri, tmp_path / "gateway.db", **overrides))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(300):
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "the gateway did not start"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


def publish(amqp_uri: str, event_type: str, payload: dict, *, signed: bool = True) -> str:
    """An event as notify's outbox relay publishes it (``signed=False``: as a forger would)."""
    event_id = uuid.uuid4().hex
    envelope = {
        "event_id": event_id,
        "type": event_type,
        "version": 1,
        "occurred_at": "2031-01-01T00:00:00+00:00",
        "source": "notify",
        "request_id": None,
        "payload": payload,
    }
    publish_event(amqp_uri, "notify", envelope, signed=signed)  # the stream passes on signed events only
    return event_id


class Stream:
    """Reads SSE frames off an open response: ``await stream.next()`` → {"event", "data", ...}."""

    def __init__(self, response: httpx.Response):
        self.lines = response.aiter_lines()

    async def next(self, timeout: float = 10) -> dict:
        frame: dict = {}
        async with asyncio.timeout(timeout):
            async for line in self.lines:
                if line == "":
                    if frame:
                        return frame
                    continue
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "":
                    frame.setdefault("comments", []).append(value)
                elif field == "data":
                    frame["data"] = json.loads(value)
                else:
                    frame[field] = value
        raise AssertionError("the stream ended")

    async def next_event(self, timeout: float = 10) -> dict:
        while True:
            frame = await self.next(timeout)
            if "event" in frame:
                return frame


async def test_the_stream_pushes_the_users_own_notifications_and_tasks(nameko_services, tmp_path):
    amqp = nameko_services
    async with live_gateway(amqp, tmp_path, crm_sse_heartbeat_seconds=0.5) as c:
        admin = await login(c, "admin", ADMIN_PASSWORD)
        rep = await create_user(c, admin, username="streamer", roles=["sales_rep"])
        other = await create_user(c, admin, username="bystander", roles=["finance"])
        token = (await login(c, "streamer", "rep-password-1"))["Authorization"].split()[1]

        # EventSource sends no headers: the token as a query parameter, on this route only
        assert (await c.get("/api/v1/notifications/stream")).status_code == 401
        bad = await c.get("/api/v1/notifications/stream", params={"access_token": "not-a-token"})
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "UNAUTHORIZED"
        # elsewhere a token in the query is refused as an unknown parameter, never used
        elsewhere = await c.get("/api/v1/notifications", params={"access_token": token})
        assert elsewhere.status_code == 422 and elsewhere.json()["error"]["details"]["parameters"] == [
            "access_token"
        ]

        params = {"access_token": token}
        async with c.stream("GET", "/api/v1/notifications/stream", params=params) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            assert r.headers["cache-control"] == "no-cache" and "content-encoding" not in r.headers
            stream = Stream(r)
            ready = await stream.next()
            assert ready["event"] == "ready" and ready["data"] == {"user_id": rep["id"]}
            assert ready["retry"] == "3000"

            # someone else's notification and task never reach this stream
            publish(
                amqp, "inbox_notification_created", {"id": 1, "user_id": other["id"], "title": "not yours"}
            )
            publish(amqp, "task_opened", {"id": 2, "assignee_id": other["id"], "assignee_role": None})
            publish(amqp, "task_opened", {"id": 3, "assignee_id": None, "assignee_role": "finance"})
            # a forged (unsigned) notification for this very user is dropped, never streamed
            publish(
                amqp,
                "inbox_notification_created",
                {"id": 99, "user_id": rep["id"], "title": "Your password expired, log in at evil.example"},
                signed=False,
            )
            mine = publish(
                amqp,
                "inbox_notification_created",
                {"id": 4, "user_id": rep["id"], "title": "Contract K-1 approved", "read": False},
            )
            event = await stream.next_event()
            assert event["event"] == "notification" and event["id"] == mine
            assert event["data"]["title"] == "Contract K-1 approved" and event["data"]["id"] == 4

            publish(
                amqp,
                "task_opened",
                {"id": 5, "assignee_id": None, "assignee_role": "sales_rep", "status": "open"},
            )
            task = await stream.next_event()
            assert task["event"] == "task" and task["data"]["id"] == 5 and task["data"]["status"] == "open"
            publish(amqp, "task_closed", {"id": 6, "assignee_id": rep["id"], "status": "done"})
            closed = await stream.next_event()
            assert closed["event"] == "task" and closed["data"] == {
                "id": 6,
                "assignee_id": rep["id"],
                "status": "done",
            }

            # a heartbeat comment keeps the connection open while nothing happens
            quiet = await stream.next(timeout=5)
            assert quiet == {"comments": ["heartbeat"]}

        # the closed stream is forgotten
        hub = c.app.state.event_hub  # type: ignore[attr-defined]
        assert hub.untrusted == 1
        for _ in range(100):
            if not hub.subscribers:
                break
            await asyncio.sleep(0.05)
        assert not hub.subscribers

        # an admin sees every task (as the task list does); the header works as well
        async with c.stream("GET", "/api/v1/notifications/stream", headers=admin) as r:
            stream = Stream(r)
            assert (await stream.next())["event"] == "ready"
            publish(amqp, "task_opened", {"id": 7, "assignee_id": other["id"], "assignee_role": None})
            assert (await stream.next_event())["data"]["id"] == 7


async def test_who_sees_which_event_and_the_stream_ends_with_its_token():
    rep = SimpleNamespace(id=5, roles=("sales_rep",))
    hub = EventHub("amqp://unused")
    sub = hub.subscribe(rep)  # type: ignore[arg-type]
    admin = hub.subscribe(SimpleNamespace(id=1, roles=("admin",)))  # type: ignore[arg-type]
    cases = [
        ("inbox_notification_created", {"user_id": 5}, True, False),
        ("inbox_notification_created", {"user_id": 6}, False, False),
        ("task_opened", {"assignee_id": 5, "assignee_role": "finance"}, True, True),
        ("task_opened", {"assignee_id": 6, "assignee_role": "sales_rep"}, False, True),
        ("task_closed", {"assignee_id": None, "assignee_role": "sales_rep"}, True, True),
        ("task_closed", {"assignee_id": None, "assignee_role": "finance"}, False, True),
        ("customer_created", {"user_id": 5}, False, False),
    ]
    for event_type, payload, to_rep, to_admin in cases:
        hub.dispatch(event_type, "e1", payload)
        assert (not sub.queue.empty()) is to_rep, (event_type, payload)
        assert (not admin.queue.empty()) is to_admin, (event_type, payload)
        for s in (sub, admin):
            while not s.queue.empty():
                s.queue.get_nowait()

    # a stream that falls too far behind ends (the page reconnects and reloads)
    for i in range(300):
        hub.dispatch("inbox_notification_created", str(i), {"user_id": 5})
    assert sub.queue.qsize() == 1 and sub.queue.get_nowait() is None

    # a stream ends when its token expires, so the client reconnects with a fresh one
    request = SimpleNamespace(
        app=SimpleNamespace(state=SimpleNamespace(settings=Settings(crm_sse_heartbeat_seconds=0.2))),
        state=SimpleNamespace(token_expires=time.time() + 0.7),
    )
    frames = []
    async with asyncio.timeout(5):
        async for frame in user_events(request, hub, rep):  # type: ignore[arg-type]
            frames.append(frame)
    assert frames[0].startswith(b"event: ready\n") and b": heartbeat\n\n" in frames[1:]
    assert len(frames) <= 6
