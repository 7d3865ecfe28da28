"""Models load as a new user points at them: the shipped OpenVINO folder by its own name, and every
failure to load as one line that names the path and the fix, never a traceback."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import cv2
import pytest

from detector import Detector, DetectorConfig, DetectorError
from models.loading import OPENVINO_SUFFIX, ModelLoadError, loadable_path
from models.registry import SHIPPED_MANIFESTS
from tests.conftest import ASSETS
from tests.models.conftest import OPENVINO_DIR

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("private_cache")


def _bus_labels(detector: Detector) -> Counter[str]:
    image = cv2.imread(str(ASSETS / "images" / "bus.jpg"))
    assert image is not None
    return Counter(detector.detect([image])[0].labels.tolist())


def test_the_shared_openvino_folder_loads_by_its_own_name(private_cache: Path):
    pytest.importorskip("openvino")
    detector = Detector(DetectorConfig(model=str(OPENVINO_DIR)))
    found = _bus_labels(detector)
    assert found["bus"] == 1 and found["person"] >= 3  # what the ONNX models find on this image too
    [link] = (private_cache / "openvino").iterdir()
    assert link.name.endswith(OPENVINO_SUFFIX) and link.is_symlink()  # linked, never copied
    assert link.resolve() == OPENVINO_DIR.resolve()
    info = detector.models[0]
    assert (info.name, info.format, info.imgsz, info.origin) == (
        "yolo11n-coco-int8-openvino",
        "openvino",
        640,
        "shipped manifest",
    )
    assert not info.warnings  # the folder's sha256 matches its manifest through the original path


def test_the_shipped_manifest_loads_the_same_folder_and_the_link_is_reused(private_cache: Path):
    pytest.importorskip("openvino")
    manifest = SHIPPED_MANIFESTS / "yolo11n-coco-int8-openvino.yaml"
    detector = Detector(DetectorConfig.model_validate({"models": [{"manifest": str(manifest)}]}))
    assert _bus_labels(detector)["bus"] == 1
    first = loadable_path(str(OPENVINO_DIR))
    assert loadable_path(str(OPENVINO_DIR / "yolo11n.xml")) == first  # the .xml names the same model
    assert len(list((private_cache / "openvino").iterdir())) == 1


def test_a_folder_already_named_for_ultralytics_is_used_as_it_is(tmp_path: Path):
    pytest.importorskip("openvino")
    named = tmp_path / f"city{OPENVINO_SUFFIX}"
    named.symlink_to(OPENVINO_DIR, target_is_directory=True)
    assert loadable_path(str(named)) == str(named)


def _one_line_error(path: str) -> str:
    with pytest.raises(DetectorError) as caught:
        Detector(DetectorConfig(model=path))
    message = str(caught.value)
    assert "\n" not in message and path in message
    assert caught.value.__cause__ is None  # nothing of Ultralytics' traceback rides along
    return message


def test_a_missing_file_says_where_to_look(tmp_path: Path):
    message = _one_line_error(str(tmp_path / "nope.onnx"))
    assert message.startswith("模型文件不存在 model not found") and "STREETWATCH_MODEL" in message


def test_only_a_bare_pt_name_is_left_for_ultralytics_to_fetch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    assert loadable_path("yolo11n.pt") == "yolo11n.pt"  # downloaded by name where the internet is reachable
    with pytest.raises(ModelLoadError, match=r"model not found: best\.onnx"):
        loadable_path("best.onnx")  # a relative file that is not there is a mistake, not a name


def test_a_folder_without_a_model_says_what_it_needs(tmp_path: Path):
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "readme.txt").write_text("not a model")
    message = _one_line_error(str(tmp_path / "weights"))
    assert message.startswith("不是 OpenVINO 模型文件夹") and ".xml" in message and ".bin" in message


def test_a_missing_runtime_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name, *a))
    message = _one_line_error(str(OPENVINO_DIR))
    assert message.startswith("缺少运行库 missing runtime") and "pip install openvino" in message


def test_a_damaged_file_is_one_line_too(tmp_path: Path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is no ONNX graph")
    with pytest.raises(DetectorError) as caught:
        Detector(DetectorConfig(model=str(broken)))
    message = str(caught.value)
    assert "\n" not in message and str(broken) in message and message.startswith("模型无法加载")


def test_the_command_line_prints_the_reason_not_a_traceback(tmp_path: Path):
    missing = tmp_path / "yolo-missing_openvino_model"
    env = {
        **os.environ,
        "STREETWATCH_MODEL": str(missing),
        "STREETWATCH_ASSETS": str(ASSETS),
        "PYTHONPATH": str(ROOT),
        "STREETWATCH_CACHE_DIR": str(tmp_path / "cache"),
    }
    clip = ASSETS / "video" / "night-wet-square-240p.mp4"
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "replay", str(clip)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"错误 error: 模型文件不存在 model not found: {missing}" in result.stderr
