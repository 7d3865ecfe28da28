"""What operators need to know about a camera: is it online, how much of it is analysed, what went wrong."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from streams.redact import redact


class CameraState(StrEnum):
    CONNECTING = "connecting"
    ONLINE = "online"
    STALLED = "stalled"  # connected, but no frame for stall_timeout_s: reconnecting
    OFFLINE = "offline"  # the last attempt failed; waiting before the next


@dataclass
class SourceHealth:
    camera_id: str
    url: str
    state: CameraState = CameraState.CONNECTING
    frames_decoded: int = 0
    frames_analysed: int = 0
    frames_dropped: int = 0  # analysed frames dropped because inference fell behind
    corrupt_packets: int = 0
    reconnects: int = 0
    last_frame_at: float | None = None  # Unix time a frame last arrived
    last_error: str | None = None
    width: int | None = None
    height: int | None = None
    snapshot: str | None = None  # the latest frame, relative to the media directory

    def __post_init__(self) -> None:
        self.url = redact(self.url)

    def failed(self, state: CameraState, error: str) -> None:
        self.state = state
        self.last_error = redact(error)[:500]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        data["reported_at"] = time.time()
        return data
