"""docker-compose.yml is valid (as docker-compose resolves it) and wires the services as documented."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import require_tool

ROOT = Path(__file__).resolve().parents[1]


def _sources_and_targets(service: dict[str, Any]) -> set[tuple[str, str]]:
    """Volumes as (source, target), whether the tool prints them short ("a:b:rw") or long (mappings)."""
    pairs = set()
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            pairs.add((str(volume.get("source")), str(volume.get("target"))))
        else:
            source, target = str(volume).split(":")[:2]
            pairs.add((source, target))
    return pairs


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    tool = require_tool("docker-compose", "it validates docker-compose.yml")
    result = subprocess.run(
        [tool, "-f", "docker-compose.yml", "config"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_services_are_all_there(compose: dict[str, Any]) -> None:
    assert {"redis", "postgres", "api", "worker"} <= set(compose["services"])


def test_api_and_worker_share_image_and_media(compose: dict[str, Any]) -> None:
    api, worker = compose["services"]["api"], compose["services"]["worker"]
    assert api["build"] == worker["build"]
    assert api["image"] == worker["image"]
    for service in (api, worker):
        assert ("media", "/data/media") in _sources_and_targets(service)
        assert any(target == "/assets" for _, target in _sources_and_targets(service))


def test_worker_can_scale(compose: dict[str, Any]) -> None:
    """`--scale worker=N` runs N copies of one service: no fixed name or host port, and each copy claims a free
    shard of the N that STREETWATCH_WORKERS says rather than a fixed one (two copies must not watch the same
    cameras)."""
    import os

    worker = compose["services"]["worker"]
    assert "container_name" not in worker and "hostname" not in worker
    assert not worker.get("ports")
    assert worker["environment"]["STREETWATCH_SHARD"] == "claim/1"
    tool = require_tool("docker-compose", "it validates docker-compose.yml")
    scaled = subprocess.run([tool, "-f", "docker-compose.yml", "config"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env={**os.environ, "STREETWATCH_WORKERS": "3"})
    assert scaled.returncode == 0, scaled.stderr
    assert yaml.safe_load(scaled.stdout)["services"]["worker"]["environment"]["STREETWATCH_SHARD"] == "claim/3"


@pytest.fixture(scope="module")
def compose_gpu() -> dict[str, Any]:
    tool = require_tool("docker-compose", "it validates docker-compose.yml")
    result = subprocess.run(
        [tool, "--profile", "gpu", "-f", "docker-compose.yml", "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_state_survives_a_restart(compose: dict[str, Any]) -> None:
    redis, postgres = compose["services"]["redis"], compose["services"]["postgres"]
    assert "--appendonly" in redis["command"] and redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert ("redisdata", "/data") in _sources_and_targets(redis)
    assert ("pgdata", "/var/lib/postgresql/data") in _sources_and_targets(postgres)
    assert {"media", "pgdata", "redisdata"} <= set(compose["volumes"])


def test_health_checks_restarts_and_pinned_images(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "/api/health/ready" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["worker"]["depends_on"]["api"]["condition"] == "service_healthy"  # migrations done
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        assert not service.get("healthcheck", {}).get("disable"), name
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: image {image} is not pinned"


def test_the_gpu_worker_is_behind_a_profile_and_reserves_the_gpu(
    compose: dict[str, Any], compose_gpu: dict[str, Any]
) -> None:
    # `up` alone starts CPU workers only (`config` lists profiled services too, with their profile)
    assert not compose["services"]["worker"].get("profiles")
    gpu = compose_gpu["services"]["worker-gpu"]
    assert gpu["profiles"] == ["gpu"] and gpu["build"]["args"]["VARIANT"] == "gpu"
    [device] = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert gpu["environment"]["STREETWATCH_DEVICE"] == "0"
    assert (
        gpu["environment"]["STREETWATCH_SHARD"] == compose_gpu["services"]["worker"]["environment"]["STREETWATCH_SHARD"]
    )  # one pool of shard claims


def test_triton_is_behind_a_profile_and_serves_the_exported_repository() -> None:
    tool = require_tool("docker-compose", "it validates docker-compose.yml")
    result = subprocess.run([tool, "--profile", "triton", "-f", "docker-compose.yml", "config"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    triton = yaml.safe_load(result.stdout)["services"]["triton"]
    assert triton["profiles"] == ["triton"] and not triton.get("ports")  # the API owns host port 8000
    assert any(target == "/models" for _, target in _sources_and_targets(triton))
    assert "--model-repository=/models" in triton["command"]
    assert "/v2/health/ready" in " ".join(triton["healthcheck"]["test"])
