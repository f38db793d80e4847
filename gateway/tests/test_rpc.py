"""The asyncio RPC client against a real Nameko service on a real broker."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.parse

import aiormq
import pytest
import pytest_asyncio
from crm_common.context import CallerContext
from gateway.errors import from_rpc_error
from gateway.rpc import Call, RemoteError, RpcClient, RpcTimeout, ServiceUnavailable

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def rpc(nameko_services):
    client = RpcClient(nameko_services, timeout=5, name="gateway-test")
    assert await client.start(wait=5)
    yield client
    await client.close()


async def test_many_concurrent_calls_get_their_own_results(rpc):
    results = await asyncio.gather(*(rpc.call("gateway_test", "echo", i, tag=f"t{i}") for i in range(200)))
    assert [r["args"] for r in results] == [[i] for i in range(200)]
    assert [r["kwargs"] for r in results] == [{"tag": f"t{i}"} for i in range(200)]


async def test_caller_context_and_request_id_reach_the_service(rpc):
    caller = CallerContext(
        user_id=5, username="rep5", roles=("sales_rep",), department="east", request_id="req-abc-123"
    )
    result = await rpc.call("gateway_test", "echo", "x", caller=caller)
    assert result["caller"] == {
        "user_id": 5,
        "username": "rep5",
        "roles": ["sales_rep"],
        "department": "east",
        "customer_id": None,
    }
    assert result["request_id"] == "req-abc-123"
    assert result["call_id_stack"][0].startswith("gateway-test.echo.")


async def test_decimal_and_dates_travel_as_strings(rpc):
    import datetime as dt
    from decimal import Decimal

    result = await rpc.call("gateway_test", "echo", Decimal("1250.50"), when=dt.date(2027, 1, 31))
    assert result["args"] == ["1250.50"] and result["kwargs"] == {"when": "2027-01-31"}


async def test_remote_not_found_maps_to_404(rpc):
    with pytest.raises(RemoteError) as info:
        await rpc.call("gateway_test", "fail_not_found")
    assert info.value.exc_path == "crm_common.errors.NotFound"
    err = from_rpc_error(info.value)
    assert (err.status, err.code, err.message) == (404, "NOT_FOUND", "Widget 7 not found")
    assert "id" in err.details


async def test_error_details_keep_their_types(rpc):
    with pytest.raises(RemoteError) as info:
        await rpc.call("gateway_test", "fail_not_found")
    assert info.value.details == {"id": 7}


async def test_remote_validation_maps_to_422_with_details(rpc):
    with pytest.raises(RemoteError) as info:
        await rpc.call("gateway_test", "fail_validation")
    err = from_rpc_error(info.value)
    assert (err.status, err.code, err.details) == (422, "VALIDATION_FAILED", {"name": ["must not be empty"]})


async def test_unexpected_remote_error_is_a_generic_500(rpc):
    with pytest.raises(RemoteError) as info:
        await rpc.call("gateway_test", "fail_unexpected")
    err = from_rpc_error(info.value)
    assert (err.status, err.code) == (500, "INTERNAL")
    assert "hunter2" not in err.message and "hunter2" not in json.dumps(err.details)


async def test_a_service_whose_database_is_down_is_503(rpc):
    with pytest.raises(RemoteError) as info:
        await rpc.call("gateway_test", "fail_database_down")
    assert info.value.exc_path == "crm_common.errors.Unavailable"
    err = from_rpc_error(info.value)
    assert (err.status, err.code) == (503, "SERVICE_UNAVAILABLE")
    assert (await rpc.call("gateway_test", "echo", 1))["args"] == [1]


async def test_unknown_method_is_501(rpc):
    with pytest.raises(RemoteError) as info:
        await rpc.call("gateway_test", "no_such_method")
    assert from_rpc_error(info.value).status == 501


async def test_timeout_raises_in_about_the_timeout(rpc):
    started = time.monotonic()
    with pytest.raises(RpcTimeout):
        await rpc.call("gateway_test", "slow", 3, timeout=0.5)
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 1.5
    assert from_rpc_error(RpcTimeout("gateway_test", "slow", 0.5)).status == 504
    # the client is still fine afterwards
    assert (await rpc.call("gateway_test", "echo", 1))["args"] == [1]


async def test_service_that_never_started_is_503_at_once(rpc):
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        await rpc.call("never_started", "anything", timeout=5)
    # without the consumer probe, the mandatory publish comes back unroutable
    with pytest.raises(ServiceUnavailable):
        await rpc.call("never_started", "anything", timeout=5, check_consumers=False)
    assert time.monotonic() - started < 1.0


async def test_stopped_service_whose_queue_remains_is_503_at_once(rpc, nameko_services):
    conn = aiormq.Connection(nameko_services)
    await conn.connect()
    try:
        ch = await conn.channel()
        await ch.exchange_declare("nameko-rpc", exchange_type="topic", durable=True)
        await ch.queue_declare("rpc-stopped_svc", durable=True)
        await ch.queue_bind("rpc-stopped_svc", "nameko-rpc", routing_key="stopped_svc.*")
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable) as info:
            await rpc.call("stopped_svc", "health", timeout=5)
        assert time.monotonic() - started < 1.0
        assert from_rpc_error(info.value).status == 503
        await ch.queue_delete("rpc-stopped_svc")
    finally:
        await conn.close()


async def test_call_many_returns_results_and_errors_in_order(rpc):
    results = await rpc.call_many(
        [
            Call("gateway_test", "echo", (1,)),
            Call("gateway_test", "fail_not_found"),
            Call("never_started", "health"),
        ]
    )
    assert results[0]["args"] == [1]
    assert isinstance(results[1], RemoteError)
    assert isinstance(results[2], ServiceUnavailable)


async def test_broker_unreachable_is_503_at_once():
    client = RpcClient("amqp://guest:guest@127.0.0.1:1/", timeout=5)
    assert await client.start(wait=0.3) is False
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        await client.call("gateway_test", "echo", 1)
    assert time.monotonic() - started < 0.2
    await client.close()


def _close_connections(amqp_uri: str, name: str) -> int:
    vhost = urllib.parse.unquote(urllib.parse.urlsplit(amqp_uri).path[1:])
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "--no-table-headers", "pid", "vhost", "client_properties"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    closed = 0
    for line in out.splitlines():
        if vhost in line and name in line:
            pid = line.split("\t", 1)[0]
            subprocess.run(
                ["rabbitmqctl", "-q", "close_connection", pid, "test: broker lost"],
                capture_output=True,
                check=True,
            )
            closed += 1
    return closed


async def test_lost_connection_fails_calls_in_flight_and_reconnects(nameko_services):
    client = RpcClient(nameko_services, timeout=60, name="gateway-reconnect")
    assert await client.start(wait=5)
    try:
        # a call that cannot finish before the connection is closed, however slow rabbitmqctl
        # is on a busy machine; the client must fail it at once instead of waiting 60 s
        in_flight = asyncio.ensure_future(client.call("gateway_test", "slow", 30))
        await asyncio.sleep(0.3)
        assert (
            await asyncio.to_thread(_close_connections, nameko_services, "gateway-reconnect-rpc-client") == 1
        )
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            await in_flight  # not a 60 s hang
        assert time.monotonic() - started < 5
        deadline = time.monotonic() + 10
        while not (client.connected and client.connects >= 2):
            assert time.monotonic() < deadline, "did not reconnect"
            await asyncio.sleep(0.05)
        assert (await client.call("gateway_test", "echo", "back"))["args"] == ["back"]
    finally:
        await client.close()
