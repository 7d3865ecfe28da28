"""deploy/k8s/: every manifest is valid against the Kubernetes schemas, offline, and wired as documented.

The validator is `kubernetes-validate` (pinned in pyproject's test extra), which ships the schemas of
each Kubernetes release inside its wheel: nothing is fetched, so CI needs no network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from settings import load_config
from worker import parse_shard

kubernetes_validate = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
KUBERNETES_VERSION = "1.31.0"  # the oldest release the manifests promise to work with


def _documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in MANIFESTS:
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document:
                found.append((f"{path.name}:{document['kind']}/{document['metadata']['name']}", document))
    return found


DOCUMENTS = dict(_documents())


def test_there_is_something_to_validate():
    kinds = sorted({d["kind"] for d in DOCUMENTS.values()})
    assert kinds == [
        "ConfigMap",
        "Deployment",
        "PersistentVolumeClaim",
        "PodDisruptionBudget",
        "Service",
        "StatefulSet",
    ]


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
@pytest.mark.parametrize("version", [KUBERNETES_VERSION, kubernetes_validate.utils.latest_version()])
def test_every_manifest_matches_the_kubernetes_schema(name: str, version: str):
    # strict: an unknown or misspelt field is an error, not silently dropped by the API server.
    kubernetes_validate.validate(DOCUMENTS[name], version, strict=True)


def test_the_validator_rejects_what_kubernetes_would():
    broken = yaml.safe_load(yaml.safe_dump(DOCUMENTS["api.yaml:Deployment/streetwatch-api"]))
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}  # misspelt
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def _pod(name: str) -> dict[str, Any]:
    return DOCUMENTS[name]["spec"]["template"]["spec"]


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


@pytest.mark.parametrize("kind", ["worker", "worker-gpu"])
def test_worker_ordinals_are_the_shards(kind: str):
    statefulset = DOCUMENTS[f"{kind}.yaml:StatefulSet/streetwatch-{kind}"]
    env = _env(_pod(f"{kind}.yaml:StatefulSet/streetwatch-{kind}")["containers"][0])
    replicas = statefulset["spec"]["replicas"]
    assert env["STREETWATCH_SHARD"] == f"auto/{replicas}"
    pods = [f"streetwatch-{kind}-{i}" for i in range(replicas)]
    assert [parse_shard(env["STREETWATCH_SHARD"], pod) for pod in pods] == [(i, replicas) for i in range(replicas)]
    assert statefulset["spec"]["serviceName"] in {
        d["metadata"]["name"] for d in DOCUMENTS.values() if d["kind"] == "Service"
    }


def test_gpu_workers_ask_for_a_gpu_and_use_it():
    container = _pod("worker-gpu.yaml:StatefulSet/streetwatch-worker-gpu")["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert _env(container)["STREETWATCH_DEVICE"] == "0"
    assert container["image"].startswith("streetwatch-gpu:")


def test_probes_use_the_health_endpoints_and_every_container_asks_for_resources():
    api = _pod("api.yaml:Deployment/streetwatch-api")["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/api/health/ready"
    assert api["livenessProbe"]["httpGet"]["path"] == "/api/health/live"
    for name, document in DOCUMENTS.items():
        if document["kind"] in ("Deployment", "StatefulSet"):
            for container in _pod(name)["containers"]:
                assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
                assert container["livenessProbe"] and container["image"].split(":")[1] != "latest"


def test_the_shipped_configuration_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    text = DOCUMENTS["config.yaml:ConfigMap/streetwatch-config"]["data"]["streetwatch.yaml"]
    (tmp_path / "streetwatch.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("CAMERA_PASSWORD", "s3cret")
    config = load_config(tmp_path / "streetwatch.yaml")
    assert [c.id for c in config.cameras] == ["gate-east-01", "market-west-02"]
    assert config.cameras[0].source.url.startswith("rtsp://streetwatch:s3cret@")
    mounted = {m["mountPath"] for m in _pod("api.yaml:Deployment/streetwatch-api")["containers"][0]["volumeMounts"]}
    assert "/etc/streetwatch" in mounted and config.media_dir == "/data/media"
