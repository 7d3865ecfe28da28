"""`streetwatch synth`: CCTV-like synthetic garbage images and test clips (training/synthesis).

Kept apart from cli/main.py so OpenCV, PyAV and the detector load only when it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer


def synth_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the dataset, clips/ and truth files.")] = Path(
        "var/synth"),
    train: Annotated[int, typer.Option(min=1, help="Training images (frames of the TRAIN clips).")] = 1500,
    val: Annotated[int, typer.Option(min=1, help="Validation images (frames of the held-apart TEST clips).")] = 300,
    clips: Annotated[int, typer.Option(min=0, help="Test clips with a bag dropped at a known time.")] = 6,
    negative_clips: Annotated[int, typer.Option(min=0, help="Test clips with nothing dropped.")] = 4,
    clip_seconds: Annotated[float, typer.Option(min=2.0, max=120.0, help="Length of each test clip.")] = 40.0,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 0,
) -> None:
    """Paste garbage-bag cut-outs on the ground of the shared street clips: a YOLO set, test clips, truth."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from detector import Detector, DetectorConfig, DetectorError
    from training.synthesis import synthesize

    try:
        detector = Detector(DetectorConfig())
    except DetectorError as exc:
        typer.echo(f"错误 error: {exc}", err=True)
        raise typer.Exit(2) from None
    started = time.monotonic()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:

        def stage(name: str, total: int) -> Callable[[], None]:
            task = bar.add_task(name, total=total)
            return lambda: bar.advance(task)

        try:
            result = synthesize(out, detector, train=train, val=val, clips=clips, negative_clips=negative_clips,
                                seed=seed, clip_seconds=clip_seconds, progress=stage)
        except ValueError as exc:
            typer.echo(f"错误 error: {exc}", err=True)
            raise typer.Exit(2) from None
    counts = ", ".join(f"{k} {v}" for k, v in result.counts().items())
    typer.echo(f"{out}: {counts}; {time.monotonic() - started:.0f} s")
