"""/api/map: what the dashboard map draws: configured GeoJSON layers, cameras and open cases, no tiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter
from sqlalchemy import select

from api.auth import Reader
from api.deps import CamerasDep, ConfigDep, SessionsDep, ZoneStoreDep, ZoneSyncDep
from api.errors import PROTECTED
from api.orm import OPEN_STATUSES, CaseRow
from api.services.zone_store import ZoneStore
from api.services.zone_sync import ZoneSync, as_feature

router = APIRouter(prefix="/api", tags=["map 地图"], responses=PROTECTED)

_MAX_OPEN_CASES = 5000


def _layer(path: str) -> dict[str, Any] | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@router.get("/map")
def map_data(_reader: Reader, api_config: ConfigDep, cameras: CamerasDep, sessions: SessionsDep, sync: ZoneSyncDep,
             store: ZoneStoreDep) -> dict[str, Any]:
    """地图 / layers (GeoJSON, lon/lat), cameras with a position, open cases with one, and zones in place: those
    drawn on the map and those of calibrated cameras."""
    config = api_config.map
    layers = []
    for layer in config.layers:
        data = _layer(layer.file)
        layers.append({"name": layer.name, "kind": layer.kind, "geojson": data,
                       "error": None if data is not None else "layer file unreadable"})
    placed = [
        {"id": c.id, "name": c.name, "lon": c.location[0], "lat": c.location[1]}
        for c in cameras if c.location is not None
    ]
    with sessions() as session:
        rows = session.execute(
            select(CaseRow.id, CaseRow.problem, CaseRow.status, CaseRow.priority, CaseRow.camera_id,
                   CaseRow.zone_id, CaseRow.lon, CaseRow.lat)
            .where(CaseRow.status.in_(OPEN_STATUSES), CaseRow.lon.is_not(None))
            .order_by(CaseRow.id.desc()).limit(_MAX_OPEN_CASES)
        ).all()
    cases = [{"id": r.id, "class": r.problem, "status": r.status, "priority": r.priority, "camera_id": r.camera_id,
              "zone_id": r.zone_id, "lon": r.lon, "lat": r.lat} for r in rows]
    return {"center": config.center, "zoom": config.zoom, "tile_url": config.tile_url, "layers": layers,
            "cameras": placed, "cases": cases, "zones": _zones_in_place(sync, store)}


def _zones_in_place(sync: ZoneSync, store: ZoneStore) -> dict[str, Any]:
    """Map zones as drawn, and every calibrated camera's own zones carried onto the map by its homography."""
    features = [{**as_feature(z), "properties": {**as_feature(z)["properties"], "source": "map"}}
                for z in sync.map_zones()]
    for camera_id in sync.calibrated():
        homography = sync.calibrations.homography(camera_id)
        for stored in store.list(camera_id):
            ring = homography.to_map(np.array(stored.data["polygon"], dtype=np.float64)).tolist()
            features.append({"type": "Feature", "id": f"{camera_id}/{stored.zone_id}",
                             "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                             "properties": {"source": "camera", "camera_id": camera_id, "zone_id": stored.zone_id,
                                            "name": stored.data.get("name"), "kind": stored.data.get("kind")}})
    return {"type": "FeatureCollection", "features": features}
