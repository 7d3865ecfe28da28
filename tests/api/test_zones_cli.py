"""`streetwatch zones export|import`: zones out of the store into YAML and GeoJSON, and back in as new versions."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from cli.main import app
from tests.conftest import RESIDENTIAL

RUNNER = CliRunner()


def _config(tmp_path: Path, redis_url: str, stream: str) -> Path:
    config = {
        "api": {"database_url": f"sqlite:///{tmp_path / 'zones.db'}"},
        "bus": {"redis_url": redis_url, "stream": stream},
        "cameras": [{"id": "cam-1", "source": {"url": str(RESIDENTIAL)},
                     "zones": [{"id": "curb", "kind": "no_parking", "polygon": [[0.1, 0.3], [0.5, 0.2], [0.5, 0.4]]}]}],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_export_then_import_round_trips_and_imports_are_versions(tmp_path: Path, redis_bus):  # type: ignore
    config = _config(tmp_path, redis_bus.redis_url, redis_bus.stream)
    seeded = RUNNER.invoke(app, ["zones", "import", str(config), "-c", str(config)])
    assert seeded.exit_code == 0, seeded.output
    assert "1 created" in seeded.output
    exported = tmp_path / "zones.yaml"
    assert RUNNER.invoke(app, ["zones", "export", "--out", str(exported), "-c", str(config)]).exit_code == 0
    document = yaml.safe_load(exported.read_text())
    assert document["cameras"][0]["zones"][0]["polygon"] == [[0.1, 0.3], [0.5, 0.2], [0.5, 0.4]]
    document["cameras"][0]["zones"][0]["name"] = "北侧路沿"
    school = {"id": "school", "name": "实验小学", "geometry": {"type": "Polygon", "coordinates": [
        [[116.397, 39.931], [116.398, 39.931], [116.398, 39.932], [116.397, 39.932], [116.397, 39.931]]]},
        "zone": {"kind": "school"}}
    document["map_zones"] = [school]
    exported.write_text(yaml.safe_dump(document, allow_unicode=True))
    again = RUNNER.invoke(app, ["zones", "import", str(exported), "-c", str(config), "--author", "li.wei"])
    assert again.exit_code == 0 and "1 created, 1 updated" in again.output, again.output
    geojson = tmp_path / "map.geojson"
    assert RUNNER.invoke(app, ["zones", "export", "--format", "geojson", "--out", str(geojson),
                               "-c", str(config)]).exit_code == 0
    feature = json.loads(geojson.read_text())["features"][0]
    assert feature["id"] == "school" and feature["properties"]["kind"] == "school"
    unchanged = RUNNER.invoke(app, ["zones", "import", str(geojson), "-c", str(config)])
    assert "0 created, 0 updated, 1 unchanged" in unchanged.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"cameras": [{"id": "cam-1", "zones": [
        {"id": "ok", "kind": "road", "polygon": [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]},
        {"id": "two-points", "kind": "road", "polygon": [[0.1, 0.1], [0.2, 0.2]]}]}]}))
    refused = RUNNER.invoke(app, ["zones", "import", str(bad), "-c", str(config)])
    assert refused.exit_code == 2 and "nothing imported" in refused.output
    listed = yaml.safe_load(RUNNER.invoke(app, ["zones", "export", "-c", str(config)]).output)
    assert [z["id"] for z in listed["cameras"][0]["zones"]] == ["curb"]  # the good zone of the bad file too
