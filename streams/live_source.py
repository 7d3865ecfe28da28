"""A network camera (RTSP, HTTP MJPEG/HLS, ...) that never gives up and never takes the worker down."""

from __future__ import annotations

import errno
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator

import av
import av.error

from streams.config import SourceConfig, is_network_url
from streams.decoder import RateSampler, decode, open_container
from streams.frame import Frame
from streams.health import CameraState, SourceHealth

log = logging.getLogger(__name__)


class LiveSource:
    """Frames of a live stream, reconnecting with exponential backoff and jitter.

    Each connection's timeline is anchored to the Unix clock at its first frame and then follows
    the stream's PTS, so frames carry the stream's own time. A read that blocks longer than
    `stall_timeout_s` marks the camera stalled and reconnects; a failed connection marks it
    offline with FFmpeg's reason. Iteration ends only when `stop` is set.
    """

    def __init__(
        self,
        camera_id: str,
        config: SourceConfig,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.camera_id = camera_id
        self.config = config
        self.url = config.analysed_url
        self.stop = stop or threading.Event()
        self.clock = clock
        self.health = SourceHealth(camera_id, self.url)
        self._random = random.Random(camera_id)  # jitter differs per camera, so they do not reconnect in step

    def __iter__(self) -> Iterator[Frame]:
        seq, failures = 0, 0
        sampler = RateSampler(self.config.analysis_fps)
        while not self.stop.is_set():
            self.health.state = CameraState.CONNECTING
            try:
                container = open_container(self.url, self.config)
            except (av.error.FFmpegError, OSError) as exc:
                failures += 1
                self.health.failed(CameraState.OFFLINE, f"cannot connect: {open_failure(exc, self.url)}")
                log.warning("camera %s offline: %s", self.camera_id, self.health.last_error)
                self._wait(failures)
                continue
            anchor = None
            sampler.reset()
            try:
                with container:
                    for stream_ts, image in decode(container, self.config.decode == "keyframes", self.health):
                        if self.stop.is_set():
                            return
                        now = self.clock()
                        self.health.state, self.health.last_frame_at = CameraState.ONLINE, now
                        failures = 0
                        if anchor is None:
                            anchor = now - stream_ts
                        ts = anchor + stream_ts
                        if not sampler.due(ts):
                            continue
                        frame = Frame(self.camera_id, round(ts, 6), seq, image.to_ndarray(format="bgr24"))
                        self._note_size(frame)
                        self.health.frames_analysed += 1
                        seq += 1
                        yield frame
                self.health.failed(CameraState.STALLED, "stream ended")
            except (av.error.FFmpegError, OSError) as exc:
                state = CameraState.STALLED if anchor is not None else CameraState.OFFLINE
                self.health.failed(state, f"{type(exc).__name__}: {exc}")
            failures += 1
            self.health.reconnects += 1
            log.warning("camera %s %s (%s); reconnecting", self.camera_id, self.health.state, self.health.last_error)
            self._wait(failures)

    def backoff_s(self, failures: int) -> float:
        """Exponential backoff with jitter: half to all of min * 2^(n-1), capped at the maximum."""
        ceiling = min(self.config.reconnect_max_s, self.config.reconnect_min_s * 2 ** max(0, failures - 1))
        return ceiling * self._random.uniform(0.5, 1.0)

    def _wait(self, failures: int) -> None:
        self.stop.wait(self.backoff_s(failures))

    def _note_size(self, frame: Frame) -> None:
        if (self.health.width, self.health.height) != (frame.width, frame.height):
            if self.health.width is not None:
                log.info("camera %s: resolution changed to %dx%d", self.camera_id, frame.width, frame.height)
            self.health.width, self.health.height = frame.width, frame.height


def open_failure(exc: Exception, url: str) -> str:
    """One line saying why a stream did not open, in FFmpeg's words plus what they mean here.

    FFmpeg's RTSP demuxer gives up on an exchange it cannot go on with (a server that closes the
    connection instead of answering PLAY, an answer it cannot parse) with a bare -1, which PyAV
    raises as EPERM "Operation not permitted": for a camera that is no permission problem.
    Every such failure is handled like a refused connection: offline, then retried with backoff.
    """
    text = getattr(exc, "strerror", None) or str(exc)
    if not is_network_url(url):
        return text
    if isinstance(exc, av.error.PermissionError) and exc.errno == errno.EPERM:
        return f"no usable answer to the RTSP/HTTP exchange (FFmpeg's bare error -1, shown as '{text}')"
    if isinstance(exc, av.error.InvalidDataError):
        return f"the camera's answer cannot be used ({text})"
    if isinstance(exc, av.error.HTTPError | av.error.HTTPClientError):  # RTSP's 4xx and 5xx answers too
        return f"the camera refused the request ({text})"
    return text
