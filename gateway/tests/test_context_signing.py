"""The gateway signs the caller context of each call for its target method with
CRM_CONTEXT_KEY (crm_common.signing); a service holding another key refuses the call and the
gateway answers 500 (the processes disagree about the key); in production it does not start
without a fit key."""

from __future__ import annotations

import uuid

import pytest
from crm_common.context import CallerContext
from crm_common.signing import ContextKeyError
from gateway.errors import from_rpc_error
from gateway.rpc import RemoteError, RpcClient

pytestmark = pytest.mark.asyncio

CALLER = CallerContext(user_id=5, username="rep5", roles=("sales_rep",), request_id="req-sig-1")


async def test_signed_calls_reach_the_service(nameko_services):
    async with RpcClient(nameko_services, timeout=5, name="gateway-sig") as rpc:
        result = await rpc.call("gateway_test", "echo", "x", caller=CALLER)
    assert result["caller"]["roles"] == ["sales_rep"] and result["request_id"] == "req-sig-1"


async def test_a_gateway_with_another_key_is_refused_and_answers_500(nameko_services, monkeypatch):
    monkeypatch.setenv("CRM_CONTEXT_KEY", uuid.uuid4().hex * 2)
    async with RpcClient(nameko_services, timeout=5, name="gateway-sig") as rpc:
        with pytest.raises(RemoteError) as refused:
            await rpc.call("gateway_test", "echo", "x", caller=CALLER)
        # without a caller there is nothing to trust: an anonymous call still runs
        assert (await rpc.call("gateway_test", "echo", "y"))["caller"]["roles"] == []
    assert refused.value.exc_path == "crm_common.signing.UntrustedCallerContext"
    assert refused.value.details == {"reason": "bad_signature", "target": "gateway_test.echo"}
    error = from_rpc_error(refused.value)
    assert (error.status, error.code, error.message, error.details) == (500, "INTERNAL", "Internal error", {})


async def test_production_refuses_to_start_without_a_fit_key(nameko_services, monkeypatch):
    monkeypatch.setenv("CRM_ENV", "production")
    for value in ("", "change-me-0123456789abcdef0123456789abcdef"):
        monkeypatch.setenv("CRM_CONTEXT_KEY", value)
        client = RpcClient(nameko_services, timeout=5, name="gateway-sig")
        with pytest.raises(ContextKeyError):
            await client.start(wait=1)
        await client.close()
