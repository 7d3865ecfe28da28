"""/api/cameras/{camera_id}/whatif: try draft zones on what the camera saw (its recording) or on an uploaded
clip, beside the saved zones, before saving them. The run happens on the camera's worker, never in a request."""

from __future__ import annotations

import json
import shutil
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Path, UploadFile
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.convertors import Convertor, register_url_convertor

from api.auth import Operator, Reader
from api.deps import CamerasDep, SnapshotsDep, WhatIfDep
from api.errors import NOT_FOUND, PROTECTED, unprocessable
from api.orm import WhatIfRow
from api.routers.zones import CameraId, camera_known
from api.schemas import UtcDatetime
from api.services.whatif import looks_like_video, timeline
from zones import ZoneConfig

router = APIRouter(prefix="/api/cameras/{camera_id}/whatif", tags=["zones 区域"],
                   responses={**PROTECTED, **NOT_FOUND})
_ZONES = TypeAdapter(list[ZoneConfig])


class _JobIdConvertor(Convertor[str]):
    """Job ids are 32 hex digits: `/whatif/upload` must not also match the job route, or a 405 there would
    advertise GET (the Allow header lists every route whose path matches)."""

    regex = "[0-9a-f]{32}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("whatif_job", _JobIdConvertor())


class WhatIfIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zones: list[ZoneConfig] = Field(max_length=200, description="The draft zones: the camera's whole set as edited.")
    minutes: float = Field(10.0, gt=0, le=24 * 60, description="How much of the camera's recording to run.")


class WhatIfOut(BaseModel):
    job_id: str
    camera_id: str
    status: str = Field(description="queued, done or failed")
    source: str
    created_by: str
    created_at: UtcDatetime
    finished_at: UtcDatetime | None
    error: str | None
    frames: int | None = None
    seconds: float | None = Field(None, description="Wall time of the run on the worker.")
    timeline: list[dict[str, Any]] = Field(default_factory=list,
                                           description="Events of both runs, oldest first; `run` is saved or draft.")

    @classmethod
    def of(cls, row: WhatIfRow) -> WhatIfOut:
        outcome = row.result or {}
        return cls(job_id=row.id, camera_id=row.camera_id, status=row.status, source=row.source,
                   created_by=row.created_by, created_at=row.created_at, finished_at=row.finished_at, error=row.error,
                   frames=outcome.get("frames"), seconds=outcome.get("seconds"),
                   timeline=timeline(outcome) if outcome else [])


@router.post("", response_model=WhatIfOut, status_code=202)
def whatif_on_recording(camera_id: CameraId, body: WhatIfIn, user: Operator, cameras: CamerasDep,
                        jobs: WhatIfDep) -> WhatIfOut:
    """试运行 / run the draft zones on the camera's recent recording; poll the job for the timeline."""
    camera_known(cameras, camera_id)
    return WhatIfOut.of(jobs.submit(camera_id, body.zones, body.minutes, None, user.username))


@router.post("/upload", response_model=WhatIfOut, status_code=202,
             responses={413: {"description": "The clip is too large"}})
def whatif_on_clip(camera_id: CameraId, user: Operator, cameras: CamerasDep, jobs: WhatIfDep, evidence: SnapshotsDep,
                   zones: Annotated[str, Form(description="The draft zones, a JSON list")],
                   clip: Annotated[UploadFile, File(description="A video clip (MP4, MKV/WebM, AVI, FLV, MPEG-TS)")]
                   ) -> WhatIfOut:
    """试运行（上传视频）/ run the draft zones on an uploaded clip, checked by its content."""
    camera_known(cameras, camera_id)
    try:
        draft = _ZONES.validate_python(json.loads(zones))
    except (ValueError, ValidationError) as exc:
        raise unprocessable(("body", "zones"), f"not a JSON list of valid zones: {str(exc)[:400]}") from None
    head = clip.file.read(512)
    if not looks_like_video(head):
        raise unprocessable(("body", "clip"), "不是视频文件 / not a video file (checked by its content)")
    clip.file.seek(0)
    stored = f"uploads/{uuid.uuid4().hex}.video"  # in the media folder the camera's worker reads too
    target = evidence.root / stored
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        shutil.copyfileobj(clip.file, out, length=1024 * 1024)
    return WhatIfOut.of(jobs.submit(camera_id, draft, 10.0, stored, user.username))


@router.get("/{job_id:whatif_job}", response_model=WhatIfOut)
def whatif_job(camera_id: CameraId, job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
               _reader: Reader, jobs: WhatIfDep) -> WhatIfOut:
    """试运行结果 / the job, and when done the timeline of both runs."""
    row = jobs.get(job_id)
    if row is None or row.camera_id != camera_id:
        raise HTTPException(404, f"试运行不存在 / no what-if {job_id} for {camera_id}")
    return WhatIfOut.of(row)
