"""/api/classes: the seven problem classes and whether the configured models can see them.

Read from manifests and model metadata only: the API never loads a model or runs inference, so a
model whose labels only loading would reveal is listed with an `error` until it has a manifest.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.auth import Reader
from api.errors import PROTECTED
from zones.coverage import CoverageReport, coverage_for_config

router = APIRouter(prefix="/api", tags=["classes 问题类别"], responses=PROTECTED)


@router.get("/classes", response_model=CoverageReport)
def classes(request: Request, _reader: Reader) -> CoverageReport:
    """Per class: names, codes, department, rule kind, coverage (full / partial / none) and its models."""
    # An app built without a worker configuration reports the default model.
    return coverage_for_config(getattr(request.app.state, "detector_config", None), load=False)
