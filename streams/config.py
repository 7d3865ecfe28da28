"""How one camera is read."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

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
    start_time: AwareDatetime | None = Field(
        None, description="Wall-clock time of a clip's first frame, so zone schedules can be replayed."
    )
    timezone: str = Field("Asia/Shanghai", description="The camera's local time zone, for zone schedules.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai") from None
        return name

    def local_time(self, ts_s: float) -> datetime | None:
        """The local wall-clock time of a frame: the clip's start plus its PTS, or the stream's own clock.

        None for a clip with no `start_time`: its frames have no time of day.
        """
        zone = ZoneInfo(self.timezone)
        if self.start_time is not None:
            return (self.start_time + timedelta(seconds=ts_s)).astimezone(zone)
        if is_network_url(self.url):
            return datetime.fromtimestamp(ts_s, zone)
        return None

    @field_validator("url")
    @classmethod
    def _video_must_exist(cls, url: str) -> str:
        if is_network_url(url):
            return url
        path = Path(url)
        if not path.is_file():
            raise ValueError(f"video file not found: {path}")
        return str(path)
