"""/api/cameras: which cameras are online, how much of each is analysed, and its latest picture."""

from __future__ import annotations

from typing import Any

import redis
from fastapi import APIRouter, HTTPException, Request

from api.schemas import media_url
from events import read_camera_health

router = APIRouter(prefix="/api/cameras", tags=["cameras 摄像头"])

STALE_AFTER_S = 30.0  # a worker reports every few seconds; silence this long means it is gone


def _reports(request: Request) -> list[dict[str, Any]]:
    state = request.app.state
    try:
        reports = read_camera_health(state.redis, state.bus, STALE_AFTER_S)
    except redis.RedisError as exc:
        raise HTTPException(503, f"摄像头状态不可用 camera health unavailable: Redis: {exc}") from None
    for report in reports:
        report["snapshot_url"] = media_url(report.get("snapshot"))
    return reports


@router.get("")
def list_cameras(request: Request) -> list[dict[str, Any]]:
    """每路摄像头的状态 / every camera's state: online, connecting, stalled or offline, with counters."""
    return _reports(request)


@router.get("/{camera_id}")
def get_camera(request: Request, camera_id: str) -> dict[str, Any]:
    for report in _reports(request):
        if report["camera_id"] == camera_id:
            return report
    raise HTTPException(404, f"摄像头不存在 camera {camera_id} has not reported")
