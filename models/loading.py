"""Turn a configured weights path into one Ultralytics loads, or into a one-line error that says what to do.

Ultralytics recognises an OpenVINO model only by a folder name ending in `_openvino_model`; the shared
`yolo11n-coco-int8-openvino/` folder (and any folder a city copies under its own name) does not, and
fails deep inside Ultralytics with a traceback. Such a folder is reached through a symlink of the
expected name in a cache folder, made on load, so the weights are never copied. Every failure we can
foresee (no such file, a folder that holds no model, the runtime package missing) is reported before
Ultralytics is called, naming the path, in Chinese first and then English.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Any

from models.manifest import format_of
from models.precision import Precision, pin_precision

OPENVINO_SUFFIX = "_openvino_model"
# Runtime package each format needs, and the pip name that installs it.
_RUNTIMES = {
    "onnx": ("onnxruntime", "onnxruntime"),
    "openvino": ("openvino", "openvino"),
    "tflite": ("ai_edge_litert", "ai-edge-litert"),
}


class ModelLoadError(ValueError):
    """A model cannot be loaded; the message is one line, zh-CN then English, naming the path and the fix."""


def cache_dir() -> Path:
    """Where links of the names Ultralytics expects live: STREETWATCH_CACHE_DIR, else ~/.cache/streetwatch."""
    configured = os.environ.get("STREETWATCH_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "streetwatch"


def is_hub_name(path: str) -> bool:
    """A bare `.pt` name such as `yolo11n.pt` that Ultralytics fetches where the internet is reachable."""
    return "/" not in path and os.sep not in path and path.endswith(".pt") and not Path(path).exists()


def loadable_path(path: str) -> str:
    """The path to hand to `ultralytics.YOLO`; raises ModelLoadError for anything that would fail to load."""
    from models import triton

    if triton.is_triton_url(path):  # served by Triton: checked here, reached only when Ultralytics connects
        triton.triton_model_name(path)
        triton.require_triton_client(path)
        return path
    if is_hub_name(path):
        return path
    weights = Path(path).expanduser()
    if not weights.exists():
        raise ModelLoadError(
            f"模型文件不存在 model not found: {weights} — 请检查 STREETWATCH_MODEL 或 detector.models 的路径 "
            f"check STREETWATCH_MODEL / detector.models (shared weights live in $STREETWATCH_ASSETS/weights/)"
        )
    fmt = format_of(weights)
    _require_runtime(fmt, weights)
    if fmt == "openvino":
        return str(_openvino_folder(weights))
    if weights.is_dir():
        raise ModelLoadError(
            f"不是模型文件 not a model file: {weights} is a folder — 请指向 .onnx/.pt 文件或 OpenVINO "
            f"文件夹 point at a .onnx/.pt file or an OpenVINO folder (model.xml + model.bin)"
        )
    return str(weights)


def open_yolo(path: str, precision: Precision = "f32", name: str | None = None) -> Any:
    """`ultralytics.YOLO` for a configured path, its runtime pinned to `precision` (models/precision.py).

    Every model the product or its benchmarks run is opened here, so no runtime picks its own precision.
    """
    from ultralytics import YOLO  # heavy import, paid only by processes that detect

    weights = loadable_path(path)
    model = YOLO(weights, task="detect")
    pin_precision(model, precision, weights, name or Path(path).name)
    return model


def _require_runtime(fmt: str, weights: Path) -> None:
    module, package = _RUNTIMES.get(fmt, ("", ""))
    if module and importlib.util.find_spec(module) is None:
        raise ModelLoadError(
            f"缺少运行库 missing runtime: {weights} needs the Python package {package!r} — "
            f"请安装 install it: pip install {package}"
        )


def _openvino_folder(weights: Path) -> Path:
    """The model's folder under a name ending in `_openvino_model`: itself, or a link to it in the cache."""
    folder = weights.parent if weights.is_file() else weights
    xml = sorted(folder.glob("*.xml"))
    if not xml or not xml[0].with_suffix(".bin").is_file():
        raise ModelLoadError(
            f"不是 OpenVINO 模型文件夹 not an OpenVINO model folder: {folder} has no model.xml with its model.bin — "
            f"请指向含 .xml 和 .bin 的文件夹 point at the folder holding both (or at a .onnx/.pt file)"
        )
    if len(xml) > 1:
        raise ModelLoadError(
            f"OpenVINO 文件夹含多个模型 several models in one OpenVINO folder: {folder} holds "
            f"{', '.join(x.name for x in xml)} — 每个模型一个文件夹 keep one model per folder"
        )
    if folder.name.endswith(OPENVINO_SUFFIX):
        return folder.absolute()
    folder = folder.resolve()
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:10]
    link = cache_dir() / "openvino" / f"{folder.name}-{digest}{OPENVINO_SUFFIX}"
    try:
        if not (link.is_symlink() and link.resolve() == folder):
            link.parent.mkdir(parents=True, exist_ok=True)
            temporary = link.with_name(f"{link.name}.{os.getpid()}.tmp")
            temporary.unlink(missing_ok=True)
            temporary.symlink_to(folder, target_is_directory=True)
            temporary.replace(link)  # atomic: workers starting together never see a half-made link
    except OSError as exc:
        raise ModelLoadError(
            f"无法创建模型链接 cannot link {folder} as {link}: {exc.strerror or exc} — 请设置可写的 "
            f"STREETWATCH_CACHE_DIR set STREETWATCH_CACHE_DIR to a writable folder, or rename the folder to "
            f"*{OPENVINO_SUFFIX}"
        ) from None
    return link
