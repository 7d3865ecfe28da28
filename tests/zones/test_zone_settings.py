"""Zone settings are refused on save when the worker could not use them: a name its events cannot carry, an
override the class's rule never reads, an override value the rule's own field would refuse."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from settings import ConfigError, load_config
from tests.conftest import RESIDENTIAL
from zones import ProblemClass, RulesConfig, ZoneConfig

CURB = {"id": "curb", "kind": "no_parking", "polygon": [[0.1, 0.3], [0.5, 0.2], [0.5, 0.4]]}
ROAD = {"id": "road", "kind": "road", "polygon": [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0]]}


def write_config(tmp_path: Path, zone: dict, rules: dict | None = None) -> Path:
    path = tmp_path / "cfg.yaml"
    camera = {"id": "cam-1", "source": {"url": str(RESIDENTIAL)}, "zones": [zone]}
    path.write_text(yaml.safe_dump({"rules": rules or {}, "cameras": [camera]}, allow_unicode=True),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize(("zone", "field", "message"), [
    ({**CURB, "name": "实" * 200}, "cameras[0].zones[0].name", "at most 128 characters, got 200"),
    ({**CURB, "name": "南门\x00"}, "cameras[0].zones[0].name", "control characters"),
    ({**CURB, "grid": "网格\x07"}, "cameras[0].zones[0].grid", "control characters"),
    ({**CURB, "overrides": {"illegal_parking_motor": {"dwell_s": -5}}},
     "cameras[0].zones[0].overrides.illegal_parking_motor.dwell_s", "greater than 0"),
    ({**ROAD, "overrides": {"standing_water": {"dwell_s": 5}}}, "cameras[0].zones[0].overrides",
     "standing_water.dwell_s: 道路积水是 presence 规则，不读取 dwell_s"),
    ({**ROAD, "overrides": {"exposed_garbage": {"clear_s": 5}}}, "cameras[0].zones[0].overrides",
     "the presence rule of exposed_garbage does not read clear_s"),
])
def test_a_zone_setting_the_worker_could_not_use_is_refused_on_load_naming_file_and_field(
        tmp_path: Path, zone: dict, field: str, message: str) -> None:
    path = write_config(tmp_path, zone)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    line = next(line for line in str(refused.value).splitlines() if field in line)
    assert line.strip().startswith(f"{path}: {field}:") and message in line, str(refused.value)


def test_a_rules_setting_the_presence_rule_does_not_read_is_refused_naming_it(tmp_path: Path) -> None:
    path = write_config(tmp_path, CURB, rules={"standing_water": {"clear_s": 10}})
    with pytest.raises(ConfigError, match=r"rules\.standing_water: .*does not read clear_s; it reads .*p_off"):
        load_config(path)
    assert load_config(write_config(tmp_path, CURB, rules={"street_vending": {"clear_s": 10}}))  # cluster reads it


def test_a_name_at_the_limit_is_kept_and_reaches_the_event_unchanged() -> None:
    zone = ZoneConfig.model_validate({**CURB, "name": "实" * 128})
    assert zone.name == "实" * 128


def test_overrides_are_applied_as_validated_settings_of_the_class() -> None:
    zone = ZoneConfig.model_validate({**CURB, "overrides": {"illegal_parking_motor": {"dwell_s": 20, "min_area": 0}}})
    params = zone.params_for(ProblemClass.ILLEGAL_PARKING_MOTOR, RulesConfig().illegal_parking_motor)
    assert (params.dwell_s, params.min_area, params.clear_s) == (20, 0, 30)
    # A zone made without validation (as an old store row might be) is still refused when a rule would use it.
    unchecked = ZoneConfig.model_construct(**{**zone.__dict__, "overrides": {
        ProblemClass.ILLEGAL_PARKING_MOTOR: zone.overrides[ProblemClass.ILLEGAL_PARKING_MOTOR].model_construct(
            dwell_s=-1.0)}})
    with pytest.raises(ValidationError, match="greater than 0"):
        unchecked.params_for(ProblemClass.ILLEGAL_PARKING_MOTOR, RulesConfig().illegal_parking_motor)


def test_a_map_zone_name_meets_the_same_check_as_a_camera_zone_name() -> None:
    from zones.mapzones import MapZoneConfig

    square = {"type": "Polygon", "coordinates": [[[116.0, 39.0], [116.001, 39.0], [116.001, 39.001], [116.0, 39.0]]]}
    for name, why in (("实" * 200, "at most 128 characters"), ("南门\x00", "control characters")):
        with pytest.raises(ValidationError) as caught:
            MapZoneConfig(id="gate", name=name, geometry=square)
        assert why in str(caught.value)
    assert MapZoneConfig(id="gate", name="实" * 128, geometry=square).name == "实" * 128
