"""Zone classifiers as the workers report them on Redis (bus.labels.heads_key), for coverage reports."""

from __future__ import annotations

import json
from typing import Any

import redis

from bus.labels import heads_key
from bus.streams import BusConfig


def read_heads(client: redis.Redis, bus: BusConfig) -> list[dict[str, Any]]:
    """Every reported head; an unreadable entry is left out (the report is informative, not a contract)."""
    heads = []
    for raw in client.hgetall(heads_key(bus)).values():
        try:
            heads.append(json.loads(raw))
        except ValueError:
            continue
    return sorted(heads, key=lambda h: (h.get("camera_id", ""), h.get("zone_id", ""), h.get("class", "")))
