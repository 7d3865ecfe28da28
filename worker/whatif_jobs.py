"""What-if jobs beside the cameras: a process of their own (its own detector for an uploaded clip), so a
what-if never stalls live inference, one at a time, answered on the results stream."""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bus.control import WhatIfRequest, WhatIfResult
from worker.config import CameraConfig, WorkerConfig
from worker.recorder import recorded_frames
from worker.whatif import on_clip, on_recording
from zones import ZoneConfig

log = logging.getLogger(__name__)

ResultSink = Callable[[WhatIfResult], None]


def run_job(config_json: str, camera_json: str, saved: list[dict[str, Any]], request_json: str,
            recordings: str, media_dir: str, labels: list[str]) -> dict[str, Any]:
    """In the job process: everything arrives as JSON, so nothing of the parent's state is needed."""
    config = WorkerConfig.model_validate_json(config_json)
    camera = CameraConfig.model_validate_json(camera_json)
    request = WhatIfRequest.model_validate_json(request_json)
    saved_zones = [ZoneConfig.model_validate(z) for z in saved]
    draft = [ZoneConfig.model_validate(z) for z in request.draft]
    if request.clip is not None:
        clip = (Path(media_dir) / request.clip).resolve()
        if not clip.is_relative_to(Path(media_dir).resolve()) or not clip.is_file():
            raise ValueError("the uploaded clip is not in the media folder")
        return on_clip(config, camera, saved_zones, draft, str(clip)).model_dump()
    frames = list(recorded_frames(Path(recordings), camera.id, request.minutes))
    if not frames:
        raise ValueError("这路摄像头还没有录像 / this camera has no recording yet")
    return on_recording(config, camera, saved_zones, draft, frozenset(labels), frames).model_dump()


class WhatIfRunner:
    def __init__(self, config: WorkerConfig, recordings: Path, media_dir: Path, labels: frozenset[str],
                 sink: ResultSink) -> None:
        self.config = config
        self.recordings = recordings
        self.media_dir = media_dir
        self.labels = labels
        self.sink = sink
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, request: WhatIfRequest, camera: CameraConfig, saved: list[ZoneConfig]) -> None:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        started = time.monotonic()
        worker_fields = {name: getattr(self.config, name) for name in WorkerConfig.model_fields if name != "cameras"}
        config_json = WorkerConfig(**worker_fields).model_dump_json()  # an AppConfig carries more: leave it
        future = self._pool.submit(run_job, config_json, camera.model_dump_json(),
                                   [z.model_dump(mode="json") for z in saved], request.model_dump_json(),
                                   str(self.recordings), str(self.media_dir), sorted(self.labels))
        future.add_done_callback(lambda done: self._answer(request, done, time.monotonic() - started))
        log.info("camera %s: what-if %s started (%s)", camera.id, request.job_id,
                 "uploaded clip" if request.clip else f"last {request.minutes:g} min of recording")

    def _answer(self, request: WhatIfRequest, done: Future[dict[str, Any]], seconds: float) -> None:
        try:
            result = WhatIfResult(job_id=request.job_id, camera_id=request.camera_id, ok=True,
                                  outcome=done.result(), seconds=round(seconds, 3))
        except Exception as exc:  # a bad clip, no recording: the operator reads why
            result = WhatIfResult(job_id=request.job_id, camera_id=request.camera_id, ok=False,
                                  error=f"{type(exc).__name__}: {str(exc)[:400]}", seconds=round(seconds, 3))
        try:
            self.sink(result)
        except Exception:
            log.exception("what-if %s: result not sent", request.job_id)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
