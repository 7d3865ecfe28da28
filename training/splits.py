"""Per-split checks of a YOLO dataset: which images a split has, where their labels are, and each label line.

Paths are resolved the way Ultralytics resolves them, so that what passes here trains there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
BOX_FIELDS = ("x_centre", "y_centre", "width", "height")


@dataclass
class SplitSummary:
    images: int = 0
    label_files: int = 0
    boxes: int = 0
    backgrounds: int = 0  # images without a label file or with an empty one: allowed, they teach "nothing here"
    per_class: dict[str, int] = field(default_factory=dict)


def check_split(
    split: str, entry: Any, root: Path, data_yaml: Path, lines: dict[Any, int], names: list[str], errors: list[str]
) -> SplitSummary:
    """Count a split's images, label files and boxes; every bad line is appended to `errors`."""
    summary = SplitSummary()
    for image in _images(split, entry, root, f"{data_yaml}:{lines.get(split, '?')}", errors):
        summary.images += 1
        label = _label_path(image)
        if label is None:
            errors.append(f"{image}: images must sit under a folder named images/ so that labels/ can be found")
            continue
        if not label.is_file():
            summary.backgrounds += 1
            continue
        summary.label_files += 1
        boxes = _check_label_file(label, names, data_yaml.name, errors)
        summary.boxes += len(boxes)
        summary.backgrounds += not boxes
        for class_index in boxes:
            name = names[class_index] if class_index < len(names) else str(class_index)
            summary.per_class[name] = summary.per_class.get(name, 0) + 1
    summary.per_class = dict(sorted(summary.per_class.items(), key=lambda item: _order(names, item[0])))
    return summary


def _order(names: list[str], name: str) -> int:
    return names.index(name) if name in names else len(names)


def _images(split: str, entry: Any, root: Path, where: str, errors: list[str]) -> list[Path]:
    """Images of a split given as a folder, a .txt list of images, or a list of either."""
    images: list[Path] = []
    for item in entry if isinstance(entry, list) else [entry]:
        path = (root / str(item)).resolve()
        if path.is_dir():
            images += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file() and path.suffix == ".txt":
            images += _listed_images(path, errors)
        else:
            errors.append(f"{where}: {split}: {item!r} -> {path} is neither a folder of images nor a .txt list")
    return images


def _listed_images(listing: Path, errors: list[str]) -> list[Path]:
    """Ultralytics' rule: a line starting with ./ is relative to the list, any other relative line to the cwd."""
    images: list[Path] = []
    for number, line in enumerate(listing.read_text(encoding="utf-8-sig").splitlines(), start=1):
        text = line.strip()
        if not text or Path(text).suffix.lower() not in IMAGE_SUFFIXES:
            continue
        image = listing.parent / text[2:] if text.startswith("./") else Path(text).resolve()
        if image.is_file():
            images.append(image)
        else:
            where = "the list's folder" if text.startswith("./") else f"the current directory {Path.cwd()}"
            errors.append(f"{listing}:{number}: image {text} not found (read from {where}; "
                          "a line starting with ./ is read from the list's folder)")
    return images


def _label_path(image: Path) -> Path | None:
    """Ultralytics' rule: the last `images` folder in the path becomes `labels`, the suffix `.txt`."""
    marker = f"{os.sep}images{os.sep}"
    text = str(image)
    if marker not in text:
        return None
    head, tail = text.rsplit(marker, 1)
    return Path(f"{head}{os.sep}labels{os.sep}{tail}").with_suffix(".txt")


def _check_label_file(label: Path, names: list[str], yaml_name: str, errors: list[str]) -> list[int]:
    """Class indices of the well-formed boxes; every bad line becomes an error with its line number."""
    classes: list[int] = []
    try:
        text = label.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(f"{label}: cannot read: {exc}")
        return classes
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        at = f"{label}:{number}"
        if len(parts) != 5:
            errors.append(f"{at}: expected 5 numbers (class x_centre y_centre width height), found {len(parts)}")
            continue
        try:
            values = [float(p) for p in parts]
        except ValueError:
            errors.append(f"{at}: not numbers: {line.strip()!r}")
            continue
        class_value, box = values[0], values[1:]
        if not class_value.is_integer() or not 0 <= class_value < len(names):
            errors.append(f"{at}: class index {parts[0]} out of range 0..{len(names) - 1} "
                          f"({len(names)} names in {yaml_name})")
            continue
        bad = [f"{name} {v:g}" for name, v in zip(BOX_FIELDS, box, strict=True) if not 0.0 <= v <= 1.0]
        if bad:
            errors.append(f"{at}: {', '.join(bad)} outside 0..1 (coordinates are fractions of the image size)")
            continue
        if box[2] <= 0 or box[3] <= 0:
            errors.append(f"{at}: width and height must be above 0")
            continue
        classes.append(int(class_value))
    return classes
