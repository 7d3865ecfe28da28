"""A bad configuration fails on load with the file, the field and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import ConfigError, load_config
from tests.conftest import RESIDENTIAL

ZONE = "{id: z, kind: no_parking, polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]}"


def write(tmp_path: Path, zone: str = ZONE, video: str = str(RESIDENTIAL), extra: str = "") -> Path:
    path = tmp_path / "streetwatch.yaml"
    path.write_text(f"{extra}\ncameras:\n  - id: cam-1\n    source: {{url: '{video}'}}\n    zones:\n      - {zone}\n")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_a_good_file_loads_with_defaults_from_the_zone_kind(tmp_path: Path):
    config = load_config(write(tmp_path))
    zone = config.cameras[0].zones[0]
    assert [c.value for c in zone.classes] == ["illegal_parking_motor", "illegal_parking_nonmotor"]
    assert zone.priority == "normal"


def test_unknown_class(tmp_path: Path):
    message = error_of(write(tmp_path, zone=ZONE.replace("kind: no_parking", "kind: school, classes: [littering]")))
    assert "streetwatch.yaml" in message
    assert "cameras[0].zones[0].classes" in message
    assert "unknown class 'littering'" in message and "standing_water" in message


def test_polygon_with_fewer_than_three_points(tmp_path: Path):
    message = error_of(write(tmp_path, zone="{id: z, kind: road, polygon: [[0.1, 0.1], [0.9, 0.9]]}"))
    assert "cameras[0].zones[0].polygon" in message and "at least 3 points, got 2" in message


def test_self_crossing_polygon(tmp_path: Path):
    bow_tie = "{id: z, kind: road, polygon: [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]}"
    message = error_of(write(tmp_path, zone=bow_tie))
    assert "cameras[0].zones[0].polygon" in message and "edges cross" in message


def test_coordinates_outside_zero_to_one(tmp_path: Path):
    pixels = "{id: z, kind: road, polygon: [[10, 10], [630, 10], [630, 350]]}"
    message = error_of(write(tmp_path, zone=pixels))
    assert "normalised to 0..1" in message and "(630.0, 350.0)" in message


def test_missing_video(tmp_path: Path):
    message = error_of(write(tmp_path, video="clips/nowhere.mp4"))
    assert "cameras[0].source.url" in message and "video file not found" in message
    assert str(tmp_path / "clips" / "nowhere.mp4") in message  # resolved against the file's folder


def test_rules_for_unknown_class_and_bad_values(tmp_path: Path):
    message = error_of(write(tmp_path, extra="rules:\n  parking: {dwell_s: 10}\n"))
    assert "rules" in message and "unknown class 'parking'" in message
    message = error_of(write(tmp_path, extra="rules:\n  illegal_parking_motor: {dwell_s: -1}\n"))
    assert "rules.illegal_parking_motor.dwell_s" in message and "greater than 0" in message


def test_yaml_errors_unset_variables_and_typos_are_reported(tmp_path: Path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("cameras: [\n")
    assert "broken.yaml: not valid YAML" in error_of(broken)
    unset = error_of(write(tmp_path, video="${NO_SUCH_VAR_XYZ}/a.mp4"))
    assert "cameras[0].source.url: environment variable NO_SUCH_VAR_XYZ is not set" in unset
    assert "cameras[0].zones[0].kindd" in error_of(write(tmp_path, zone=ZONE.replace("kind:", "kindd: x, kind:")))
    assert "not found" in error_of(tmp_path / "absent.yaml")


def test_environment_overrides_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/streetwatch")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/2")
    monkeypatch.setenv("STREETWATCH_MEDIA_DIR", "/data/media")
    config = load_config(write(tmp_path))
    assert config.api.database_url == "postgresql+psycopg://u@db/streetwatch"
    assert config.bus.redis_url == "redis://cache:6379/2"
    assert config.media_dir == "/data/media"
