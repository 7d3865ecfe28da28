"""/api/cameras: every camera's state (online, stalled, offline and why), counters and latest picture."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import redis
from fastapi import APIRouter, HTTPException, Path
from redis import Redis

from api.auth import Reader
from api.deps import BusDep, CamerasDep, RedisDep
from api.errors import NOT_FOUND, PROTECTED
from api.schemas import media_url
from bus import BusConfig, read_camera_health
from streams.redact import redact

if TYPE_CHECKING:
    from worker.config import CameraConfig

router = APIRouter(prefix="/api/cameras", tags=["cameras 摄像头"], responses=PROTECTED)

STALE_AFTER_S = 30.0  # a worker reports every few seconds; silence this long means it is gone
CameraId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


def _reports(client: Redis, bus: BusConfig, cameras: list[CameraConfig]) -> list[dict[str, Any]]:
    """Health reports from the workers, beside every configured camera that has not reported."""
    try:
        reports = {r["camera_id"]: r for r in read_camera_health(client, bus, STALE_AFTER_S)}
    except redis.RedisError:
        raise HTTPException(503, "摄像头状态暂不可用 / camera health unavailable: Redis cannot be reached") from None
    for camera in cameras:
        report = reports.setdefault(camera.id, {
            "camera_id": camera.id, "state": "unknown", "last_error": "尚无工作节点报告 / no worker has reported it",
        })
        report["name"] = camera.name
        report["location"] = list(camera.location) if camera.location else None
    for report in reports.values():
        report["snapshot_url"] = media_url(report.get("snapshot"))
        for key in ("url", "last_error"):
            if isinstance(report.get(key), str):
                report[key] = redact(report[key])
    return sorted(reports.values(), key=lambda r: r["camera_id"])


@router.get("")
def list_cameras(client: RedisDep, bus: BusDep, cameras: CamerasDep, _reader: Reader) -> list[dict[str, Any]]:
    """每路摄像头的状态 / every camera's state: online, connecting, stalled, offline or unknown, with counters."""
    return _reports(client, bus, cameras)


@router.get("/{camera_id}", responses=NOT_FOUND)
def get_camera(camera_id: CameraId, client: RedisDep, bus: BusDep, cameras: CamerasDep,
               _reader: Reader) -> dict[str, Any]:
    for report in _reports(client, bus, cameras):
        if report["camera_id"] == camera_id:
            return report
    raise HTTPException(404, f"摄像头不存在 / camera {camera_id} is neither configured nor reporting")
