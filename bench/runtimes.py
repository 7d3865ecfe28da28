"""CPU runtimes side by side: ONNX Runtime and OpenVINO on the shared models, on the same frames.

Which runtime is the default decides how many cameras a core carries, so the choice is measured, not
assumed. Three views, every variant once per round, round after round, so that load from other jobs
falls on all of them alike:

- `predict`: Ultralytics `YOLO.predict` on one frame per call (preprocessing, inference, NMS): what
  the worker pays per analysed frame for detection.
- `raw`: the runtime's own session on the same letterboxed tensors, nothing else: each ONNX file under
  ONNX Runtime and under OpenVINO (which reads ONNX), so the same model at the same size under both,
  then the OpenVINO IR (static 640: its anchors and attention shapes are baked in, so no 320).
- `batch`: the OpenVINO IR with a batch of 1, 2, 4 and 8 frames per call; cost per frame.

CPU milliseconds (`time.process_time`, all threads of the process) are the cost that sizing needs;
wall milliseconds are kept too. Nothing is pinned: each runtime uses the threads it picks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pydantic import BaseModel

from bench.common import Machine, Stat, table
from bench.detect import load_frames
from models.loading import open_yolo
from models.precision import openvino_config
from models.registry import current_assets_dir

DEFAULT_CLIP = "residential-street-parked-cars.mp4"
BATCHES = (1, 2, 4, 8)
# name, weights under the assets' weights/, runtime, imgsz
MODELS = (
    ("yolov8n-int8-640", "yolov8n-coco-int8-640.onnx", "onnxruntime", 640),
    ("yolo11n-int8-320", "yolo11n-coco-int8-320.onnx", "onnxruntime", 320),
    ("yolo11n-int8-640", "yolo11n-coco-int8-openvino", "openvino", 640),
)


class RuntimeRow(BaseModel):
    view: str  # predict | raw | batch
    model: str
    runtime: str
    imgsz: int
    batch: int
    wall_ms_per_frame: Stat
    cpu_ms_per_frame: Stat
    cpu_vs_default: Stat  # CPU per frame over the default model's in the same view, round by round
    boxes: int | None = None  # predict: boxes kept on all frames (conf 0.1), the same frames for every model
    cars: int | None = None


class RuntimesReport(BaseModel):
    machine: Machine
    clip: str
    frames: int
    repeats: int
    rows: list[RuntimeRow]
    batch_max_abs_diff: dict[int, float]  # batch output against the same frames one by one: 0 = identical


def _letterbox(image: np.ndarray, size: int) -> np.ndarray:
    """BGR frame -> 1x3xSxS float32 RGB in [0, 1], aspect kept, padded grey, as Ultralytics feeds a model."""
    h, w = image.shape[:2]
    scale = size / max(h, w)
    resized = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((size, size, 3), 114, dtype=np.uint8)
    top, left = (size - resized.shape[0]) // 2, (size - resized.shape[1]) // 2
    canvas[top : top + resized.shape[0], left : left + resized.shape[1]] = resized
    return np.ascontiguousarray(canvas[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / 255.0


def _ort_session(path: Path) -> Callable[[np.ndarray], Any]:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})[0]


def _openvino_model(path: Path, batch: int = 1) -> Callable[[np.ndarray], Any]:
    """An ONNX file or IR folder compiled by OpenVINO for the CPU; an IR reshaped to `batch` frames per call.

    The shared IR was exported static (1x3x640x640) and its attention block reshapes to constants that
    start with that 1, so `Model.reshape` alone refuses any other batch. Those Reshape targets get 0 in
    place of the 1 (with special_zero: copy the input's batch), which makes the batch free and leaves
    every other dimension as exported; `run_runtimes_bench` checks that a batch gives exactly the
    single-frame outputs.
    """
    import openvino
    from openvino import opset13

    core = openvino.Core()
    model = core.read_model(path if path.is_file() else next(iter(sorted(path.glob("*.xml")))))
    if batch != 1:
        for op in list(model.get_ops()):
            target = op.input_value(1).get_node() if op.get_type_name() == "Reshape" else None
            if target is None or target.get_type_name() != "Constant":
                continue
            shape = target.get_data().copy()
            if shape.size > 1 and shape[0] == 1 and 0 not in shape[1:]:
                shape[0] = 0
                free = opset13.reshape(op.input_value(0), opset13.constant(shape.astype(np.int64)), True)
                op.output(0).replace(free.output(0))
        size = model.input(0).get_partial_shape()[2].get_length()
        model.reshape([batch, 3, size, size])
    compiled = core.compile_model(model, "CPU", {"PERFORMANCE_HINT": "LATENCY", **openvino_config("f32")})
    request = compiled.create_infer_request()
    return lambda x: request.infer({0: x})[0]


def run_runtimes_bench(
    clip: Path | None = None, frames: int = 40, repeats: int = 3, progress: Callable[[str], None] = lambda _msg: None
) -> RuntimesReport:
    """Every variant on the same `frames` frames of `clip`, `repeats` interleaved rounds."""

    if repeats < 1 or frames < 1:
        raise ValueError("repeats and frames must be at least 1")
    clip = Path(clip or current_assets_dir() / "video" / DEFAULT_CLIP)
    images = load_frames(clip, frames, fps=1.0)
    weights = current_assets_dir() / "weights"
    tensors = {size: [_letterbox(img, size) for img in images] for size in (320, 640)}
    # key -> (view, model, runtime, imgsz, batch, frames per call, one round's work)
    variants: dict[str, tuple[str, str, str, int, int, Callable[[], Any]]] = {}
    counts: dict[str, tuple[int, int]] = {}
    for name, file, runtime, size in MODELS:
        progress(f"loading {name} ({runtime})")
        yolo = open_yolo(str(weights / file))
        kwargs = {"imgsz": size, "conf": 0.1, "iou": 0.7, "device": "cpu", "verbose": False}
        results = [r for img in images for r in yolo.predict(img, **kwargs)]  # warm-up, and what it finds
        car = next(k for k, v in yolo.names.items() if v == "car")
        counts[name] = (sum(len(r.boxes) for r in results), sum(int((r.boxes.cls == car).sum()) for r in results))
        variants[f"predict {name}"] = (
            "predict",
            name,
            runtime,
            size,
            1,
            lambda y=yolo, k=kwargs: [y.predict(img, **k) for img in images],
        )
    # The same ONNX file under both runtimes (OpenVINO reads ONNX), then the IR: same model, same size.
    raw_models = [
        ("yolov8n-int8-640", "onnxruntime", 640, _ort_session(weights / MODELS[0][1])),
        ("yolov8n-int8-640", "openvino", 640, _openvino_model(weights / MODELS[0][1])),
        ("yolo11n-int8-320", "onnxruntime", 320, _ort_session(weights / MODELS[1][1])),
        ("yolo11n-int8-320", "openvino", 320, _openvino_model(weights / MODELS[1][1])),
        ("yolo11n-int8-640", "openvino", 640, _openvino_model(weights / MODELS[2][1])),
    ]
    for name, runtime, size, infer in raw_models:
        variants[f"raw {name} {runtime}"] = (
            "raw",
            name,
            runtime,
            size,
            1,
            lambda f=infer, s=size: [f(x) for x in tensors[s]],
        )
    single = _openvino_model(weights / MODELS[2][1])
    batch_diff: dict[int, float] = {}
    for batch in BATCHES:
        progress(f"reshaping the OpenVINO IR to batch {batch}")
        infer = _openvino_model(weights / MODELS[2][1], batch)
        stacked = [np.concatenate(tensors[640][i : i + batch]) for i in range(0, frames - batch + 1, batch)]
        if not stacked:
            continue
        alone = np.concatenate([single(x) for x in tensors[640][:batch]])
        batch_diff[batch] = float(np.abs(np.asarray(infer(stacked[0])) - alone).max())
        variants[f"batch {batch}"] = (
            "batch",
            "yolo11n-int8-640",
            "openvino",
            640,
            batch,
            lambda f=infer, xs=stacked: [f(x) for x in xs],
        )
    for _, *_rest, run in variants.values():
        run()  # warm-up: first-call allocations are not what a running worker pays
    wall: dict[str, list[float]] = {key: [] for key in variants}
    cpu: dict[str, list[float]] = {key: [] for key in variants}
    for round_ in range(repeats):
        progress(f"round {round_ + 1}/{repeats}")
        for key, (_view, _name, _rt, _size, batch, run) in variants.items():
            done = frames - frames % batch
            c0, w0 = time.process_time(), time.perf_counter()
            run()
            wall[key].append((time.perf_counter() - w0) * 1000 / done)
            cpu[key].append((time.process_time() - c0) * 1000 / done)
    baseline = {"predict": "predict yolov8n-int8-640", "raw": "raw yolov8n-int8-640 onnxruntime", "batch": "batch 1"}
    rows = []
    for key, (view, name, runtime, size, batch, _run) in variants.items():
        base = cpu[baseline[view]]
        boxes, cars = counts.get(name, (None, None)) if view == "predict" else (None, None)
        rows.append(
            RuntimeRow(
                view=view,
                model=name,
                runtime=runtime,
                imgsz=size,
                batch=batch,
                wall_ms_per_frame=Stat.of(wall[key]),
                cpu_ms_per_frame=Stat.of(cpu[key]),
                cpu_vs_default=Stat.of(c / b for c, b in zip(cpu[key], base, strict=True)),
                boxes=boxes,
                cars=cars,
            )
        )
    return RuntimesReport(
        machine=Machine.current(),
        clip=str(clip),
        frames=frames,
        repeats=repeats,
        rows=rows,
        batch_max_abs_diff=batch_diff,
    )


def render(report: RuntimesReport, markdown: bool = False) -> str:
    rows = [
        [
            r.view,
            r.model,
            r.runtime,
            str(r.imgsz),
            str(r.batch),
            r.wall_ms_per_frame.fmt(1),
            r.cpu_ms_per_frame.fmt(1),
            r.cpu_vs_default.fmt(2),
            "-" if r.boxes is None else str(r.boxes),
            "-" if r.cars is None else str(r.cars),
        ]
        for r in report.rows
    ]
    return "\n".join(
        [
            f"Machine: {report.machine.describe()}",
            f"{report.frames} frames of {Path(report.clip).name} (1 frame/s of video), {report.repeats} rounds, "
            "medians (lowest-highest); × first row of the view: CPU per frame over that row's, round by round",
            "",
            table(
                [
                    "view",
                    "model",
                    "runtime",
                    "imgsz",
                    "batch",
                    "wall ms/frame",
                    "CPU ms/frame",
                    "CPU × first",
                    "boxes",
                    "cars",
                ],
                rows,
                markdown,
            ),
            "",
            "OpenVINO batch outputs against the same frames one by one, largest absolute difference: "
            + ", ".join(f"batch {b}: {d:g}" for b, d in report.batch_max_abs_diff.items()),
        ]
    )
