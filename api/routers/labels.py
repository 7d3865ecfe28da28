"""/api/cameras/{camera_id}/labels: what the centre says about a zone on a picture, the zone classifiers'
training data. Confirming or dismissing a case makes one by itself (api/services/workflow.py); here a
dispatcher or operator marks the camera's current view (or a case's picture) as showing a problem or clear.
`.../zones/{zone_id}/calibrate`: an operator's "this zone is clear now", learnt by the camera's worker from its
next frame and its last minutes (bus/calibration.py, worker/calibration.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import redis
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from redis import Redis

from api.auth import Labeller, Operator, Reader
from api.deps import BusDep, CamerasDep, CaseStoreDep, LabelsDep, RedisDep, SnapshotsDep, ZoneSyncDep
from api.errors import CONFLICT, NOT_FOUND, PROTECTED
from api.orm import LabelRow
from api.routers.zones import CameraId, ZoneId, camera_known
from api.schemas import UtcDatetime
from api.services.cases import CaseStore
from api.services.labels import LabelStore
from api.services.zone_sync import ZoneSync
from bus import BusConfig, SnapshotStore
from bus.calibration import CalibrateRequest, publish_calibration, wait_answer
from bus.health import read_camera_health
from bus.snapshots import clean_of
from zones import ProblemClass
from zones.readings import SCENE_RULES

if TYPE_CHECKING:
    from worker.config import CameraConfig

router = APIRouter(prefix="/api/cameras/{camera_id}", tags=["labels 标注"], responses={**PROTECTED, **NOT_FOUND})


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    problem: ProblemClass = Field(alias="class")
    positive: bool = Field(description="true: the zone shows the problem; false: the zone is clear of it.")
    case_id: int | None = Field(None, ge=1, le=2**62, description="Label this case's picture (its camera and "
                                "zone must match); without it, the camera's latest snapshot.")


class LabelOut(BaseModel):
    id: int
    camera_id: str
    zone_id: str
    problem: str = Field(serialization_alias="class")
    positive: bool
    image_url: str
    source: str = Field(description="case_confirmed, case_dismissed or operator.")
    case_id: int | None
    author: str
    at: UtcDatetime
    sent: bool = Field(description="On the label stream; false: Redis was away, the API sends it when it is back.")

    @classmethod
    def of(cls, row: LabelRow) -> LabelOut:
        return cls(id=row.id, camera_id=row.camera_id, zone_id=row.zone_id, problem=row.problem,
                   positive=row.positive, image_url=f"/media/{row.image}", source=row.source, case_id=row.case_id,
                   author=row.author, at=row.at, sent=row.sent)


class LabelPage(BaseModel):
    labels: list[LabelOut]
    counts: dict[str, dict[str, int]] = Field(description="Per `zone/class`: problem and clear labels so far.")


def _zone_known(cameras: Sequence[CameraConfig], sync: ZoneSync, camera_id: str, zone_id: str) -> list[str]:
    """The zone's watched classes; 404 for an unknown camera or zone."""
    camera_known(cameras, camera_id)
    for zone in sync.zone_set(camera_id).zones:
        if zone.id == zone_id:
            return [problem.value for problem in zone.classes]
    raise HTTPException(404, f"区域不存在 / camera {camera_id} has no zone {zone_id}")


class CalibrateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    minutes: float = Field(5.0, gt=0, le=60, description="How much of the camera's recent past counts as clear too.")


class CalibrateOut(BaseModel):
    camera_id: str
    zone_id: str
    frames: int = Field(description="Frames learnt as clear: the live one and the recent ones.")
    recent_frames: int
    frame_ts_s: float | None
    levels: dict[str, float | None] = Field(description="The zone's clear level per segmenter group now.")


CALIBRATE_WAIT_S = 30.0  # the worker waits up to 20 s for the camera's next frame (calibration.wait_s)


def _case_picture(cases: CaseStore, evidence: SnapshotStore, camera_id: str, zone_id: str, case_id: int) -> str:
    case = cases.get(case_id)
    if case is None:
        raise HTTPException(404, f"案件不存在 / no case {case_id}")
    if (case.camera_id, case.zone_id) != (camera_id, zone_id):
        raise HTTPException(409, f"案件 {case_id} 属于 {case.camera_id}/{case.zone_id} / case {case_id} is on "
                                 f"{case.camera_id}/{case.zone_id}, not {camera_id}/{zone_id}")
    if not case.evidence or evidence.resolve(clean_of(case.evidence)) is None:
        raise HTTPException(409, f"案件 {case_id} 没有原始画面 / case {case_id} has no clean picture to label")
    return clean_of(case.evidence)


def _snapshot_picture(client: Redis, bus: BusConfig, labels: LabelStore, camera_id: str) -> str:
    try:
        reports = {r["camera_id"]: r for r in read_camera_health(client, bus, float("inf"))}
    except redis.RedisError:
        raise HTTPException(503, "摄像头状态暂不可用 / camera health unavailable: Redis cannot be reached") from None
    snapshot = reports.get(camera_id, {}).get("snapshot")
    no_view = HTTPException(409, f"摄像头 {camera_id} 尚无画面 / no snapshot from camera {camera_id} yet")
    if not isinstance(snapshot, str):
        raise no_view
    try:
        return labels.snapshot_copy(snapshot)
    except FileNotFoundError:
        raise no_view from None


@router.post("/zones/{zone_id}/labels", response_model=LabelOut, status_code=201, responses=CONFLICT)
def add_label(camera_id: CameraId, zone_id: ZoneId, body: LabelIn, user: Labeller, cameras: CamerasDep,
              sync: ZoneSyncDep, cases: CaseStoreDep, evidence: SnapshotsDep, labels: LabelsDep, client: RedisDep,
              bus: BusDep) -> LabelOut:
    """标注 / mark the zone as showing the problem or clear of it, on the camera's current view or a case's
    picture; the camera's worker learns from it (zone classifier, clear level) within seconds."""
    _zone_known(cameras, sync, camera_id, zone_id)
    if body.case_id is not None:
        image = _case_picture(cases, evidence, camera_id, zone_id, body.case_id)
    else:
        image = _snapshot_picture(client, bus, labels, camera_id)
    row = labels.add(camera_id, zone_id, body.problem.value, body.positive, image, "operator", user.username,
                     body.case_id)
    return LabelOut.of(row)


@router.get("/labels", response_model=LabelPage)
def list_labels(
    camera_id: CameraId, _reader: Reader, cameras: CamerasDep, store: LabelsDep,
    zone_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> LabelPage:
    """标注列表 / the camera's labels, newest first, and how many of each kind each zone and class has."""
    camera_known(cameras, camera_id)
    return LabelPage(labels=[LabelOut.of(row) for row in store.list(camera_id, zone_id, limit)],
                     counts=store.counts(camera_id))


@router.post("/zones/{zone_id}/calibrate", response_model=CalibrateOut, responses={
    **CONFLICT, 504: {"description": "No worker running the camera answered."}})
def calibrate_zone(camera_id: CameraId, zone_id: ZoneId, user: Operator, cameras: CamerasDep, sync: ZoneSyncDep,
                   labels: LabelsDep, client: RedisDep, bus: BusDep, body: CalibrateIn | None = None) -> CalibrateOut:
    """校准：此区域现在无问题 / this zone is clear now: the camera's worker learns the zone's clear level from its
    next frame and its last minutes. Refused (409) while the zone has an open case of a scene class or a recent
    problem label, or when the worker finds the zone busy."""
    watched = _zone_known(cameras, sync, camera_id, zone_id)
    scene = [p for p in watched if ProblemClass(p) in SCENE_RULES]
    if not scene:
        raise HTTPException(409, f"区域 {zone_id} 未关注积水、垃圾、垃圾桶或摊点 / zone {zone_id} watches no class "
                                 "the segmenter measures (water, garbage, bins, vending)")
    blocker = labels.calibration_blocker(camera_id, zone_id, scene)
    if blocker is not None:
        raise HTTPException(409, blocker)
    request = CalibrateRequest(request_id=uuid.uuid4().hex, camera_id=camera_id, zone_id=zone_id,
                               minutes=(body or CalibrateIn()).minutes, author=user.username)
    try:
        publish_calibration(client, bus, request)
        answer = wait_answer(client, bus, request.request_id, CALIBRATE_WAIT_S)
    except redis.RedisError:
        raise HTTPException(503, "暂无法联系工作节点 / Redis cannot be reached") from None
    if answer is None:
        raise HTTPException(504, f"没有运行摄像头 {camera_id} 的工作节点应答 / no worker running camera {camera_id} "
                                 "answered")
    if not answer.ok:
        raise HTTPException(409, answer.reason or "工作节点拒绝 / the worker refused")
    return CalibrateOut(camera_id=camera_id, zone_id=zone_id, frames=answer.frames, recent_frames=answer.recent_frames,
                        frame_ts_s=answer.frame_ts_s, levels=answer.levels)
