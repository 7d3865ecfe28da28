"""Camera sources: open a stream or a clip and yield timestamped frames.

Nothing here knows about detection; a `Frame` and a camera's `SourceHealth` are all that leave.
"""

from __future__ import annotations

import threading

from streams.config import SourceConfig
from streams.file_source import FileSource, SourceError
from streams.frame import Frame
from streams.health import CameraState, SourceHealth
from streams.live_source import LiveSource


def open_source(camera_id: str, config: SourceConfig, stop: threading.Event | None = None) -> FileSource | LiveSource:
    """A live source (reconnecting) for stream URLs, a file source for clips."""
    if config.is_live:
        return LiveSource(camera_id, config, stop)
    return FileSource(camera_id, config)


__all__ = [
    "CameraState",
    "FileSource",
    "Frame",
    "LiveSource",
    "SourceConfig",
    "SourceError",
    "SourceHealth",
    "open_source",
]
