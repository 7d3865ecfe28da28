"""/api/map/zones: zones drawn once on the map (lon/lat), such as a school's area; every calibrated camera
that sees one gets it as `map-<id>`. Operators change them, viewers read them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response

from api.auth import Operator, Reader
from api.deps import ZoneStoreDep, ZoneSyncDep
from api.errors import CONFLICT, NOT_FOUND, PROTECTED, unprocessable
from api.orm import MAP_SCOPE
from api.routers.zones import VersionOut, ZoneOut
from api.services.zone_store import ZoneExists, ZoneNotFound
from api.services.zone_sync import ZoneSync, as_feature
from zones.mapzones import MapZoneConfig

router = APIRouter(prefix="/api/map/zones", tags=["zones 区域"], responses={**PROTECTED, **NOT_FOUND})

ZoneId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,60}$")]


def _republish(sync: ZoneSync) -> None:
    """Every calibrated camera may see a map zone: they all get their sets again."""
    sync.publish(sync.calibrated())


@router.get("")
def list_map_zones(sync: ZoneSyncDep, _reader: Reader) -> dict[str, Any]:
    """地图区域 / as a GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": [as_feature(z) for z in sync.map_zones()]}


@router.post("", response_model=ZoneOut, status_code=201, responses=CONFLICT)
def create_map_zone(zone: MapZoneConfig, user: Operator, store: ZoneStoreDep, sync: ZoneSyncDep) -> ZoneOut:
    try:
        stored = store.create(MAP_SCOPE, zone.id, zone, user.username)
    except ZoneExists as exc:
        raise HTTPException(409, str(exc)) from None
    _republish(sync)
    return ZoneOut.of(stored)


@router.put("/{zone_id}", response_model=ZoneOut)
def update_map_zone(zone_id: ZoneId, zone: MapZoneConfig, user: Operator, store: ZoneStoreDep,
                    sync: ZoneSyncDep) -> ZoneOut:
    if zone.id != zone_id:
        raise unprocessable(("body", "id"), f"the zone's id {zone.id!r} is not the one in the path ({zone_id!r})")
    try:
        stored = store.update(MAP_SCOPE, zone_id, zone, user.username)
    except ZoneNotFound:
        raise HTTPException(404, f"地图区域不存在 / no map zone {zone_id}") from None
    _republish(sync)
    return ZoneOut.of(stored)


@router.delete("/{zone_id}", status_code=204)
def delete_map_zone(zone_id: ZoneId, user: Operator, store: ZoneStoreDep, sync: ZoneSyncDep) -> Response:
    try:
        store.delete(MAP_SCOPE, zone_id, user.username)
    except ZoneNotFound:
        raise HTTPException(404, f"地图区域不存在 / no map zone {zone_id}") from None
    _republish(sync)
    return Response(status_code=204)


@router.get("/{zone_id}/versions", response_model=list[VersionOut])
def map_zone_versions(zone_id: ZoneId, _reader: Reader, store: ZoneStoreDep) -> list[VersionOut]:
    rows = store.versions(MAP_SCOPE, zone_id)
    if not rows:
        raise HTTPException(404, f"地图区域不存在 / no map zone {zone_id}")
    return [VersionOut(version=r.version, action=r.action, author=r.author, at=r.at, note=r.note, zone=r.data)
            for r in rows]
