"""Which models run and how objects are followed from frame to frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models import default_model_path
from models.manifest import load_manifest
from models.precision import Precision
from models.registry import ModelInfo, expand_file, resolve_model, shipped_manifest_path, unique_names
from models.triton import is_triton_url, triton_model_name


class ModelSpec(BaseModel):
    """One model a camera runs; several merge their detections into one `Detections` per frame.

    Its labels come from `manifest`, else a manifest beside the weights, else a shipped one, else
    the model file's metadata. `label_map` (model label -> evidence label, '' drops the label)
    overrides the manifest's, so a city's model plugs in through configuration alone.
    """

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    path: str = Field(
        "",
        description="Any file or name Ultralytics loads: .pt, .onnx, OpenVINO folder, TensorRT .engine, "
        "or a Triton model URL (http://triton:8000/yolo). Empty: the manifest's file, else the shared default model.",
    )
    manifest: str | None = Field(None, description="Manifest YAML; relative paths are from the working "
                                 "directory, so write ${CONFIG_DIR}/... for one beside the configuration. "
                                 "A bare name (garbage-bag-yolov8n) names a manifest shipped in models/manifests.")
    label_map: dict[str, str] = Field(default_factory=dict, description="Model label -> evidence label.")
    imgsz: int | None = Field(None, ge=32, le=4096, description="Inference size for this model.")
    confidence: float | None = Field(None, ge=0.0, le=1.0, description="Lowest score kept for this model.")
    drop_inside: list[str] = Field(
        default_factory=list,
        description="Evidence labels of the other models (person, car, ...): this model's boxes lying mostly "
        "inside one of theirs are dropped. A garbage-bag model's false boxes are mostly people and vehicles.",
    )
    drop_inside_share: float = Field(0.5, gt=0.0, le=1.0, description="Share of a box's area inside to drop it.")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _fill_path(self) -> ModelSpec:
        """Read the named manifest now, so that a bad one is a configuration error on load."""
        if self.manifest:
            self.manifest = shipped_manifest_path(self.manifest)
            manifest = load_manifest(self.manifest)
            if not self.path:
                self.path = expand_file(manifest, Path(self.manifest))
        if not self.path:
            self.path = default_model_path()
        if is_triton_url(self.path):
            triton_model_name(self.path)  # a malformed URL is a configuration error on load, not at connect
        return self

    def describe(self, imgsz: int | None = None, load: bool = True) -> ModelInfo:
        """What this model sees, from its manifest or metadata; `load=False` never loads weights."""
        return resolve_model(self.path, self.manifest, self.label_map, self.imgsz or imgsz, load=load)


class DetectorConfig(BaseModel):
    """The models, and the settings they share unless a model sets its own.

    `model: X` (the old single-model key, and the `STREETWATCH_MODEL` override) still works: alone
    it means `models: [X]`; beside `models` it replaces the first entry's path and drops that
    entry's `manifest`, which described other weights (the new weights' manifest is then looked
    for beside them and among the shipped ones; the entry's `label_map` stays).
    """

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    models: list[ModelSpec] = Field(default_factory=lambda: [ModelSpec()], min_length=1)
    imgsz: int | None = Field(None, ge=32, le=4096, description="Inference size; each model's own when empty.")
    confidence: float = Field(
        0.1, ge=0.0, le=1.0, description="Lowest score kept; low boxes still help the tracker."
    )
    iou: float = Field(0.7, gt=0.0, le=1.0, description="Non-maximum suppression overlap.")
    device: str = Field("cpu", description="'cpu', '0' for the first GPU, ...")
    precision: Precision = Field(
        "f32",
        description="Inference precision of every model: f32 (the default: the same alerts on every CPU) or auto "
        "(the runtime's choice: OpenVINO takes bfloat16 on CPUs with AVX-512 BF16 or AMX). docs/models.md has "
        "the measured speed and alerts of each.",
    )

    @model_validator(mode="before")
    @classmethod
    def _single_model_key(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "model" not in data:
            return data
        data = dict(data)
        model = data.pop("model")
        models = data.get("models")
        if isinstance(models, list) and models:
            first = models[0]
            first = dict(first) if isinstance(first, dict) else {}
            first.pop("manifest", None)
            data["models"] = [{**first, "path": model}, *models[1:]]
        else:
            data["models"] = [{"path": model}]
        return data

    @property
    def model(self) -> str:
        """The first model's weights, for code and messages written for one model."""
        return self.models[0].path

    def describe_models(self, load: bool = True) -> list[ModelInfo]:
        """Every configured model without running it; names made unique (`name#2`) for reports."""
        return unique_names([spec.describe(self.imgsz, load) for spec in self.models])


class TrackerConfig(BaseModel):
    """Ultralytics tracker settings; `lost_s` is how long a hidden object keeps its identity."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["bytetrack", "botsort"] = Field(
        "bytetrack", description="botsort adds camera-motion compensation, for cameras that pan or shake."
    )
    high_threshold: float = Field(0.25, ge=0.0, le=1.0)
    low_threshold: float = Field(0.1, ge=0.0, le=1.0)
    new_track_threshold: float = Field(0.25, ge=0.0, le=1.0)
    match_threshold: float = Field(0.8, gt=0.0, le=1.0)
    lost_s: float = Field(10.0, gt=0.0, description="Seconds a lost track may be found again.")
