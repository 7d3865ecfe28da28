"""Where model weights come from and what they see, without running them.

A configured model is described by, in this order: the manifest the configuration names, a
manifest beside the weights (`best.onnx.manifest.yaml`), a manifest shipped in
`models/manifests/` (found by path or sha256), else the label names stored in the model file.
"""

from __future__ import annotations

import ast
import functools
import logging
import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, computed_field

from models.manifest import ModelFormat, ModelManifest, format_of, load_manifest, manifest_path_for, sha256_of

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ASSETS_DIR = Path(os.environ.get("STREETWATCH_ASSETS", PROJECT_ROOT.parent / "shared" / "assets"))
# The fastest CPU runtime measured here (docs/performance.md, "Runtimes"), at the same F1 on the shared truth.
DEFAULT_MODEL_FILE = "weights/yolo11n-coco-int8-openvino"
# The default until then, kept for side-by-side measurements and as the ONNX Runtime choice.
PREVIOUS_DEFAULT_MODEL_FILE = "weights/yolov8n-coco-int8-640.onnx"
# Ultralytics downloads this by name where the machine has the internet.
FALLBACK_MODEL = "yolo11n.pt"
SHIPPED_MANIFESTS = Path(__file__).resolve().parent / "manifests"

Origin = Literal["manifest", "manifest beside weights", "shipped manifest", "model metadata", "unknown"]
_PLACEHOLDER = re.compile(r"^class_?\d+$")


class LabelsUnavailable(ValueError):
    """The model's labels cannot be known without loading it (or at all)."""


class ModelInfo(BaseModel):
    """One configured model as the coverage report and the detector see it."""

    model_config = ConfigDict(protected_namespaces=())

    name: str
    path: str = Field(description="Weights as loaded (a file, an OpenVINO folder, or a name Ultralytics fetches).")
    format: ModelFormat
    imgsz: int | None = None
    labels: list[str] = Field(default_factory=list, description="The model's own class names, in index order.")
    label_map: dict[str, str] = Field(default_factory=dict, description="Model label -> evidence label ('' drops).")
    origin: Origin
    manifest: str | None = Field(None, description="The manifest file the labels came from.")
    sha256: str | None = None
    source: str | None = None
    licence: str | None = None
    warnings: list[str] = Field(default_factory=list)
    precision: str | None = Field(None, description="Inference precision the runtime compiles it at, where asked.")
    error: str | None = Field(None, description="Why the labels are unknown; such a model covers nothing.")

    def evidence_label(self, label: str) -> str:
        return self.label_map.get(label, label)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def evidence_labels(self) -> list[str]:
        """Labels its detections carry once mapped; a label mapped to '' is dropped."""
        return sorted({self.evidence_label(label) for label in self.labels} - {""})


def current_assets_dir() -> Path:
    """The shared assets folder, read at call time so that a changed environment is honoured."""
    return Path(os.environ.get("STREETWATCH_ASSETS") or DEFAULT_ASSETS_DIR)


def default_model_path(assets_dir: Path | None = None) -> str:
    """The shared int8 COCO model (an OpenVINO folder) when it is on disk, else a name Ultralytics can fetch."""
    candidate = Path(assets_dir or current_assets_dir()) / DEFAULT_MODEL_FILE
    return str(candidate) if (candidate / "metadata.yaml").is_file() else FALLBACK_MODEL


def expand_file(manifest: ModelManifest, manifest_file: Path | None = None) -> str:
    """A manifest's `file` as a path: `${STREETWATCH_ASSETS}` expanded, else relative to the manifest's folder.

    A bare name that is no file beside the manifest (`yolo11n.pt`) stays a name for Ultralytics to fetch.
    """
    text = manifest.file.replace("${STREETWATCH_ASSETS}", str(current_assets_dir()))
    path = Path(text).expanduser()
    if path.is_absolute() or manifest_file is None:
        return str(path)
    beside = manifest_file.parent / path
    if beside.exists() or len(path.parts) > 1:
        return str(beside.resolve())
    return text


@functools.cache
def shipped_manifests() -> tuple[tuple[Path, ModelManifest], ...]:
    return tuple((p, load_manifest(p)) for p in sorted(SHIPPED_MANIFESTS.glob("*.yaml")))


def shipped_manifest_path(manifest: str) -> str:
    """A manifest named without `.yaml` that is no file (`garbage-bag-yolov8n`, or the configuration's folder
    joined to it) as the path of the shipped manifest of that name; any other value as it is.

    So a configuration names a model that ships with StreetWatch without knowing where it is installed.
    """
    path = Path(manifest)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        return manifest
    candidate = SHIPPED_MANIFESTS / f"{path.name}.yaml"
    return str(candidate) if candidate.is_file() else manifest


def _same_path(a: str, b: str) -> bool:
    pa, pb = Path(a), Path(b)
    if not (pa.exists() and pb.exists()):
        return a == b
    if pa.suffix.lower() == ".xml":  # an OpenVINO model named by its .xml inside the folder
        pa = pa.parent
    return pa.resolve() == pb.resolve()


def _stat_key(path: Path) -> tuple[str, int, int]:
    """Cache key that changes when the file (or a folder's newest file) does."""
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    stats = [p.stat() for p in files]
    return str(path.resolve()), max((s.st_mtime_ns for s in stats), default=0), sum(s.st_size for s in stats)


@functools.lru_cache(maxsize=64)
def _cached_sha256(key: tuple[str, int, int]) -> str:
    return sha256_of(key[0])


def file_sha256(path: Path | str) -> str | None:
    """sha256 of weights on disk (cached while the file is unchanged); None for a name that is no file."""
    path = Path(path)
    return _cached_sha256(_stat_key(path)) if path.exists() else None


def find_shipped_manifest(weights: str) -> tuple[Path, ModelManifest] | None:
    """The shipped manifest for these weights: same resolved path first, else same sha256."""
    shipped = shipped_manifests()
    for manifest_file, manifest in shipped:
        if _same_path(weights, expand_file(manifest, manifest_file)):
            return manifest_file, manifest
    digest = file_sha256(weights)
    for manifest_file, manifest in shipped:
        if digest is not None and manifest.sha256 == digest:
            return manifest_file, manifest
    return None


def _names_list(names: object) -> list[str]:
    """Ultralytics stores names as {index: name}; return them in index order."""
    if isinstance(names, str):
        names = ast.literal_eval(names)
    if isinstance(names, dict):
        return [str(names[k]) for k in sorted(names, key=int)]
    if isinstance(names, list | tuple):
        return [str(n) for n in names]
    raise LabelsUnavailable(f"unexpected names in model metadata: {type(names).__name__}")


def read_metadata(weights: str | Path, load: bool = True) -> tuple[list[str], int | None]:
    """Labels (index order) and image size stored in a model, without a manifest.

    ONNX and OpenVINO metadata are read without inference; other formats are loaded with
    Ultralytics, and only when `load` is true (the API never loads a model).
    """
    if format_of(str(weights)) == "triton" and not load:
        raise LabelsUnavailable(f"{weights}: a Triton model's labels are read from its server; name a manifest "
                                f"beside it in detector.models (manifest: ...) to know them without connecting")
    try:
        found = _stored_metadata(Path(weights))
    except Exception as exc:  # a damaged file: onnxruntime, YAML and literal_eval raise their own kinds
        raise LabelsUnavailable(f"{weights}: cannot read its metadata: {exc}") from exc
    if found is not None:
        return found
    if not load:
        raise LabelsUnavailable(f"{weights}: no manifest and no label metadata readable without loading the model; "
                                f"write {manifest_path_for(weights).name} beside it")
    os.environ.setdefault("YOLO_OFFLINE", "1")
    from ultralytics import YOLO

    from models.loading import ModelLoadError, loadable_path

    try:
        return _names_list(YOLO(loadable_path(str(weights)), task="detect").names), None
    except ModelLoadError as exc:
        raise LabelsUnavailable(str(exc)) from None
    except Exception as exc:  # Ultralytics raises many kinds for a bad or missing file
        raise LabelsUnavailable(f"{weights}: cannot read labels: {exc}") from exc


def _stored_metadata(path: Path) -> tuple[list[str], int | None] | None:
    fmt = format_of(path)
    if fmt == "onnx" and path.is_file():
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        meta = session.get_modelmeta().custom_metadata_map
        if "names" in meta:
            return _names_list(meta["names"]), _first(ast.literal_eval(meta.get("imgsz", "None")))
    if fmt == "openvino":
        folder = path.parent if path.suffix.lower() == ".xml" else path
        if (folder / "metadata.yaml").is_file():
            meta = yaml.safe_load((folder / "metadata.yaml").read_text(encoding="utf-8"))
            return _names_list(meta["names"]), _first(meta.get("imgsz"))
    return None


def read_labels(weights: str | Path, load: bool = True) -> list[str]:
    """A model's own class names in index order, for a model that has no manifest."""
    return read_metadata(weights, load)[0]


def _first(imgsz: object) -> int | None:
    if isinstance(imgsz, list | tuple):
        return int(imgsz[0]) if imgsz else None
    return int(imgsz) if isinstance(imgsz, int | str) and str(imgsz).isdigit() else None


def _locate_manifest(path: str, manifest: str | None) -> tuple[Path, ModelManifest, Origin] | None:
    if manifest:
        return Path(manifest), load_manifest(manifest), "manifest"
    beside = manifest_path_for(path)
    if beside.is_file():
        return beside, load_manifest(beside), "manifest beside weights"
    shipped = find_shipped_manifest(path)
    return (shipped[0], shipped[1], "shipped manifest") if shipped else None


def resolve_model(
    path: str,
    manifest: str | None = None,
    label_map: dict[str, str] | None = None,
    imgsz: int | None = None,
    names: list[str] | None = None,
    load: bool = True,
) -> ModelInfo:
    """Describe one configured model; `names` are its loaded labels when a detector has it in memory.

    The configuration's `label_map` overrides the manifest's. Labels the loaded model reports win
    over a manifest that disagrees (with a warning), unless they are Ultralytics' `class0` placeholders.
    """
    found = _locate_manifest(path, manifest)
    warnings: list[str] = []
    info: dict[str, object] = {"path": path, "format": format_of(path), "imgsz": imgsz, "warnings": warnings}
    if found is not None:
        manifest_file, m, origin = found
        info.update(name=m.name, labels=list(m.labels), origin=origin, manifest=str(manifest_file),
                    sha256=m.sha256, source=m.source, licence=m.licence, imgsz=imgsz or m.imgsz,
                    label_map={**m.label_map, **(label_map or {})})
        digest = file_sha256(path) if m.sha256 else None
        if digest is not None and digest != m.sha256:
            warnings.append(f"sha256 of {path} differs from its manifest {manifest_file}: other weights?")
    else:
        info.update(name=_stem(path), origin="model metadata", label_map=dict(label_map or {}))
        if names is None:
            try:
                info["labels"], meta_imgsz = read_metadata(path, load)
                info["imgsz"] = imgsz or meta_imgsz
            except LabelsUnavailable as exc:
                info.update(origin="unknown", error=str(exc))
    if names is not None:
        declared = info.get("labels") or []
        placeholders = all(_PLACEHOLDER.match(n) for n in names)
        if not (placeholders and len(declared) == len(names)):
            if declared and declared != names:
                warnings.append(f"the model's own labels differ from {info.get('manifest')}; using the model's")
            info["labels"] = list(names)
    return ModelInfo.model_validate(info)


def unique_names(infos: list[ModelInfo]) -> list[ModelInfo]:
    """Name repeated models `name#2`, `name#3` so that a report can key by name."""
    seen: dict[str, int] = {}
    for info in infos:
        seen[info.name] = seen.get(info.name, 0) + 1
        if seen[info.name] > 1:
            info.name = f"{info.name}#{seen[info.name]}"
    return infos


def _stem(path: str) -> str:
    """A name for a model without manifest: the file's stem, or the folder's name."""
    p = Path(path)
    return (p.name if p.is_dir() else p.stem) or path
