"""`streetwatch eval`: replay labelled clips through the live pipeline and score events against the labels.

Kept apart from cli/main.py so the heavy evaluation imports are paid only by this command;
main registers it with `app.command(name="eval")(eval_command)`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from settings import ConfigError


def enforce_floor(f1: float | None, min_f1: float | None) -> None:
    """Exit 1 when the overall F1 is below the floor, so CI fails on a change that loses events."""
    if min_f1 is None:
        return
    if f1 is None:
        typer.echo(f"失败 FAILED: nothing to score (no labelled episode and no event); --min-f1 {min_f1} not met",
                   err=True)
        raise typer.Exit(1)
    if f1 < min_f1:
        typer.echo(f"失败 FAILED: overall F1 {f1:.3f} is below --min-f1 {min_f1:.3f}", err=True)
        raise typer.Exit(1)
    typer.echo(f"通过 passed: overall F1 {f1:.3f} >= --min-f1 {min_f1:.3f}")


def eval_command(
    truth: Annotated[Path, typer.Argument(help="Truth file: clips, their zones and the labelled episodes; image "
                                              "sets of positives and negatives per class and zone kind.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for report.json, report.html and timelines/.")
    ] = Path("var/eval"),
    min_f1: Annotated[
        float | None,
        typer.Option("--min-f1", min=0.0, max=1.0, help="Exit 1 when the overall F1 is below this (for CI)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Log every event as it is raised.")] = False,
) -> None:
    """Replay labelled clips through the whole pipeline and score the events against the labels; show labelled
    image sets to it as still cameras and score what it raised on each."""
    from detector import Detector, DetectorError
    from evaluation import load_truth, run_clips, score_clip, summarise
    from evaluation.image_report import format_image_table
    from evaluation.report import format_table, write_report
    from evaluation.runner import run_images
    from streams import SourceError

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        truth_file = load_truth(truth)
    except ConfigError as exc:
        typer.echo(f"真值文件错误 truth file error:\n{exc}", err=True)
        raise typer.Exit(2) from None
    if out.exists() and not out.is_dir():
        typer.echo(f"错误 error: --out {out} exists and is not a folder", err=True)
        raise typer.Exit(2)
    try:
        detector = Detector(truth_file.detector)
        runs = run_clips(truth_file, detector, media_dir=out)
        image_runs = run_images(truth_file, detector)
    except (DetectorError, SourceError) as exc:
        typer.echo(f"错误 error: {exc}", err=True)
        raise typer.Exit(2) from None
    summary = summarise([score_clip(run.scoring_input()) for run in runs])
    report = write_report(summary, runs, truth, out, truth_file.detector.model, image_runs)
    if runs:
        typer.echo(format_table(summary))
    if image_runs:
        typer.echo(format_image_table(image_runs))
    typer.echo(f"报告 report: {report}, {out / 'report.html'}, {out / 'timelines'}/")
    enforce_floor(summary.overall.f1, min_f1)
