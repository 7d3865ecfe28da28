"""`streetwatch export --triton`: a model repository Triton can serve and Ultralytics can use, checked without a server.

No tritonserver, tritonclient or GPU here, and no stand-in for them: the repository's layout and config.pbtxt
are checked against what Triton requires and against the ONNX graph itself (read with onnx), and the
repository's model.onnx is run as it stands, by onnxruntime at the batch sizes the config declares and through
the project's Detector, whose boxes must equal the source weights' own. What Triton itself does with the
repository is not tested here (docs/deploy.md says so).
"""

from __future__ import annotations

import ast
import hashlib
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from cli.main import app
from detector import Detector, DetectorConfig
from detector.yolo import DetectorError
from tests.conftest import ASSETS, RESIDENTIAL
from tests.pbtxt import read_pbtxt
from training.agreement import clip_frames

INT8 = ASSETS / "weights" / "yolov8n-coco-int8-640.onnx"
# onnx.TensorProto element types -> Triton's names (model_config.proto), written out here rather than imported.
TRITON_TYPES = {onnx.TensorProto.FLOAT: "TYPE_FP32", onnx.TensorProto.FLOAT16: "TYPE_FP16",
                onnx.TensorProto.UINT8: "TYPE_UINT8", onnx.TensorProto.INT64: "TYPE_INT64"}


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    """bus.jpg and two frames of the residential clip (parked cars)."""
    clip = [f for i, f in enumerate(clip_frames(RESIDENTIAL, 200)) if i < 2]
    bus = cv2.imread(str(ASSETS / "images" / "bus.jpg"))
    assert bus is not None
    return [bus, *clip]


def _export(args: list[str]) -> Any:
    result = CliRunner().invoke(app, ["export", *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def int8_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared default ONNX (fixed batch of 1) as a repository, CPU instances."""
    repo = tmp_path_factory.mktemp("triton-int8")
    _export([str(INT8), "--triton", str(repo), "--name", "coco", "--kind", "cpu"])
    return repo


@pytest.fixture(scope="module")
def float_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The float YOLOv8n rebuilt from the shared int8 file, exported by Ultralytics (open batch) as a repository."""
    from training.rebuild import build_float_model, save_checkpoint

    folder = tmp_path_factory.mktemp("triton-float")
    model, _ = build_float_model(INT8)
    weights = save_checkpoint(model, folder / "float.pt", source=str(INT8))
    _export([str(weights), "--triton", str(folder / "repo"), "--max-batch", "4"])
    return folder / "repo", weights.with_suffix(".onnx")


def _graph(path: Path) -> tuple[dict[str, tuple[str, list[int]]], dict[str, tuple[str, list[int]]], dict[str, str]]:
    """Inputs and outputs as name -> (Triton type, dims with -1 for open ones), straight from the ONNX file."""
    model = onnx.load(str(path))

    def side(values: Any) -> dict[str, tuple[str, list[int]]]:
        return {v.name: (TRITON_TYPES[v.type.tensor_type.elem_type],
                         [d.dim_value if d.HasField("dim_value") else -1 for d in v.type.tensor_type.shape.dim])
                for v in values}

    return side(model.graph.input), side(model.graph.output), {p.key: p.value for p in model.metadata_props}


def _config(repo: Path, name: str) -> dict[str, list[Any]]:
    return read_pbtxt((repo / name / "config.pbtxt").read_text(encoding="utf-8"))


def _tensors(config: dict[str, list[Any]], kind: str, batched: bool) -> dict[str, tuple[str, list[int]]]:
    return {t["name"][0]: (t["data_type"][0], ([-1] if batched else []) + list(t["dims"][0])) for t in config[kind]}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_layout_is_what_triton_loads(int8_repo: Path):
    found = sorted(str(p.relative_to(int8_repo)) for p in int8_repo.rglob("*"))
    assert found == ["coco", "coco/1", "coco/1/model.onnx", "coco/config.pbtxt"]
    assert _sha(int8_repo / "coco" / "1" / "model.onnx") == _sha(INT8)


def test_fixed_batch_config_equals_the_graph(int8_repo: Path):
    config = _config(int8_repo, "coco")
    inputs, outputs, meta = _graph(INT8)
    assert config["name"] == ["coco"] and config["backend"] == ["onnxruntime"]
    assert config["max_batch_size"] == [0] and "dynamic_batching" not in config  # the graph's batch is fixed at 1
    assert _tensors(config, "input", False) == inputs == {"images": ("TYPE_FP32", [1, 3, 640, 640])}
    assert _tensors(config, "output", False) == outputs
    assert [g["kind"] for g in config["instance_group"]] == [["KIND_CPU"]]
    metadata = ast.literal_eval(config["parameters"][0]["value"][0]["string_value"][0])
    assert config["parameters"][0]["key"] == ["metadata"]
    assert metadata["names"] == ast.literal_eval(meta["names"]) and len(metadata["names"]) == 80
    assert metadata["imgsz"] == [640, 640] and metadata["stride"] == 32 and metadata["batch"] == 1
    assert metadata["args"]["dynamic"] is False


def test_dynamic_batch_config_equals_the_graph(float_repo: tuple[Path, Path]):
    repo, source = float_repo
    config = _config(repo, "yolo")
    inputs, outputs, _ = _graph(source)
    assert inputs["images"][1][0] == -1  # Ultralytics exported an open batch dimension
    assert config["max_batch_size"] == [4] and config["dynamic_batching"] == [{}]
    assert _tensors(config, "input", True) == inputs
    assert _tensors(config, "output", True) == outputs
    assert [g["kind"] for g in config["instance_group"]] == [["KIND_GPU"]]
    metadata = ast.literal_eval(config["parameters"][0]["value"][0]["string_value"][0])
    assert metadata["args"]["dynamic"] is True and metadata["batch"] == 4


def _same_boxes(a: Any, b: Any, atol: float) -> None:
    assert len(a) == len(b) > 0
    assert a.labels.tolist() == b.labels.tolist()
    np.testing.assert_allclose(a.xyxy, b.xyxy, atol=atol)
    np.testing.assert_allclose(a.confidence, b.confidence, atol=atol / 100)


def test_the_repository_model_gives_the_source_weights_boxes(float_repo: tuple[Path, Path], frames: list[np.ndarray]):
    repo, _ = float_repo
    served = Detector(DetectorConfig(model=str(repo / "yolo" / "1" / "model.onnx"))).detect(frames)
    source = Detector(DetectorConfig(model=str(repo.parent / "float.pt"))).detect(frames)
    for a, b in zip(served, source, strict=True):
        _same_boxes(a, b, atol=1e-2)


@pytest.mark.parametrize("batch", [1, 4])
def test_the_repository_model_runs_at_the_batch_sizes_its_config_allows(float_repo: tuple[Path, Path], batch: int):
    import onnxruntime

    repo, _ = float_repo
    config = _config(repo, "yolo")
    assert batch <= config["max_batch_size"][0]
    session = onnxruntime.InferenceSession(str(repo / "yolo" / "1" / "model.onnx"), providers=["CPUExecutionProvider"])
    (declared,) = config["input"]
    side = ast.literal_eval(config["parameters"][0]["value"][0]["string_value"][0])["imgsz"][0]
    dims = [side if d == -1 else d for d in declared["dims"][0]]  # an open height and width: the model's own size
    images = np.random.default_rng(0).random((batch, *dims), dtype=np.float32)
    outputs = session.run([t["name"][0] for t in config["output"]], {declared["name"][0]: images})
    for output, expected in zip(outputs, config["output"], strict=True):
        assert output.shape[0] == batch and len(output.shape) == 1 + len(expected["dims"][0])
        assert all(d in (-1, n) for d, n in zip(expected["dims"][0], output.shape[1:], strict=True))


def test_a_malformed_url_is_a_configuration_error():
    for url in ("http://triton/yolo", "http://triton:8000/", "https://triton:8000/yolo", "http://triton:8000/a/b",
                "http://triton:8000/x_openvino_model"):
        with pytest.raises(ValidationError, match="invalid Triton URL"):
            DetectorConfig(model=url)
    assert DetectorConfig(model="grpc://triton:8001/yolo").model == "grpc://triton:8001/yolo"


def test_a_missing_client_names_the_extra(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "tritonclient", None)  # find_spec answers None: not installed
    with pytest.raises(DetectorError, match=r"missing Triton client.*streetwatch\[triton\]") as caught:
        Detector(DetectorConfig(model="http://triton:8000/yolo"))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("args", "message"), [
    (["--kind", "tpu"], "--kind must be gpu or cpu"),
    (["--format", "openvino"], "drop --format openvino"),
    (["--name", "a/b"], "invalid model name"),
    (["--int8"], "drop --int8 and --out"),
])
def test_bad_export_options_fail_in_one_line(tmp_path: Path, args: list[str], message: str):
    result = CliRunner().invoke(app, ["export", str(INT8), "--triton", str(tmp_path), *args])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_the_api_describes_a_triton_model_without_connecting():
    [info] = DetectorConfig(model="http://triton:8000/yolo").describe_models(load=False)
    assert info.format == "triton" and info.name == "yolo" and info.origin == "unknown"
    assert "labels are read from its server" in (info.error or "")
