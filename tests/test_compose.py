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
    worker = compose["services"]["worker"]
    assert "container_name" not in worker
    assert not worker.get("ports")
