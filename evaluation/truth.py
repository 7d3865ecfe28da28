"""The truth file: which clips to replay, their zones, and the problem episodes a person saw in them; and
labelled image sets (evaluation/images.py) for the classes no footage here shows.

Loaded with the same `${VAR}` expansion and error format as the deployment configuration,
so a bad label is reported as `file: clips[0].truth[2]: ...` before any video is decoded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from detector import DetectorConfig, TrackerConfig
from detector.crops import CropConfig
from evaluation.images import TruthImageSet
from evaluation.scoring import Span
from settings import ConfigError, apply_env_overrides, format_errors, read_document
from streams import SourceConfig
from streams.config import is_network_url
from worker import CameraConfig, WorkerConfig
from worker.zone_readings import SceneReadingConfig
from zones import ProblemClass, ZoneConfig
from zones.config import parse_problem_class
from zones.readings import SCENE_RULES

_CAMERA_ID_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


RuleOverrides = dict[ProblemClass, dict[str, Any]]


def _rule_classes(value: object) -> object:
    """Class names are checked here; the parameters when the clip's worker configuration is built."""
    if not isinstance(value, dict):
        return value
    return {parse_problem_class(key): params for key, params in value.items()}


def expected_delay_s(params: object) -> float:
    """The least time a rule needs before it can raise: `dwell_s`, or for presence rules p_on x window_s."""
    dwell = getattr(params, "dwell_s", None)
    if dwell is not None:
        return float(dwell)
    window, p_on = getattr(params, "window_s", None), getattr(params, "p_on", None)
    return float(window * p_on) if window is not None and p_on is not None else 0.0


class TruthEpisode(BaseModel):
    """One problem a person saw: one parked vehicle, one pile of garbage, from when to when."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    problem: ProblemClass = Field(alias="class")
    zone: str
    start_s: float = Field(ge=0.0, description="When the problem began (0 if it was already there).")
    end_s: float | None = Field(None, description="When it ended; empty: still there when the clip ends.")
    at: tuple[float, float] | None = Field(
        None, description="A point on the object, normalised (x, y): only an alert whose box contains it hits."
    )
    note: str | None = Field(None, max_length=200, description="What it is, e.g. 'silver sedan'.")

    @field_validator("problem", mode="before")
    @classmethod
    def _known_class(cls, value: object) -> ProblemClass:
        return parse_problem_class(value)

    @field_validator("at")
    @classmethod
    def _normalised(cls, at: tuple[float, float] | None) -> tuple[float, float] | None:
        if at is not None and not all(0.0 <= v <= 1.0 for v in at):
            raise ValueError(f"point {list(at)} is outside the image: coordinates are 0..1 of width and height")
        return at

    @model_validator(mode="after")
    def _ends_after_start(self) -> TruthEpisode:
        if self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError(f"end_s ({self.end_s}) must be after start_s ({self.start_s})")
        return self


class TruthClip(BaseModel):
    """A recorded clip replayed as one camera, with that camera's zones and the labelled episodes."""

    model_config = ConfigDict(extra="forbid")

    video: str = Field(description="Clip path; relative paths are relative to the truth file.")
    camera_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    analysis_fps: float = Field(2.0, gt=0, le=60)
    start_time: AwareDatetime | None = Field(None, description="Wall time of the first frame, for zone schedules.")
    timezone: str | None = Field(None, description="The camera's local time zone; the source's default if empty.")
    rules: RuleOverrides = Field(
        default_factory=dict, description="Overrides of the file's rules for this clip only, field by field."
    )
    zones: list[ZoneConfig] = Field(min_length=1)
    truth: list[TruthEpisode] = Field(default_factory=list)
    calibrate: list[tuple[float, float]] = Field(
        default_factory=list, max_length=100, description="Spans [t0, t1] of clip time known clear: their frames "
        "are learnt as every zone's clear level before the replay, as an operator's 'clear now' would; they are "
        "still scored (a false alert there counts) and may not overlap a labelled episode of a scene class.")

    @field_validator("rules", mode="before")
    @classmethod
    def _rules_for_known_classes(cls, value: object) -> object:
        return _rule_classes(value)

    @field_validator("calibrate")
    @classmethod
    def _spans_in_order(cls, spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for i, (start, end) in enumerate(spans):
            if not 0 <= start < end:
                raise ValueError(f"calibrate[{i}]: a span is [t0, t1] with 0 <= t0 < t1, got [{start}, {end}]")
        return spans

    @field_validator("video")
    @classmethod
    def _video_exists(cls, video: str) -> str:
        if is_network_url(video):
            raise ValueError(f"{video} is a live stream; an evaluation replays a recorded clip")
        if not Path(video).is_file():
            raise ValueError(f"video file not found: {video}")
        return video

    @model_validator(mode="after")
    def _labels_fit_zones(self) -> TruthClip:
        zones = {z.id: z for z in self.zones}
        if len(zones) != len(self.zones):
            raise ValueError("zone ids must be unique per clip")
        for i, episode in enumerate(self.truth):
            zone = zones.get(episode.zone)
            if zone is None:
                raise ValueError(f"truth[{i}]: no zone {episode.zone!r} in this clip; zones: {', '.join(zones)}")
            if episode.problem not in zone.classes:
                raise ValueError(f"truth[{i}]: zone {zone.id!r} does not watch {episode.problem.value}; "
                                 f"it watches {', '.join(c.value for c in zone.classes)}")
            for j, (start, end) in enumerate(self.calibrate):
                if episode.problem in SCENE_RULES and start < (episode.end_s if episode.end_s is not None
                                                               else float("inf")) and episode.start_s < end:
                    raise ValueError(f"calibrate[{j}]: [{start}, {end}] overlaps truth[{i}] "
                                     f"({episode.problem.value}): a span learnt as clear must be clear")
        return self

    def in_calibration(self, ts_s: float) -> bool:
        return any(start <= ts_s <= end for start, end in self.calibrate)

    @property
    def name(self) -> str:
        return Path(self.video).stem

    def camera(self) -> CameraConfig:
        camera_id = self.camera_id or _CAMERA_ID_CHARS.sub("-", self.name)[:64] or "clip"
        source = {"url": self.video, "analysis_fps": self.analysis_fps, "start_time": self.start_time}
        if self.timezone:
            source["timezone"] = self.timezone
        return CameraConfig(id=camera_id, source=SourceConfig.model_validate(source), zones=self.zones)

    def spans(self, clip_end_s: float) -> list[Span]:
        """The labels as scoring sees them; an open end is the end of the clip."""
        return [
            Span(e.problem, e.zone, e.start_s, e.end_s if e.end_s is not None else clip_end_s, f"truth[{i}]", e.at)
            for i, e in enumerate(self.truth)
        ]


class TruthFile(BaseModel):
    """Clips with labels, and the model and rule settings every clip is replayed with."""

    model_config = ConfigDict(extra="forbid")

    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    rules: RuleOverrides = Field(default_factory=dict, description="Per-class overrides of the default rules.")
    scene: SceneReadingConfig = Field(default_factory=SceneReadingConfig)
    second_look: CropConfig = Field(default_factory=CropConfig, description="Small zones' crops, as on a worker.")
    clips: list[TruthClip] = Field(default_factory=list)
    images: list[TruthImageSet] = Field(default_factory=list)

    @field_validator("rules", mode="before")
    @classmethod
    def _rules_for_known_classes(cls, value: object) -> object:
        return _rule_classes(value)

    @model_validator(mode="after")
    def _something_to_score(self) -> TruthFile:
        if not self.clips and not self.images:
            raise ValueError("a truth file needs clips, image sets or both")
        names = [s.name for s in self.images]
        if len(set(names)) != len(names):
            raise ValueError("image set names must be unique")
        return self

    def worker_config(self, index: int | None = None) -> WorkerConfig:
        """The configuration a live worker would run clip `index` with: file rules, then the clip's (None: the
        file's own, for image sets)."""
        clip = self.clips[index] if index is not None else None
        rules = {problem.value: dict(params) for problem, params in self.rules.items()}
        for problem, params in (clip.rules.items() if clip else ()):
            rules[problem.value] = {**rules.get(problem.value, {}), **params}
        return WorkerConfig(detector=self.detector, tracker=self.tracker, rules=rules, scene=self.scene,
                            second_look=self.second_look, cameras=[clip.camera()] if clip else [])


def load_truth(path: Path | str) -> TruthFile:
    """Read and check a truth file; raises `ConfigError` naming the file, the field and the problem."""
    path = Path(path)
    data = read_document(path, what="truth file")
    # The deployment's model override, so models can be compared without editing labels.
    apply_env_overrides(data, only=("STREETWATCH_MODEL",))
    base = path.parent.resolve()
    for clip in data.get("clips") or []:
        video = clip.get("video") if isinstance(clip, dict) else None
        if isinstance(video, str) and video and not is_network_url(video) and not Path(video).is_absolute():
            clip["video"] = str(base / video)
    for image_set in data.get("images") or []:
        for kind in ("positives", "negatives"):
            entries = image_set.get(kind) if isinstance(image_set, dict) else None
            if isinstance(entries, list):
                image_set[kind] = [str(base / e) if isinstance(e, str) and not Path(e).is_absolute() else e
                                   for e in entries]
    try:
        truth = TruthFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_errors(path, exc)) from None
    for index in range(len(truth.clips)):
        try:
            truth.worker_config(index)
        except ValidationError as exc:  # rule parameters and camera checks, as the clip will run them
            raise ConfigError(format_errors(Path(f"{path}: clips[{index}]"), exc)) from None
    return truth
