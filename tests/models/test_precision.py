"""Every model runs at the precision the configuration chose, read back from the runtime itself.

OpenVINO's CPU plugin takes bfloat16 by itself on CPUs that compute it natively, and on such a CPU the
shared truth scored F1 0.923 instead of 1.000 (one extra parking alert). The detector asks for float32
by default and the compiled model must say so; `auto` leaves the choice to the runtime.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from detector import Detector, DetectorConfig
from models.precision import pin_precision, pinned_precision
from tests.conftest import ASSETS
from tests.models.conftest import OPENVINO_DIR

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("private_cache")


def _bus() -> np.ndarray:
    image = cv2.imread(str(ASSETS / "images" / "bus.jpg"))
    assert image is not None
    return image


def _openvino_backend(detector: Detector):  # type: ignore[no-untyped-def]
    return detector._loaded[0].model.predictor.model.backend


def _cpu_has_bf16() -> bool:
    import openvino

    return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def test_the_default_detector_runs_openvino_in_float32_as_the_compiled_model_reports():
    openvino = pytest.importorskip("openvino")
    detector = Detector(DetectorConfig(model=str(OPENVINO_DIR)))
    assert detector.config.precision == "f32"
    found = detector.detect([_bus()])[0]
    assert "bus" in found.labels.tolist()
    backend = _openvino_backend(detector)
    # The runtime's own word, not the configuration: on a CPU with AVX-512 BF16 or AMX this is bfloat16
    # unless float32 was asked for when compiling.
    assert backend.ov_compiled_model.get_property("INFERENCE_PRECISION_HINT") == openvino.Type.f32
    # And it was asked for, so a CPU without bfloat16 (where the plugin's default is float32 anyway)
    # fails this test too when nothing pins the precision.
    assert backend.compile_model.keywords["config"]["INFERENCE_PRECISION_HINT"] == "f32"
    assert detector.precisions == {detector.models[0].name: "f32"}


def test_a_runtime_ultralytics_builds_again_is_pinned_again():
    openvino = pytest.importorskip("openvino")
    detector = Detector(DetectorConfig(model=str(OPENVINO_DIR)))
    detector.detect([_bus()])
    first = _openvino_backend(detector)
    # `nms` is one of Ultralytics' setup keys: changing it makes it build a new runtime for the next call.
    detector._loaded[0].model.predict([_bus()], verbose=False, nms=True)
    second = _openvino_backend(detector)
    assert second is not first
    assert second.ov_compiled_model.get_property("INFERENCE_PRECISION_HINT") == openvino.Type.f32


def test_auto_leaves_the_choice_to_the_runtime_which_takes_bfloat16_where_the_cpu_has_it():
    pytest.importorskip("openvino")
    if not _cpu_has_bf16():
        pytest.skip("this CPU computes no bfloat16, so OpenVINO's own choice is float32 here")
    detector = Detector(DetectorConfig(model=str(OPENVINO_DIR), precision="auto"))
    detector.detect([_bus()])
    assert detector.precisions == {detector.models[0].name: "bf16"}
    assert "INFERENCE_PRECISION_HINT" not in _openvino_backend(detector).compile_model.keywords["config"]


def test_a_precision_the_product_does_not_offer_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as caught:
        DetectorConfig(precision="bf16")
    assert "precision" in str(caught.value) and "'f32' or 'auto'" in str(caught.value)


def test_pytorch_matmuls_and_convolutions_are_pinned_to_float32():
    import torch
    from ultralytics import YOLO

    mkldnn = torch.backends.mkldnn
    before = (mkldnn.matmul.fp32_precision, mkldnn.conv.fp32_precision, torch.get_float32_matmul_precision())
    try:
        mkldnn.matmul.fp32_precision = "bf16"  # what a process may have been set to before the model loads
        mkldnn.conv.fp32_precision = "bf16"
        model = YOLO("yolov8n.yaml", task="detect")  # built from Ultralytics' own config: no weights needed
        pin_precision(model, "f32", "yolov8n.yaml", "yolov8n")
        model.predict([_bus()], imgsz=160, verbose=False)
        assert pinned_precision(model) == "f32"
        assert (mkldnn.matmul.fp32_precision, mkldnn.conv.fp32_precision) == ("ieee", "ieee")
    finally:
        mkldnn.matmul.fp32_precision, mkldnn.conv.fp32_precision = before[:2]
        torch.set_float32_matmul_precision(before[2])


def test_streetwatch_models_shows_the_precision_each_runtime_compiles_at():
    pytest.importorskip("openvino")
    done = subprocess.run([sys.executable, "-m", "cli.main", "models"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "推理精度 precision: f32 (configured f32)" in done.stdout
