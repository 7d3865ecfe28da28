"""`streetwatch models`: which of the seven classes the configured models cover, and which they do not.

Read from manifests and model metadata; nothing runs. An operator checks this after plugging in a
model, before trusting that a class is watched.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Annotated

import typer

from settings import DEMO_CONFIG, ConfigError, load_config
from worker.zone_evidence import scene_details
from zones.classes import Coverage
from zones.coverage import COVERAGE_ZH, ClassCoverage, CoverageReport, coverage_for_config


def models_command(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="YAML configuration (cameras, zones, rules, settings).")
    ] = DEMO_CONFIG,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """List the configured models and which problem classes they cover (未覆盖 = no rule will raise it)."""
    try:
        settings = load_config(config)
    except ConfigError as exc:
        typer.echo(f"配置错误 configuration error:\n{exc}", err=True)
        raise typer.Exit(2) from None
    report = coverage_for_config(settings.detector, load=True, scene=scene_details(settings.scene),
                                 heads=_heads(settings))
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


def render(report: CoverageReport) -> str:
    """The report as text, Chinese first and English second."""
    lines = ["模型 Models"]
    for m in report.models:
        lines.append(f"  {m.name}  {m.format}  imgsz {m.imgsz or '-'}  {len(m.labels)} labels  "
                     f"({m.origin}{': ' + m.manifest if m.manifest else ''})")
        lines.append(f"    {m.path}")
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
