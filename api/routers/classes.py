"""/api/classes: the seven problem classes and whether the configured models can see them.

Read from manifests and model metadata only: the API never loads a model or runs inference, so a
model whose labels only loading would reveal is listed with an `error` until it has a manifest.
"""

from __future__ import annotations

import redis
from fastapi import APIRouter

from api.auth import Reader
from api.deps import BusDep, DetectorConfigDep, RedisDep, SceneConfigDep
from api.errors import PROTECTED
from bus.heads import read_heads
from zones.coverage import CoverageReport, coverage_for_config
from zones.scene_config import scene_details

router = APIRouter(prefix="/api", tags=["classes 问题类别"], responses=PROTECTED)


@router.get("/classes", response_model=CoverageReport)
def classes(client: RedisDep, bus: BusDep, detector: DetectorConfigDep, scene_config: SceneConfigDep,
            _reader: Reader) -> CoverageReport:
    """Per class: names, codes, department, rule kind, coverage (full / partial / none), its models, the
    segmenter's groups and the zone classifiers the workers trained (with their labels and measured accuracy)."""
    try:
        heads = read_heads(client, bus)
    except redis.RedisError:
        heads = []  # the report stands without them; the workers' heads show again once Redis answers
    scene = scene_details(scene_config) if scene_config is not None else None
    # An app built without a worker configuration reports the default model.
    return coverage_for_config(detector, load=False, scene=scene, heads=heads)
