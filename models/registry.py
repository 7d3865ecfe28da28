"""Default weights: the shared COCO model where it exists, else Ultralytics' own by name."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ASSETS_DIR = Path(os.environ.get("STREETWATCH_ASSETS", PROJECT_ROOT.parent / "shared" / "assets"))
DEFAULT_MODEL_FILE = "weights/yolov8n-coco-int8-640.onnx"
# Ultralytics downloads this by name where the machine has the internet.
FALLBACK_MODEL = "yolo11n.pt"


def default_model_path(assets_dir: Path = DEFAULT_ASSETS_DIR) -> str:
    """The shared int8 COCO model when it is on disk, else a name Ultralytics can fetch."""
    candidate = Path(assets_dir) / DEFAULT_MODEL_FILE
    return str(candidate) if candidate.is_file() else FALLBACK_MODEL
