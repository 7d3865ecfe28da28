"""What an evaluation leaves behind: report.json for machines, report.html and timelines for people.

The JSON keeps every labelled and raised episode with its outcome, so a change in the score can be
traced to the episode that changed; the timelines show the same on a time axis per zone and class.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from evaluation.image_report import class_totals, format_image_table, image_html, image_records
from evaluation.images import ImageSetRun
from evaluation.runner import ClipRun
from evaluation.scoring import ClipScore, Counts, RaisedResult, RaisedStatus, Summary, TruthStatus, clip_counts
from zones import Event, EventState

TRUTH_COLOURS = {TruthStatus.HIT: "#2e7d32", TruthStatus.MISSED: "#c62828", TruthStatus.BELOW_DWELL: "#9e9e9e"}
RAISED_COLOURS = {RaisedStatus.HIT: "#1565c0", RaisedStatus.DUPLICATE: "#ef6c00", RaisedStatus.FALSE: "#c62828"}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def build_report(summary: Summary, runs: Sequence[ClipRun], truth_path: Path, model: str,
                 image_runs: Sequence[ImageSetRun] = ()) -> dict[str, Any]:
    """Everything measured, as plain data: the overall and per-class figures, then every clip's episodes, then
    the image sets."""
    return {
        "truth_file": str(truth_path),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": model,
        "overall": summary.overall.as_dict(),
        "classes": {problem.value: counts.as_dict() for problem, counts in summary.classes.items()},
        "clips": [_clip_record(score, run) for score, run in zip(summary.clips, runs, strict=True)],
        "image_classes": class_totals(image_runs),
        "image_sets": image_records(image_runs),
    }


def _clip_record(score: ClipScore, run: ClipRun) -> dict[str, Any]:
    starts = {e.event_id: e for e in run.events if e.state is EventState.START}
    return {
        "name": run.name,
        "video": run.clip.video,
        "camera_id": run.camera.id,
        "frames": run.frames,
        "analysis_fps": run.clip.analysis_fps,
        "duration_s": _r(run.duration_s),
        "wall_s": _r(run.wall_s),
        "rules": {p.value: run.config.rules.for_class(p).model_dump() for p in sorted(run.covered)},
        "zones": [
            {"id": z.id, "kind": z.kind.value, "classes": [c.value for c in z.classes]} for z in run.camera.zones
        ],
        "classes": {p.value: c.as_dict() for p, c in sorted(clip_counts(score).items())},
        "truth": [
            {
                "ref": t.span.ref, "class": t.span.problem.value, "zone": t.span.zone_id,
                "start_s": _r(t.span.start_s), "end_s": _r(t.span.end_s), "at": t.span.at, "note": episode.note,
                "status": t.status.value, "event_id": t.matched, "delay_s": _r(t.delay_s), "duplicates": t.duplicates,
            }
            for t, episode in zip(score.truth, run.clip.truth, strict=True)
        ],
        "events": [_event_record(e, starts.get(e.span.ref)) for e in score.raised],
        "timeline": f"timelines/{run.name}.png",
    }


def _event_record(raised: RaisedResult, start: Event | None) -> dict[str, Any]:
    """A raised episode with its outcome and what its `start` event showed staff (label, score, snapshot)."""
    return {
        "event_id": raised.span.ref, "class": raised.span.problem.value, "zone": raised.span.zone_id,
        "start_s": _r(raised.span.start_s), "end_s": _r(raised.span.end_s), "status": raised.status.value,
        "truth": raised.truth, "delay_s": _r(raised.delay_s), "bbox": raised.span.box,
        "label": start.label if start else None,
        "confidence": start.confidence if start else None,
        "snapshot": start.snapshot if start else None,
    }


def _bars(axes: Any, spans: Sequence[tuple[float, float, str]], top: float, min_width: float) -> list[float]:
    """Stack spans (start, end, colour) in thin slots of a 0.42-high band from `top` down; returns slot bottoms."""
    slot = 0.42 / max(1, len(spans))
    bottoms = []
    for i, (start, end, colour) in enumerate(spans):
        bottom = top + i * slot
        axes.broken_barh([(start, max(end - start, min_width))], (bottom, slot * 0.8), facecolors=colour)
        bottoms.append(bottom)
    return bottoms


def draw_timeline(score: ClipScore, run: ClipRun, path: Path) -> None:
    """Per zone and class: truth episodes in the upper half of the row, raised episodes in the lower half."""
    rows = [(z.id, p) for z in run.camera.zones for p in z.classes
            if p in run.covered or any(s.problem == p and s.zone_id == z.id for s in score.clip.truth)]
    figure = Figure(figsize=(11, 1.8 + 0.6 * max(1, len(rows))), dpi=100)
    axes = figure.add_subplot()
    duration = max(run.duration_s, 1.0)
    for y, (zone_id, problem) in enumerate(rows):
        truths = [t for t in score.truth if (t.span.zone_id, t.span.problem) == (zone_id, problem)]
        raised = [r for r in score.raised if (r.span.zone_id, r.span.problem) == (zone_id, problem)]
        order = {t.span.ref: i for i, t in enumerate(truths)}  # alerts in the order of the labels they hit
        raised.sort(key=lambda r: (order.get(r.truth or "", len(order)), r.span.start_s))
        spans = [(t.span.start_s, t.span.end_s, TRUTH_COLOURS[t.status]) for t in truths]
        slot = 0.42 / max(1, len(truths)) * 0.8
        for t, bottom in zip(truths, _bars(axes, spans, y - 0.46, duration / 400), strict=True):
            if t.status is not TruthStatus.BELOW_DWELL:  # the moment an alert became due
                due = t.span.start_s + score.clip.dwell_s.get((problem, zone_id), 0.0)
                axes.plot([due, due], [bottom, bottom + slot], color="black", linewidth=1.5)
        _bars(axes, [(r.span.start_s, r.span.end_s, RAISED_COLOURS[r.status]) for r in raised], y + 0.04,
              duration / 400)
        axes.axhline(y + 0.5, color="#cccccc", linewidth=0.8)
    axes.set_yticks(range(len(rows)), [f"{zone}\n{problem.value}" for zone, problem in rows], fontsize=8)
    axes.set_ylim(max(1, len(rows)) - 0.5, -0.5)  # first zone on top
    axes.set_xlim(0, duration)
    axes.set_xlabel("clip time (s)")
    axes.grid(axis="x", color="#eeeeee")
    counts = Counts()
    for c in clip_counts(score).values():
        counts.add(c)
    axes.set_title(f"{run.name} (camera {run.camera.id}): {counts.episodes} episodes, {counts.events} alerts, "
                   f"{counts.hits} hits, {counts.false_alerts} false\n"
                   "each row: labelled episodes above, alerts below; | marks when an alert is due (start + dwell)",
                   fontsize=9)
    legend = [Patch(color=c, label=f"truth {s.value}") for s, c in TRUTH_COLOURS.items()]
    legend += [Patch(color=c, label=f"alert {s.value}") for s, c in RAISED_COLOURS.items()]
    figure.legend(handles=legend, loc="lower center", ncol=6, fontsize=7, frameon=False)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    figure.savefig(path)


def format_table(summary: Summary) -> str:
    """The per-class figures as fixed-width text for the terminal and CI logs."""
    header = (f"{'class':<26}{'episodes':>9}{'events':>7}{'hits':>6}{'missed':>7}{'dup':>5}{'false':>6}"
              f"{'recall':>8}{'precision':>10}{'F1':>7}{'delay s':>9}{'false/cam-h':>12}")
    lines = [header, "-" * len(header)]
    for name, c in [*summary.classes.items(), ("overall", summary.overall)]:
        if name == "overall":
            lines.append("-" * len(header))
        data = c.as_dict()
        lines.append(
            f"{name:<26}{c.episodes:>9}{c.events:>7}{c.hits:>6}{c.missed:>7}{c.duplicates:>5}{c.false_alerts:>6}"
            f"{_fmt(c.recall):>8}{_fmt(c.precision):>10}{_fmt(c.f1):>7}{_fmt(data['alert_delay_s']['mean'], 1):>9}"
            f"{_fmt(c.false_alerts_per_camera_hour, 1):>12}"
        )
    below = summary.overall.below_dwell
    if below:
        lines.append(f"({below} labelled episode(s) shorter than the dwell: not counted in recall)")
    return "\n".join(lines)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def write_report(summary: Summary, runs: Sequence[ClipRun], truth_path: Path, out: Path, model: str,
                 image_runs: Sequence[ImageSetRun] = ()) -> Path:
    """report.json, report.html and timelines/<clip>.png under `out`; returns the JSON's path."""
    (out / "timelines").mkdir(parents=True, exist_ok=True)
    report = build_report(summary, runs, truth_path, model, image_runs)
    for score, run in zip(summary.clips, runs, strict=True):
        draw_timeline(score, run, out / "timelines" / f"{run.name}.png")
    path = out / "report.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    table = format_table(summary) + (f"\n\n{format_image_table(image_runs)}" if image_runs else "")
    (out / "report.html").write_text(render_html(report, table), encoding="utf-8")
    return path


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}th{background:#f3f3f3}
pre{background:#f7f7f7;padding:1em;overflow-x:auto}img.timeline{max-width:100%;border:1px solid #ddd}
.hit{color:#2e7d32}.missed,.false{color:#c62828}.duplicate{color:#ef6c00}.below_dwell{color:#777}"""


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(_cell(c, row.get(c)) for c in columns) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(column: str, value: object) -> str:
    if column == "snapshot" and value:
        link = html.escape(str(value))
        return f'<td><a href="{link}"><img src="{link}" height="60" alt="snapshot"></a></td>'
    if isinstance(value, list | tuple):
        value = ", ".join(str(v)[:8] if column == "duplicates" else str(v) for v in value)
    text = "" if value is None else str(value)
    if column == "event_id" and text:  # a UUID: its first 8 characters, the whole on hover
        return f'<td title="{html.escape(text)}">{html.escape(text[:8])}</td>'
    css = f' class="{html.escape(text)}"' if column == "status" else ""
    return f"<td{css}>{html.escape(text)}</td>"


def render_html(report: dict[str, Any], table: str) -> str:
    """One self-contained page: the class table, then each clip's timeline and episodes."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>StreetWatch evaluation</title>",
        f"<style>{_CSS}</style></head><body><h1>StreetWatch evaluation</h1>",
        f"<p>Truth file <code>{html.escape(report['truth_file'])}</code>, model "
        f"<code>{html.escape(report['model'])}</code>, {html.escape(report['created'])}.</p>",
        f"<pre>{html.escape(table)}</pre>",
    ]
    for clip in report["clips"]:
        rules = "; ".join(f"{k}: " + ", ".join(f"{name} {value}" for name, value in v.items() if name.endswith("_s"))
                          for k, v in clip["rules"].items())
        parts += [
            f"<h2>{html.escape(clip['name'])}</h2>",
            f"<p><code>{html.escape(clip['video'])}</code> as camera {html.escape(clip['camera_id'])}: "
            f"{clip['frames']} frames over {clip['duration_s']} s in {clip['wall_s']} s; {html.escape(rules)}</p>",
            f'<img class="timeline" src="{html.escape(clip["timeline"])}" alt="timeline">',
            "<h3>Labelled episodes</h3>",
            _table(clip["truth"], ["ref", "class", "zone", "start_s", "end_s", "note", "status", "delay_s",
                                   "event_id", "duplicates"]),
            "<h3>Raised episodes</h3>",
            _table(clip["events"], ["event_id", "class", "zone", "start_s", "end_s", "status", "truth", "delay_s",
                                    "label", "confidence", "snapshot"]) if clip["events"] else "<p>none</p>",
        ]
    if report["image_sets"]:
        parts.append(image_html(report["image_sets"]))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
