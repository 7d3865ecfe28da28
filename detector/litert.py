"""Loading and feeding TensorFlow Lite models with `ai-edge-litert`, shared by the segmenter and the encoder.

The scene models are small TFLite files that need no TensorFlow; what they need is their quantisation
honoured (uint8 inputs with a scale and zero point, int8 intermediate tensors) and a batch size the
runtime may or may not accept. Both are read from the model, never assumed.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from models.registry import current_assets_dir

log = logging.getLogger(__name__)


class LiteRTError(RuntimeError):
    """A TFLite model could not be loaded, resized or run."""


def scene_weights(name: str) -> Path:
    """A file of the shared `weights/scene/` folder (`STREETWATCH_ASSETS` decides where that is)."""
    return current_assets_dir() / "weights" / "scene" / name


def open_interpreter(path: str | Path, threads: int, preserve_all_tensors: bool = False) -> Any:
    """An allocated interpreter; `preserve_all_tensors` keeps intermediate tensors readable after `invoke`."""
    from ai_edge_litert.interpreter import Interpreter  # the runtime, paid only by processes that use it

    if not Path(path).is_file():
        raise LiteRTError(f"model file not found: {path}")
    try:
        with warnings.catch_warnings():
            # The runtime warns that keeping every tensor is for debugging; reading a hidden layer is why we do.
            warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors.*")
            interpreter = Interpreter(
                model_path=str(path), num_threads=threads, experimental_preserve_all_tensors=preserve_all_tensors
            )
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise LiteRTError(f"cannot load TFLite model {path}: {exc}") from exc
    return interpreter


def set_batch(interpreter: Any, batch: int) -> bool:
    """Resize the first input to `batch` images; False (and batch 1 kept) when the runtime refuses.

    Some models take any batch; others were converted with a fixed one and their delegate fails to
    prepare (XNNPack on efficientnet-lite3 does), which is only found out by trying.
    """
    detail = interpreter.get_input_details()[0]
    if int(detail["shape"][0]) == batch:
        return True
    try:
        interpreter.resize_tensor_input(detail["index"], [batch, *detail["shape"][1:]], strict=False)
        interpreter.allocate_tensors()
        return True
    except (ValueError, RuntimeError) as exc:
        log.debug("batch %d refused: %s", batch, exc)
        interpreter.resize_tensor_input(detail["index"], [1, *detail["shape"][1:]], strict=False)
        interpreter.allocate_tensors()
        return False


def pixel_lut(detail: dict[str, Any], low: float, high: float) -> np.ndarray:
    """Lookup table from an 8-bit pixel value to the model's input value, pixels scaled to [low, high].

    A float input gets the scaled value; a quantised one gets it quantised with the input's own
    scale and zero point (for the shared uint8 models that is the raw pixel, give or take one).
    """
    real = np.arange(256, dtype=np.float64) * ((high - low) / 255.0) + low
    dtype = np.dtype(detail["dtype"])
    if dtype == np.float32:
        return real.astype(np.float32)
    scale, zero_point = detail["quantization"]
    if not scale:
        return np.arange(256).astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(np.round(real / scale + zero_point), info.min, info.max).astype(dtype)


def dequantise(detail: dict[str, Any], values: np.ndarray) -> np.ndarray:
    """A tensor's real values as float32 (quantised tensors carry a scale and zero point)."""
    scale, zero_point = detail["quantization"]
    if not scale:
        return values.astype(np.float32)
    return ((values.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)).astype(np.float32)
