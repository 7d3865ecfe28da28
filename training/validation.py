"""Check a city's YOLO dataset before hours of training are spent on it.

Every problem names the file and the line (or the data.yaml field), so it can be fixed in
the labelling tool's export rather than guessed at from an Ultralytics traceback.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from training.splits import SplitSummary, check_split
from zones.classes import CLASS_INFO


def known_evidence_labels() -> set[str]:
    """Every label some StreetWatch rule reads (primary, proxy and helper evidence of the seven classes)."""
    labels: set[str] = set()
    for info in CLASS_INFO.values():
        labels |= info.evidence.primary | info.evidence.proxy | info.evidence.helpers
    return labels


@dataclass
class DatasetSummary:
    data_yaml: Path
    names: list[str] = field(default_factory=list)
    splits: dict[str, SplitSummary] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def report(self) -> str:
        """Counts first, then warnings and errors, one per line: what the CLI prints."""
        lines = [f"{self.data_yaml}: {len(self.names)} classes: {', '.join(self.names) or '(none)'}"]
        for split, summary in self.splits.items():
            lines.append(
                f"  {split}: {summary.images} images, {summary.label_files} label files, {summary.boxes} boxes, "
                f"{summary.backgrounds} without objects"
            )
            if summary.per_class:
                lines.append("    " + ", ".join(f"{name} {n}" for name, n in summary.per_class.items()))
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"error: {e}" for e in self.errors]
        return "\n".join(lines)


def validate_dataset(data_yaml: Path | str, max_errors: int = 50) -> DatasetSummary:
    """Read data.yaml and every label file it reaches; never raises for a bad dataset, reports instead."""
    data_yaml = Path(data_yaml)
    if data_yaml.is_dir():
        data_yaml = data_yaml / "data.yaml"
    summary = DatasetSummary(data_yaml)
    errors: list[str] = []
    try:
        text = data_yaml.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        lines = _field_lines(text)
    except FileNotFoundError:
        summary.errors.append(f"{data_yaml}: dataset file not found")
        return summary
    except (OSError, yaml.YAMLError) as exc:
        summary.errors.append(f"{data_yaml}: cannot read: {exc}")
        return summary
    if not isinstance(data, dict):
        summary.errors.append(f"{data_yaml}: the top level must be a mapping with train:, val: and names:")
        return summary

    summary.names = _check_names(data, data_yaml, lines, errors, summary.warnings)
    root = _root(data, data_yaml, lines, errors, summary.warnings)
    for split in ("train", "val", "test"):
        if data.get(split) is None:
            if split != "test":
                errors.append(f"{data_yaml}: {split}: missing; give the folder of its images, e.g. images/{split}")
            continue
        if root is not None:
            summary.splits[split] = check_split(split, data[split], root, data_yaml, lines, summary.names, errors)
            if summary.splits[split].images == 0:
                errors.append(f"{data_yaml}:{lines.get(split, '?')}: {split}: no images found")
    if len(errors) > max_errors:
        errors = [*errors[:max_errors], f"... and {len(errors) - max_errors} more problems"]
    summary.errors = errors
    return summary


def _field_lines(text: str) -> dict[Any, int]:
    """Line numbers (1-based) of the top-level keys and of each item under `names` (keyed by index)."""
    lines: dict[Any, int] = {}
    node = yaml.compose(text)
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key, value in node.value:
        lines[key.value] = key.start_mark.line + 1
        if key.value == "names" and isinstance(value, yaml.SequenceNode):
            lines.update({i: item.start_mark.line + 1 for i, item in enumerate(value.value)})
        elif key.value == "names" and isinstance(value, yaml.MappingNode):
            for item_key, _ in value.value:
                index = int(item_key.value) if str(item_key.value).isdigit() else item_key.value
                lines[index] = item_key.start_mark.line + 1
    return lines


def _check_names(
    data: dict[str, Any], data_yaml: Path, lines: dict[Any, int], errors: list[str], warnings: list[str]
) -> list[str]:
    raw = data.get("names")
    where = f"{data_yaml}:{lines.get('names', '?')}"
    if raw is None:
        errors.append(f"{data_yaml}: names: missing; list the evidence labels in index order, e.g. "
                      "names: [standing_water, garbage_bag]")
        return []
    if isinstance(raw, dict):
        keys = sorted(raw, key=str)
        if sorted(str(k) for k in raw) != sorted(str(i) for i in range(len(raw))):
            errors.append(f"{where}: names: keys must be the class indices 0..{len(raw) - 1}, found {keys}")
            return []
        names = [raw.get(i, raw.get(str(i))) for i in range(len(raw))]
    elif isinstance(raw, list):
        names = raw
    else:
        errors.append(f"{where}: names: must be a list or an index -> name mapping, not {type(raw).__name__}")
        return []
    if "nc" in data and data["nc"] != len(names):
        errors.append(f"{data_yaml}:{lines.get('nc', '?')}: nc: {data['nc']} but names has {len(names)} entries")
    known = known_evidence_labels()
    seen: set[str] = set()
    for i, name in enumerate(names):
        at = f"{data_yaml}:{lines.get(i, lines.get('names', '?'))}: names[{i}]"
        if not isinstance(name, str) or not name.strip():
            errors.append(f"{at}: {name!r} is not a class name")
            continue
        if name in seen:
            errors.append(f"{at}: {name!r} appears twice; each class needs one index")
        seen.add(name)
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            warnings.append(f"{at}: {name!r} is not an evidence label any StreetWatch rule reads{hint}; "
                            f"its detections will be ignored. Known labels: {', '.join(sorted(known))}")
    return [str(n) for n in names]


def _root(
    data: dict[str, Any], data_yaml: Path, lines: dict[Any, int], errors: list[str], warnings: list[str]
) -> Path | None:
    """The dataset root the way Ultralytics finds it: `path`, or the folder of data.yaml when absent."""
    if not data.get("path"):
        return data_yaml.parent.resolve()
    root = Path(str(data["path"]))
    if root.is_dir():
        if not root.is_absolute() and root.resolve() != (data_yaml.parent / root).resolve():
            warnings.append(f"{data_yaml}:{lines.get('path', '?')}: path: {root} is read from the current directory "
                            f"{Path.cwd()}, not from the folder of data.yaml; run from that folder or leave path out")
        return root.resolve()
    errors.append(f"{data_yaml}:{lines.get('path', '?')}: path: {root} is not a folder (a relative path is taken "
                  "from the current directory; leave path out to mean the folder of data.yaml)")
    return None
