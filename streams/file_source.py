"""A clip on disk as a camera: for replays, tests and the demo."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import av
import av.error

from streams.config import SourceConfig
from streams.decoder import RateSampler, decode, open_container
from streams.frame import Frame
from streams.health import CameraState, SourceHealth


class SourceError(RuntimeError):
    """A source could not be opened or read; the message says which and why."""


class FileSource:
    """Frames of one clip, sampled at `analysis_fps` on the clip's own timeline.

    Timestamps come from the PTS, shifted so the clip starts at 0. With `loop` the timeline goes
    on across restarts (one clip plays as an endless camera); with `realtime` frames are released
    no faster than the clip's own speed.
    """

    def __init__(self, camera_id: str, config: SourceConfig) -> None:
        self.camera_id = camera_id
        self.config = config
        self.path = Path(config.analysed_url)
        self.health = SourceHealth(camera_id, str(self.path))

    @property
    def frames_decoded(self) -> int:
        return self.health.frames_decoded

    @property
    def frames_analysed(self) -> int:
        return self.health.frames_analysed

    def __iter__(self) -> Iterator[Frame]:
        sampler = RateSampler(self.config.analysis_fps)
        period = sampler.period or 1 / 25
        offset, seq = 0.0, 0
        wall_start = time.monotonic()
        while True:
            clip_end = offset
            for clip_ts, image in self._decode_once():
                ts = offset + clip_ts
                clip_end = max(clip_end, ts)
                if not sampler.due(ts):
                    continue
                if self.config.realtime:
                    delay = wall_start + ts - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                frame = Frame(self.camera_id, round(ts, 6), seq, image.to_ndarray(format="bgr24"))
                self.health.frames_analysed += 1
                self.health.last_frame_at = time.time()
                self.health.width, self.health.height = frame.width, frame.height
                yield frame
                seq += 1
            if not self.config.loop or seq == 0:
                return
            offset = clip_end + period

    def _decode_once(self) -> Iterator[tuple[float, av.VideoFrame]]:
        try:
            container = open_container(str(self.path), self.config)
        except (av.error.FFmpegError, OSError) as exc:
            self.health.failed(CameraState.OFFLINE, str(exc))
            raise SourceError(f"camera {self.camera_id}: cannot open {self.path}: {exc}") from exc
        self.health.state = CameraState.ONLINE
        with container:
            try:
                yield from decode(container, self.config.decode == "keyframes", self.health)
            except av.error.FFmpegError as exc:
                self.health.failed(CameraState.OFFLINE, str(exc))
                raise SourceError(f"camera {self.camera_id}: cannot read {self.path}: {exc}") from exc
