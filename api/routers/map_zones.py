"""/api/map/zones: zones drawn once on the map (lon/lat), such as a school's area; every calibrated camera
that sees one gets it as `map-<id>`. Operators change them, viewers read them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response

from api.auth import Operator, Reader
from api.errors import CONFLICT, NOT_FOUND, PROTECTED, unprocessable
from api.orm import MAP_SCOPE
from api.routers.zones import VersionOut, ZoneOut
from api.services.zone_store import ZoneExists, ZoneNotFound
from api.services.zone_sync import as_feature
from zones.mapzones import MapZoneConfig

router = APIRouter(prefix="/api/map/zones", tags=["zones 区域"], responses={**PROTECTED, **NOT_FOUND})

ZoneId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,60}$")]


def _republish(request: Request) -> None:
    """Every calibrated camera may see a map zone: they all get their sets again."""
    sync = request.app.state.zone_sync
    sync.publish(sync.calibrated())


@router.get("")
def list_map_zones(request: Request, _reader: Reader) -> dict[str, Any]:
    """地图区域 / as a GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": [as_feature(z) for z in request.app.state.zone_sync.map_zones()]}


@router.post("", response_model=ZoneOut, status_code=201, responses=CONFLICT)
def create_map_zone(request: Request, zone: MapZoneConfig, user: Operator) -> ZoneOut:
    try:
        stored = request.app.state.zone_store.create(MAP_SCOPE, zone.id, zone, user.username)
    except ZoneExists as exc:
        raise HTTPException(409, str(exc)) from None
    _republish(request)
    return ZoneOut.of(stored)


@router.put("/{zone_id}", response_model=ZoneOut)
def update_map_zone(request: Request, zone_id: ZoneId, zone: MapZoneConfig, user: Operator) -> ZoneOut:
    if zone.id != zone_id:
        raise unprocessable(("body", "id"), f"the zone's id {zone.id!r} is not the one in the path ({zone_id!r})")
    try:
        stored = request.app.state.zone_store.update(MAP_SCOPE, zone_id, zone, user.username)
    except ZoneNotFound:
        raise HTTPException(404, f"地图区域不存在 / no map zone {zone_id}") from None
    _republish(request)
    return ZoneOut.of(stored)


@router.delete("/{zone_id}", status_code=204)
def delete_map_zone(request: Request, zone_id: ZoneId, user: Operator) -> Response:
    try:
        request.app.state.zone_store.delete(MAP_SCOPE, zone_id, user.username)
    except ZoneNotFound:
        raise HTTPException(404, f"地图区域不存在 / no map zone {zone_id}") from None
    _republish(request)
    return Response(status_code=204)


@router.get("/{zone_id}/versions", response_model=list[VersionOut])
def map_zone_versions(request: Request, zone_id: ZoneId, _reader: Reader) -> list[VersionOut]:
    rows = request.app.state.zone_store.versions(MAP_SCOPE, zone_id)
    if not rows:
        raise HTTPException(404, f"地图区域不存在 / no map zone {zone_id}")
    return [VersionOut(version=r.version, action=r.action, author=r.author, at=r.at, note=r.note, zone=r.data)
            for r in rows]
