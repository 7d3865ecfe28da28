"""The frames of the last few seconds and how many of them showed something: presence hysteresis, and the
zone-level evidence of the cluster rule, both read it."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class Window:
    """Frames of the last `window_s`: (time, positive). Bounded by the window, never by uptime."""

    frames: deque[tuple[float, bool]] = field(default_factory=deque)
    positives: int = 0
    observed_since: float | None = None  # first frame of this unbroken run of frames

    def add(self, ts_s: float, positive: bool, window_s: float) -> None:
        if self.observed_since is None or (self.frames and ts_s - self.frames[-1][0] > window_s):
            self.observed_since = ts_s  # a gap longer than the window (camera offline) starts afresh
        self.frames.append((ts_s, positive))
        self.positives += positive
        while self.frames and self.frames[0][0] < ts_s - window_s:
            _, old = self.frames.popleft()
            self.positives -= old

    def share(self) -> float:
        return self.positives / len(self.frames) if self.frames else 0.0

    def covers(self, window_s: float) -> bool:
        """Whether the zone has been watched for a whole window. Not the span of the frames kept: with frames 2 s
        apart a 3 s window never holds frames 3 s apart, and a slow camera would never raise."""
        if not self.frames or self.observed_since is None:
            return False
        return self.frames[-1][0] - self.observed_since >= window_s - 1e-6

    def first_positive(self) -> float | None:
        return next((t for t, positive in self.frames if positive), None)
