"""How one camera is read."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

NETWORK_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt"})


def is_network_url(url: str) -> bool:
    return urlparse(url).scheme.lower() in NETWORK_SCHEMES


class SourceConfig(BaseModel):
    """A camera's input: a clip on disk for replays and demos, a URL for live cameras."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="Path of a video file, or a stream URL (the main stream).")
    analysis_url: str | None = Field(
        None, description="A low-resolution substream to analyse; evidence snapshots then come from `url`."
    )
    analysis_fps: float | None = Field(
        2.0, gt=0, le=60,
        description="Frames analysed per second of video time; the rest are skipped. Empty: every decoded frame.",
    )
    decode: Literal["all", "keyframes"] = Field(
        "all", description="keyframes: only key frames reach the decoder, for a fraction of the CPU."
    )
    transport: Literal["tcp", "udp"] = Field("tcp", description="RTSP transport.")
    hwaccel: Literal["none", "auto", "cuda", "vaapi"] = Field(
        "none", description="Hardware decoding where the host has it; falls back to software."
    )
    open_timeout_s: float = Field(10.0, gt=0, description="Give up connecting after this long.")
    stall_timeout_s: float = Field(10.0, gt=0, description="No frame for this long: the stream is stalled.")
    reconnect_min_s: float = Field(1.0, gt=0, description="First wait before reconnecting.")
    reconnect_max_s: float = Field(60.0, gt=0, description="Longest wait between reconnects (backoff cap).")
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
        if self.start_time is not None:  # a clip: its start plus the PTS
            return (self.start_time + timedelta(seconds=ts_s)).astimezone(zone)
        if self.is_live:  # live frames are stamped on the Unix clock when their stream is anchored
            return datetime.fromtimestamp(ts_s, zone)
        return None

    @property
    def is_live(self) -> bool:
        return is_network_url(self.analysis_url or self.url)

    @property
    def analysed_url(self) -> str:
        return self.analysis_url or self.url

    @field_validator("url", "analysis_url")
    @classmethod
    def _video_must_exist(cls, url: str | None) -> str | None:
        if url is None or is_network_url(url):
            return url
        path = Path(url)
        if not path.is_file():
            raise ValueError(f"video file not found: {path}")
        return str(path)
