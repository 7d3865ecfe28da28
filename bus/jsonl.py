"""Events as JSON lines, for replays that run without Redis and for comparing runs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from zones import Event


def event_record(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")


def write_jsonl(events: Iterable[Event], path: Path | str) -> int:
    count = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event_record(event), ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count
