"""What `bench.pipeline` runs on: the demo's settings, cameras made from the shared clips, a real bus.

Every bench camera watches what a street office's camera watches: the demo camera's two no-parking
zones and a school zone over the lower part of the picture with all seven classes, so detection,
tracking, every rule and zone-level evidence all do their work. Events go to a stream of their own on
the real Redis through the worker's spooling publisher, and the stream is deleted afterwards.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from bus import BusConfig, DiskSpool, EventPublisher, SnapshotStore, SpoolingPublisher, redis_client
from detector import Detector
from models.loading import open_yolo
from settings import DEMO_CONFIG, AppConfig, load_config
from streams import FileSource, SourceConfig
from worker import CameraConfig
from zones import ZoneConfig

_SCHOOL = ZoneConfig.model_validate({
    "id": "school-front", "name": "学校门前 / school front", "kind": "school",
    "polygon": [[0.0, 0.55], [1.0, 0.55], [1.0, 1.0], [0.0, 1.0]],
})


def bench_settings(detector: Detector | None, redis_url: str | None = None) -> AppConfig:
    """The demo configuration without its metrics port (many runs in one process), with `detector`'s settings."""
    settings = load_config(DEMO_CONFIG)
    update: dict[str, object] = {"scheduler": settings.scheduler.model_copy(update={"metrics_port": 0})}
    if redis_url is not None:
        update["bus"] = settings.bus.model_copy(update={"redis_url": redis_url})
    if detector is not None:
        update["detector"] = detector.config
    return settings.model_copy(update=update)


def bench_cameras(clips: list[Path], count: int, decode: Literal["keyframes", "all"], analysis_fps: float,
                  live: bool) -> list[CameraConfig]:
    """`count` cameras over the clips in turn; `live`: looped and paced at their own rate."""
    if not clips:
        raise ValueError("no clip to make cameras of")
    zones = [*load_config(DEMO_CONFIG).cameras[0].zones, _SCHOOL]
    return [
        CameraConfig(
            id=f"bench-{i:03d}", name=f"bench {i}", zones=zones, location=(116.399, 39.931),
            source=SourceConfig(url=str(clips[i % len(clips)]), analysis_fps=analysis_fps, decode=decode,
                                loop=live, realtime=live),
        )
        for i in range(count)
    ]


@contextmanager
def bench_sink(settings: AppConfig, scratch: Path) -> Iterator[tuple[SpoolingPublisher, SnapshotStore]]:
    """The worker's real publisher on a stream of its own, and an evidence store in `scratch`."""
    bus = BusConfig(redis_url=settings.bus.redis_url, stream=f"streetwatch:bench:{uuid.uuid4().hex[:12]}")
    client = redis_client(bus.redis_url)
    try:
        client.ping()
    except Exception as exc:  # redis raises its own ConnectionError family
        raise RuntimeError(f"Redis at {bus.redis_url} does not answer ({exc}); the benchmark publishes there") from None
    sink = SpoolingPublisher(EventPublisher(bus), DiskSpool(scratch / "spool" / "events.db"))
    try:
        yield sink, SnapshotStore(scratch / "media")
    finally:
        sink.close()
        client.delete(bus.stream)


def raw_predict_fps(detector: Detector, clips: list[Path], decode: Literal["keyframes", "all"],
                    analysis_fps: float) -> float:
    """Ultralytics `YOLO.predict` alone, one frame per call, on the frames the pipeline analysed.

    The frames are decoded first, outside the timing; the model is the detector's first, loaded the
    way the detector loads it, with the same size, thresholds and device.
    """
    images = [frame.image for clip in clips for frame in FileSource(
        f"raw-{clip.stem}", SourceConfig(url=str(clip), analysis_fps=analysis_fps, decode=decode))]
    info = detector.models[0]
    model = open_yolo(info.path, detector.config.precision)
    kwargs: dict[str, object] = {"conf": detector.config.confidence, "iou": detector.config.iou,
                                 "device": detector.config.device, "verbose": False}
    if info.imgsz:
        kwargs["imgsz"] = info.imgsz
    for image in images[:5]:  # the first calls set the runtime up
        model.predict(image, **kwargs)
    started = time.perf_counter()
    for image in images:
        model.predict(image, **kwargs)
    return len(images) / (time.perf_counter() - started)
