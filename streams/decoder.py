"""PyAV decoding shared by clips and live streams: options, decode modes, sampling, bad packets."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction

import av
import av.error

from streams.config import SourceConfig, is_network_url
from streams.health import SourceHealth

log = logging.getLogger(__name__)

_HW_DEVICES = {"cuda": "cuda", "vaapi": "vaapi"}


def open_container(url: str, config: SourceConfig) -> av.container.InputContainer:
    """Open a file or stream with the camera's transport, timeouts and (where asked) hardware decoding.

    Raises av.error.FFmpegError or OSError with FFmpeg's reason when it cannot be opened.
    """
    options: dict[str, str] = {}
    if url.lower().startswith("rtsp"):
        options["rtsp_transport"] = config.transport
        # The SDP already names the codec and size: without this FFmpeg probes ~5 s of a 10 fps stream.
        options["probesize"] = "32"
    timeout = (config.open_timeout_s, config.stall_timeout_s) if is_network_url(url) else None
    hwaccel = _hwaccel(config)
    if hwaccel is not None:
        try:
            return av.open(url, options=options, timeout=timeout, hwaccel=hwaccel)
        except (av.error.FFmpegError, ValueError, TypeError) as exc:
            log.warning("hardware decoding (%s) unavailable for %s: %s; decoding in software",
                        config.hwaccel, url, exc)
    return av.open(url, options=options, timeout=timeout)


def _hwaccel(config: SourceConfig) -> object | None:
    if config.hwaccel == "none":
        return None
    try:
        from av.codec.hwaccel import HWAccel, hwdevices_available
    except ImportError:
        log.warning("this PyAV has no hardware decoding; decoding in software")
        return None
    available = set(hwdevices_available())
    wanted = [d for d in ("cuda", "vaapi") if d in available] if config.hwaccel == "auto" else [
        _HW_DEVICES[config.hwaccel]
    ]
    usable = [d for d in wanted if d in available]
    if not usable:
        log.warning("hardware decoding %s asked for, host offers %s; decoding in software",
                    config.hwaccel, sorted(available) or "none")
        return None
    return HWAccel(device_type=usable[0], allow_software_fallback=True)


def decode(
    container: av.container.InputContainer, keyframes_only: bool, health: SourceHealth
) -> Iterator[tuple[float, av.VideoFrame]]:
    """(seconds on the stream's timeline, frame) for every frame decoded; counts land in `health`.

    In key-frame mode non-key packets never reach the decoder, so their cost is only demuxing.
    A packet the decoder rejects is counted and skipped: one corrupt packet never ends a stream.
    """
    if not container.streams.video:
        raise av.error.InvalidDataError(0, "no video stream in the source")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    if keyframes_only:
        stream.codec_context.skip_frame = "NONKEY"
    time_base = stream.time_base or Fraction(1, 90000)
    rate = float(stream.average_rate or 25)
    start = stream.start_time
    for packet in container.demux(stream):
        if keyframes_only and not packet.is_keyframe:
            continue
        try:
            frames = packet.decode()
            if keyframes_only:
                # A decoder holds key frames back to reorder B-frames that will never come: drain it
                # after each key packet, so every key frame comes out now (not late, not lost at the end).
                frames += stream.codec_context.decode(None)
                stream.codec_context.flush_buffers()
        except av.error.InvalidDataError as exc:
            health.corrupt_packets += 1
            log.warning("camera %s: corrupt packet skipped: %s", health.camera_id, exc)
            continue
        for frame in frames:
            health.frames_decoded += 1
            if frame.pts is None:
                yield (health.frames_decoded - 1) / rate, frame
                continue
            if start is None:
                start = frame.pts
            yield float((frame.pts - start) * time_base), frame


class RateSampler:
    """Picks frames at `fps` of stream time (every frame when fps is None), deterministically."""

    def __init__(self, fps: float | None) -> None:
        self.period = 1.0 / fps if fps else 0.0
        self.next_due = float("-inf")

    def due(self, ts_s: float) -> bool:
        if ts_s + 1e-6 < self.next_due:
            return False
        self.next_due = ts_s + self.period if self.next_due == float("-inf") else max(
            self.next_due + self.period, ts_s
        )
        return True

    def reset(self) -> None:
        self.next_due = float("-inf")
