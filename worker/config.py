"""Cameras, their zones and the rule defaults a worker runs with."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from detector import DetectorConfig, TrackerConfig
from detector.crops import CropConfig
from streams import SourceConfig
from worker.calibration import CalibrationConfig
from worker.recorder import RecordingConfig
from worker.zone_readings import ClassifierConfig, SceneReadingConfig
from zones import RulesConfig, ZoneConfig
from zones.homography import Homography, PointPair


def _require_unique(ids: list[str], rule: str) -> None:
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{rule}; repeated: {', '.join(duplicates)}")


class CameraConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    name: str | None = Field(None, max_length=128)
    location: tuple[float, float] | None = Field(
        None, description="Where the camera stands, lon/lat (WGS 84): the dashboard map and the position of its cases."
    )
    source: SourceConfig
    zones: list[ZoneConfig] = Field(default_factory=list)
    calibration: list[PointPair] = Field(
        default_factory=list, description="Image/map point pairs (at least 4) tying the image to the map: events get "
        "lon/lat from their anchor, and map zones project into the camera. Usually entered in the dashboard.")

    @field_validator("location")
    @classmethod
    def _on_earth(cls, location: tuple[float, float] | None) -> tuple[float, float] | None:
        if location is not None and not (-180 <= location[0] <= 180 and -90 <= location[1] <= 90):
            raise ValueError(f"location must be [lon, lat] with lon in -180..180 and lat in -90..90, got {location}")
        return location

    @field_validator("calibration")
    @classmethod
    def _fits(cls, pairs: list[PointPair]) -> list[PointPair]:
        if pairs:
            Homography.from_pairs(pairs)  # ValueError says why the pairs cannot define one
        return pairs

    @field_validator("zones")
    @classmethod
    def _unique_zone_ids(cls, zones: list[ZoneConfig]) -> list[ZoneConfig]:
        _require_unique([z.id for z in zones], "zone ids must be unique per camera")
        return zones

    @model_validator(mode="after")
    def _schedules_need_a_clock(self) -> CameraConfig:
        scheduled = [z.id for z in self.zones if z.schedule]
        if scheduled and self.source.local_time(0.0) is None:  # None only for a clip without start_time
            raise ValueError(
                f"zones {', '.join(scheduled)} have schedules, so this clip needs source.start_time "
                "(e.g. 2026-09-01T07:30:00+08:00) to give its frames a time of day"
            )
        return self


class SchedulerConfig(BaseModel):
    """How one worker shares its detector between many cameras."""

    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(8, ge=1, le=64, description="Frames (from any cameras) per inference call.")
    max_wait_ms: int = Field(50, ge=0, le=5000, description="Longest wait to fill a batch.")
    queue_size: int = Field(2, ge=1, le=100, description="Analysed frames a camera may have waiting.")
    health_every_s: float = Field(5.0, gt=0, description="How often camera health is published.")
    snapshot_every_s: float = Field(30.0, gt=0, description="How often each camera's latest frame is saved.")
    metrics_port: int = Field(9108, ge=0, le=65535, description="Prometheus metrics of the worker; 0: none.")


class WorkerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    rules: RulesConfig = Field(default_factory=lambda: RulesConfig.model_validate({}))
    recording: RecordingConfig = Field(default_factory=RecordingConfig)
    scene: SceneReadingConfig = Field(default_factory=SceneReadingConfig)
    classifiers: ClassifierConfig = Field(default_factory=ClassifierConfig)
    calibration: CalibrationConfig = Field(default_factory=CalibrationConfig, description="Zones' clear levels: "
                                           "'clear now' from the zone editor, then quiet frames by themselves.")
    second_look: CropConfig = Field(default_factory=CropConfig, description="Small zones watching scene "
                                    "problems detected again on their own crop (docs/configuration.md).")
    cameras: list[CameraConfig] = Field(default_factory=list)

    @field_validator("cameras")
    @classmethod
    def _unique_camera_ids(cls, cameras: list[CameraConfig]) -> list[CameraConfig]:
        _require_unique([c.id for c in cameras], "camera ids must be unique")
        return cameras
