"""What each camera's worker must use: its own zones, the map zones it sees through its calibration, and the
homography that places its events; published on Redis after every save (bus.zonesync)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import redis
from sqlalchemy.orm import sessionmaker

from api.orm import MAP_SCOPE, CalibrationRow, utcnow
from api.services.zone_store import ZoneStore
from bus import BusConfig
from bus.zonesync import ZoneSet, publish_zone_set, read_zone_set
from zones import ZoneConfig
from zones.homography import Homography, PointPair
from zones.mapzones import MapZoneConfig

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class Calibrations:
    def __init__(self, sessions: sessionmaker, clock: Clock = utcnow) -> None:
        self.sessions = sessions
        self.clock = clock

    def get(self, camera_id: str) -> CalibrationRow | None:
        with self.sessions() as session:
            return session.get(CalibrationRow, camera_id)

    def set(self, camera_id: str, pairs: Sequence[PointPair], author: str) -> CalibrationRow:
        Homography.from_pairs(pairs)  # ValueError (→ 422) when they cannot define one
        with self.sessions.begin() as session:
            row = session.get(CalibrationRow, camera_id, with_for_update=True)
            if row is None:
                row = CalibrationRow(camera_id=camera_id, version=0)
                session.add(row)
            row.pairs = [p.model_dump(mode="json") for p in pairs]
            row.version, row.updated_by, row.updated_at = row.version + 1, author, self.clock()
            return row

    def homography(self, camera_id: str) -> Homography | None:
        row = self.get(camera_id)
        return Homography.from_pairs([PointPair.model_validate(p) for p in row.pairs]) if row else None


class ZoneSync:
    def __init__(self, store: ZoneStore, calibrations: Calibrations, client: redis.Redis, bus: BusConfig,
                 cameras: Sequence[str]) -> None:
        self.store = store
        self.calibrations = calibrations
        self.client = client
        self.bus = bus
        self.cameras = list(cameras)

    def map_zones(self) -> list[MapZoneConfig]:
        return [MapZoneConfig.model_validate({**z.data, "id": z.zone_id}) for z in self.store.list(MAP_SCOPE)]

    def zone_set(self, camera_id: str) -> ZoneSet:
        zones = [ZoneConfig.model_validate(z.data) for z in self.store.list(camera_id)]
        homography = self.calibrations.homography(camera_id)
        if homography is not None:
            own = {z.id for z in zones}
            for map_zone in self.map_zones():
                seen = map_zone.project(homography)
                if seen is not None and seen.id not in own:
                    zones.append(seen)
        return ZoneSet(camera_id=camera_id, revision=time.time_ns() // 1_000_000, zones=zones,
                       homography=homography.matrix.tolist() if homography else None,
                       origin=homography.origin if homography else None)

    def publish(self, camera_ids: Sequence[str] | None = None) -> int:
        """Publish the sets of these cameras (all by default); Redis trouble is logged and retried later."""
        published = 0
        for camera_id in camera_ids if camera_ids is not None else self.cameras:
            try:
                publish_zone_set(self.client, self.bus, self.zone_set(camera_id))
                published += 1
            except redis.RedisError as exc:
                log.warning("camera %s: zones not published (%s); the next sync retries", camera_id, exc)
        return published

    def calibrated(self) -> list[str]:
        return [c for c in self.cameras if self.calibrations.get(c) is not None]

    def missing(self) -> list[str]:
        """Cameras whose set Redis does not hold (a Redis restarted without its data): to publish again."""
        return [c for c in self.cameras if read_zone_set(self.client, self.bus, c) is None]

    def resync(self) -> bool:
        """For a background loop: publish again whatever Redis lost."""
        lost = self.missing()
        return bool(lost) and self.publish(lost) > 0


def as_feature(map_zone: MapZoneConfig) -> dict[str, Any]:
    """A map zone as a GeoJSON feature (export, the dashboard map)."""
    return {"type": "Feature", "id": map_zone.id, "geometry": map_zone.geometry.model_dump(mode="json"),
            "properties": {"name": map_zone.name, **map_zone.zone}}
