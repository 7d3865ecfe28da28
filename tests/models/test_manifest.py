"""Shipped manifests describe the real shared files; manifests are found by path, by sha256 and beside weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from models import LabelsUnavailable, ModelManifest, read_labels, resolve_model, save_manifest, sha256_of
from models.manifest import manifest_path_for
from models.registry import FALLBACK_MODEL, expand_file, find_shipped_manifest, shipped_manifests
from tests.conftest import ASSETS

WEIGHTS = ASSETS / "weights"
SHIPPED = {manifest.name: (path, manifest) for path, manifest in shipped_manifests()}
ON_DISK = ["yolov8n-coco-int8-640", "yolo11n-coco-int8-320", "yolo11n-coco-int8-openvino"]


@pytest.mark.parametrize("name", ON_DISK)
def test_shipped_manifest_matches_the_real_file(name: str):
    path, manifest = SHIPPED[name]
    weights = Path(expand_file(manifest, path))
    assert weights.exists() and weights.parent == WEIGHTS
    assert manifest.sha256 == sha256_of(weights)
    assert manifest.source and manifest.licence and "AGPL" in manifest.licence
    # The labels are what the model file itself says (ONNX metadata, OpenVINO metadata.yaml), in index order.
    assert manifest.labels == read_labels(weights, load=False)
    assert len(manifest.labels) == 80 and manifest.labels[:3] == ["person", "bicycle", "car"]
    assert manifest.evidence_labels() == set(manifest.labels)  # COCO names are evidence labels already


def test_readme_digests_of_the_shared_onnx_files():
    """The sha256 column of the shared assets' README, for the two ONNX files."""
    assert SHIPPED["yolov8n-coco-int8-640"][1].sha256 == (
        "83de8f0d2cd521e00ae2b138c340a03dece35b060b3898509bdc69afff417312")
    assert SHIPPED["yolo11n-coco-int8-320"][1].sha256 == (
        "5ea9b19c6c4d89041175fd2d4f9d2e1581d16f37b817021d547278fc5e2f2b58")
    assert SHIPPED["yolo11n-coco-int8-320"][1].imgsz == 320


def test_fallback_model_is_described_by_name():
    """`yolo11n.pt`, fetched by Ultralytics where the shared file is absent, still has its labels known."""
    path, manifest = SHIPPED["yolo11n-coco"]
    assert expand_file(manifest, path) == FALLBACK_MODEL
    assert manifest.labels == SHIPPED["yolov8n-coco-int8-640"][1].labels
    found = find_shipped_manifest(FALLBACK_MODEL)
    assert found is not None and found[1].name == "yolo11n-coco"


def test_a_copy_is_recognised_by_sha256(tmp_path: Path):
    copy = tmp_path / "renamed.onnx"
    shutil.copyfile(WEIGHTS / "yolo11n-coco-int8-320.onnx", copy)
    info = resolve_model(str(copy), load=False)
    assert info.origin == "shipped manifest" and info.name == "yolo11n-coco-int8-320"
    assert info.imgsz == 320 and not info.warnings


def test_openvino_folder_found_by_its_xml():
    info = resolve_model(str(WEIGHTS / "yolo11n-coco-int8-openvino" / "yolo11n.xml"), load=False)
    assert info.name == "yolo11n-coco-int8-openvino" and info.format == "openvino"


def test_manifest_beside_weights_wins_and_maps_labels(tmp_path: Path):
    weights = tmp_path / "city.onnx"
    shutil.copyfile(WEIGHTS / "yolov8n-coco-int8-640.onnx", weights)
    shipped = SHIPPED["yolov8n-coco-int8-640"][1]
    own = shipped.model_copy(update={"name": "city", "file": "city.onnx", "label_map": {"umbrella": "vending_stall"}})
    save_manifest(own, manifest_path_for(weights))
    info = resolve_model(str(weights), label_map={"bench": ""}, load=False)
    assert info.origin == "manifest beside weights" and info.name == "city"
    assert "vending_stall" in info.evidence_labels and "umbrella" not in info.evidence_labels
    assert "bench" not in info.evidence_labels  # mapped to '' in the configuration: dropped
    assert expand_file(own, manifest_path_for(weights)) == str(weights)


def test_a_manifest_for_other_weights_is_flagged(tmp_path: Path):
    wrong = SHIPPED["yolov8n-coco-int8-640"][1].model_copy(update={"file": str(WEIGHTS / "yolo11n-coco-int8-320.onnx")})
    manifest = save_manifest(wrong, tmp_path / "wrong.manifest.yaml")
    info = resolve_model(str(WEIGHTS / "yolo11n-coco-int8-320.onnx"), manifest=str(manifest), load=False)
    assert info.origin == "manifest" and any("sha256" in w for w in info.warnings)


def test_labels_that_only_loading_reveals_are_reported_not_guessed(tmp_path: Path):
    missing = str(tmp_path / "city.pt")
    with pytest.raises(LabelsUnavailable, match="manifest"):
        read_labels(missing, load=False)
    info = resolve_model(missing, load=False)
    assert info.origin == "unknown" and info.error and info.evidence_labels == []


def test_a_bad_manifest_names_the_file(tmp_path: Path):
    bad = tmp_path / "bad.manifest.yaml"
    bad.write_text("name: x\nfile: x.onnx\nformat: onnx\nlabels: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.manifest\.yaml: invalid model manifest"):
        resolve_model("x.onnx", manifest=str(bad))


def test_assets_variable_is_read_when_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "weights").mkdir()
    monkeypatch.setenv("STREETWATCH_ASSETS", str(tmp_path))
    manifest = ModelManifest.model_validate(
        {"name": "x", "file": "${STREETWATCH_ASSETS}/weights/x.onnx", "format": "onnx", "labels": ["car"]})
    assert expand_file(manifest) == str(tmp_path / "weights" / "x.onnx")
