"""Rebuild a float Ultralytics YOLOv8n from the shared int8 ONNX export.

The float originals are not on these machines, but the dynamic-int8 export holds every weight:
each `ConvInteger` keeps `<param>_quantized`, `_scale` and `_zero_point`, named after the fused
PyTorch parameters (`model.4.m.0.cv1.conv.weight`), and the biases stay float. The exporter
fused BatchNorm into each convolution; we load the fused weights into an unfused network and give
every BatchNorm parameters that reproduce the fused function exactly (y = Wx + b), with running
statistics measured on real images so that training (which normalises by batch statistics) starts
from the same network that inference runs.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ARCHITECTURE = "yolov8n.yaml"  # ships inside the ultralytics package: no download
DEFAULT_OUT = Path("var/models/yolov8n-float.pt")
BN_EPS = 1e-3  # Ultralytics' BatchNorm eps


class RebuildError(RuntimeError):
    """The ONNX file does not hold the weights of the architecture asked for."""


def read_onnx_weights(onnx_path: Path | str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every float parameter of the export, dequantised ((q - zero_point) * scale, per channel where the
    scale is a vector), keyed by its PyTorch name; and the export's metadata (names, imgsz, ...)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    arrays = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    weights: dict[str, np.ndarray] = {}
    for name, array in arrays.items():
        if name.endswith("_quantized"):
            base = name[: -len("_quantized")]
            scale = np.asarray(arrays[f"{base}_scale"], dtype=np.float32)
            zero = np.asarray(arrays[f"{base}_zero_point"]).astype(np.float32)
            shape = (-1,) + (1,) * (array.ndim - 1)  # per output channel when a vector
            if scale.ndim:
                scale = scale.reshape(shape)
            if zero.ndim:
                zero = zero.reshape(shape)
            weights[base] = (array.astype(np.float32) - zero) * scale
        elif name.endswith((".weight", ".bias")) and array.dtype == np.float32:
            weights[name] = array
    meta = {p.key: p.value for p in model.metadata_props}
    return weights, meta


def coco_names(meta: dict[str, str]) -> dict[int, str]:
    """Class names from the export's metadata, {index: name}."""
    if "names" not in meta:
        raise RebuildError("the ONNX file has no 'names' metadata; cannot name the classes")
    names = ast.literal_eval(meta["names"])
    return {int(k): str(v) for k, v in names.items()}


def build_float_model(onnx_path: Path | str, architecture: str = ARCHITECTURE) -> tuple[Any, dict[str, str]]:
    """An unfused Ultralytics DetectionModel carrying the export's weights, BatchNorms as exact identities."""
    import torch
    from ultralytics.nn.modules import Conv
    from ultralytics.nn.tasks import DetectionModel

    weights, meta = read_onnx_weights(onnx_path)
    names = coco_names(meta)
    model = DetectionModel(architecture, nc=len(names), verbose=False)
    used: set[str] = set()

    def take(key: str, like: torch.Tensor) -> torch.Tensor:
        if key not in weights:
            raise RebuildError(f"{onnx_path}: no weight {key!r}; is it a {architecture} export?")
        value = torch.from_numpy(np.array(weights[key]))
        if tuple(value.shape) != tuple(like.shape):
            raise RebuildError(f"{key}: shape {tuple(value.shape)} in ONNX, {tuple(like.shape)} in {architecture}")
        used.add(key)
        return value

    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, Conv) and isinstance(getattr(module, "bn", None), torch.nn.BatchNorm2d):
                module.conv.weight.copy_(take(f"{name}.conv.weight", module.conv.weight))
                _identity_bn(module.bn, take(f"{name}.conv.bias", module.bn.bias))
            elif isinstance(module, torch.nn.Conv2d) and module.bias is not None:
                module.weight.copy_(take(f"{name}.weight", module.weight))
                module.bias.copy_(take(f"{name}.bias", module.bias))
    # The DFL convolution is a fixed 0..15 ramp that Ultralytics rebuilds itself; its quantised copy is not used.
    left = sorted(k for k in weights if k not in used and ".dfl." not in k)
    if left:
        raise RebuildError(f"{onnx_path}: {len(left)} weight(s) not mapped onto {architecture}: {left[:5]}")
    model.names = names
    model.eval()
    return model, meta


def _identity_bn(bn: Any, bias: Any, mean: Any = None, var: Any = None) -> None:
    """BatchNorm computing y = z + bias for running statistics (mean, var): gamma = sqrt(var+eps), beta = mean+bias."""
    import torch

    mean = torch.zeros_like(bn.running_mean) if mean is None else mean
    var = torch.full_like(bn.running_var, 1.0 - bn.eps) if var is None else var
    bn.running_mean.copy_(mean)
    bn.running_var.copy_(var)
    bn.weight.copy_(torch.sqrt(var + bn.eps))
    bn.bias.copy_(mean + bias)


def calibrate_batchnorm(model: Any, images: Iterable[np.ndarray], imgsz: int = 640) -> int:
    """Set each BatchNorm's running statistics to those of its input on `images` (BGR arrays), keeping the
    function the network computes unchanged; returns how many images were used.

    Why: training normalises by the batch's own statistics; identity statistics (0, 1) would make
    the first training step see a different network from the pretrained one.
    """
    import torch

    from training.agreement import letterbox

    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    sums = {id(bn): [0.0, 0.0, 0] for bn in bns}

    def hook(bn: Any, inputs: tuple[Any, ...], _output: Any) -> None:
        z = inputs[0].detach().double()
        acc = sums[id(bn)]
        acc[0] = acc[0] + z.sum(dim=(0, 2, 3))
        acc[1] = acc[1] + (z * z).sum(dim=(0, 2, 3))
        acc[2] += z.numel() // z.shape[1]

    handles = [bn.register_forward_hook(hook) for bn in bns]
    count = 0
    model.eval()
    try:
        with torch.no_grad():
            for image in images:
                model(letterbox(image, imgsz))
                count += 1
    finally:
        for handle in handles:
            handle.remove()
    if not count:
        return 0
    with torch.no_grad():
        for bn in bns:
            total, squares, n = sums[id(bn)]
            mean = (total / n).float()
            var = (squares / n - (total / n) ** 2).clamp_min(0).float()
            bias = bn.bias - bn.weight * bn.running_mean / torch.sqrt(bn.running_var + bn.eps)  # the fused bias
            # The fused bias is beta - gamma*mean/sqrt(var+eps) with the current parameters, whatever they are.
            _identity_bn(bn, bias.clone(), mean, var)
    return count


def save_checkpoint(model: Any, out: Path | str, source: str, imgsz: int = 640) -> Path:
    """Write the model as an Ultralytics checkpoint that `YOLO(out)` loads, trains and exports."""
    import torch
    import ultralytics

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    train_args = {"task": "detect", "imgsz": imgsz, "model": str(out), "data": None}
    model.args = train_args
    checkpoint = {
        "epoch": -1,
        "best_fitness": None,
        "model": model.float().cpu(),
        "ema": None,
        "updates": None,
        "optimizer": None,
        "train_args": train_args,
        "date": datetime.now().isoformat(timespec="seconds"),
        "version": ultralytics.__version__,
        "license": "AGPL-3.0 License (https://ultralytics.com/license)",
        "docs": f"rebuilt by streetwatch models rebuild from {source}",
    }
    torch.save(checkpoint, out)
    return out


def rebuild(
    onnx_path: Path | str,
    out: Path | str = DEFAULT_OUT,
    calibration: Iterable[np.ndarray] = (),
    architecture: str = ARCHITECTURE,
) -> Path:
    """Rebuild the float model from an int8 export, calibrate its BatchNorms on `calibration`, save it."""
    model, meta = build_float_model(onnx_path, architecture)
    imgsz = _imgsz(meta)
    used = calibrate_batchnorm(model, calibration, imgsz)
    log.info("rebuilt %s from %s; BatchNorm statistics from %d image(s)", architecture, onnx_path, used)
    return save_checkpoint(model, out, source=str(onnx_path), imgsz=imgsz)


def _imgsz(meta: dict[str, str]) -> int:
    value = ast.literal_eval(meta.get("imgsz", "640"))
    return int(value[0] if isinstance(value, list | tuple) else value)


def rebuild_and_check(
    onnx_path: Path, out: Path, assets: Path, every: int = 10, export_onnx: bool = False
) -> dict[str, Any]:
    """The `streetwatch models rebuild` work: rebuild (BatchNorm statistics from the shared frames), then
    compare with the int8 source on every `every`-th frame of the shared clips and images."""
    from training.agreement import agreement, shared_frames

    calibration = [frame for _, frame in shared_frames(assets, 60)]
    weights = rebuild(onnx_path, out, calibration)
    result: dict[str, Any] = {"weights": str(weights)}
    if export_onnx:
        result["onnx"] = str(export_dynamic_onnx(weights))
    if every > 0:
        from models.loading import open_yolo

        int8 = open_yolo(str(onnx_path))
        float_model = open_yolo(str(weights))
        result["agreement"] = agreement(int8, float_model, shared_frames(assets, every)).summary()
    return result


def export_dynamic_onnx(weights: Path, imgsz: int = 640) -> Path:
    """The rebuilt model as float ONNX with a dynamic batch axis (one call for many cameras), manifest beside it."""
    from training.trainer import export

    return export(weights, "onnx", imgsz=imgsz)
