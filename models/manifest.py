"""A manifest per model: what file it is, what it was trained to see, and where it came from.

The label map turns a model's own label names into the evidence labels StreetWatch's rules read
(`garbage_bag` -> `garbage_bag` by default, or `water` -> `standing_water` where a model names
it differently). Labels not in the map pass through unchanged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

ModelFormat = Literal["pt", "onnx", "openvino", "engine", "torchscript", "tflite", "triton", "other"]

MANIFEST_SUFFIX = ".manifest.yaml"


class ModelManifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    file: str = Field(description="Weights: relative to the manifest, absolute, or ${STREETWATCH_ASSETS}/...")
    format: ModelFormat
    task: Literal["detect"] = "detect"
    imgsz: int = Field(640, ge=32, le=4096)
    labels: list[str] = Field(min_length=1, description="The model's class names, in index order.")
    label_map: dict[str, str] = Field(default_factory=dict, description="Model label -> evidence label.")
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    source: str | None = None
    licence: str | None = None
    description: str | None = None
    metrics: dict[str, float] | None = Field(
        None, description="Measured figures (mAP50, false boxes per frame, ...), written by the command that made it."
    )

    def evidence_label(self, label: str) -> str:
        return self.label_map.get(label, label)

    def evidence_labels(self) -> set[str]:
        """Every label this model's detections carry once mapped."""
        return {self.evidence_label(label) for label in self.labels}


def format_of(path: Path | str) -> ModelFormat:
    """The Ultralytics format a weights path is in, judged the way Ultralytics judges it."""
    if "://" in str(path):  # a URL (Path would fold its '//'): a model Triton serves
        return "triton"
    path = Path(path)
    name = path.name.lower()
    if path.is_dir() or name.endswith("_openvino_model") or name.endswith(".xml"):
        return "openvino"
    suffix = path.suffix.lower().lstrip(".")
    known: dict[str, ModelFormat] = {"pt": "pt", "onnx": "onnx", "engine": "engine", "torchscript": "torchscript",
                                     "tflite": "tflite"}
    return known.get(suffix, "other")


def sha256_of(path: Path | str) -> str:
    """Digest of a weights file, or of every file of a model folder in name order."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def load_manifest(path: Path | str) -> ModelManifest:
    """Read a manifest; raises ValueError naming the file and the field when it is wrong."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read model manifest: {exc}") from None
    try:
        return ModelManifest.model_validate(raw)
    except Exception as exc:  # pydantic's ValidationError, reported with the file name
        raise ValueError(f"{path}: invalid model manifest: {exc}") from None


def save_manifest(manifest: ModelManifest, path: Path | str) -> Path:
    path = Path(path)
    path.write_text(
        yaml.safe_dump(manifest.model_dump(mode="json", exclude_none=True), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return path


def manifest_path_for(weights: Path | str) -> Path:
    """Where a manifest beside its weights lives: `best.onnx` -> `best.onnx.manifest.yaml`."""
    weights = Path(weights)
    return weights.parent / f"{weights.name}{MANIFEST_SUFFIX}"
