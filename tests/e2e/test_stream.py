"""The notifications stream end to end: a sales rep's browser holds
``GET /api/v1/notifications/stream`` open (token in the query string, as ``EventSource`` sends
it); their follow-up falls due in the daily job, and the task and the inbox entry notify opens
for them arrive on their stream within seconds — and on nobody else's. Every service runs as a
process on a real broker, started by the same runner as ``make run``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import httpx

DEADLINE = 30.0


async def read_events(base_url: str, token: str, into: list[dict], ready: asyncio.Event) -> None:
    """Collect the stream's events (``event:`` + JSON ``data:``) into ``into`` until cancelled."""
    async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10, read=60)) as http:
        async with http.stream("GET", "/api/v1/notifications/stream", params={"access_token": token}) as r:
            assert r.status_code == 200, await r.aread()
            assert r.headers["content-type"].startswith("text/event-stream")
            frame: dict = {}
            async for line in r.aiter_lines():
                if line == "":
                    if frame.get("event") == "ready":
                        ready.set()
                    elif "event" in frame:
                        into.append(frame)
                    frame = {}
                elif line.startswith("event: "):
                    frame["event"] = line[7:]
                elif line.startswith("data: "):
                    frame["data"] = json.loads(line[6:])


async def wait_for(events: list[dict], predicate, what: str) -> dict:
    async with asyncio.timeout(DEADLINE):
        while True:
            for event in events:
                if predicate(event):
                    return event
            await asyncio.sleep(0.1)
    raise AssertionError(f"{what} did not arrive within {DEADLINE}s: {events}")  # pragma: no cover


def test_a_follow_up_falling_due_reaches_its_owners_open_stream(system):
    rep = system.create_user(["sales_rep"], full_name="Stream Rep")
    bystander = system.create_user(["sales_rep"], full_name="Other Rep")
    day = dt.date(2032, 1, 5) + dt.timedelta(days=uuid.uuid4().int % 300)
    name = f"Stream Müşteri {uuid.uuid4().hex[:6]}"

    def make_follow_up_due() -> None:
        with system.as_user(rep) as r, system.client() as admin:
            customer = r.post("/api/v1/customers", json={"name": name, "kind": "company"})
            assert customer.status_code == 201, customer.text
            fu = r.post(
                f"/api/v1/customers/{customer.json()['id']}/follow-ups",
                json={
                    "method": "call",
                    "occurred_at": "2031-12-01T09:00:00Z",
                    "result": "interested",
                    "next_action": "send the offer",
                    "next_action_at": f"{day.isoformat()}T10:00:00Z",
                },
            )
            assert fu.status_code == 201, fu.text
            job = admin.post("/api/v1/admin/jobs/daily", json={"as_of": day.isoformat()})
            assert job.status_code == 200, job.text

    async def scenario() -> None:
        mine: list[dict] = []
        theirs: list[dict] = []
        rep_ready, other_ready = asyncio.Event(), asyncio.Event()
        readers = [
            asyncio.create_task(
                read_events(system.base_url, system.token(rep["username"], rep["password"]), mine, rep_ready)
            ),
            asyncio.create_task(
                read_events(
                    system.base_url,
                    system.token(bystander["username"], bystander["password"]),
                    theirs,
                    other_ready,
                )
            ),
        ]
        try:
            async with asyncio.timeout(DEADLINE):
                await rep_ready.wait()
                await other_ready.wait()
            await asyncio.to_thread(make_follow_up_due)

            note = await wait_for(
                mine,
                lambda e: e["event"] == "notification" and e["data"]["event_type"] == "follow_up_due",
                "the inbox entry",
            )
            assert name in note["data"]["title"] and note["data"]["read"] is False
            assert note["data"]["user_id"] == rep["id"]
            task = await wait_for(
                mine,
                lambda e: e["event"] == "task" and e["data"]["kind"] == "follow_up",
                "the follow-up task",
            )
            assert task["data"]["assignee_id"] == rep["id"] and task["data"]["status"] == "open"
            assert task["data"]["due_date"] == day.isoformat()

            # the entry on the stream is the one the inbox lists
            with system.as_user(rep) as r:
                inbox = r.get("/api/v1/notifications?unread=true").json()["items"]
            assert note["data"]["id"] in [n["id"] for n in inbox]

            await asyncio.sleep(1.0)
            assert [e for e in theirs if name in json.dumps(e["data"], ensure_ascii=False)] == []
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)

    asyncio.run(scenario())
