"""Train a detector on a city's dataset and export it, each result with its manifest beside it.

A manifest is what makes a class count as covered: it names the labels the model was trained
on, in index order, and ties them to the exact file by its sha256.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from models.manifest import ModelManifest, format_of, load_manifest, manifest_path_for, save_manifest, sha256_of
from training.validation import validate_dataset

# No update checks and, above all, no pip installs behind the user's back: missing export
# packages are reported with the line to add instead. Weights named by the user still download.
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")

log = logging.getLogger(__name__)

LICENCE = "AGPL-3.0 (Ultralytics)"
EXPORT_FORMATS = ("onnx", "openvino", "engine")
# Python modules each export needs (import name -> pip name); Ultralytics would otherwise try to pip-install them.
_NEEDS: dict[str, dict[str, str]] = {
    "onnx": {"onnx": "onnx"},
    "openvino": {"openvino": "openvino"},
    "engine": {"onnx": "onnx", "tensorrt": "tensorrt"},
}
_NEEDS_INT8: dict[str, dict[str, str]] = {"openvino": {"nncf": "nncf"}}


class TrainingError(RuntimeError):
    """Training or export cannot start or did not finish; the message says why and what to do."""


def train(
    data_yaml: Path | str,
    model: str = "yolov8n.yaml",
    epochs: int = 100,
    imgsz: int = 640,
    batch: int = 16,
    device: str = "cpu",
    out_dir: Path | str = Path("var/train"),
    name: str = "urban",
    seed: int = 0,
    **extra: Any,
) -> Path:
    """Train with Ultralytics and return the best weights (last.pt when no best was kept), manifest written.

    `model` is a yaml (a fresh network, e.g. `yolov8n.yaml`) or a `.pt` to fine-tune, which
    is far better where COCO weights can be had. Runs land in `out_dir/name`, replaced on a
    rerun; plots are off because Ultralytics would download a font for them.
    """
    if not name.strip() or "/" in name:
        raise TrainingError(f"name {name!r}: give a plain run name such as urban-v1")
    data_yaml = Path(data_yaml).resolve()
    summary = validate_dataset(data_yaml)
    if not summary.ok:
        raise TrainingError(f"the dataset has problems; fix them and train again:\n{summary.report()}")
    log.info("dataset:\n%s", summary.report())
    if model.endswith(".pt") and not Path(model).is_file():
        log.warning("%s is not a file here; Ultralytics will try to download it by name", model)

    import torch
    from ultralytics import YOLO

    deterministic_before = torch.are_deterministic_algorithms_enabled()
    try:
        yolo = YOLO(model, task="detect")
        yolo.train(
            data=str(data_yaml), epochs=epochs, imgsz=imgsz, batch=batch, device=device,
            project=str(Path(out_dir).resolve()), name=name, exist_ok=True, plots=False, workers=0,
            seed=seed, deterministic=True, **extra,
        )
    except (FileNotFoundError, ConnectionError) as exc:
        raise TrainingError(f"cannot train from {model!r}: {exc}") from exc
    finally:  # Ultralytics makes torch deterministic process-wide; give a caller's later inference its own setting
        torch.use_deterministic_algorithms(deterministic_before)
    trainer = yolo.trainer
    weights = Path(trainer.best) if Path(trainer.best).is_file() else Path(trainer.last)
    if not weights.is_file():
        raise TrainingError(f"training finished but wrote no weights under {trainer.save_dir}")
    n_train = summary.splits["train"].images
    manifest = ModelManifest(
        name=name[:100],
        file=weights.name,
        format="pt",
        imgsz=imgsz,
        labels=summary.names,
        sha256=sha256_of(weights),
        source=f"trained by streetwatch train on {data_yaml}",
        licence=LICENCE,
        description=f"{model} trained {epochs} epoch(s) at {imgsz} px on {n_train} images",
    )
    save_manifest(manifest, manifest_path_for(weights))
    log.info("trained %s; manifest %s", weights, manifest_path_for(weights))
    return weights


def export(
    weights: Path | str,
    fmt: str = "onnx",
    imgsz: int = 640,
    int8: bool = False,
    out: Path | str | None = None,
    *,
    data: Path | str | None = None,
    batch: int = 8,
) -> Path:
    """Export weights to ONNX, OpenVINO or TensorRT and write the manifest beside the result.

    ONNX and OpenVINO are exported with dynamic shapes, so one model serves a batch of cameras;
    a TensorRT engine gets `batch` as its largest batch and is built on this machine's GPU,
    for this GPU and TensorRT version only. `int8` calibrates on `data` (the model's own
    training dataset when not given). `out` is a folder to move the result (file or OpenVINO folder) into.
    """
    fmt = fmt.lower()
    weights = Path(weights)
    if fmt not in EXPORT_FORMATS:
        raise TrainingError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if not weights.is_file():
        raise TrainingError(f"{weights}: weights not found")
    if format_of(weights) != "pt":
        raise TrainingError(f"{weights}: export starts from trained PyTorch weights (.pt), e.g. weights/best.pt")
    if fmt == "engine":
        import torch

        if not torch.cuda.is_available():
            raise TrainingError(
                "TensorRT export needs an NVIDIA GPU with CUDA and this machine has none; an engine only runs on "
                "the GPU model and TensorRT version that built it, so run `streetwatch export --format engine` on "
                "the GPU machine that will serve it, or export onnx/openvino here"
            )
    _require(fmt, int8)

    from ultralytics import YOLO

    yolo = YOLO(str(weights), task="detect")
    labels = [str(yolo.names[i]) for i in sorted(yolo.names)]
    kwargs: dict[str, Any] = {"format": fmt, "imgsz": imgsz, "dynamic": True,
                              "device": "0" if fmt == "engine" else "cpu"}
    if fmt == "onnx":
        kwargs["simplify"] = _has("onnxslim")  # a smaller graph where onnxslim is installed; optional
    if fmt == "engine":
        kwargs["batch"] = batch
    if int8:
        kwargs.update(_int8_args(), data=str(_calibration_data(yolo, data)))
    try:
        produced = Path(str(yolo.export(**kwargs)))
    except Exception as exc:  # Ultralytics raises many kinds; the message is what the user needs
        raise TrainingError(f"export of {weights} to {fmt} failed: {exc}") from exc
    if out is not None:
        produced = _move(produced, Path(out))
    source_manifest = _source_manifest(weights)
    base = source_manifest.name if source_manifest else weights.stem
    manifest = ModelManifest(
        name=f"{base}-{fmt}{'-int8' if int8 else ''}"[:100],
        file=produced.name,
        format=format_of(produced),
        imgsz=imgsz,
        labels=labels,
        label_map=source_manifest.label_map if source_manifest else {},
        sha256=sha256_of(produced),
        source=f"exported by streetwatch export from {weights.resolve()} (sha256 {sha256_of(weights)})",
        licence=LICENCE,
        description=f"{fmt}{' int8' if int8 else ''} export at {imgsz} px"
        + (f" of: {source_manifest.description}" if source_manifest and source_manifest.description else ""),
    )
    save_manifest(manifest, manifest_path_for(produced))
    log.info("exported %s; manifest %s", produced, manifest_path_for(produced))
    return produced


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _require(fmt: str, int8: bool) -> None:
    """Fail before Ultralytics would pip-install a missing export package at run time."""
    needed = {**_NEEDS[fmt], **(_NEEDS_INT8.get(fmt, {}) if int8 else {})}
    missing = sorted(pip for module, pip in needed.items() if not _has(module))
    if missing:
        raise TrainingError(f"{fmt} export needs the Python package(s) {', '.join(missing)}: "
                            f"pip install {' '.join(missing)}")


def _int8_args() -> dict[str, Any]:
    """`quantize=8` where Ultralytics has it (8.4+), the older `int8=True` elsewhere."""
    from ultralytics.cfg import DEFAULT_CFG_DICT

    return {"quantize": 8} if "quantize" in DEFAULT_CFG_DICT else {"int8": True}


def _calibration_data(yolo: Any, data: Path | str | None) -> Path:
    """INT8 needs real images; without them Ultralytics would download coco8."""
    if data is not None:
        if not Path(data).is_file():
            raise TrainingError(f"{data}: calibration dataset not found")
        return Path(data)
    train_args = (getattr(yolo, "ckpt", None) or {}).get("train_args") or {}
    recorded = train_args.get("data")
    if not recorded or not Path(str(recorded)).is_file():
        raise TrainingError("int8 export calibrates on real frames: give a dataset's data.yaml with --data "
                            f"(the model's own training data, {recorded!r}, is not on this machine)")
    return Path(str(recorded))


def _source_manifest(weights: Path) -> ModelManifest | None:
    path = manifest_path_for(weights)
    return load_manifest(path) if path.is_file() else None


def _move(produced: Path, out: Path) -> Path:
    """Move an exported file or OpenVINO folder into the folder `out` (created when missing)."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / produced.name
    if target.exists():
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    shutil.move(str(produced), str(target))
    return target
