"""`streetwatch zones import|export`: zones between files (YAML, GeoJSON) and the store.

YAML holds camera zones and map zones: `cameras: [{id, zones: [...]}]` (a configuration file works as
it is) and `map_zones: [...]`. GeoJSON holds map zones only (lon/lat polygons; each feature's
properties are its id, name, kind, classes...). An import checks every zone first and saves nothing
if one is wrong; each zone it saves is a new version by the importer, and the cameras' workers are
told at once (through Redis, when it answers).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError

from cli.common import load_or_exit
from settings import DEMO_CONFIG, AppConfig

zones_app = typer.Typer(no_args_is_help=True, help="区域 Zones: move them between YAML, GeoJSON and the store.")

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="YAML configuration (database, cameras, Redis).")]


def _services(settings: AppConfig):  # type: ignore[no-untyped-def]
    from api.db import make_engine, migrate, session_factory
    from api.services.zone_store import ZoneStore
    from api.services.zone_sync import Calibrations, ZoneSync
    from bus import redis_client

    engine = make_engine(settings.api.database_url)
    migrate(engine)
    sessions = session_factory(engine)
    store = ZoneStore(sessions)
    sync = ZoneSync(store, Calibrations(sessions), redis_client(settings.bus.redis_url), settings.bus,
                    [c.id for c in settings.cameras])
    return store, sync


def _read(path: Path) -> tuple[dict[str, list[Any]], list[Any]]:
    """(camera id -> zones, map zones), validated; a bad zone stops everything with its place and reason."""
    from zones import ZoneConfig
    from zones.mapzones import MapZoneConfig

    text = path.read_text(encoding="utf-8")
    document = json.loads(text) if path.suffix.lower() in (".geojson", ".json") else yaml.safe_load(text) or {}
    try:
        if document.get("type") == "FeatureCollection":
            features = document.get("features", [])
            map_zones = [MapZoneConfig.model_validate(_from_feature(f)) for f in features]
            return {}, map_zones
        cameras = {c["id"]: [ZoneConfig.model_validate(z) for z in c.get("zones", [])]
                   for c in document.get("cameras", [])}
        return cameras, [MapZoneConfig.model_validate(z) for z in document.get("map_zones", [])]
    except (ValidationError, KeyError, TypeError, AttributeError) as exc:
        typer.echo(f"{path}: 区域无效，未导入任何内容 / a zone is not valid, nothing imported:\n{exc}", err=True)
        raise typer.Exit(2) from None


def _from_feature(feature: dict[str, Any]) -> dict[str, Any]:
    properties = dict(feature.get("properties") or {})
    zone_id = properties.pop("id", None) or feature.get("id")
    name = properties.pop("name", None)
    return {"id": zone_id, "name": name, "geometry": feature.get("geometry"), "zone": properties}


@zones_app.command("import")
def import_zones(
    file: Annotated[Path, typer.Argument(help="A YAML file (cameras[].zones, map_zones) or a GeoJSON of map zones.")],
    camera: Annotated[str | None, typer.Option(help="Import only this camera's zones.")] = None,
    author: Annotated[str, typer.Option(help="Who the new versions are by.")] = "import",
    config: ConfigOption = DEMO_CONFIG,
) -> None:
    """Each zone of the file becomes the store's newest version of it (created, or updated when it differs)."""
    from api.orm import MAP_SCOPE

    settings = load_or_exit(config)
    cameras, map_zones = _read(file)
    known = {c.id for c in settings.cameras}
    unknown = sorted(set(cameras) - known)
    if unknown:
        typer.echo(f"错误 error: cameras not in the configuration: {', '.join(unknown)}; nothing imported", err=True)
        raise typer.Exit(2)
    store, sync = _services(settings)
    changed_cameras, counts = [], {"created": 0, "updated": 0, "unchanged": 0}
    for camera_id, zones in cameras.items():
        if camera is not None and camera_id != camera:
            continue
        if any(_save(store, camera_id, z.id, z, author, counts) for z in zones):
            changed_cameras.append(camera_id)
    if camera is None and any(_save(store, MAP_SCOPE, z.id, z, author, counts) for z in map_zones):
        changed_cameras = list(known)  # any calibrated camera may see a map zone
    published = sync.publish(changed_cameras) if changed_cameras else 0
    typer.echo(f"已导入 imported: {counts['created']} created, {counts['updated']} updated, "
               f"{counts['unchanged']} unchanged; {published} camera(s) told")


def _save(store: Any, scope: str, zone_id: str, zone: Any, author: str, counts: dict[str, int]) -> bool:
    current = store.get(scope, zone_id)
    if current is None:
        store.create(scope, zone_id, zone, author, action="imported")
        counts["created"] += 1
        return True
    if current.data == zone.model_dump(mode="json", exclude_none=True):
        counts["unchanged"] += 1
        return False
    store.update(scope, zone_id, zone, author, action="imported")
    counts["updated"] += 1
    return True


@zones_app.command("export")
def export_zones(
    out: Annotated[Path | None, typer.Option(help="Write here; standard output by default.")] = None,
    form: Annotated[str, typer.Option("--format", help="yaml (cameras, map zones) or geojson (map zones).")] = "yaml",
    camera: Annotated[str | None, typer.Option(help="Only this camera's zones (yaml).")] = None,
    config: ConfigOption = DEMO_CONFIG,
) -> None:
    """The store's zones as they are now, in a file `zones import` and the configuration read."""
    from api.orm import MAP_SCOPE
    from api.services.zone_sync import as_feature

    if form not in ("yaml", "geojson"):
        typer.echo("错误 error: --format is yaml or geojson", err=True)
        raise typer.Exit(2)
    settings = load_or_exit(config)
    store, sync = _services(settings)
    if form == "geojson":
        text = json.dumps({"type": "FeatureCollection", "features": [as_feature(z) for z in sync.map_zones()]},
                          ensure_ascii=False, indent=2)
    else:
        cameras = [{"id": c.id, "zones": [z.data for z in store.list(c.id)]}
                   for c in settings.cameras if camera is None or c.id == camera]
        document: dict[str, Any] = {"cameras": cameras}
        if camera is None:
            document["map_zones"] = [{**z.data, "id": z.zone_id} for z in store.list(MAP_SCOPE)]
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"已导出 exported to {out}", err=True)
