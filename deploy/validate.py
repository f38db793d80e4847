#!/usr/bin/env python3
"""Offline validation of everything under ``deploy/`` (``make validate-deploy``; CI).

1. **Kubernetes**: ``kubectl kustomize`` renders the base and every overlay in
   ``deploy/k8s/overlays/``; every core object validates with ``kubernetes-validate`` (strict:
   unknown fields fail) for ``--kubernetes-version``; Traefik's ``IngressRoute`` and
   ``Middleware`` validate against the ``openAPIV3Schema`` of Traefik's own CRDs
   (``--traefik-crds``, unknown fields fail as the API server's strict field validation would);
   any other kind fails. Then project rules: probes, requests and limits on every container, an
   HPA and a PDB for every Deployment, routes pointing at existing Middlewares and Services, and
   every service under ``services/`` deployed and listed in the gateway's ``CRM_SERVICES``.
2. **docker compose** (``deploy/compose/compose.yaml``): variables interpolated from
   ``.env.example`` like ``docker compose`` does, then the Compose JSON schema (read from the
   ``docker-compose==1.29.2`` wheel, downloaded once with pip into a cache, never committed),
   then project rules (images built from deploy/docker/Dockerfile, health checks, depends_on).
3. **Traefik files** (``deploy/traefik/``): structure of the static and dynamic configuration.
4. **Images**: ``deploy/docker/Dockerfile`` has the ``service`` and ``gateway`` targets and a
   non-root user.

Exit status 0 when everything holds; otherwise 1, with one ``FAIL`` line per problem.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_K8S_VERSION = "1.31.0"
COMPOSE_WHEEL = "docker-compose==1.29.2"
COMPOSE_SCHEMA_MEMBER = "compose/config/compose_spec.json"
TRAEFIK_GROUP = "traefik.io/v1alpha1"


class Report:
    def __init__(self, quiet: bool = False) -> None:
        self.errors: list[str] = []
        self.quiet = quiet

    def fail(self, where: str, msg: str) -> None:
        self.errors.append(f"{where}: {msg}")
        print(f"FAIL {where}: {msg}", flush=True)

    def ok(self, msg: str) -> None:
        if not self.quiet:
            print(f"ok   {msg}", flush=True)


# -- helpers ---------------------------------------------------------------------------------


SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster


def load_yaml_docs(text: str) -> list[dict]:
    return [d for d in yaml.load_all(text, Loader=SAFE_LOADER) if d]


def obj_id(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind')}/{(ns + '/') if ns else ''}{meta.get('name')}"


def json_path(path: Iterable[Any]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out or "."


def repo_services(root: Path) -> list[str]:
    """Services in the repository: ``services/<name>/config.yml`` (``common`` is not one)."""
    return sorted(
        p.parent.name for p in (root / "services").glob("*/config.yml") if p.parent.name != "common"
    )


# -- Kubernetes ------------------------------------------------------------------------------


def find_kubectl(explicit: str | None) -> str | None:
    return (
        explicit
        or shutil.which("kubectl")
        or ("/usr/bin/kubectl" if Path("/usr/bin/kubectl").exists() else None)
    )


def render(kubectl: str, directory: Path) -> tuple[list[dict] | None, str]:
    result = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True)
    if result.returncode != 0:
        return None, (result.stderr or result.stdout).strip()
    return load_yaml_docs(result.stdout), ""


def strict_schema(schema: Any) -> Any:
    """A CRD's structural schema with unknown fields refused (the API server prunes them, and
    ``kubectl apply`` with strict field validation refuses them)."""
    if isinstance(schema, dict):
        out = {k: strict_schema(v) for k, v in schema.items()}
        if (
            out.get("type") == "object"
            and "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict_schema(v) for v in schema]
    return schema


@functools.lru_cache(maxsize=4)
def load_traefik_schemas(crds_dir: Path) -> dict[tuple[str, str], dict]:
    schemas: dict[tuple[str, str], dict] = {}
    for path in sorted(crds_dir.glob("*.yaml")):
        for doc in load_yaml_docs(path.read_text()):
            if doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec.get("versions", []):
                api = f"{spec['group']}/{version['name']}"
                schema = version["schema"]["openAPIV3Schema"]
                schemas[(api, spec["names"]["kind"])] = strict_schema(schema)
    return schemas


def validate_traefik_object(obj: dict, schema: dict) -> list[str]:
    import jsonschema

    # metadata is the API server's business (ObjectMeta), not the CRD schema's
    body = {k: v for k, v in obj.items() if k != "metadata"}
    schema = dict(
        schema,
        properties={k: v for k, v in schema["properties"].items() if k != "metadata"},
        required=[r for r in schema.get("required", []) if r != "metadata"],
    )
    validator = jsonschema.Draft7Validator(schema)
    name = (obj.get("metadata") or {}).get("name") or ""
    problems = (
        []
        if re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name)
        else [f".metadata.name: {name!r} is not a valid name"]
    )
    return problems + [
        f"{json_path(e.absolute_path)}: {e.message}"
        for e in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    ]


def _cache_kubernetes_schemas() -> None:
    """kubernetes-validate reads its JSON schema files (and the large ``_definitions.json``)
    again for every object; reading each once makes a run several times faster."""
    from kubernetes_validate import utils

    if not hasattr(utils.schema_contents, "cache_info"):
        utils.schema_contents = functools.lru_cache(maxsize=256)(utils.schema_contents)


def validate_core_object(obj: dict, version: str) -> list[str]:
    import kubernetes_validate

    _cache_kubernetes_schemas()
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{json_path(exc.path)}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [f"no schema for {obj.get('apiVersion')} {obj.get('kind')} in Kubernetes {version}: {exc}"]
    except kubernetes_validate.InvalidSchemaError as exc:  # pragma: no cover
        return [f"invalid schema: {exc}"]
    return []


def pod_spec(obj: dict) -> dict | None:
    if obj.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return obj.get("spec", {}).get("template", {}).get("spec")
    return None


def selector_matches(selector: dict, labels: dict) -> bool:
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return bool(selector)


def referenced_secrets(objs: list[dict]) -> dict[str, set[str]]:
    """Secret name -> keys referenced by the pods (``secretKeyRef``; ``*`` for ``secretRef``)."""
    out: dict[str, set[str]] = {}
    for obj in objs:
        spec = pod_spec(obj) or {}
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            for env in c.get("env", []) or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    out.setdefault(ref["name"], set()).add(ref["key"])
            for src in c.get("envFrom", []) or []:
                if "secretRef" in src:
                    out.setdefault(src["secretRef"]["name"], set()).add("*")
    return out


def check_rendered(name: str, objs: list[dict], root: Path, report: Report) -> None:
    """Project rules on one rendered overlay."""
    by_kind: dict[str, list[dict]] = {}
    for o in objs:
        by_kind.setdefault(o.get("kind", "?"), []).append(o)
    deployments = by_kind.get("Deployment", [])
    hpas = by_kind.get("HorizontalPodAutoscaler", [])
    pdbs = by_kind.get("PodDisruptionBudget", [])

    for d in deployments:
        where = f"{name} {obj_id(d)}"
        spec = pod_spec(d) or {}
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            res = c.get("resources") or {}
            if not res.get("requests") or not res.get("limits"):
                report.fail(where, f"container {c.get('name')} lacks resources.requests/limits")
        for c in spec.get("containers", []):
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in c:
                    report.fail(where, f"container {c.get('name')} has no {probe}")
        if not any(h["spec"]["scaleTargetRef"].get("name") == d["metadata"]["name"] for h in hpas):
            report.fail(where, "no HorizontalPodAutoscaler targets it")
        labels = d["spec"]["template"]["metadata"].get("labels", {})
        if not any(selector_matches(p["spec"].get("selector", {}), labels) for p in pdbs):
            report.fail(where, "no PodDisruptionBudget selects its pods")
    for h in hpas:
        target = h["spec"]["scaleTargetRef"]["name"]
        if not any(d["metadata"]["name"] == target for d in deployments):
            report.fail(f"{name} {obj_id(h)}", f"scaleTargetRef {target} is not a Deployment here")

    middlewares = {o["metadata"]["name"] for o in by_kind.get("Middleware", [])}
    services = {o["metadata"]["name"] for o in by_kind.get("Service", [])}
    routes = by_kind.get("IngressRoute", [])
    if not routes:
        report.fail(name, "no Traefik IngressRoute")
    for r in routes:
        for i, route in enumerate(r.get("spec", {}).get("routes", [])):
            for m in route.get("middlewares", []) or []:
                if m.get("name") not in middlewares:
                    report.fail(
                        f"{name} {obj_id(r)}", f"routes[{i}] uses Middleware {m.get('name')!r}, not defined"
                    )
            for s in route.get("services", []) or []:
                if s.get("kind", "Service") == "Service" and s.get("name") not in services:
                    report.fail(
                        f"{name} {obj_id(r)}", f"routes[{i}] sends to Service {s.get('name')!r}, not defined"
                    )

    if not by_kind.get("NetworkPolicy"):
        report.fail(name, "no NetworkPolicy")

    # every Secret the manifests reference (they are never committed) is documented
    docs = root / "docs" / "operations.md"
    if docs.exists():
        text = docs.read_text()
        for secret in sorted(referenced_secrets(objs)):
            generic = re.sub(r"^crm-[a-z0-9]+-db$", "crm-<name>-db", secret)
            if f"`{secret}`" not in text and f"`{generic}`" not in text:
                report.fail(name, f"Secret {secret!r} is referenced but not documented in docs/operations.md")

    # every service of the repository is deployed and known to the gateway
    deployed = {
        d["spec"]["template"]["metadata"].get("labels", {}).get("app.kubernetes.io/name")
        for d in deployments
        if d["spec"]["template"]["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "service"
    }
    gateway_services: set[str] = set()
    for cm in by_kind.get("ConfigMap", []):
        raw = (cm.get("data") or {}).get("CRM_SERVICES")
        if raw is not None:
            gateway_services |= {s.strip() for s in raw.split(",") if s.strip()}
    for svc in repo_services(root):
        if svc not in deployed:
            report.fail(name, f"service {svc!r} (services/{svc}) has no Deployment: add base/services/{svc}")
    for svc in deployed:
        if svc not in gateway_services:
            report.fail(name, f"service {svc!r} is deployed but missing from the gateway's CRM_SERVICES")


def check_kubernetes(root: Path, kubectl: str | None, crds_dir: Path, version: str, report: Report) -> None:
    k8s = root / "deploy" / "k8s"
    if kubectl is None:
        report.fail("kubectl", "not found: install it (Debian: apt-get install kubectl) or pass --kubectl")
        return
    schemas: dict | None = None
    if crds_dir.is_dir():
        schemas = load_traefik_schemas(crds_dir)
    elif os.environ.get("CI"):
        report.fail("traefik CRDs", f"{crds_dir} is not a directory (pass --traefik-crds)")
        return
    else:  # a developer's clone without the project's shared/ beside it: say so, check the rest
        print(
            f"WARN traefik CRDs: {crds_dir} is not a directory; Traefik objects are not checked "
            "against their CRD schemas here (CI does; pass --traefik-crds)",
            flush=True,
        )
    targets = [k8s / "base"] + sorted(p for p in (k8s / "overlays").iterdir() if p.is_dir())
    for directory in targets:
        name = str(directory.relative_to(k8s))
        objs, err = render(kubectl, directory)
        if objs is None:
            report.fail(name, f"kubectl kustomize failed: {err}")
            continue
        before = len(report.errors)
        for obj in objs:
            api, kind = obj.get("apiVersion", ""), obj.get("kind", "")
            if api.startswith("traefik.io/"):
                if schemas is None:
                    continue
                schema = schemas.get((api, kind))
                errors = (
                    validate_traefik_object(obj, schema)
                    if schema
                    else [f"no CRD for {api} {kind} in {crds_dir}"]
                )
            else:
                errors = validate_core_object(obj, version)
            for e in errors:
                report.fail(f"{name} {obj_id(obj)}", e)
        check_rendered(name, objs, root, report)
        if len(report.errors) == before:
            crd_note = "Traefik CRDs" if schemas is not None else "Traefik CRDs NOT checked"
            report.ok(f"k8s {name}: {len(objs)} objects valid (Kubernetes {version}, {crd_note})")


# -- docker compose --------------------------------------------------------------------------

_VAR = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def read_env_file(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    if not path.exists():
        return env
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip()
    return env


def interpolate(value: Any, env: dict[str, str], missing: set[str]) -> Any:
    """``docker compose``'s variable substitution: ``$VAR``, ``${VAR}``, ``${VAR:-default}``,
    ``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``, ``$$``."""
    if isinstance(value, dict):
        return {k: interpolate(v, env, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, missing) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        expr = m.group("braced") if m.group("braced") is not None else m.group("plain")
        name, op, arg = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(:?[-?]|)(.*)$", expr, re.S).groups()  # type: ignore[union-attr]
        val = env.get(name)
        if op in (":-", "-"):
            return val if (val if op == ":-" else val is not None) else arg
        if op in (":?", "?"):
            if val is None or (op == ":?" and val == ""):
                missing.add(f"{name} ({arg})")
                return ""
            return val
        return val or ""

    return _VAR.sub(sub, value)


def compose_schema(cache_dir: Path) -> dict:
    target = cache_dir / "compose_spec.json"
    if not target.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        wheels = list(cache_dir.glob("docker_compose-1.29.2-*.whl"))
        if not wheels:
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                COMPOSE_WHEEL,
                "-d",
                str(cache_dir),
            ]
            result = subprocess.run(cmd, capture_output=True, text=True)
            wheels = list(cache_dir.glob("docker_compose-1.29.2-*.whl"))
            if result.returncode != 0 or not wheels:
                raise RuntimeError(
                    f"cannot fetch the compose schema ({' '.join(cmd)}): {result.stderr.strip()[-500:]}"
                )
        with zipfile.ZipFile(wheels[0]) as whl:
            target.write_bytes(whl.read(COMPOSE_SCHEMA_MEMBER))
    return json.loads(target.read_text())


def check_compose(root: Path, cache_dir: Path, report: Report) -> None:
    import jsonschema

    directory = root / "deploy" / "compose"
    path = directory / "compose.yaml"
    where = str(path.relative_to(root))
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        report.fail(where, f"cannot read: {exc}")
        return
    env_example = directory / ".env.example"
    if not env_example.exists():
        report.fail(where, ".env.example is missing")
    missing: set[str] = set()
    env = read_env_file(env_example)
    # a variable declared empty in .env.example is one the operator must fill in (secrets): it
    # is declared, and stands for a value while the file is checked
    env = {k: v if v != "" else f"filled-in-{k.lower()}" for k, v in env.items()}
    data = interpolate(raw, env, missing)
    for m in sorted(missing):
        report.fail(where, f"required variable not in .env.example: {m}")
    try:
        schema = compose_schema(cache_dir)
    except RuntimeError as exc:
        report.fail(where, str(exc))
        return
    errors = sorted(
        jsonschema.Draft201909Validator(schema).iter_errors(data),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    for e in errors:
        report.fail(where, f"{json_path(e.absolute_path)}: {e.message}")

    services = data.get("services") or {}
    for name, svc in services.items():
        if not isinstance(svc, dict):
            continue
        at = f"{where} services.{name}"
        deps = svc.get("depends_on") or {}
        for dep in deps if isinstance(deps, (dict, list)) else []:
            if dep not in services:
                report.fail(at, f"depends_on {dep!r}, which is not a service")
        if "healthcheck" not in svc:
            report.fail(at, "no healthcheck")
        build = svc.get("build")
        if isinstance(build, dict):
            if build.get("dockerfile") != "deploy/docker/Dockerfile":
                report.fail(at, "must build from deploy/docker/Dockerfile")
            if build.get("target") not in ("service", "gateway"):
                report.fail(at, f"build target {build.get('target')!r} is not service or gateway")
            if build.get("target") == "service" and (build.get("args") or {}).get("SERVICE") != name:
                report.fail(at, f"build args SERVICE must be {name!r}")
    gateway_env = (services.get("gateway") or {}).get("environment") or {}
    known = {s.strip() for s in str(gateway_env.get("CRM_SERVICES", "")).split(",") if s.strip()}
    built = {
        n
        for n, s in services.items()
        if isinstance(s, dict) and (s.get("build") or {}).get("target") == "service"
    }
    for svc in repo_services(root):
        if svc not in built:
            report.fail(where, f"service {svc!r} (services/{svc}) has no compose service")
    for svc in sorted(built - known):
        report.fail(where, f"service {svc!r} is missing from the gateway's CRM_SERVICES")
    if not errors:
        report.ok(f"compose: {len(services)} services valid (compose spec schema from {COMPOSE_WHEEL})")


# -- Traefik files ---------------------------------------------------------------------------

MIDDLEWARE_TYPES = {
    "addPrefix", "basicAuth", "buffering", "chain", "circuitBreaker", "compress", "contentType",
    "digestAuth", "errors", "forwardAuth", "grpcWeb", "headers", "ipAllowList", "inFlightReq",
    "passTLSClientCert", "plugin", "rateLimit", "redirectRegex", "redirectScheme", "replacePath",
    "replacePathRegex", "retry", "stripPrefix", "stripPrefixRegex",
}  # fmt: skip
REQUIRED_MIDDLEWARES = {"rateLimit", "headers", "buffering", "stripPrefix"}


def check_traefik_files(root: Path, report: Report) -> None:
    base = root / "deploy" / "traefik"
    static_path, dynamic_dir = base / "traefik.yml", base / "dynamic"
    try:
        static = yaml.safe_load(static_path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        report.fail(str(static_path.relative_to(root)), f"cannot read: {exc}")
        return
    where = str(static_path.relative_to(root))
    eps = static.get("entryPoints") or {}
    for ep in ("web", "websecure"):
        if not isinstance(eps.get(ep), dict) or not str(eps[ep].get("address", "")).startswith(":"):
            report.fail(where, f'entryPoints.{ep}.address (":port") is missing')
    if "file" not in (static.get("providers") or {}):
        report.fail(where, "providers.file is missing (the dynamic configuration directory)")
    for key, conf in (static.get("entryPoints") or {}).items():
        unknown = set(conf or {}) - {
            "address", "http", "http2", "http3", "transport", "forwardedHeaders", "proxyProtocol",
            "udp", "asDefault", "reusePort", "allowACMEByPass", "observability",
        }  # fmt: skip
        if unknown:
            report.fail(where, f"entryPoints.{key}: unknown keys {sorted(unknown)}")

    dyn_files = sorted(dynamic_dir.glob("*.yml")) + sorted(dynamic_dir.glob("*.yaml"))
    if not dyn_files:
        report.fail(str(dynamic_dir.relative_to(root)), "no dynamic configuration file")
    routers: dict[str, tuple[str, dict]] = {}
    middlewares: dict[str, dict] = {}
    services: dict[str, dict] = {}
    for path in dyn_files:
        rel = str(path.relative_to(root))
        try:
            dyn = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            report.fail(rel, f"YAML: {exc}")
            continue
        unknown_top = set(dyn) - {"http", "tcp", "udp", "tls"}
        if unknown_top:
            report.fail(rel, f"unknown top-level keys {sorted(unknown_top)}")
        http = dyn.get("http") or {}
        for k in set(http) - {"routers", "middlewares", "services", "serversTransports"}:
            report.fail(rel, f"http.{k}: unknown key")
        routers.update({k: (rel, v or {}) for k, v in (http.get("routers") or {}).items()})
        middlewares.update(http.get("middlewares") or {})
        services.update(http.get("services") or {})
    for name, (rel, r) in routers.items():
        for key in ("rule", "service"):
            if not r.get(key):
                report.fail(rel, f"http.routers.{name}.{key} is missing")
        unknown = set(r) - {
            "rule",
            "service",
            "middlewares",
            "entryPoints",
            "tls",
            "priority",
            "ruleSyntax",
            "observability",
        }
        if unknown:
            report.fail(rel, f"http.routers.{name}: unknown keys {sorted(unknown)}")
        for ep in r.get("entryPoints") or []:
            if ep not in eps:
                report.fail(rel, f"http.routers.{name} uses entryPoint {ep!r}, not in {where}")
        for m in r.get("middlewares") or []:
            if m.split("@")[0] not in middlewares:
                report.fail(rel, f"http.routers.{name} uses middleware {m!r}, not defined")
        svc = r.get("service")
        if svc and "@" not in svc and svc not in services:
            report.fail(rel, f"http.routers.{name} sends to service {svc!r}, not defined")
    used_types = set()
    for name, m in middlewares.items():
        types = set(m or {})
        if len(types) != 1 or not types <= MIDDLEWARE_TYPES:
            report.fail(
                "deploy/traefik/dynamic",
                f"http.middlewares.{name}: exactly one known type expected, got {sorted(types)}",
            )
        used_types |= types
    for t in sorted(REQUIRED_MIDDLEWARES - used_types):
        report.fail("deploy/traefik/dynamic", f"no {t} middleware")
    for name, s in services.items():
        servers = ((s or {}).get("loadBalancer") or {}).get("servers") or []
        if not servers or not all(isinstance(x, dict) and x.get("url") for x in servers):
            report.fail(
                "deploy/traefik/dynamic", f"http.services.{name}.loadBalancer.servers needs url entries"
            )
    if not any("traefik" in e for e in report.errors):
        report.ok(
            f"traefik: {len(routers)} routers, {len(middlewares)} middlewares, {len(services)} services"
        )


# -- images ----------------------------------------------------------------------------------


def check_dockerfile(root: Path, report: Report) -> None:
    path = root / "deploy" / "docker" / "Dockerfile"
    where = str(path.relative_to(root))
    if not path.exists():
        report.fail(where, "missing")
        return
    text = path.read_text()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.M | re.I)
    for target in ("service", "gateway"):
        if target not in stages:
            report.fail(where, f"no `{target}` target")
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    if not users or any(u.split(":")[0] in ("root", "0") for u in users):
        report.fail(where, "the images must run as a non-root USER")
    if "-c constraints.txt" not in text:
        report.fail(where, "dependencies must be installed with -c constraints.txt")
    if not (path.parent / "Dockerfile.dockerignore").exists():
        report.fail(where, "Dockerfile.dockerignore is missing")
    compose_init = root / "deploy" / "compose" / "postgres" / "init-databases.sh"
    k8s_init = root / "deploy" / "k8s" / "overlays" / "dev" / "init-databases.sh"
    if compose_init.exists() and k8s_init.exists() and compose_init.read_bytes() != k8s_init.read_bytes():
        report.fail(str(k8s_init.relative_to(root)), f"differs from {compose_init.relative_to(root)}")
    report.ok("Dockerfile: service and gateway targets, non-root")


# -- main ------------------------------------------------------------------------------------


def list_secrets(root: Path, kubectl: str | None) -> int:
    if kubectl is None:
        print("kubectl not found (apt-get install kubectl)")
        return 1
    for directory in sorted(p for p in (root / "deploy" / "k8s" / "overlays").iterdir() if p.is_dir()):
        objs, err = render(kubectl, directory)
        if objs is None:
            print(f"{directory.name}: {err}")
            return 1
        print(f"{directory.name}:")
        for secret, keys in sorted(referenced_secrets(objs).items()):
            print(f"  {secret}: {', '.join(sorted(keys))}")
    return 0


def default_cache_dir(root: Path) -> Path:
    if (root / ".venv").is_dir():
        return root / ".venv" / "cache" / "compose-schema"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "crm-deploy" / "compose-schema"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this checkout)")
    parser.add_argument(
        "--traefik-crds", type=Path, default=None, help="default: <root>/../shared/k8s/traefik-crds"
    )
    parser.add_argument("--kubernetes-version", default=DEFAULT_K8S_VERSION)
    parser.add_argument("--kubectl", default=None, help="kubectl binary (default: from PATH)")
    parser.add_argument("--schema-cache", type=Path, default=None, help="where the compose schema is cached")
    parser.add_argument("-q", "--quiet", action="store_true", help="print failures only")
    parser.add_argument(
        "--secrets",
        action="store_true",
        help="list the Secrets (names and keys) each overlay needs, and exit",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=["docker", "traefik", "compose", "k8s"],
        help="run only these checks",
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    crds = (args.traefik_crds or (root.parent / "shared" / "k8s" / "traefik-crds")).resolve()
    report = Report(args.quiet)

    if args.secrets:
        return list_secrets(root, find_kubectl(args.kubectl))
    only = set(args.only or ["docker", "traefik", "compose", "k8s"])
    if "docker" in only:
        check_dockerfile(root, report)
    if "traefik" in only:
        check_traefik_files(root, report)
    if "compose" in only:
        check_compose(root, args.schema_cache or default_cache_dir(root), report)
    if "k8s" in only:
        check_kubernetes(root, find_kubectl(args.kubectl), crds, args.kubernetes_version, report)

    if report.errors:
        print(f"\n{len(report.errors)} problem(s) in deploy/", flush=True)
        return 1
    print("deploy/ is valid", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
