"""Decode a video file into analysis frames at a fixed rate of video time."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.error

from streams.config import SourceConfig, is_network_url
from streams.frame import Frame

log = logging.getLogger(__name__)


class SourceError(RuntimeError):
    """A source could not be opened or read; the message says which and why."""


class FileSource:
    """Frames of one clip, sampled at `analysis_fps` on the clip's own timeline.

    Timestamps come from the PTS, shifted so the clip starts at 0. With `loop`
    the timeline goes on across restarts (one clip plays as an endless camera);
    with `realtime` frames are released no faster than the clip's own speed.
    """

    def __init__(self, camera_id: str, config: SourceConfig) -> None:
        if is_network_url(config.url):
            raise SourceError(f"camera {camera_id}: {config.url} is a network stream, not a file")
        self.camera_id = camera_id
        self.config = config
        self.path = Path(config.url)
        self.frames_decoded = 0
        self.frames_analysed = 0
        self.corrupt_packets = 0

    def __iter__(self) -> Iterator[Frame]:
        period = 1.0 / self.config.analysis_fps
        next_due = 0.0
        offset = 0.0
        seq = 0
        wall_start = time.monotonic()
        while True:
            clip_end = offset
            for clip_ts, image in self._decode_once():
                ts = offset + clip_ts
                clip_end = max(clip_end, ts)
                if ts + 1e-6 < next_due:
                    continue
                next_due = max(next_due + period, ts)
                if self.config.realtime:
                    delay = wall_start + ts - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                self.frames_analysed += 1
                yield Frame(self.camera_id, round(ts, 6), seq, image.to_ndarray(format="bgr24"))
                seq += 1
            if not self.config.loop or seq == 0:
                return
            offset = clip_end + period

    def _decode_once(self) -> Iterator[tuple[float, av.VideoFrame]]:
        try:
            container = av.open(str(self.path))
        except (av.error.FFmpegError, OSError) as exc:
            raise SourceError(f"camera {self.camera_id}: cannot open {self.path}: {exc}") from exc
        with container:
            if not container.streams.video:
                raise SourceError(f"camera {self.camera_id}: {self.path} has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            time_base = stream.time_base or Fraction(1, 90000)
            start = stream.start_time or 0
            rate = float(stream.average_rate or 25)
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError as exc:
                    self.corrupt_packets += 1
                    log.warning("camera %s: corrupt packet skipped: %s", self.camera_id, exc)
                    continue
                for frame in frames:
                    self.frames_decoded += 1
                    if frame.pts is None:
                        ts = (self.frames_decoded - 1) / rate
                    else:
                        ts = float((frame.pts - start) * time_base)
                    yield ts, frame


def open_source(camera_id: str, config: SourceConfig) -> FileSource:
    """The source for a camera's configuration (files today; live streams plug in here)."""
    return FileSource(camera_id, config)
