"""What-if: the events draft zones would raise beside those the saved zones raise, on the same frames.

The engine is the worker's own (CameraPipeline, the same tracker and rules as `streetwatch replay`):
on a camera's recording it replays the recorded detections (no model needed, so it is quick), on an
uploaded clip it decodes and detects once and feeds both pipelines the same detections. Both runs
see exactly the same input, so every difference in their events comes from the zones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from detector import Detections, Detector
from streams import Frame, open_source
from worker.config import CameraConfig, WorkerConfig
from worker.pipeline import CameraPipeline
from worker.recorder import RecordedFrame
from zones import Event, ZoneConfig

_PIXEL = np.zeros((1, 1, 3), dtype=np.uint8)


class WhatIfOutcome(BaseModel):
    frames: int
    first_ts_s: float | None
    last_ts_s: float | None
    saved: list[dict[str, Any]]
    draft: list[dict[str, Any]]


def _summary(event: Event) -> dict[str, Any]:
    return {"zone_id": event.zone_id, "class": event.problem.value, "state": event.state.value,
            "start_s": event.start_s, "ts_s": event.ts_s, "end_s": event.end_s, "track_id": event.track_id,
            "label": event.label, "confidence": event.confidence, "bbox": list(event.bbox)}


def _frame(camera_id: str, seq: int, recorded: RecordedFrame) -> Frame:
    """A frame of the right size with no pixels (the rules and ByteTrack read only sizes and boxes)."""
    return Frame(camera_id, recorded.ts_s, seq, np.broadcast_to(_PIXEL, (recorded.height, recorded.width, 3)))


def compare(config: WorkerConfig, camera: CameraConfig, saved: Sequence[ZoneConfig], draft: Sequence[ZoneConfig],
            labels: frozenset[str], frames: Iterable[tuple[Frame, Detections]]) -> WhatIfOutcome:
    """Both zone sets over the same frames and detections."""
    runs = {name: CameraPipeline(camera.model_copy(update={"zones": list(zones)}), config.rules, config.tracker,
                                 labels) for name, zones in (("saved", saved), ("draft", draft))}
    events: dict[str, list[Event]] = {name: [] for name in runs}
    count, first, last = 0, None, None
    for frame, detections in frames:
        count += 1
        first = frame.ts_s if first is None else first
        last = frame.ts_s
        for name, pipeline in runs.items():
            events[name] += pipeline.process(frame, detections)
    if last is not None:
        for name, pipeline in runs.items():
            events[name] += pipeline.close(last)
    return WhatIfOutcome(frames=count, first_ts_s=first, last_ts_s=last,
                         saved=[_summary(e) for e in events["saved"]], draft=[_summary(e) for e in events["draft"]])


def on_recording(config: WorkerConfig, camera: CameraConfig, saved: Sequence[ZoneConfig],
                 draft: Sequence[ZoneConfig], labels: frozenset[str],
                 recording: Iterable[RecordedFrame]) -> WhatIfOutcome:
    frames = ((_frame(camera.id, seq, r), r.detections) for seq, r in enumerate(recording))
    return compare(config, camera, saved, draft, labels, frames)


def on_clip(config: WorkerConfig, camera: CameraConfig, saved: Sequence[ZoneConfig], draft: Sequence[ZoneConfig],
            clip: str, detector: Detector | None = None, batch: int = 8) -> WhatIfOutcome:
    """An uploaded clip, decoded with the camera's own settings (played once, as fast as possible)."""
    detector = detector or Detector(config.detector)
    settings = camera.source.model_dump(exclude={"url", "analysis_url", "loop", "realtime"})
    source = open_source(camera.id, camera.source.model_validate({**settings, "url": clip}))

    def detected() -> Iterable[tuple[Frame, Detections]]:
        pending: list[Frame] = []
        for frame in source:
            pending.append(frame)
            if len(pending) == batch:
                yield from zip(pending, detector.detect([f.image for f in pending]), strict=True)
                pending = []
        if pending:
            yield from zip(pending, detector.detect([f.image for f in pending]), strict=True)

    return compare(config, camera, saved, draft, frozenset(detector.labels), detected())
