"""A frozen ImageNet network as an image encoder: a crop in, a feature vector out.

A zone classifier needs a representation that already separates "bin with garbage over its rim"
from "empty pavement" before it has seen more than a few labels. An ImageNet network's last layer
before its classifier does that; a small head per zone (`zones.classifier`) learns the rest. The
layer is found by walking back from the model's output to its classifier (a fully connected or
1x1 convolution layer) and taking that layer's input, read after `invoke` with the interpreter's
`experimental_preserve_all_tensors` (the runtime otherwise reuses its memory).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from detector.litert import LiteRTError, dequantise, open_interpreter, pixel_lut, scene_weights, set_batch

_CLASSIFIER_OPS = {"FULLY_CONNECTED", "CONV_2D"}


@dataclass(frozen=True)
class EncoderVariant:
    file: str


ENCODER_VARIANTS: dict[str, EncoderVariant] = {
    # uint8 1x280x280x3 in, uint8 softmax 1x1000 out; 1280 features; the runtime refuses a batch
    "efficientnet-lite3": EncoderVariant("efficientnet-lite3-imagenet.tflite"),
    # uint8 Nx224x224x3 in (any batch), uint8 softmax 1001 out; 1280 features
    "mobilenet-edgetpu": EncoderVariant("mobilenet-edgetpu-224-imagenet-uint8.tflite"),
}


class EncoderConfig(BaseModel):
    """Which network embeds zone crops, and which of its layers is the embedding."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    variant: Literal["efficientnet-lite3", "mobilenet-edgetpu"] = "efficientnet-lite3"
    model: str = Field("", description="TFLite file; empty: the variant's file in the shared weights/scene/.")
    layer: Literal["features", "probabilities"] = Field(
        "features", description="The layer before the classifier, or the class probabilities (softmax)."
    )
    feature_tensor: str = Field("", description="Name of the feature tensor; empty: found from the graph.")
    threads: int = Field(2, ge=1, le=64)
    max_batch: int = Field(8, ge=1, le=64, description="Crops per invoke, where the model accepts a batch.")

    def model_path(self) -> Path:
        return Path(self.model) if self.model else scene_weights(ENCODER_VARIANTS[self.variant].file)


def find_feature_tensor(interpreter: Any) -> int:
    """Index of the input of the classifier layer nearest the output (the embedding before the logits)."""
    try:
        ops = interpreter._get_ops_details()
    except AttributeError as exc:  # a runtime without the graph listing: name the tensor in the config
        raise LiteRTError("this runtime cannot list the graph; set feature_tensor") from exc
    # Delegate nodes repeat the outputs of the ops they replaced; the ops themselves are still listed.
    producer = {int(out): op for op in ops if op["op_name"] != "DELEGATE" for out in op["outputs"]}
    tensor = int(interpreter.get_output_details()[0]["index"])
    for _ in range(len(ops)):
        op = producer.get(tensor)
        if op is None:
            break
        if op["op_name"] in _CLASSIFIER_OPS:
            return int(op["inputs"][0])
        tensor = int(op["inputs"][0])
    raise LiteRTError("no classifier layer (fully connected or 1x1 convolution) found before the output")


class ImageEncoder:
    """`embed` turns BGR crops of any size into rows of a float32 matrix. Not thread-safe: one per thread."""

    def __init__(self, config: EncoderConfig | None = None) -> None:
        self.config = config or EncoderConfig()
        features = self.config.layer == "features"
        self._interpreter = open_interpreter(
            self.config.model_path(), self.config.threads, preserve_all_tensors=features
        )
        self._input = self._interpreter.get_input_details()[0]
        self.input_size = (int(self._input["shape"][2]), int(self._input["shape"][1]))
        self._lut = pixel_lut(self._input, -1.0, 1.0)
        if not features:
            self._tensor = int(self._interpreter.get_output_details()[0]["index"])
        elif self.config.feature_tensor:
            names = {d["name"]: d["index"] for d in self._interpreter.get_tensor_details()}
            if self.config.feature_tensor not in names:
                raise LiteRTError(f"{self.config.model_path()}: no tensor named {self.config.feature_tensor!r}")
            self._tensor = int(names[self.config.feature_tensor])
        else:
            self._tensor = find_feature_tensor(self._interpreter)
        self._batch = self.config.max_batch if set_batch(self._interpreter, self.config.max_batch) else 1
        self._input = self._interpreter.get_input_details()[0]
        self.dim = int(np.prod(self._detail(self._tensor)["shape"][1:]))
        self.name = f"{self.config.variant}/{self.config.layer}"

    @property
    def batch(self) -> int:
        """Crops per invoke: `max_batch`, or 1 where the runtime refused a batch."""
        return self._batch

    def _detail(self, index: int) -> dict[str, Any]:
        return next(d for d in self._interpreter.get_tensor_details() if d["index"] == index)

    def prepare(self, crop: np.ndarray) -> np.ndarray:
        """A BGR crop as the model's input: squashed to its square (a zone crop's context matters more than
        its aspect ratio), RGB, quantised with the input's own parameters."""
        width, height = self.input_size
        shrink = crop.shape[0] > height or crop.shape[1] > width
        resized = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        return self._lut[cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)]

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """N x `dim` float32, one row per crop; a batch that does not fill `batch` is padded, not resized."""
        rows: list[np.ndarray] = []
        for start in range(0, len(crops), self._batch):
            chunk = [self.prepare(c) for c in crops[start : start + self._batch]]
            batch = np.stack(chunk + [chunk[-1]] * (self._batch - len(chunk)))
            self._interpreter.set_tensor(self._input["index"], batch)
            self._interpreter.invoke()
            detail = self._detail(self._tensor)
            values = dequantise(detail, self._interpreter.get_tensor(self._tensor))
            rows.append(values.reshape(self._batch, -1)[: len(chunk)])
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(rows).astype(np.float32, copy=False)
