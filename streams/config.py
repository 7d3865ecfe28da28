"""How one camera is read."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator

NETWORK_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt"})


def is_network_url(url: str) -> bool:
    return urlparse(url).scheme.lower() in NETWORK_SCHEMES


class SourceConfig(BaseModel):
    """A camera's input: a clip on disk for replays and demos, a URL for live cameras."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="Path of a video file, or a stream URL.")
    analysis_fps: float = Field(
        2.0, gt=0, le=60, description="Frames analysed per second of video time; the rest are skipped."
    )
    loop: bool = Field(False, description="Start a clip again at its end, its timeline continuing.")
    realtime: bool = Field(False, description="Pace a clip at its own speed, like a live camera.")

    @field_validator("url")
    @classmethod
    def _video_must_exist(cls, url: str) -> str:
        if is_network_url(url):
            return url
        path = Path(url)
        if not path.is_file():
            raise ValueError(f"video file not found: {path}")
        return str(path)
