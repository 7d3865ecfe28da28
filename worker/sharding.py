"""Split a camera list between N worker replicas with no coordination: a stable hash of the camera id."""

from __future__ import annotations

import hashlib
import re
import socket
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

_SHARD = re.compile(r"^\s*(\d+|auto|claim)\s*/\s*(\d+)\s*$")
_ORDINAL = re.compile(r"-(\d+)$")


def shard_of(camera_id: str, count: int) -> int:
    """The same on every machine and every run (unlike Python's own hash)."""
    digest = hashlib.sha256(camera_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse_shard(text: str, hostname: str | None = None) -> tuple[int | None, int]:
    """`I/N` (0-based I); `auto/N` takes I from a StatefulSet pod name such as `worker-3`;
    `claim/N` leaves I to a lease on Redis (returned as None)."""
    match = _SHARD.match(text)
    if not match:
        raise ValueError(f"shard {text!r} must look like I/N (e.g. 0/4), auto/N or claim/N")
    count = int(match.group(2))
    if count < 1:
        raise ValueError(f"shard {text!r}: N must be at least 1")
    if match.group(1) == "claim":
        return None, count
    if match.group(1) == "auto":
        name = hostname or socket.gethostname()
        ordinal = _ORDINAL.search(name)
        if not ordinal:
            raise ValueError(f"shard auto/{count}: host name {name!r} does not end in -<ordinal>")
        index = int(ordinal.group(1))
    else:
        index = int(match.group(1))
    if index >= count:
        raise ValueError(f"shard {text!r}: index {index} must be below {count}")
    return index, count


def select_shard(cameras: Sequence[T], index: int, count: int, key=lambda camera: camera.id) -> list[T]:  # type: ignore[no-untyped-def]
    return [camera for camera in cameras if shard_of(key(camera), count) == index]
