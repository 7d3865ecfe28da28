"""NVIDIA Triton Inference Server: a model repository from an ONNX file, and the URLs workers load models by.

Ultralytics talks to Triton itself (`YOLO("http://host:8000/name", task="detect")`): it reads the inputs,
outputs and dtypes from the server's model configuration, and the class names, image size, stride and
batch from the configuration's `parameters { key: "metadata" }` (a Python literal of the ONNX file's
Ultralytics metadata). So the repository written here copies that metadata from the ONNX graph, and every
name, dtype and dim in `config.pbtxt` is read from the graph, never assumed.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from models.loading import ModelLoadError

TRITON_SCHEMES = ("http", "grpc")
# Triton model names that Ultralytics will not mistake for a file format (it matches suffixes such as
# `_openvino_model` or `.onnx` anywhere in the name), and that are one path segment.
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# The Python module each scheme's client needs, beyond tritonclient itself, and the pip line that installs it.
_CLIENTS = {
    "http": ("geventhttpclient", "pip install 'streetwatch[triton]'"),
    "grpc": ("grpc", "pip install 'tritonclient[grpc]'"),
}
# ONNX TensorProto element types -> Triton data types (model_config.proto).
ONNX_TO_TRITON = {
    1: "TYPE_FP32", 2: "TYPE_UINT8", 3: "TYPE_INT8", 4: "TYPE_UINT16", 5: "TYPE_INT16", 6: "TYPE_INT32",
    7: "TYPE_INT64", 8: "TYPE_STRING", 9: "TYPE_BOOL", 10: "TYPE_FP16", 11: "TYPE_FP64", 12: "TYPE_UINT32",
    13: "TYPE_UINT64", 16: "TYPE_BF16",
}
# Input dtypes Ultralytics' Triton client can send (ultralytics/utils/triton.py).
ULTRALYTICS_INPUT_TYPES = ("TYPE_FP32", "TYPE_FP16", "TYPE_UINT8")


class TritonError(ValueError):
    """A Triton URL or repository cannot be used; one line, zh-CN then English."""


def is_triton_url(path: str) -> bool:
    """A model given as a URL (`http://triton:8000/yolo`) rather than a file: Triton serves it."""
    return "://" in path


def triton_model_name(url: str) -> str:
    """The model name in a Triton URL; raises ModelLoadError naming the expected form for a malformed one."""
    form = "http://HOST:PORT/MODEL (例 e.g. http://triton:8000/yolo)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in TRITON_SCHEMES:
        raise ModelLoadError(f"Triton 地址无效 invalid Triton URL {url!r}: scheme must be http or grpc — 应为 {form}")
    name = parts.path.strip("/")
    if not parts.hostname or port is None:
        raise ModelLoadError(f"Triton 地址无效 invalid Triton URL {url!r}: needs a host and a port — 应为 {form}")
    if parts.query or parts.fragment or parts.username or not MODEL_NAME.match(name) or "_model" in name:
        raise ModelLoadError(
            f"Triton 地址无效 invalid Triton URL {url!r}: the path must be one model name (letters, digits, _ and -, "
            f"without '_model') — 应为 {form}"
        )
    return name


def require_triton_client(url: str) -> None:
    """Fail before Ultralytics does: it would try to pip-install tritonclient[all] inside a running worker."""
    scheme = urlsplit(url).scheme
    module, install = _CLIENTS[scheme]
    if importlib.util.find_spec("tritonclient") is None or importlib.util.find_spec(module) is None:
        raise ModelLoadError(
            f"缺少 Triton 客户端 missing Triton client: {url} needs tritonclient[{scheme}] — "
            f"请安装 install it: {install}"
        )


@dataclass(frozen=True)
class Tensor:
    """One graph input or output as Triton's configuration names it."""

    name: str
    data_type: str
    dims: tuple[int, ...]  # -1 for a dimension the graph leaves open


def graph_tensors(onnx_path: Path) -> tuple[list[Tensor], list[Tensor], dict[str, str]]:
    """Inputs, outputs (with full shapes, batch first) and Ultralytics metadata of an ONNX file."""
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    initialisers = {t.name for t in model.graph.initializer}

    def tensors(values: list) -> list[Tensor]:  # type: ignore[type-arg]
        found = []
        for value in values:
            if value.name in initialisers:
                continue
            t = value.type.tensor_type
            if t.elem_type not in ONNX_TO_TRITON:
                raise TritonError(f"{onnx_path}: tensor {value.name} has ONNX type {t.elem_type}, which Triton lacks")
            dims = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim)
            found.append(Tensor(value.name, ONNX_TO_TRITON[t.elem_type], dims))
        return found

    return tensors(model.graph.input), tensors(model.graph.output), {p.key: p.value for p in model.metadata_props}


def _metadata(meta: dict[str, str], dynamic: bool, max_batch: int) -> dict[str, object]:
    """The ONNX metadata as Ultralytics' Triton client reads it back, with the batch this repository serves."""
    parsed: dict[str, object] = {}
    for key, value in meta.items():
        try:
            parsed[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):  # plain text: kept as it is
            parsed[key] = value
    if "names" not in parsed:
        raise TritonError("模型无类别名 no class names in the ONNX metadata: export it with Ultralytics "
                          "(streetwatch export WEIGHTS.pt --triton DIR)")
    args = parsed.get("args") if isinstance(parsed.get("args"), dict) else {}
    parsed["args"] = {**args, "dynamic": dynamic}  # type: ignore[dict-item]
    parsed["batch"] = max_batch if dynamic else 1
    return parsed


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _tensor_block(kind: str, tensors: list[Tensor], batched: bool) -> str:
    blocks = []
    for t in tensors:
        dims = t.dims[1:] if batched else t.dims
        blocks.append(f"  {{\n    name: {_quote(t.name)}\n    data_type: {t.data_type}\n"
                      f"    dims: [ {', '.join(str(d) for d in dims)} ]\n  }}")
    return f"{kind} [\n" + ",\n".join(blocks) + "\n]\n"


def write_repository(
    onnx_path: Path | str,
    repository: Path | str,
    name: str = "yolo",
    *,
    kind: Literal["gpu", "cpu"] = "gpu",
    max_batch: int = 8,
    instances: int = 1,
) -> Path:
    """Write `repository/name/config.pbtxt` and `repository/name/1/model.onnx`; returns the model's folder.

    A graph whose inputs and outputs all leave the first dimension open gets Triton's batching
    (`max_batch_size`, dynamic batching over the cameras' requests); a fixed-batch graph gets
    `max_batch_size: 0` and its full shapes, and Ultralytics then sends it one image per request.
    """
    onnx_path = Path(onnx_path)
    if not onnx_path.is_file() or onnx_path.suffix.lower() != ".onnx":
        raise TritonError(f"不是 ONNX 文件 not an ONNX file: {onnx_path}")
    if not MODEL_NAME.match(name) or "_model" in name:
        raise TritonError(f"模型名无效 invalid model name {name!r}: letters, digits, _ and -, without '_model'")
    inputs, outputs, meta = graph_tensors(onnx_path)
    bad = [t.name for t in inputs if t.data_type not in ULTRALYTICS_INPUT_TYPES]
    if bad:
        raise TritonError(f"{onnx_path}: inputs {bad} are not FP32/FP16/UINT8, which Ultralytics' Triton client sends")
    dynamic = all(t.dims and t.dims[0] == -1 for t in inputs + outputs)
    metadata = _metadata(meta, dynamic, max_batch)
    folder = Path(repository) / name
    (folder / "1").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(onnx_path, folder / "1" / "model.onnx")
    text = (
        f"# Written by `streetwatch export --triton` from {onnx_path.name}; shapes and types read from its graph.\n"
        f"name: {_quote(name)}\nbackend: \"onnxruntime\"\nmax_batch_size: {max_batch if dynamic else 0}\n"
        + _tensor_block("input", inputs, dynamic)
        + _tensor_block("output", outputs, dynamic)
        + ("dynamic_batching { }\n" if dynamic else "")
        + f"instance_group [\n  {{\n    count: {instances}\n    kind: KIND_{kind.upper()}\n  }}\n]\n"
        + "# Ultralytics reads class names, imgsz, stride and batch from here (ultralytics/utils/triton.py).\n"
        + f"parameters {{\n  key: \"metadata\"\n  value {{\n    string_value: {_quote(repr(metadata))}\n  }}\n}}\n"
    )
    (folder / "config.pbtxt").write_text(text, encoding="utf-8")
    return folder
