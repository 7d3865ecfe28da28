"""`streetwatch models`: which of the seven classes the configured models cover, and which they do not.

Read from manifests and model metadata; nothing runs. An operator checks this after plugging in a
model, before trusting that a class is watched. `streetwatch models rebuild` makes the float YOLOv8n
that training starts from out of the shared int8 export (the float original is not on these machines).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Annotated

import typer

from cli.common import load_or_exit
from models.precision import describe_precision
from settings import DEMO_CONFIG
from worker.zone_readings import scene_details
from zones.classes import Coverage
from zones.coverage import (
    COVERAGE_ZH,
    ClassCoverage,
    CoverageReport,
    ZoneClassState,
    coverage_for_config,
    describe_state,
)

models_app = typer.Typer(
    add_completion=False,
    invoke_without_command=True,
    help="List the configured models and which problem classes they cover; `rebuild` makes the float model.",
)


@models_app.callback()
def models_command(
    ctx: typer.Context,
    config: Annotated[
        Path, typer.Option("--config", "-c", help="YAML configuration (cameras, zones, rules, settings).")
    ] = DEMO_CONFIG,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """List the configured models and which problem classes they cover (未覆盖 = no rule will raise it)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = load_or_exit(config)
    report = coverage_for_config(settings.detector, load=True, scene=scene_details(settings.scene),
                                 heads=_heads(settings))
    report.zones = _zone_states(settings)
    configured = settings.detector.precision
    for model in report.models:
        if not model.error:
            model.precision = f"{describe_precision(model.path, model.format, configured)} (configured {configured})"
    typer.echo(report.model_dump_json(indent=2) if as_json else render(report))
    if any(m.error for m in report.models):
        raise typer.Exit(1)


def _heads(settings):  # type: ignore[no-untyped-def]
    """The zone classifiers the workers reported, when Redis answers (the report stands without them)."""
    import redis

    from bus import redis_client
    from bus.heads import read_heads

    try:
        return read_heads(redis_client(settings.bus.redis_url, socket_timeout=2), settings.bus)
    except (redis.RedisError, OSError):
        return []


def _zone_states(settings):  # type: ignore[no-untyped-def]
    """Per camera, zone and class, the clear level's state as the workers report it with camera health."""
    import redis

    from bus import redis_client
    from bus.health import read_camera_health

    try:
        reports = read_camera_health(redis_client(settings.bus.redis_url, socket_timeout=2), settings.bus,
                                     float("inf"))
    except (redis.RedisError, OSError):
        return []
    states = []
    for report in reports:
        for entry in report.get("coverage") or []:
            try:
                states.append(ZoneClassState.model_validate({**entry, "camera_id": report["camera_id"]}))
            except ValueError:
                continue  # informative, not a contract: an entry from another version is left out
    return states


@models_app.command("rebuild")
def rebuild_command(
    source: Annotated[str, typer.Option(help="Where the weights come from: onnx (the shared int8 export).")] = "onnx",
    onnx: Annotated[
        Path | None, typer.Option(help="The int8 ONNX export; the shared yolov8n-coco-int8-640.onnx by default.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="The float checkpoint to write.")] = Path(
        "var/models/yolov8n-float.pt"
    ),
    check: Annotated[
        int, typer.Option(help="Compare with the int8 model on every N-th frame of the shared clips (0: skip).")
    ] = 10,
    export_onnx: Annotated[
        bool, typer.Option("--export-onnx", help="Also export the float model to ONNX with a dynamic batch.")
    ] = False,
) -> None:
    """Rebuild a float YOLOv8n (.pt, COCO names) from the shared int8 ONNX export, for fine-tuning."""
    if source != "onnx":
        typer.echo(f"错误 error: unknown source {source!r}; only onnx is supported", err=True)
        raise typer.Exit(2)
    from models.registry import current_assets_dir
    from training.rebuild import RebuildError, rebuild_and_check

    assets = current_assets_dir()
    onnx_path = onnx or assets / "weights" / "yolov8n-coco-int8-640.onnx"
    if not onnx_path.is_file():
        typer.echo(f"错误 error: {onnx_path}: int8 export not found (set STREETWATCH_ASSETS)", err=True)
        raise typer.Exit(2)
    try:
        result = rebuild_and_check(onnx_path, out, assets, check, export_onnx)
    except RebuildError as exc:
        typer.echo(f"错误 error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"浮点模型 float model: {result['weights']}")
    if result.get("onnx"):
        typer.echo(f"导出 exported (dynamic batch): {result['onnx']}")
    if result.get("agreement"):
        a = result["agreement"]
        typer.echo(f"与 int8 一致 agreement with int8 on {a['frames']} frames (IoU>=0.5, same class): "
                   f"{a['share_of_a']:.1%} of int8 boxes ({a['boxes_a']}), {a['share_of_b']:.1%} of float boxes "
                   f"({a['boxes_b']}), mean IoU {a['mean_iou']:.3f}; median inference {a['median_ms_a']} ms int8, "
                   f"{a['median_ms_b']} ms float")


def render(report: CoverageReport) -> str:
    """The report as text, Chinese first and English second."""
    lines = ["模型 Models"]
    for m in report.models:
        lines.append(f"  {m.name}  {m.format}  imgsz {m.imgsz or '-'}  {len(m.labels)} labels  "
                     f"({m.origin}{': ' + m.manifest if m.manifest else ''})")
        lines.append(f"    {m.path}")
        if m.precision:
            lines.append(f"    推理精度 precision: {m.precision}")
        mapped = {k: v for k, v in m.label_map.items() if k in m.labels}
        if mapped:
            lines.append("    标签映射 label map: " + ", ".join(f"{k} → {v or '(dropped)'}" for k, v in mapped.items()))
        lines += [f"    警告 warning: {w}" for w in m.warnings]
        if m.error:
            lines.append(f"    错误 error: {m.error}")
    rows = [("类别 class", "覆盖 coverage", "模型/标签 models/labels")]
    rows += [(f"{c.name_zh} {c.id.value}", f"{COVERAGE_ZH[c.coverage]} {c.coverage.value}", _sources(c))
             for c in report.classes]
    widths = [max(_width(row[i]) for row in rows) for i in range(2)]
    lines.append("")
    lines += ["  " + _pad(a, widths[0]) + "  " + _pad(b, widths[1]) + "  " + c for a, b, c in rows]
    if report.uncovered:
        names = ", ".join(f"{c.name_zh} {c.id.value}" for c in report.classes if c.coverage is Coverage.NONE)
        lines += ["", f"未覆盖 not covered: {names} (no rule will raise them)"]
    else:
        lines += ["", "七类全部有模型覆盖 all seven classes have a model behind them"]
    if report.zones:
        lines += ["", "区域基准 zone clear levels (as the workers report them)"]
        lines += [f"  {z.camera_id} / {z.zone_id} / {z.problem.value}: {describe_state(z)}"
                  + (f", {z.sources['auto']} learnt by itself" if z.sources.get("auto") else "")
                  for z in report.zones]
    return "\n".join(lines)


def _sources(c: ClassCoverage) -> str:
    if not c.sources and not c.zone_level:
        return "-"
    parts = []
    for s in c.sources:
        labels = s.primary + [f"{label} (proxy)" for label in s.proxy]
        parts.append(f"{s.model}: {', '.join(labels)}")
    parts += [f"{z.kind}: {z.detail} [{z.measured}]" for z in c.zone_level]
    text = "; ".join(parts)
    if c.missing_helpers:
        text += f"  [缺少 missing: {', '.join(c.missing_helpers)}]"
    return text


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
