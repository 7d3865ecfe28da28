"""Model manifests and where weights come from. Knows nothing of the rest of StreetWatch."""

from models.loading import ModelLoadError, loadable_path
from models.manifest import ModelManifest, load_manifest, manifest_path_for, save_manifest, sha256_of
from models.registry import (
    DEFAULT_ASSETS_DIR,
    FALLBACK_MODEL,
    LabelsUnavailable,
    ModelInfo,
    default_model_path,
    find_shipped_manifest,
    read_labels,
    resolve_model,
)

__all__ = [
    "DEFAULT_ASSETS_DIR",
    "FALLBACK_MODEL",
    "LabelsUnavailable",
    "ModelInfo",
    "ModelLoadError",
    "ModelManifest",
    "default_model_path",
    "find_shipped_manifest",
    "load_manifest",
    "loadable_path",
    "manifest_path_for",
    "read_labels",
    "resolve_model",
    "save_manifest",
    "sha256_of",
]
