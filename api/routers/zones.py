"""/api/cameras/{camera_id}/zones: operators draw and tune a camera's zones; every version is kept; a save
reaches the camera's worker through Redis at once. Viewers may read."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field

from api.auth import Operator, Reader
from api.deps import CalibrationsDep, CamerasDep, ZoneStoreDep, ZoneSyncDep
from api.errors import CONFLICT, NOT_FOUND, PRECONDITION, PROTECTED, unprocessable
from api.schemas import UtcDatetime
from api.services.zone_store import StoredZone, VersionConflict, ZoneExists, ZoneNotFound, diff
from bus.zonesync import ZoneSet
from zones import ZoneConfig
from zones.homography import PointPair

if TYPE_CHECKING:
    from worker.config import CameraConfig

router = APIRouter(prefix="/api/cameras/{camera_id}", tags=["zones 区域"], responses={**PROTECTED, **NOT_FOUND})

CameraId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
ZoneId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Version = Annotated[int, Path(ge=1, le=1_000_000)]


class ZoneOut(BaseModel):
    zone: dict[str, Any]
    version: int
    updated_by: str
    updated_at: UtcDatetime

    @classmethod
    def of(cls, stored: StoredZone) -> ZoneOut:
        return cls(zone=stored.data, version=stored.version, updated_by=stored.updated_by,
                   updated_at=stored.updated_at)


class VersionOut(BaseModel):
    version: int
    action: str
    author: str
    at: UtcDatetime
    note: str | None
    zone: dict[str, Any] | None


class DeletedZoneOut(BaseModel):
    zone_id: str
    version: int = Field(description="The deletion's version; the one before it holds the zone as it was.")
    deleted_by: str
    deleted_at: UtcDatetime


class CalibrationIn(BaseModel):
    pairs: list[PointPair]


class CalibrationOut(CalibrationIn):
    version: int
    updated_by: str
    updated_at: UtcDatetime


IfMatch = Annotated[str | None, Header(description='The version edited, as the ETag gave it (`"3"`): a save on top '
                                                 "of someone else's is refused with 412 instead of undoing it.")]


@contextmanager
def _refusals(camera_id: str, zone_id: str) -> Iterator[None]:
    """The store's refusals of a change to one zone, as the answers the API documents (404, 412)."""
    try:
        yield
    except ZoneNotFound:
        raise HTTPException(404, f"区域不存在 / no zone {zone_id} on {camera_id}") from None
    except VersionConflict as exc:
        raise HTTPException(412, str(exc)) from None


def expected_version(if_match: str | None) -> int | None:
    """`"3"`, `W/"3"` or `3` → 3; `*` or none → no check."""
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 9:
        raise HTTPException(400, f"If-Match 应为区域版本号 / If-Match must be a zone version such as \"3\", not "
                                 f"{if_match[:40]!r}")
    return int(text)


def camera_known(cameras: Sequence[CameraConfig], camera_id: str) -> None:
    if camera_id not in {c.id for c in cameras}:
        raise HTTPException(404, f"摄像头不存在 / camera {camera_id} is not configured")


@router.get("/zones", response_model=list[ZoneOut])
def list_zones(store: ZoneStoreDep, cameras: CamerasDep, camera_id: CameraId, _reader: Reader) -> list[ZoneOut]:
    """区域列表 / the camera's zones as saved."""
    camera_known(cameras, camera_id)
    return [ZoneOut.of(z) for z in store.list(camera_id)]


@router.get("/zone-set", response_model=ZoneSet)
def effective_zones(sync: ZoneSyncDep, cameras: CamerasDep, camera_id: CameraId, _reader: Reader) -> ZoneSet:
    """生效区域 / what the worker uses: the camera's zones, map zones it sees, and its homography."""
    camera_known(cameras, camera_id)
    return sync.zone_set(camera_id)


@router.post("/zones", response_model=ZoneOut, status_code=201, responses=CONFLICT)
def create_zone(camera_id: CameraId, zone: ZoneConfig, user: Operator, store: ZoneStoreDep, sync: ZoneSyncDep,
                cameras: CamerasDep) -> ZoneOut:
    """新建区域 / add a zone; every field is checked as in the configuration file, nothing is saved on error."""
    camera_known(cameras, camera_id)
    try:
        stored = store.create(camera_id, zone.id, zone, user.username)
    except ZoneExists as exc:
        raise HTTPException(409, str(exc)) from None
    sync.publish([camera_id])
    return ZoneOut.of(stored)


@router.get("/zones/{zone_id}", response_model=ZoneOut)
def get_zone(response: Response, camera_id: CameraId, zone_id: ZoneId, _reader: Reader, store: ZoneStoreDep,
             cameras: CamerasDep) -> ZoneOut:
    """一个区域 / the zone as saved; its ETag is the version, for If-Match on a later save."""
    camera_known(cameras, camera_id)
    stored = store.get(camera_id, zone_id)
    if stored is None:
        raise HTTPException(404, f"区域不存在 / no zone {zone_id} on {camera_id}")
    response.headers["ETag"] = f'"{stored.version}"'
    return ZoneOut.of(stored)


@router.put("/zones/{zone_id}", response_model=ZoneOut, responses=PRECONDITION)
def update_zone(response: Response, camera_id: CameraId, zone_id: ZoneId, zone: ZoneConfig, user: Operator,
                store: ZoneStoreDep, sync: ZoneSyncDep, cameras: CamerasDep, if_match: IfMatch = None) -> ZoneOut:
    """修改区域 / a new version of the zone; its worker uses it within seconds, unchanged zones keep their state."""
    camera_known(cameras, camera_id)
    if zone.id != zone_id:
        raise unprocessable(("body", "id"), f"the zone's id {zone.id!r} is not the one in the path ({zone_id!r})")
    with _refusals(camera_id, zone_id):
        stored = store.update(camera_id, zone_id, zone, user.username,
                                                     expected_version=expected_version(if_match))
    sync.publish([camera_id])
    response.headers["ETag"] = f'"{stored.version}"'
    return ZoneOut.of(stored)


@router.delete("/zones/{zone_id}", status_code=204, responses=PRECONDITION)
def delete_zone(camera_id: CameraId, zone_id: ZoneId, user: Operator, store: ZoneStoreDep, sync: ZoneSyncDep,
                cameras: CamerasDep, if_match: IfMatch = None) -> Response:
    """删除区域 / its open episodes end with an `end` event; the zone stays in the history."""
    camera_known(cameras, camera_id)
    with _refusals(camera_id, zone_id):
        store.delete(camera_id, zone_id, user.username,
                                            expected_version=expected_version(if_match))
    sync.publish([camera_id])
    return Response(status_code=204)


@router.get("/deleted-zones", response_model=list[DeletedZoneOut])
def deleted_zones(camera_id: CameraId, _reader: Reader, store: ZoneStoreDep,
                  cameras: CamerasDep) -> list[DeletedZoneOut]:
    """已删除区域 / zones deleted from this camera, with who and when: restore one from its versions."""
    camera_known(cameras, camera_id)
    return [DeletedZoneOut(zone_id=r.zone_id, version=r.version, deleted_by=r.author, deleted_at=r.at)
            for r in store.deleted(camera_id)]


@router.get("/zones/{zone_id}/versions", response_model=list[VersionOut])
def versions(camera_id: CameraId, zone_id: ZoneId, _reader: Reader, store: ZoneStoreDep,
             cameras: CamerasDep) -> list[VersionOut]:
    """历史版本 / every version: who, when, what."""
    camera_known(cameras, camera_id)
    rows = store.versions(camera_id, zone_id)
    if not rows:
        raise HTTPException(404, f"区域不存在 / no zone {zone_id} on {camera_id}")
    return [VersionOut(version=r.version, action=r.action, author=r.author, at=r.at, note=r.note, zone=r.data)
            for r in rows]


@router.get("/zones/{zone_id}/diff")
def compare(camera_id: CameraId, zone_id: ZoneId, _reader: Reader, store: ZoneStoreDep, cameras: CamerasDep,
            older: Annotated[int, Query(alias="from", ge=1, le=1_000_000)],
            newer: Annotated[int, Query(alias="to", ge=1, le=1_000_000)]) -> dict[str, Any]:
    """版本对比 / what changed between two versions, field by field."""
    camera_known(cameras, camera_id)
    a, b = store.version(camera_id, zone_id, older), store.version(camera_id, zone_id, newer)
    if a is None or b is None:
        raise HTTPException(404, f"版本不存在 / no such version of {zone_id}")
    return {"zone_id": zone_id, "from": older, "to": newer, "changes": diff(a.data, b.data)}


@router.post("/zones/{zone_id}/versions/{version}/restore", response_model=ZoneOut)
def restore(camera_id: CameraId, zone_id: ZoneId, version: Version, user: Operator, store: ZoneStoreDep,
            sync: ZoneSyncDep, cameras: CamerasDep) -> ZoneOut:
    """恢复版本 / that version again, as a new version."""
    camera_known(cameras, camera_id)
    try:
        stored = store.restore(camera_id, zone_id, version, user.username)
    except ZoneNotFound:
        raise HTTPException(404, f"版本不存在 / no version {version} of {zone_id} with a zone in it") from None
    sync.publish([camera_id])
    return ZoneOut.of(stored)


@router.get("/calibration", response_model=CalibrationOut)
def get_calibration(camera_id: CameraId, _reader: Reader, calibrations: CalibrationsDep,
                    cameras: CamerasDep) -> CalibrationOut:
    """标定 / the image-to-map point pairs behind the camera's homography."""
    camera_known(cameras, camera_id)
    row = calibrations.get(camera_id)
    if row is None:
        raise HTTPException(404, f"未标定 / camera {camera_id} has no calibration yet")
    return CalibrationOut(pairs=row.pairs, version=row.version, updated_by=row.updated_by, updated_at=row.updated_at)


@router.put("/calibration", response_model=CalibrationOut)
def set_calibration(camera_id: CameraId, body: CalibrationIn, user: Operator, sync: ZoneSyncDep,
                    calibrations: CalibrationsDep, cameras: CamerasDep) -> CalibrationOut:
    """设置标定 / at least four pairs; map zones then land on this camera and its events get positions."""
    camera_known(cameras, camera_id)
    try:
        row = calibrations.set(camera_id, body.pairs, user.username)
    except ValueError as exc:
        raise unprocessable(("body", "pairs"), str(exc)) from None
    sync.publish([camera_id])
    return CalibrationOut(pairs=row.pairs, version=row.version, updated_by=row.updated_by, updated_at=row.updated_at)
