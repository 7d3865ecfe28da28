"""Image sets in the evaluation report: per set and class, precision and recall, and every image's outcome."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from evaluation.images import ImageSetRun, rates


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def image_records(runs: Sequence[ImageSetRun]) -> list[dict[str, Any]]:
    records = []
    for run in runs:
        counts = run.counts()
        records.append({
            "name": run.image_set.name, "class": run.image_set.problem.value,
            "zone_kind": run.image_set.zone.kind.value,
            "covered": run.covered, "note": run.image_set.note, "wall_s": _r(run.wall_s), "taught": run.taught,
            **counts,
            **{k: _r(v) for k, v in rates(counts).items()},
            "images": [{"path": str(r.path), "positive": r.positive, "raised": r.raised, "reasons": list(r.reasons),
                        "error": r.error} for r in run.results],
        })
    return records


def class_totals(runs: Sequence[ImageSetRun]) -> dict[str, dict[str, Any]]:
    """Counts pooled per class over its image sets, with their precision and recall."""
    totals: dict[str, dict[str, int]] = {}
    for run in runs:
        pooled = totals.setdefault(run.image_set.problem.value, {"tp": 0, "fn": 0, "fp": 0, "tn": 0, "unreadable": 0})
        for key, value in run.counts().items():
            pooled[key] += value
    return {name: {**counts, **{k: _r(v) for k, v in rates(counts).items()}} for name, counts in totals.items()}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_image_table(runs: Sequence[ImageSetRun]) -> str:
    """Per image set, then per class: what a still camera on each labelled image raised."""
    header = f"{'image set':<28}{'class':<26}{'pos':>5}{'neg':>5}{'TP':>5}{'FN':>5}{'FP':>5}{'recall':>8}" \
             f"{'precision':>10}"
    lines = [header, "-" * len(header)]
    for record in image_records(runs):
        lines.append(f"{record['name']:<28}{record['class']:<26}{record['tp'] + record['fn']:>5}"
                     f"{record['fp'] + record['tn']:>5}{record['tp']:>5}{record['fn']:>5}{record['fp']:>5}"
                     f"{_fmt(record['recall']):>8}{_fmt(record['precision']):>10}"
                     + (f"  (after {record['taught']} labels)" if record["taught"] else "")
                     + ("" if record["covered"] else "  (no evidence for this class: nothing can raise it)"))
    lines.append("-" * len(header))
    for name, c in class_totals(runs).items():
        lines.append(f"{'all sets':<28}{name:<26}{c['tp'] + c['fn']:>5}{c['fp'] + c['tn']:>5}{c['tp']:>5}{c['fn']:>5}"
                     f"{c['fp']:>5}{_fmt(c['recall']):>8}{_fmt(c['precision']):>10}")
    return "\n".join(lines)


def image_html(records: list[dict[str, Any]]) -> str:
    parts = ["<h2>Image sets</h2>"]
    for record in records:
        wrong = [i for i in record["images"] if i["positive"] != i["raised"] or i["error"]]
        parts.append(f"<h3>{html.escape(record['name'])}: {html.escape(record['class'])} in a "
                     f"{html.escape(record['zone_kind'])} zone</h3><p>recall {_fmt(record['recall'])}, precision "
                     f"{_fmt(record['precision'])}; {len(wrong)} image(s) judged wrongly:</p>")
        rows = "".join(
            f"<tr><td>{html.escape(i['path'])}</td><td>{'positive' if i['positive'] else 'negative'}</td>"
            f"<td>{'raised' if i['raised'] else 'quiet'}</td><td>{html.escape('; '.join(i['reasons']))}</td>"
            f"<td>{html.escape(i['error'] or '')}</td></tr>" for i in wrong)
        parts.append(f"<table><tr><th>image</th><th>label</th><th>pipeline</th><th>why</th><th>error</th></tr>{rows}"
                     "</table>" if wrong else "")
    return "\n".join(parts)
