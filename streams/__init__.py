"""Camera sources: open a stream or a clip and yield timestamped frames.

Nothing here knows about detection; a `Frame` and a camera's `SourceHealth` are all that leave.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any

from streams.config import SourceConfig
from streams.frame import Frame
from streams.health import CameraState, SourceHealth

if TYPE_CHECKING:
    from streams.file_source import FileSource, SourceError
    from streams.live_source import LiveSource

# The sources load PyAV, so they load on first use: the API imports `streams.redact` and `streams.config`
# (and with them this package) but never decodes.
_DECODING = {"FileSource": "streams.file_source", "SourceError": "streams.file_source",
             "LiveSource": "streams.live_source"}


def __getattr__(name: str) -> Any:
    if name in _DECODING:
        return getattr(importlib.import_module(_DECODING[name]), name)
    raise AttributeError(f"module 'streams' has no attribute {name!r}")


def open_source(camera_id: str, config: SourceConfig, stop: threading.Event | None = None) -> FileSource | LiveSource:
    """A live source (reconnecting) for stream URLs, a file source for clips."""
    from streams.file_source import FileSource
    from streams.live_source import LiveSource

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
