"""Scene evidence per zone: the share of a zone's pixels the segmenter puts in each class group,
and how far that share stands above what the same zone shows on frames known to be clear.

Why a baseline: the ADE20K segmenter is not a water detector. It calls some dry asphalt water
(14 % of the residential clip's frames on average, up to 26 %; up to 66 % of the lower half of a
blue-tinted stop line) and a close-up of a dry pothole sea (docs/scene-and-classifiers.md). Those
mistakes are stable for a fixed camera and zone, so each zone learns its own level from frames
the centre marked clear, and only the excess over that level is evidence. A raw threshold
cannot do that: a dry zone of one camera shows more "water" than a wet pothole of another.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field

from detector.scene import SceneMap
from zones.classes import ProblemClass
from zones.config import ZoneConfig

Polygon = Sequence[tuple[float, float]]
Zones = Sequence[ZoneConfig] | Mapping[str, Polygon]


@dataclass(frozen=True)
class ClassGroup:
    """ADE20K classes (ids of the 150-class labels file) that together are evidence for some problems.

    Ids, not names: the labels file keeps one word per class, and its "pool" is a pool table
    (57) while the swimming pool is "swimming" (110).
    """

    classes: tuple[int, ...]
    problems: tuple[ProblemClass, ...] = ()  # empty: context (what the zone shows when nothing is wrong)

    def ids(self, num_classes: int) -> np.ndarray:
        """The group's classes a model with `num_classes` outputs can produce (the int8 variant has 32)."""
        return np.array([c for c in self.classes if c < num_classes], dtype=np.intp)


_VENDING = (ProblemClass.STREET_VENDING, ProblemClass.OUTSIDE_STORE_BUSINESS)
SCENE_GROUPS: dict[str, ClassGroup] = {
    # water, sea, river, swimming pool, lake
    "water": ClassGroup((22, 27, 61, 110, 129), (ProblemClass.STANDING_WATER,)),
    # awning, booth (stall, kiosk), canopy, tent, stool, table, counter, case (showcase), buffet (counter), shelf
    "stall": ClassGroup((87, 89, 107, 115, 111, 16, 46, 56, 100, 25), _VENDING),
    # apparel, food, bottle: goods laid out
    "goods": ClassGroup((93, 121, 99), _VENDING),
    # bag, box, basket
    "bags_boxes": ClassGroup((116, 42, 113), (ProblemClass.EXPOSED_GARBAGE,)),
    # ashcan (trash can, dustbin)
    "ashcan": ClassGroup((139,), (ProblemClass.OVERFLOWING_BIN, ProblemClass.EXPOSED_GARBAGE)),
    # context: road; sidewalk and path; what hides the ground (vehicles, people)
    "road": ClassGroup((7,)),
    "sidewalk": ClassGroup((12, 53)),
    "vehicles": ClassGroup((21, 81, 84, 103, 117, 128)),
    "people": ClassGroup((13,)),
}


def available_groups(num_classes: int, groups: Mapping[str, ClassGroup] = SCENE_GROUPS) -> list[str]:
    """Groups a model with `num_classes` outputs can show at all (the int8 variant lacks awning, bag, ashcan...)."""
    return [name for name, group in groups.items() if len(group.ids(num_classes))]


def _zone_polygons(zones: Zones) -> dict[str, tuple[tuple[float, float], ...]]:
    if isinstance(zones, Mapping):
        return {zone_id: tuple((float(x), float(y)) for x, y in polygon) for zone_id, polygon in zones.items()}
    return {zone.id: tuple((float(x), float(y)) for x, y in zone.polygon) for zone in zones}


@lru_cache(maxsize=512)
def zone_pixels(polygon: tuple[tuple[float, float], ...], width: int, height: int) -> np.ndarray:
    """Flat indices of the pixels of a `width` x `height` image whose centre lies in the polygon.

    The same test as a detection's anchor point (`ZoneMap`: shapely, edges count as inside), done
    once per polygon and image size and cached. OpenCV's `fillPoly` was not used: it also fills the
    right and bottom edge pixels, a one-pixel skew between neighbouring zones. A zone too thin to
    hold a pixel centre gets the pixel under its representative point, so its share is defined.
    """
    shape = shapely.Polygon(polygon)
    x0, y0, x1, y1 = shape.bounds
    cols = np.arange(max(0, int(np.floor(x0 * width - 0.5))), min(width, int(np.ceil(x1 * width + 0.5))))
    rows = np.arange(max(0, int(np.floor(y0 * height - 0.5))), min(height, int(np.ceil(y1 * height + 0.5))))
    xs, ys = np.meshgrid((cols + 0.5) / width, (rows + 0.5) / height)
    inside = shapely.intersects_xy(shape, xs.ravel(), ys.ravel())
    if inside.any():
        flat = (rows[:, None] * width + cols[None, :]).ravel()
        return flat[inside]
    point = shape.representative_point()
    col = min(width - 1, int(point.x * width))
    row = min(height - 1, int(point.y * height))
    return np.array([row * width + col], dtype=np.intp)


def zone_class_counts(scene_map: SceneMap, zones: Zones) -> dict[str, np.ndarray]:
    """Pixel count per class inside each zone (one `bincount` per zone over its cached pixels)."""
    labels = scene_map.image_labels
    height, width = labels.shape
    flat = labels.ravel()
    return {
        zone_id: np.bincount(flat[zone_pixels(polygon, width, height)], minlength=scene_map.num_classes)
        for zone_id, polygon in _zone_polygons(zones).items()
    }


def zone_shares(
    scene_map: SceneMap, zones: Zones, groups: Mapping[str, ClassGroup] = SCENE_GROUPS
) -> dict[str, dict[str, float]]:
    """{zone id: {group: share of the zone's pixels in that group}}, for the groups the model can show."""
    ids = {name: group.ids(scene_map.num_classes) for name, group in groups.items()}
    ids = {name: group_ids for name, group_ids in ids.items() if len(group_ids)}
    shares: dict[str, dict[str, float]] = {}
    for zone_id, counts in zone_class_counts(scene_map, zones).items():
        total = max(1, int(counts.sum()))
        shares[zone_id] = {name: float(counts[group_ids].sum()) / total for name, group_ids in ids.items()}
    return shares


# Where a clear sample came from: an operator's "clear now" (the frame and the camera's last minutes), a clear
# label on a picture, or the worker's own quiet frames once the zone has a level (worker/zone_readings.py).
SAMPLE_SOURCES = ("calibration", "label", "auto")


class BaselineConfig(BaseModel):
    """How a zone's clear level is learned. Defaults suit a few hundred clear frames per zone."""

    model_config = ConfigDict(extra="forbid")

    max_samples: int = Field(240, ge=1, description="Most recent clear frames kept per zone and group.")
    min_samples: int = Field(5, ge=1, description="Clear frames needed before the level is trusted.")
    quantile: float = Field(0.95, gt=0.0, le=1.0, description="High quantile of the clear shares.")
    k_mad: float = Field(3.0, ge=0.0, description="Or median + k x MAD (scaled to sigma), whichever is higher.")


@dataclass(frozen=True)
class GroupReading:
    """One group's share in one zone on one frame, and the zone's clear level when it has one."""

    share: float
    level: float | None  # None until the baseline has `min_samples` clear frames

    @property
    def excess(self) -> float | None:
        """How far the share stands above the clear level (0 at or below it); None without a level."""
        return None if self.level is None else max(0.0, self.share - self.level)


class SceneBaseline:
    """Per zone and group, the shares seen on clear frames, and the level they set.

    Memory is bounded (`max_samples` per zone and group, oldest dropped, so a camera whose view
    drifts with the seasons follows it). Samples are kept to four decimals so that the JSON form
    round-trips exactly.
    """

    def __init__(self, config: BaselineConfig | None = None) -> None:
        self.config = config or BaselineConfig()
        self._samples: dict[str, dict[str, deque[float]]] = {}
        # Where each kept sample came from (parallel to `_samples`), so coverage can say "calibrated" or "learnt".
        self._sources: dict[str, dict[str, deque[str]]] = {}

    def learn(self, shares: Mapping[str, Mapping[str, float]], source: str = "label") -> None:
        """Add one clear frame's `zone_shares`; `source` (one of SAMPLE_SOURCES) is kept beside each sample."""
        if source not in SAMPLE_SOURCES:
            raise ValueError(f"unknown baseline sample source {source!r}")
        for zone_id, groups in shares.items():
            per_zone = self._samples.setdefault(zone_id, {})
            tags = self._sources.setdefault(zone_id, {})
            for group, share in groups.items():
                per_zone.setdefault(group, deque(maxlen=self.config.max_samples)).append(round(float(share), 4))
                tags.setdefault(group, deque(maxlen=self.config.max_samples)).append(source)

    def samples(self, zone_id: str, group: str) -> list[float]:
        return list(self._samples.get(zone_id, {}).get(group, ()))

    def sources(self, zone_id: str, group: str) -> dict[str, int]:
        """How many of the kept samples each source gave: {"calibration": 12, "label": 3, "auto": 40}."""
        counts = dict.fromkeys(SAMPLE_SOURCES, 0)
        for tag in self._sources.get(zone_id, {}).get(group, ()):
            counts[tag] += 1
        return counts

    def zones(self) -> list[str]:
        return sorted(self._samples)

    def level(self, zone_id: str, group: str) -> float | None:
        """max(high quantile, median + k x 1.4826 x MAD) of the clear shares; None before `min_samples`."""
        values = self.samples(zone_id, group)
        if len(values) < self.config.min_samples:
            return None
        array = np.asarray(values)
        median = float(np.median(array))
        mad = float(np.median(np.abs(array - median))) * 1.4826
        return max(float(np.quantile(array, self.config.quantile)), median + self.config.k_mad * mad)

    def readings(self, shares: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, GroupReading]]:
        """Each share with its zone's clear level."""
        return {
            zone_id: {group: GroupReading(share, self.level(zone_id, group)) for group, share in groups.items()}
            for zone_id, groups in shares.items()
        }

    def forget(self, zone_ids: Iterable[str]) -> None:
        """Drop zones whose polygon changed: their old level measured other pixels."""
        for zone_id in zone_ids:
            self._samples.pop(zone_id, None)
            self._sources.pop(zone_id, None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "config": self.config.model_dump(),
            "samples": {z: {g: list(v) for g, v in groups.items()} for z, groups in self._samples.items()},
            "sources": {z: {g: list(v) for g, v in groups.items()} for z, groups in self._sources.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SceneBaseline:
        if data.get("version") != 1:
            raise ValueError(f"unknown scene baseline version {data.get('version')!r}")
        baseline = cls(BaselineConfig(**data["config"]))
        for zone_id, groups in data["samples"].items():
            for group, values in groups.items():
                baseline._samples.setdefault(zone_id, {})[group] = deque(
                    (float(v) for v in values), maxlen=baseline.config.max_samples
                )
                # Files written before sources were kept: their samples all came from clear labels.
                tags = data.get("sources", {}).get(zone_id, {}).get(group) or ["label"] * len(values)
                if len(tags) != len(values) or not set(tags) <= set(SAMPLE_SOURCES):
                    raise ValueError(f"scene baseline {zone_id}/{group}: sources do not match the samples")
                baseline._sources.setdefault(zone_id, {})[group] = deque(tags, maxlen=baseline.config.max_samples)
        return baseline

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> SceneBaseline:
        return cls.from_dict(json.loads(text))


class ZoneSceneEvidence:
    """A camera's zones against scene maps, frame by frame: shares, clear levels and excess.

    `update(scene_map, clear=True)` for frames the centre marked clear (or a reviewed quiet period)
    also teaches the baseline, after the frame's evidence was measured against the old level.
    """

    def __init__(
        self,
        zones: Zones,
        groups: Mapping[str, ClassGroup] = SCENE_GROUPS,
        baseline: SceneBaseline | None = None,
    ) -> None:
        self.zones = _zone_polygons(zones)
        self.groups = dict(groups)
        self.baseline = baseline or SceneBaseline()

    def update(self, scene_map: SceneMap, clear: bool = False) -> dict[str, dict[str, GroupReading]]:
        shares = zone_shares(scene_map, self.zones, self.groups)
        evidence = self.baseline.readings(shares)
        if clear:
            self.baseline.learn(shares)
        return evidence
