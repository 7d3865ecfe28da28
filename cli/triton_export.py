"""`streetwatch export WEIGHTS --triton DIR`: a model repository NVIDIA Triton serves, for workers to share one GPU.

A .pt is first exported to ONNX with a dynamic batch (training.export); an ONNX file is used as it is.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.train_command import _fail
from models.manifest import format_of
from models.triton import TritonError, write_repository


def export_triton(weights: Path, repository: Path, *, name: str, kind: str, max_batch: int, imgsz: int,
                  fmt: str = "onnx") -> None:
    """Write `repository/name/{config.pbtxt,1/model.onnx}` and say how workers reach it."""
    from training import TrainingError, export

    if fmt.lower() != "onnx":
        raise _fail(f"--triton 只用 ONNX --triton writes an ONNX repository; drop --format {fmt}")
    if kind not in ("gpu", "cpu"):
        raise _fail(f"--kind 应为 gpu 或 cpu --kind must be gpu or cpu, not {kind!r}")
    fmt_in = format_of(weights)
    if not weights.is_file() or fmt_in not in ("pt", "onnx"):
        raise _fail(f"{weights}: 需要 .pt 或 .onnx 文件 expected a .pt or .onnx file")
    try:
        onnx_file = export(weights, "onnx", imgsz=imgsz) if fmt_in == "pt" else weights
        folder = write_repository(onnx_file, repository, name, kind="gpu" if kind == "gpu" else "cpu",
                                  max_batch=max_batch)
    except (TrainingError, TritonError) as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"无法写入 cannot write {repository}: {exc.strerror or exc}") from None
    config = (folder / "config.pbtxt").read_text(encoding="utf-8")
    batch = f"dynamic batch up to {max_batch}" if "max_batch_size: 0" not in config else "fixed batch of 1"
    typer.echo(
        f"Triton 模型库 repository: {repository} (model {name}, {batch}, KIND_{kind.upper()})\n"
        f"serve it: tritonserver --model-repository={repository.resolve()}\n"
        f"use it: STREETWATCH_MODEL=http://TRITON_HOST:8000/{name} (workers need: pip install 'streetwatch[triton]')"
    )
