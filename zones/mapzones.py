"""Zones drawn once on the map (GeoJSON, lon/lat), such as a school's area, that every camera seeing them gets."""

from __future__ import annotations

from typing import Any, Literal

import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator
from shapely.validation import explain_validity

from zones.config import ZoneConfig
from zones.event import ZoneName
from zones.homography import Homography


class GeoPolygon(BaseModel):
    """A GeoJSON Polygon: one outer ring of lon/lat points (holes are not used)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Polygon"] = "Polygon"
    coordinates: list[list[tuple[float, float]]]

    @field_validator("coordinates")
    @classmethod
    def _valid_ring(cls, rings: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
        if len(rings) != 1:
            raise ValueError("one outer ring, no holes")
        ring = rings[0]
        if len(ring) < 4 or ring[0] != ring[-1]:
            raise ValueError("a GeoJSON ring has at least 4 points and ends where it starts")
        outside = [p for p in ring if not (-180 <= p[0] <= 180 and -90 <= p[1] <= 90)]
        if outside:
            raise ValueError(f"points are lon, lat in degrees; outside the earth: {outside[:3]}")
        polygon = shapely.Polygon(ring)
        if not polygon.is_valid or polygon.area <= 0:
            raise ValueError(f"the ring is not a simple polygon: {explain_validity(polygon)}")
        return rings


class MapZoneConfig(BaseModel):
    """Everything a camera zone has, but drawn in lon/lat; each camera gets it as `map-<id>`."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$")
    name: ZoneName | None = Field(None, description="What staff call it; the camera zones made from it carry it.")
    geometry: GeoPolygon
    zone: dict[str, Any] = Field(default_factory=lambda: {"kind": "general"},
                                 description="The zone's kind, classes, priority, grid, overrides, schedule.")

    @field_validator("zone")
    @classmethod
    def _a_zone_without_polygon(cls, settings: dict[str, Any]) -> dict[str, Any]:
        if "polygon" in settings or "id" in settings:
            raise ValueError("a map zone's polygon is its geometry and its id its own: leave them out here")
        ZoneConfig.model_validate({**settings, "id": "check", "polygon": [(0, 0), (1, 0), (1, 1)]})
        return settings

    def project(self, homography: Homography) -> ZoneConfig | None:
        """The zone as the camera sees it, or None when the camera does not see it."""
        polygon = homography.project_polygon(self.geometry.coordinates[0])
        if polygon is None:
            return None
        return ZoneConfig.model_validate({**self.zone, "id": f"map-{self.id}", "name": self.name,
                                          "polygon": polygon})
