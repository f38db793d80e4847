"""deploy/validate.py: the real tree passes; a broken Deployment, IngressRoute or compose
service fails with a message that names the object and the field. Offline (kubectl, the
bundled Kubernetes schemas, Traefik's CRDs, the cached compose schema); no broker, no nameko.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT.parent / "shared" / "k8s" / "traefik-crds"

spec = importlib.util.spec_from_file_location("deploy_validate", ROOT / "deploy" / "validate.py")
validate = importlib.util.module_from_spec(spec)
sys.modules["deploy_validate"] = validate
spec.loader.exec_module(validate)

pytestmark = pytest.mark.skipif(
    validate.find_kubectl(None) is None, reason="kubectl is not installed (apt-get install kubectl)"
)


def run(root: Path, capsys, *only: str) -> tuple[int, str]:
    code = validate.main(
        [f"--only={o}" for o in only]
        + [
            "--root",
            str(root),
            "--traefik-crds",
            str(CRDS),
            "--schema-cache",
            str(validate.default_cache_dir(ROOT)),
            "--quiet",
        ]
    )
    return code, capsys.readouterr().out


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of deploy/ with the services' config.yml files (what the validator reads)."""
    shutil.copytree(
        ROOT / "deploy", tmp_path / "deploy", ignore=shutil.ignore_patterns("__pycache__", "tests")
    )
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "operations.md", tmp_path / "docs" / "operations.md")
    for cfg in (ROOT / "services").glob("*/config.yml"):
        target = tmp_path / "services" / cfg.parent.name / "config.yml"
        target.parent.mkdir(parents=True)
        shutil.copy(cfg, target)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_real_tree_is_valid(capsys):
    code, out = run(ROOT, capsys)
    assert code == 0, out
    assert "deploy/ is valid" in out


def test_the_copy_is_valid(tree, capsys):
    code, out = run(tree, capsys)
    assert code == 0, out


def test_a_deployment_with_a_misspelt_field_fails(tree, capsys):
    edit(tree / "deploy/k8s/base/gateway.yaml", "revisionHistoryLimit: 5", "revisionHistoryLimits: 5")
    code, out = run(tree, capsys)
    assert code == 1
    assert "Deployment/crm/gateway" in out and "revisionHistoryLimits" in out


def test_a_deployment_with_a_wrong_type_fails(tree, capsys):
    edit(tree / "deploy/k8s/base/service-template/deployment.yaml", "replicas: 2", 'replicas: "two"')
    code, out = run(tree, capsys)
    assert code == 1
    assert "Deployment/crm/customers-service" in out and "replicas" in out


def test_a_deployment_without_probes_fails(tree, capsys):
    edit(tree / "deploy/k8s/base/gateway.yaml", "          livenessProbe:", "          x-livenessProbe:")
    code, out = run(tree, capsys)
    assert code == 1
    assert "Deployment/crm/gateway" in out


def test_an_ingressroute_against_the_crd_schema_fails(tree, capsys):
    edit(tree / "deploy/k8s/base/traefik.yaml", "entryPoints: [websecure]", "entryPoints: websecure")
    code, out = run(tree, capsys)
    assert code == 1
    assert "IngressRoute/crm/gateway" in out and "spec.entryPoints" in out


def test_an_ingressroute_with_an_unknown_field_fails(tree, capsys):
    edit(tree / "deploy/k8s/base/traefik.yaml", "      priority: 1000", "      prio: 1000")
    code, out = run(tree, capsys)
    assert code == 1
    assert "IngressRoute/crm/gateway" in out and "prio" in out


def test_an_ingressroute_naming_a_missing_middleware_fails(tree, capsys):
    edit(tree / "deploy/k8s/base/traefik.yaml", "- name: crm-strip-prefix", "- name: crm-strip-prefixes")
    code, out = run(tree, capsys)
    assert code == 1
    assert "uses Middleware 'crm-strip-prefixes', not defined" in out


def test_a_broken_compose_service_fails(tree, capsys):
    compose = tree / "deploy/compose/compose.yaml"
    edit(
        compose,
        "    restart: unless-stopped\n    hostname: rabbitmq",
        "    restart: unless-stopped\n    hostnam: rabbitmq",
    )
    code, out = run(tree, capsys, "compose")
    assert code == 1
    assert "services.rabbitmq" in out and "hostnam" in out


def test_a_compose_dependency_on_a_missing_service_fails(tree, capsys):
    edit(
        tree / "deploy/compose/compose.yaml",
        "      gateway:\n        condition: service_healthy",
        "      gatewy:\n        condition: service_healthy",
    )
    code, out = run(tree, capsys, "compose")
    assert code == 1
    assert "depends_on 'gatewy'" in out


def test_a_compose_secret_missing_from_env_example_fails(tree, capsys):
    edit(tree / "deploy/compose/.env.example", "RABBITMQ_PASSWORD=", "# RABBITMQ_PASSWORD=")
    code, out = run(tree, capsys, "compose")
    assert code == 1
    assert "RABBITMQ_PASSWORD" in out


def test_a_traefik_router_with_an_unknown_middleware_fails(tree, capsys):
    edit(
        tree / "deploy/traefik/dynamic/gateway.yml",
        "crm-body-limit, crm-strip-prefix]",
        "crm-body-limit, crm-nope]",
    )
    code, out = run(tree, capsys, "traefik")
    assert code == 1
    assert "middleware 'crm-nope', not defined" in out


def test_a_new_service_without_manifests_fails(tree, capsys):
    (tree / "services/shipping").mkdir()
    (tree / "services/shipping/config.yml").write_text("AMQP_URI: x\n")
    code, out = run(tree, capsys)
    assert code == 1
    assert "service 'shipping' (services/shipping) has no Deployment" in out
    assert "service 'shipping' (services/shipping) has no compose service" in out


def test_an_undocumented_secret_fails(tree, capsys):
    docs = tree / "docs/operations.md"
    docs.write_text(docs.read_text().replace("`crm-notify-smtp`", "the SMTP secret"))
    code, out = run(tree, capsys, "k8s")
    assert code == 1
    assert "Secret 'crm-notify-smtp' is referenced but not documented" in out


def test_interpolation_follows_compose():
    env = {"A": "1", "E": ""}
    missing: set[str] = set()
    got = validate.interpolate(
        ["$A", "${A}", "${B:-x}", "${E:-y}", "${E-z}", "$$A", "${B:?need B}"], env, missing
    )
    assert got == ["1", "1", "x", "y", "", "$A", ""]
    assert missing == {"B (need B)"}
