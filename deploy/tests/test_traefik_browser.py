"""Traefik in front of the browser console, in both deployments (compose's file provider and
Kubernetes' IngressRoute): responses are compressed, and the notifications stream (server-sent
events) has its own route that neither buffers nor compresses, so events are not held back."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
STREAM = "/api/v1/notifications/stream"


def test_compose_routers_compress_and_the_stream_is_never_buffered():
    http = yaml.safe_load((ROOT / "deploy" / "traefik" / "dynamic" / "gateway.yml").read_text())["http"]
    middlewares, routers = http["middlewares"], http["routers"]
    compress = middlewares["crm-compress"]["compress"]
    assert "text/event-stream" in compress["excludedContentTypes"]
    assert routers["gateway"]["middlewares"].index("crm-compress") < routers["gateway"]["middlewares"].index(
        "crm-body-limit"
    )
    assert "crm-compress" in routers["gateway-prefixed"]["middlewares"]

    stream = routers["gateway-stream"]
    assert STREAM in stream["rule"] and f"/crm{STREAM}" in stream["rule"]
    assert stream["priority"] > routers["gateway-prefixed"]["priority"]
    kinds = {next(iter(middlewares[m])) for m in stream["middlewares"]}
    assert "buffering" not in kinds and "compress" not in kinds
    assert "crm-security-headers" in stream["middlewares"] and "crm-rate-limit" in stream["middlewares"]


def test_kubernetes_routes_do_the_same():
    objects = list(yaml.safe_load_all((ROOT / "deploy" / "k8s" / "base" / "traefik.yaml").read_text()))
    middlewares = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "Middleware"}
    (route,) = [o for o in objects if o["kind"] == "IngressRoute"]
    assert "text/event-stream" in middlewares["crm-compress"]["compress"]["excludedContentTypes"]
    main, prefixed, stream = route["spec"]["routes"]
    for r in (main, prefixed):
        assert "crm-compress" in [m["name"] for m in r["middlewares"]]
    assert STREAM in stream["match"] and stream["priority"] > prefixed["priority"]
    kinds = {next(iter(middlewares[m["name"]])) for m in stream["middlewares"]}
    assert "buffering" not in kinds and "compress" not in kinds
    # the overlays set each route's host, the stream's too
    for overlay in ("dev", "prod"):
        text = (ROOT / "deploy" / "k8s" / "overlays" / overlay / "kustomization.yaml").read_text()
        assert "/spec/routes/2/match" in text and STREAM in text
