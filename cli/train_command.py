"""`streetwatch dataset | train | export`: a city's own model, from footage to a deployable file.

Kept apart from cli/main.py so Ultralytics and torch are imported only when these commands run;
main registers them with `app.command(name="train")(train_command)` and so on.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_BOOTSTRAP_LABELS = "car,bus,truck,motorcycle,bicycle,person,umbrella"


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _show_ultralytics_progress() -> None:
    """Epoch lines and progress bars matter in a training run; the detector package silences them for workers."""
    os.environ["YOLO_VERBOSE"] = "True"
    if "ultralytics" in sys.modules:  # already imported (in tests): its logger level was set on import
        import ultralytics.utils

        ultralytics.utils.VERBOSE = True
        ultralytics.utils.LOGGER.setLevel(logging.INFO)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"错误 error: {message}", err=True)
    return typer.Exit(2)


def dataset_command(
    clips: Annotated[list[Path], typer.Argument(help="Clips of the city's cameras to take frames from.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for images/, labels/ and data.yaml.")] = Path(
        "var/datasets/bootstrap"
    ),
    labels: Annotated[
        str, typer.Option(help="Comma-separated class names in index order; boxes of other labels are dropped.")
    ] = DEFAULT_BOOTSTRAP_LABELS,
    frames_per_clip: Annotated[int, typer.Option(min=2, help="Frames spread evenly over each clip.")] = 20,
    min_confidence: Annotated[float, typer.Option(min=0.0, max=1.0, help="Weakest box kept as a label.")] = 0.4,
    max_side: Annotated[int | None, typer.Option(help="Shrink saved frames to this longest side (px).")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Use this configuration's detector models.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Label with these weights instead (overrides --config).")] = None,
    verbose: bool = False,
) -> None:
    """Bootstrap a YOLO dataset: frames of real clips, boxes guessed by the configured (or default) model."""
    from detector import Detector, DetectorConfig, DetectorError
    from settings import ConfigError, load_config
    from streams import SourceError
    from training import build_pseudo_labelled_dataset, validate_dataset

    _setup_logging(verbose)
    try:
        detector_config = load_config(config).detector if config is not None else DetectorConfig()
        if model is not None:
            detector_config = DetectorConfig(model=model, confidence=detector_config.confidence)
        detector = Detector(detector_config)
        data_yaml = build_pseudo_labelled_dataset(
            clips, out, labels.split(","), frames_per_clip, detector, min_confidence=min_confidence, max_side=max_side
        )
    except ConfigError as exc:
        raise _fail(f"configuration: {exc}") from None
    except (DetectorError, SourceError, ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(validate_dataset(data_yaml).report())
    typer.echo(f"数据集 dataset: {data_yaml} (pseudo-labels: check and correct them before relying on a model)")


def train_command(
    data: Annotated[
        Path | None, typer.Argument(help="The dataset's data.yaml; names are StreetWatch evidence labels.")
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(help="garbage: the garbage-bag model from the shared trashbags set; street: garbage, "
                          "overflowing bins and bins from street-bins-cn and var/synth (no DATA)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="Start: a yaml for a fresh network, or a .pt to fine-tune (better when available). "
                          "Default yolov8n.yaml; the garbage preset starts from `streetwatch models rebuild`."),
    ] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Default 100; 8 for the garbage preset.")] = None,
    imgsz: Annotated[int | None, typer.Option(min=32, help="Training image size (px); 640, preset 320.")] = None,
    batch: Annotated[int, typer.Option(help="Images per batch; -1 lets Ultralytics fit the GPU memory.")] = 16,
    device: Annotated[str, typer.Option(help="'cpu', '0' for the first GPU, '0,1' for two.")] = "cpu",
    out: Annotated[Path, typer.Option("--out", "-o", help="Runs go to OUT/NAME.")] = Path("var/train"),
    name: Annotated[str, typer.Option(help="Run name; also the model's name in its manifest.")] = "urban",
    ship: Annotated[
        bool, typer.Option("--ship", help="Preset only: copy the ONNX and its manifest into models/ to commit.")
    ] = False,
    measure_only: Annotated[
        bool, typer.Option("--measure-only", help="Preset only: measure the last trained model again, no training.")
    ] = False,
    check: Annotated[bool, typer.Option("--check", help="Only check the dataset and print its counts.")] = False,
    verbose: bool = False,
) -> None:
    """Train a detector on a city's labelled footage (writes best.pt and its manifest), or run a preset."""
    from training import TrainingError, train, validate_dataset

    _setup_logging(verbose)
    if preset is not None:
        _run_preset(preset, model, epochs, imgsz, ship, measure_only)
        return
    if data is None:
        raise _fail("give the dataset's data.yaml, or --preset garbage")
    if check:
        summary = validate_dataset(data)
        typer.echo(summary.report())
        if not summary.ok:
            raise _fail("the dataset has problems (listed above); fix them and run again")
        return
    _show_ultralytics_progress()
    imgsz = imgsz or 640
    try:
        weights = train(data, model=model or "yolov8n.yaml", epochs=epochs or 100, imgsz=imgsz, batch=batch,
                        device=device, out_dir=out, name=name)
    except TrainingError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"模型 model: {weights}\n清单 manifest: {weights}.manifest.yaml\n"
               f"next: streetwatch export {weights} --format onnx --imgsz {imgsz}")


def _run_preset(
    preset: str, model: str | None, epochs: int | None, imgsz: int | None, ship: bool, measure_only: bool
) -> None:
    """`--preset garbage|street`: make the preset's data set, fine-tune the rebuilt YOLOv8n, export, measure, (ship)."""
    if preset not in ("garbage", "street"):
        raise _fail(f"unknown preset {preset!r}; known: garbage, street")
    from models.registry import current_assets_dir
    from training import TrainingError
    from training.rebuild import DEFAULT_OUT, RebuildError, rebuild_and_check

    if preset == "street":
        from training.street import StreetPreset as Settings
        from training.street import measure_only as remeasure
        from training.street import train_street as train_preset
    else:
        from training.garbage import GarbagePreset as Settings  # type: ignore[assignment]
        from training.garbage import measure_only as remeasure  # type: ignore[assignment]
        from training.garbage import train_garbage as train_preset  # type: ignore[assignment]

    _show_ultralytics_progress()
    assets = current_assets_dir()
    settings = Settings(**{k: v for k, v in {"epochs": epochs, "imgsz": imgsz}.items() if v is not None})
    start = Path(model) if model else DEFAULT_OUT
    try:
        if measure_only:
            report = remeasure(assets, Path("var"), settings, ship=ship)
        else:
            if not start.is_file():
                typer.echo(f"先重建浮点模型 rebuilding the float model first: {start}")
                rebuild_and_check(assets / "weights" / "yolov8n-coco-int8-640.onnx", start, assets, every=0)
            report = train_preset(assets, Path("var"), start, settings, ship=ship)
    except (TrainingError, RebuildError, FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None
    shipped = "\n已放入 shipped to models/weights and models/manifests" if ship else ""
    typer.echo(f"模型 model: {report['onnx']} ({report['onnx_mb']} MB), {report['train_minutes']} min training\n"
               + (_street_figures(report) if preset == "street" else _garbage_figures(report)) + shipped)


def _garbage_figures(report: dict) -> str:  # type: ignore[type-arg]
    v, street = report["validation"], report["street_false_boxes"]["all"]
    return (f"验证 valid: mAP50 {v['mAP50']}, mAP50-95 {v['mAP50-95']}, P {v['precision']}, R {v['recall']}\n"
            f"街景误检 false boxes per street frame: {street['per_frame']} ({street['boxes']} in "
            f"{street['frames']} frames) alone; beside COCO, boxes on people and vehicles dropped: "
            + ", ".join(f"conf {c}: {b['street_per_frame']}/frame, valid P {b['valid_precision']} "
                        f"R {b['valid_recall']}" for c, b in report["beside_coco"].items()))


def _street_figures(report: dict) -> str:  # type: ignore[type-arg]
    v, street, clips = report["validation"], report["street_boxes"], report["synthetic_clips"]
    return (f"验证 valid: mAP50 {v['mAP50']}; " + ", ".join(f"{n} {c['mAP50']}" for n, c in v["per_class"].items())
            + f"\n街景框 street boxes per frame ({street['frames']} frames): "
            + ", ".join(f"{n} {p}" for n, p in street["per_class_per_frame"].items())
            + "\n合成片段 synthetic clips beside COCO: "
            + ", ".join(f"{c} F1 {x['f1']} ({x['false_alerts']} false)" for c, x in clips["per_class"].items()))


def export_command(
    weights: Annotated[Path, typer.Argument(help="Trained weights (.pt), e.g. var/train/urban/weights/best.pt; "
                                            "with --triton also an Ultralytics ONNX file.")],
    format: Annotated[str, typer.Option("--format", "-f", help="onnx, openvino, or engine (TensorRT, on a GPU).")] = (
        "onnx"
    ),
    imgsz: Annotated[int, typer.Option(min=32, help="Inference size the exported model expects (px).")] = 640,
    int8: Annotated[bool, typer.Option(help="Quantise to int8, calibrated on the dataset's images.")] = False,
    data: Annotated[Path | None, typer.Option(help="data.yaml for int8 calibration; the training one by default.")] = (
        None
    ),
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder to move the export into.")] = None,
    triton: Annotated[Path | None, typer.Option(help="Write a Triton model repository here (ONNX backend).")] = None,
    name: Annotated[str, typer.Option(help="Model name in the Triton repository and in its URL.")] = "yolo",
    kind: Annotated[str, typer.Option(help="Triton instance kind: gpu or cpu.")] = "gpu",
    max_batch: Annotated[int, typer.Option(min=1, help="Triton's largest batch (dynamic-batch models); at least "
                                                       "the workers' scheduler.batch_size.")] = 8,
    verbose: bool = False,
) -> None:
    """Export trained weights to ONNX / OpenVINO / TensorRT (manifest beside it), or a Triton model repository."""
    _show_ultralytics_progress()
    from training import TrainingError, export

    _setup_logging(verbose)
    if triton is not None:
        from cli.triton_export import export_triton

        if int8 or out is not None:
            raise _fail("--triton 不与 --int8/--out 同用 --triton writes its own folder of a float ONNX model; "
                        "drop --int8 and --out")
        export_triton(weights, triton, name=name, kind=kind, max_batch=max_batch, imgsz=imgsz, fmt=format)
        return
    try:
        produced = export(weights, format, imgsz=imgsz, int8=int8, out=out, data=data)
    except TrainingError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"导出 exported: {produced}\n清单 manifest: {produced}.manifest.yaml\n"
               f"use it: detector.models: [{{manifest: {produced}.manifest.yaml}}] in the configuration")
