"""`streetwatch models` says which of the seven classes the configured models cover, from manifests alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from cli.main import app
from models import ModelManifest, save_manifest
from tests.conftest import ASSETS
from zones.classes import Coverage, ProblemClass
from zones.coverage import coverage_report

COCO_640 = ASSETS / "weights" / "yolov8n-coco-int8-640.onnx"
COCO_320 = ASSETS / "weights" / "yolo11n-coco-int8-320.onnx"
runner = CliRunner()


def write_config(tmp_path: Path, detector: dict, scene: bool = False) -> Path:  # type: ignore[type-arg]
    """The detector's coverage alone unless `scene`: the segmenter covers water, garbage and bins by itself."""
    path = tmp_path / "streetwatch.yaml"
    path.write_text(yaml.safe_dump({"detector": detector, "scene": {"enabled": scene}}), encoding="utf-8")
    return path


def run_models(config: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["models", "--config", str(config), *extra])
    return result.exit_code, result.output


def by_class(report: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {c["id"]: c for c in report["classes"]}


def city_manifest(tmp_path: Path) -> Path:
    """An operator's manifest for a city's urban model whose `water` label means standing water.

    No custom weights exist on these machines, so `file` names the shared COCO ONNX while the
    manifest declares the city model's labels. Coverage is read from the manifest, which is what
    an operator provides; nothing is run here, so the mismatch is never exercised.
    """
    manifest = ModelManifest(
        name="city-urban", file=str(COCO_320), format="onnx", imgsz=320,
        labels=["water", "garbage_bag", "pothole"], label_map={"water": "standing_water"},
        source="city of the test", licence="proprietary",
    )
    return save_manifest(manifest, tmp_path / "city-urban.manifest.yaml")


def test_coco_alone_leaves_water_and_garbage_uncovered(tmp_path: Path):
    code, output = run_models(write_config(tmp_path, {"model": str(COCO_640)}), "--json")
    assert code == 0, output
    report = json.loads(output)
    classes = by_class(report)
    coverage = {k: v["coverage"] for k, v in classes.items()}
    assert coverage == {
        "standing_water": "none", "street_vending": "partial", "outside_store_business": "partial",
        "exposed_garbage": "none", "overflowing_bin": "none",
        "illegal_parking_motor": "full", "illegal_parking_nonmotor": "full",
    }
    assert set(report["uncovered"]) == {"standing_water", "exposed_garbage", "overflowing_bin"}
    assert classes["street_vending"]["sources"] == [
        {"model": "yolov8n-coco-int8-640", "primary": [], "proxy": ["dining table", "umbrella"]}]
    assert classes["illegal_parking_motor"]["codes"]["gbt_47678_5"] == "09009"
    assert report["models"][0]["origin"] == "shipped manifest"


def test_the_segmenter_covers_what_coco_cannot_and_says_what_was_measured(tmp_path: Path):
    code, output = run_models(write_config(tmp_path, {"model": str(COCO_640)}, scene=True), "--json")
    assert code == 0, output
    report = json.loads(output)
    classes = by_class(report)
    assert report["uncovered"] == []
    for name in ("standing_water", "exposed_garbage", "overflowing_bin"):
        assert classes[name]["coverage"] == "partial"
        [segmenter] = [z for z in classes[name]["zone_level"] if z["kind"] == "segmenter"]
        assert "ADE20K ade20k150" in segmenter["detail"] and "docs/" in segmenter["measured"]
    assert "recall 0.90" in classes["overflowing_bin"]["zone_level"][0]["measured"]


def test_table_names_what_is_not_covered(tmp_path: Path):
    code, output = run_models(write_config(tmp_path, {"model": str(COCO_640)}))
    assert code == 0, output
    assert "道路积水 standing_water" in output and "完全 full" in output and "部分 partial" in output
    uncovered = next(line for line in output.splitlines() if line.startswith("未覆盖 not covered"))
    assert "standing_water" in uncovered and "exposed_garbage" in uncovered and "overflowing_bin" in uncovered
    assert "illegal_parking_motor" not in uncovered and "no rule will raise them" in uncovered


def test_custom_manifest_covers_standing_water(tmp_path: Path):
    manifest = city_manifest(tmp_path)
    config = write_config(tmp_path, {"models": [{"path": str(COCO_640)}, {"manifest": str(manifest)}]})
    code, output = run_models(config, "--json")
    assert code == 0, output
    report = json.loads(output)
    water = by_class(report)["standing_water"]
    assert water["coverage"] == "full"
    assert water["sources"] == [{"model": "city-urban", "primary": ["standing_water"], "proxy": []}]
    assert by_class(report)["exposed_garbage"]["coverage"] == "full"  # garbage_bag is an evidence label as is
    assert report["uncovered"] == ["overflowing_bin"]
    city = report["models"][1]
    assert city["origin"] == "manifest" and city["path"] == str(COCO_320) and city["licence"] == "proprietary"
    _, table = run_models(config)
    assert "city-urban: standing_water" in table and "water → standing_water" in table


def test_a_label_map_in_the_configuration_alone_changes_coverage(tmp_path: Path):
    config = write_config(tmp_path, {"models": [{"path": str(COCO_640), "label_map": {"umbrella": "vending_stall"}}]})
    report = json.loads(run_models(config, "--json")[1])
    assert by_class(report)["street_vending"]["coverage"] == "full"


def test_a_model_whose_labels_cannot_be_read_covers_nothing(tmp_path: Path):
    config = write_config(tmp_path, {"models": [str(tmp_path / "missing-city.onnx")]})
    code, output = run_models(config)
    assert code == 1
    assert "错误 error" in output and "missing-city.onnx" in output
    assert all(c.coverage is Coverage.NONE for c in coverage_report({"missing-city": set()}))


def test_a_missing_manifest_is_a_configuration_error(tmp_path: Path):
    config = write_config(tmp_path, {"models": [{"manifest": str(tmp_path / "nowhere.yaml")}]})
    code, output = run_models(config)
    assert code == 2 and "detector.models[0]" in output and "nowhere.yaml" in output


def test_report_is_pure_and_in_class_order():
    report = coverage_report({"a": {"car", "person"}, "b": {"standing_water", "umbrella"}})
    assert [c.id for c in report] == list(ProblemClass)
    levels = {c.id: c.coverage for c in report}
    assert levels[ProblemClass.STANDING_WATER] is Coverage.FULL
    assert levels[ProblemClass.STREET_VENDING] is Coverage.PARTIAL
    assert levels[ProblemClass.ILLEGAL_PARKING_NONMOTOR] is Coverage.NONE
    motor = next(c for c in report if c.id is ProblemClass.ILLEGAL_PARKING_MOTOR)
    assert [s.model for s in motor.sources] == ["a"]


def test_report_loads_no_model():
    """What the API does: describe the default configuration without importing Ultralytics or torch."""
    code = ("import sys; from zones.coverage import coverage_for_config; r = coverage_for_config(None); "
            "assert r.models[0].labels; assert 'ultralytics' not in sys.modules and 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
