"""The unit that flows from a camera into the pipeline."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded picture with the time it was captured.

    `ts_s` is seconds on the source's own timeline (PTS for a clip), never the
    wall clock, so a replay is repeatable and runs as fast as the machine allows. `captured_at` is the
    wall clock when the frame was decoded, used only to measure how far behind live a worker runs
    (frame to event, frame to case); no decision ever reads it.
    """

    camera_id: str
    ts_s: float
    seq: int
    image: np.ndarray  # H x W x 3, BGR, uint8
    captured_at: float = field(default_factory=time.time, compare=False)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])
