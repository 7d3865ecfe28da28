"""Which model runs and how objects are followed from frame to frame."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models import default_model_path


class DetectorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field(
        default_factory=default_model_path,
        description="Any file or name Ultralytics loads: .pt, .onnx, OpenVINO folder, TensorRT .engine.",
    )
    imgsz: int | None = Field(None, ge=32, le=4096, description="Inference size; the model's own when empty.")
    confidence: float = Field(
        0.1, ge=0.0, le=1.0, description="Lowest score kept; low boxes still help the tracker."
    )
    iou: float = Field(0.7, gt=0.0, le=1.0, description="Non-maximum suppression overlap.")
    device: str = Field("cpu", description="'cpu', '0' for the first GPU, ...")


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
