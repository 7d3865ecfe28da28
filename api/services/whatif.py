"""What-if jobs, the API's half: record the request, ask the camera's worker (it has the recording and the
engine; the API never decodes video), keep the answer, and give up on a worker that never answers."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from api.orm import WhatIfRow, utcnow
from bus import BusConfig
from bus.control import WhatIfRequest, WhatIfResult, publish_request
from zones import ZoneConfig

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
TIMEOUT = timedelta(minutes=15)

# Magic bytes of the containers cameras and phones record to (checked by content, never by the file name).
_SIGNATURES: tuple[tuple[int, bytes], ...] = ((4, b"ftyp"), (0, b"\x1a\x45\xdf\xa3"), (0, b"FLV"), (8, b"AVI "))


def looks_like_video(head: bytes) -> bool:
    if any(head[offset:offset + len(magic)] == magic for offset, magic in _SIGNATURES):
        return True
    return len(head) > 376 and head[0] == head[188] == head[376] == 0x47  # MPEG transport stream packets


class WhatIfJobs:
    def __init__(self, sessions: sessionmaker, client: redis.Redis, bus: BusConfig, media_root: Path,
                 clock: Clock = utcnow) -> None:
        self.sessions = sessions
        self.media_root = media_root
        self.client = client
        self.bus = bus
        self.clock = clock

    def submit(self, camera_id: str, draft: list[ZoneConfig], minutes: float, clip: str | None,
               author: str) -> WhatIfRow:
        job_id = uuid.uuid4().hex
        request = WhatIfRequest(job_id=job_id, camera_id=camera_id, draft=[z.model_dump(mode="json") for z in draft],
                                minutes=minutes, clip=clip)
        row = WhatIfRow(id=job_id, camera_id=camera_id, status="queued", source="upload" if clip else "recording",
                        request=request.model_dump(mode="json"), created_by=author, created_at=self.clock())
        with self.sessions.begin() as session:
            session.add(row)
        try:
            publish_request(self.client, self.bus, request)
        except redis.RedisError as exc:
            self._finish(job_id, None, f"无法联系工作节点 / the workers cannot be reached: {type(exc).__name__}")
        return self.get(job_id) or row

    def get(self, job_id: str) -> WhatIfRow | None:
        with self.sessions() as session:
            return session.get(WhatIfRow, job_id)

    def apply(self, result: WhatIfResult) -> None:
        outcome = {**(result.outcome or {}), "seconds": result.seconds} if result.ok else None
        self._finish(result.job_id, outcome, None if result.ok else result.error or "failed")

    def _finish(self, job_id: str, outcome: dict[str, Any] | None, error: str | None) -> None:
        with self.sessions.begin() as session:
            row = session.get(WhatIfRow, job_id, with_for_update=True)
            if row is None or row.status in ("done", "failed"):
                return
            row.status = "done" if error is None else "failed"
            row.result, row.error, row.finished_at = outcome, error, self.clock()
            clip = row.request.get("clip")
        if clip:  # an uploaded clip has served its purpose
            (self.media_root / clip).unlink(missing_ok=True)

    def expire(self) -> int:
        """Jobs no worker answered in time fail, saying so (the camera's worker is down or busy)."""
        cutoff = self.clock() - TIMEOUT
        with self.sessions() as session:
            stale = list(session.scalars(select(WhatIfRow.id).where(WhatIfRow.status == "queued",
                                                                     WhatIfRow.created_at < cutoff)))
        for job_id in stale:
            self._finish(job_id, None, "没有工作节点应答 / no worker running this camera answered in time")
        return len(stale)


def timeline(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    """The draft's and the saved zones' events on one timeline, oldest first."""
    rows = [{**e, "run": run} for run in ("saved", "draft") for e in outcome.get(run, [])]
    return sorted(rows, key=lambda e: (e["ts_s"], e["run"], e["zone_id"]))
