"""One inference precision, chosen on purpose, for every model the product runs.

OpenVINO's CPU plugin picks bfloat16 by itself wherever the processor computes it natively (AVX-512 BF16,
AMX), and Ultralytics asks for float32 only on Windows and ARM64: on such a Xeon or EPYC the same clip then
raised an extra parking alert (a 0.34 "car" on kerb rubble) that float32 did not. Alerts must not depend
on which server a centre bought, so every model runs in float32 unless the configuration says `auto`
(the runtime's own choice). This module is the one place that is decided:

- `pin_precision(yolo, precision)` hooks an Ultralytics model so that whenever Ultralytics builds its
  runtime (on the first predict, and again when it rebuilds its predictor), the runtime is pinned before
  the first frame runs, and the precision the runtime reports is logged;
- `runtime_precision(backend)` reads that precision back from the runtime itself (the compiled model's
  own property for OpenVINO), for logs, `streetwatch models` and tests;
- `openvino_config(precision)` is the compile configuration for code that compiles OpenVINO models itself.

The other runtimes, measured and documented in docs/models.md: ONNX Runtime's CPU provider computes float
operators in float32 (its bfloat16 GEMM path exists only on ARM64 and only when a session asks for it);
PyTorch on a CPU keeps float32 matmuls and convolutions unless `torch.backends.*.fp32_precision` allows
bf16, which f32 pins to "ieee"; LiteRT's XNNPACK delegate runs float models in float32 unless a model
carries reduced-precision metadata or a flag forces FP16; TensorRT engines have the precision they were
built with.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

Precision = Literal["f32", "auto"]
PRECISIONS: tuple[str, ...] = ("f32", "auto")
_PINNED = "_streetwatch_precision"  # set on an Ultralytics AutoBackend once its runtime is pinned


class PrecisionError(RuntimeError):
    """The runtime could not be pinned (an Ultralytics release that keeps its runtime elsewhere)."""


def openvino_config(precision: Precision) -> dict[str, str]:
    """Compile properties for OpenVINO: float32 on purpose, or nothing (the plugin's own choice)."""
    return {"INFERENCE_PRECISION_HINT": "f32"} if precision == "f32" else {}


def pin_precision(yolo: Any, precision: Precision, weights: str | Path, name: str) -> None:
    """Pin `yolo` (loaded from `weights`) to `precision` whenever Ultralytics builds its runtime.

    Ultralytics builds its runtime lazily inside `predict` and rebuilds it when setup arguments change;
    its `on_predict_start` callback runs after each build and before the first batch, which is where the
    runtime is (re)compiled. Pinning happens once per runtime object.
    """

    def on_predict_start(predictor: Any) -> None:
        backend = predictor.model
        if getattr(backend, _PINNED, None) is not None:
            return
        in_use = _pin_backend(backend, precision, weights)
        setattr(backend, _PINNED, in_use)
        log.info("model %s: %s inference precision %s (configured %s)", name, backend.format, in_use, precision)

    yolo.add_callback("on_predict_start", on_predict_start)


def pinned_precision(yolo: Any) -> str | None:
    """The precision the runtime reported when it was pinned; None before the first predict."""
    predictor = getattr(yolo, "predictor", None)
    backend = getattr(predictor, "model", None) if predictor is not None else None
    return getattr(backend, _PINNED, None) if backend is not None else None


def runtime_precision(backend: Any) -> str:
    """What the runtime itself computes in, read from the runtime (not from what was asked of it)."""
    fmt = getattr(backend, "format", "")
    inner = getattr(backend, "backend", backend)
    if fmt == "openvino":
        compiled = getattr(inner, "ov_compiled_model", None)
        if compiled is None:
            raise PrecisionError("Ultralytics' OpenVINO backend has no ov_compiled_model: cannot read its precision")
        return _ov_type_name(compiled.get_property("INFERENCE_PRECISION_HINT"))
    if fmt in ("onnx", "dnn"):
        session = getattr(inner, "session", None)
        providers = session.get_providers() if session is not None else []
        return "f32" if providers[:1] == ["CPUExecutionProvider"] else f"provider {providers[:1] or '?'}"
    if fmt in ("pt", "torchscript"):
        return "f16" if getattr(inner, "fp16", False) else _torch_cpu_precision()
    if fmt == "engine":
        return "as built (TensorRT engine)"
    if fmt == "triton":
        return "as served (Triton)"
    return "runtime default"


def describe_precision(path: str, fmt: str, precision: Precision) -> str:
    """The precision a model would run at, without Ultralytics: an OpenVINO model is compiled and asked."""
    if fmt == "openvino":
        import openvino

        core = openvino.Core()
        xml = _openvino_xml(path)
        compiled = core.compile_model(core.read_model(str(xml)), "CPU", openvino_config(precision))
        return _ov_type_name(compiled.get_property("INFERENCE_PRECISION_HINT"))
    if fmt == "onnx":
        return "f32"  # ONNX Runtime's CPU provider: float operators in float32 (see the module's docstring)
    if fmt in ("pt", "torchscript"):
        return "f32" if precision == "f32" else _torch_cpu_precision()
    return {"engine": "as built (TensorRT engine)", "triton": "as served (Triton)"}.get(fmt, "runtime default")


def _pin_backend(backend: Any, precision: Precision, weights: str | Path) -> str:
    fmt = getattr(backend, "format", "")
    if precision == "f32" and fmt == "openvino":
        _recompile_openvino(getattr(backend, "backend", backend), weights)
    elif precision == "f32" and fmt in ("pt", "torchscript"):
        _pin_torch_f32()
    return runtime_precision(backend)


def _recompile_openvino(inner: Any, weights: str | Path) -> None:
    """Compile the backend's model again with float32 asked for, on the same device, keeping its other settings.

    Ultralytics keeps `compile_model` (a partial of `Core.compile_model` with its device and configuration,
    also used when it reshapes a static model) and `ov_compiled_model`; both are replaced, so a later
    recompile stays float32 too.
    """
    compile_model = getattr(inner, "compile_model", None)
    compiled = getattr(inner, "ov_compiled_model", None)
    if not isinstance(compile_model, functools.partial) or compiled is None:
        raise PrecisionError(
            "无法固定 OpenVINO 精度 cannot pin OpenVINO's precision: this Ultralytics release keeps its compiled "
            "model elsewhere (expected OpenVINOBackend.compile_model and .ov_compiled_model)"
        )
    config = {**(compile_model.keywords.get("config") or {}), **openvino_config("f32")}
    pinned = functools.partial(compile_model.func, *compile_model.args, **{**compile_model.keywords, "config": config})
    core = compile_model.func.__self__  # the bound Core.compile_model Ultralytics made
    xml = _openvino_xml(weights)
    inner.compile_model = pinned
    inner.ov_compiled_model = pinned(core.read_model(model=str(xml), weights=str(xml.with_suffix(".bin"))))


def _openvino_xml(weights: str | Path) -> Path:
    """The IR file Ultralytics read: the folder's one `.xml`, or the file itself."""
    path = Path(weights)
    if path.is_file():
        return path
    found = sorted(path.glob("*.xml"))
    if not found:
        raise PrecisionError(f"cannot find the OpenVINO model to recompile in {path}")
    return found[0]


def _ov_type_name(value: Any) -> str:
    """OpenVINO reports `<Type: 'float32'>`; the short names are the ones the configuration uses."""
    text = str(getattr(value, "get_type_name", lambda: value)())
    return {"f32": "f32", "float32": "f32", "bf16": "bf16", "bfloat16": "bf16", "f16": "f16", "float16": "f16"}.get(
        text, text
    )


def _torch_cpu_precision() -> str:
    import torch

    allowed = {_torch_fp32_setting(torch.backends.mkldnn, part) for part in ("matmul", "conv")}
    return "f32" if allowed <= {"ieee", "none"} and torch.get_float32_matmul_precision() == "highest" else "bf16"


def _torch_fp32_setting(backend: Any, part: str) -> str:
    section = getattr(backend, part, None)
    return str(getattr(section, "fp32_precision", "ieee")) if section is not None else "ieee"


def _pin_torch_f32() -> None:
    """Float32 matmuls and convolutions in oneDNN, for the whole process (it is a process-wide setting)."""
    import torch

    torch.set_float32_matmul_precision("highest")
    for part in ("matmul", "conv"):
        section = getattr(torch.backends.mkldnn, part, None)
        if section is not None and hasattr(section, "fp32_precision"):
            section.fp32_precision = "ieee"
