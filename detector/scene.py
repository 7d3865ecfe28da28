"""Semantic segmentation of whole frames (DeepLab v3 on ADE20K, TFLite): what every pixel is.

COCO boxes cannot see water, awnings, booths or bins; ADE20K's classes can. The segmenter labels
each pixel of a frame, and `zones.scene` measures the share of each zone that falls in a class
group. The frame is letterboxed (aspect ratio kept, grey padding), as the network was trained:
squashing it to a square ruins the result. `SceneMap` keeps that geometry, so a zone polygon drawn
in normalised image coordinates lands on the right label pixels.

Two variants of the same network are shared: `ade20k150` (float, 150 classes, logits out, 1.5 to
3.5 times slower here) and `ade20k32-int8` (the first 31 classes only: water and sea, road,
sidewalk, table, but no awning, booth, bag, box or ashcan; argmax out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from detector.litert import LiteRTError, open_interpreter, pixel_lut, scene_weights, set_batch

PAD_VALUE = 128  # grey padding: 0.0 after the [-1, 1] scaling the network was trained with
LABELS_FILE = "ade20k150-labels.txt"


@dataclass(frozen=True)
class SceneVariant:
    """One shared build of the network: its file and how many classes (background included) it outputs."""

    file: str
    classes: int


SCENE_VARIANTS: dict[str, SceneVariant] = {
    "ade20k150": SceneVariant("deeplabv3-mnv2-ade20k150.tflite", 151),
    "ade20k32-int8": SceneVariant("deeplabv3-mnv2-ade20k32-int8.tflite", 32),
}


class SceneConfig(BaseModel):
    """Which segmenter runs and how."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    variant: Literal["ade20k150", "ade20k32-int8"] = "ade20k150"
    model: str = Field("", description="TFLite file; empty: the variant's file in the shared weights/scene/.")
    labels: str = Field("", description="ADE20K labels file ('id name' lines); empty: the shared one.")
    threads: int = Field(2, ge=1, le=64)
    max_batch: int = Field(
        1, ge=1, le=16, description="Images per invoke. Both shared variants accept a batch, but it does not "
        "pay on a CPU (docs/scene-and-classifiers.md), so 1 unless measured otherwise."
    )
    placement: Literal["top_left", "centre"] = Field(
        "top_left", description="Where the letterboxed image sits; top-left is DeepLab's own evaluation padding."
    )

    def model_path(self) -> Path:
        return Path(self.model) if self.model else scene_weights(SCENE_VARIANTS[self.variant].file)

    def labels_path(self) -> Path:
        return Path(self.labels) if self.labels else scene_weights(LABELS_FILE)


@dataclass(frozen=True)
class SceneMap:
    """One frame's class per model pixel, and where the frame lies on it.

    `labels` is the model's square map, padding included; the image covers `content`
    (x, y, width, height) of it. A normalised image point (u, v) lies at map pixel
    (x + u * width, y + v * height).
    """

    labels: np.ndarray  # (size, size) uint8 class ids; 0 = background / unknown
    image_size: tuple[int, int]  # (width, height) of the source frame
    content: tuple[int, int, int, int]  # (x, y, width, height) of the frame on the map
    names: tuple[str, ...]  # names[i] is class i; names[0] is "background"

    @property
    def num_classes(self) -> int:
        return len(self.names)

    @property
    def image_labels(self) -> np.ndarray:
        """The labels over the frame only (a view: padding cut off)."""
        x, y, w, h = self.content
        return self.labels[y : y + h, x : x + w]

    def to_map(self, points: np.ndarray | Sequence[tuple[float, float]]) -> np.ndarray:
        """Normalised image points (N x 2) as continuous map coordinates (pixel i spans [i, i + 1))."""
        x, y, w, h = self.content
        return np.asarray(points, dtype=np.float64).reshape(-1, 2) * (w, h) + (x, y)

    def shares(self) -> np.ndarray:
        """Share of the frame's pixels per class (length `num_classes`)."""
        counts = np.bincount(self.image_labels.ravel(), minlength=self.num_classes)
        return counts / max(1, counts.sum())


def read_scene_labels(path: str | Path, classes: int) -> tuple[str, ...]:
    """Class names by id, background first, cut to the classes the model outputs."""
    names = ["background"]
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split(None, 1)
        if not parts:
            continue
        if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) != len(names):
            raise LiteRTError(f"{path}:{number}: expected '<id> <name>' with ids 1, 2, 3...; got {line!r}")
        names.append(parts[1].strip())
    if len(names) < classes:
        raise LiteRTError(f"{path}: {len(names) - 1} labels, the model outputs {classes - 1}")
    return tuple(names[:classes])


def letterbox(
    image: np.ndarray, size: int, placement: str = "top_left"
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A BGR frame as a `size` x `size` RGB square, aspect ratio kept, grey padding; and where it lies."""
    import cv2  # here, not at the top: the API imports this module for `SceneConfig` and never decodes a frame

    height, width = image.shape[:2]
    scale = size / max(width, height)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    # Area averaging when shrinking (a 1080p frame to 513 px), linear when growing (a small crop).
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.cvtColor(cv2.resize(image, (w, h), interpolation=interpolation), cv2.COLOR_BGR2RGB)
    x, y = ((size - w) // 2, (size - h) // 2) if placement == "centre" else (0, 0)
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    canvas[y : y + h, x : x + w] = resized
    return canvas, (x, y, w, h)


class SceneSegmenter:
    """A loaded segmenter: `segment` turns BGR frames into `SceneMap`s. Not thread-safe: one per thread."""

    def __init__(self, config: SceneConfig | None = None) -> None:
        self.config = config or SceneConfig()
        variant = SCENE_VARIANTS[self.config.variant]
        self._interpreter = open_interpreter(self.config.model_path(), self.config.threads)
        self._input = self._interpreter.get_input_details()[0]
        output = self._interpreter.get_output_details()[0]
        self.size = int(self._input["shape"][1])
        shape = tuple(int(s) for s in output["shape"])
        self._logits = len(shape) == 4
        if self._logits and shape[-1] != variant.classes:
            raise LiteRTError(
                f"{self.config.model_path()}: outputs {shape[-1]} classes, variant {self.config.variant} has "
                f"{variant.classes}"
            )
        if not self._logits and (len(shape) != 3 or not np.issubdtype(output["dtype"], np.integer)):
            raise LiteRTError(f"{self.config.model_path()}: output {shape} is neither logits nor a class map")
        self.names = read_scene_labels(self.config.labels_path(), variant.classes)
        # The network sees pixels scaled to [-1, 1]; quantised inputs get that through their own parameters.
        self._lut = pixel_lut(self._input, -1.0, 1.0)
        self._batch = 1

    @property
    def input_details(self) -> dict[str, Any]:
        """The model's real input (shape, dtype, quantisation), for reports."""
        return dict(self._input)

    def segment(self, images: Sequence[np.ndarray]) -> list[SceneMap]:
        """Label every pixel of each BGR frame; up to `max_batch` frames per invoke."""
        maps: list[SceneMap] = []
        step = self.config.max_batch
        for start in range(0, len(images), step):
            maps.extend(self._segment_batch(images[start : start + step]))
        return maps

    def _segment_batch(self, images: Sequence[np.ndarray]) -> list[SceneMap]:
        boxed = [letterbox(image, self.size, self.config.placement) for image in images]
        if len(images) != self._batch:
            if not set_batch(self._interpreter, len(images)):
                return [m for image in images for m in self._segment_batch([image])]
            self._batch = len(images)
            self._input = self._interpreter.get_input_details()[0]
        batch = np.stack([canvas for canvas, _ in boxed])
        self._interpreter.set_tensor(self._input["index"], self._lut[batch])
        self._interpreter.invoke()
        out_index = self._interpreter.get_output_details()[0]["index"]
        # A view of the output buffer, not a copy: the float variant's logits are 159 MB a frame.
        out = self._interpreter.tensor(out_index)()
        labels = (out.argmax(axis=-1) if self._logits else out).astype(np.uint8)
        del out  # the view must not outlive the next invoke
        return [
            SceneMap(labels[i], (image.shape[1], image.shape[0]), content, self.names)
            for i, (image, (_, content)) in enumerate(zip(images, boxed, strict=True))
        ]
