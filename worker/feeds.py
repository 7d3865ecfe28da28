"""Per-camera decoding threads feeding bounded queues that the inference loop drains."""

from __future__ import annotations

import logging
import threading
from collections import deque

from streams import FileSource, Frame, LiveSource, SourceError
from streams.health import CameraState, SourceHealth

log = logging.getLogger(__name__)


class FrameQueues:
    """One bounded queue per camera behind one condition, so the inference loop sleeps until any has a frame.

    A live camera drops its oldest frame when full (latency stays bounded when inference falls
    behind); a clip blocks instead, so a replay loses nothing.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.cond = threading.Condition()
        self._queues: dict[str, deque[Frame]] = {}

    def add_camera(self, camera_id: str) -> None:
        with self.cond:
            self._queues[camera_id] = deque()

    def put(self, frame: Frame, drop_oldest: bool, stop: threading.Event) -> bool:
        """Queue a frame; returns True when an older frame had to be dropped for it."""
        with self.cond:
            queue = self._queues[frame.camera_id]
            if not drop_oldest:
                while len(queue) >= self.size and not stop.is_set():
                    self.cond.wait(0.5)
            dropped = len(queue) >= self.size
            if dropped:
                queue.popleft()
            queue.append(frame)
            self.cond.notify_all()
            return dropped

    def take_round(self, limit: int) -> list[Frame]:
        """Up to `limit` frames, the oldest of each waiting camera first (call with `cond` held)."""
        taken: list[Frame] = []
        while len(taken) < limit:
            before = len(taken)
            for queue in self._queues.values():
                if queue and len(taken) < limit:
                    taken.append(queue.popleft())
            if len(taken) == before:
                break
        if taken:
            self.cond.notify_all()  # a blocked clip feed may go on
        return taken

    def pending(self, camera_id: str) -> int:
        return len(self._queues[camera_id])

    def any_pending(self) -> bool:
        return any(self._queues.values())


class CameraFeed(threading.Thread):
    """Reads one source into the queues until it ends or the worker stops; never raises.

    Without queues it only keeps its latest frames: a camera's main stream, read key frames
    only, for evidence snapshots sharper than the substream that is analysed. The evidence of a
    detection is the main-stream frame nearest the analysed frame's moment (`frame_near`), never
    simply the newest, which may show the street seconds later.
    """

    KEPT = 16  # main-stream key frames kept: some seconds of video, whatever the key-frame interval

    def __init__(
        self, source: FileSource | LiveSource, queues: FrameQueues | None, stop: threading.Event, role: str = "feed"
    ) -> None:
        super().__init__(name=f"{role}-{source.camera_id}", daemon=True)
        self.source = source
        self.queues = queues
        self.stop = stop
        self.finished = threading.Event()
        self.latest: Frame | None = None
        self.recent: deque[Frame] = deque(maxlen=self.KEPT if queues is None else 1)
        self._drop_oldest = isinstance(source, LiveSource) or bool(source.config.realtime)

    @property
    def health(self) -> SourceHealth:
        return self.source.health

    def frame_near(self, ts_s: float, tolerance_s: float) -> Frame | None:
        """The kept frame closest in time to `ts_s`, if one is within `tolerance_s` of it."""
        best = min(list(self.recent), key=lambda frame: abs(frame.ts_s - ts_s), default=None)
        return best if best is not None and abs(best.ts_s - ts_s) <= tolerance_s else None

    def run(self) -> None:
        try:
            for frame in self.source:
                if self.stop.is_set():
                    break
                self.latest = frame
                self.recent.append(frame)
                if self.queues is not None and self.queues.put(frame, self._drop_oldest, self.stop):
                    self.source.health.frames_dropped += 1
        except SourceError as exc:
            log.error("%s", exc)
        except Exception as exc:  # one camera's failure must not take the worker down
            log.exception("camera %s: source failed", self.source.camera_id)
            self.source.health.failed(CameraState.OFFLINE, f"{type(exc).__name__}: {exc}")
        finally:
            self.finished.set()
            if self.queues is not None:
                with self.queues.cond:
                    self.queues.cond.notify_all()
