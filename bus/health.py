"""Camera health on Redis: workers write one JSON per camera into a hash, the API reads it."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import redis

from bus.streams import BusConfig, redis_client

log = logging.getLogger(__name__)


def health_key(bus: BusConfig) -> str:
    return f"{bus.stream}:cameras"


class HealthPublisher:
    """A worker's health sink; Redis trouble is logged once and never stops the cameras."""

    def __init__(self, bus: BusConfig, worker_name: str, client: redis.Redis | None = None) -> None:
        self.key = health_key(bus)
        self.worker_name = worker_name
        self.client = client or redis_client(bus.redis_url)
        self._failing = False
        # Per camera, its zones' coverage (uncalibrated, calibrated N frames, learnt N labels): the camera wall
        # and `streetwatch models` read it from here; set by whoever wires the worker's zone readings.
        self.coverage: Callable[[str], list[dict[str, Any]]] | None = None

    def __call__(self, reports: list[dict[str, Any]]) -> None:
        if not reports:
            return
        if self.coverage is not None:
            reports = [{**r, "coverage": self.coverage(r["camera_id"])} for r in reports]
        mapping = {r["camera_id"]: json.dumps({**r, "worker": self.worker_name}) for r in reports}
        try:
            self.client.hset(self.key, mapping=mapping)
            self._failing = False
        except redis.RedisError as exc:
            if not self._failing:
                log.warning("cannot publish camera health to Redis: %s", exc)
            self._failing = True


def read_camera_health(client: redis.Redis, bus: BusConfig, stale_after_s: float) -> list[dict[str, Any]]:
    """Every camera's last report; one whose worker has gone quiet is reported offline, saying why."""
    now = time.time()
    reports = []
    for raw in client.hgetall(health_key(bus)).values():
        try:
            report = json.loads(raw)
        except ValueError:
            continue
        age = now - float(report.get("reported_at", 0))
        report["report_age_s"] = round(age, 1)
        if age > stale_after_s:
            report["state"] = "offline"
            report["last_error"] = f"no report from worker {report.get('worker')} for {age:.0f} s"
        reports.append(report)
    return sorted(reports, key=lambda r: r["camera_id"])
