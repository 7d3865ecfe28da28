"""How fast a case change reaches every open dashboard: latency from the change's commit (its server
timestamp) to the SSE message arriving at each of N connections, against the same with one connection.

Runs the real API in its own process (bench.service); changes are transitions of real cases made
from events on the real Redis stream.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import datetime

import httpx
from pydantic import BaseModel

from bench.common import percentile
from bench.service import RunningApi, live_changes, running_api
from bus import BusConfig, EventPublisher
from zones import Event, episode_id

STEPS = ("confirmed", "dispatched", "resolved", "closed")  # four changes per case


class LatencyRun(BaseModel):
    connections: int
    changes: int
    deliveries: int
    lost: int
    p50_ms: float
    p99_ms: float
    max_ms: float


class LiveReport(BaseModel):
    reference: LatencyRun  # one connection
    loaded: LatencyRun  # N connections
    p50_ratio: float
    p99_ratio: float
    database: str


def _make_cases(api: RunningApi, count: int) -> list[int]:
    bus = BusConfig(redis_url=api.redis_url, stream=api.stream)
    run = time.time_ns()
    events = [Event.model_validate({
        "event_id": episode_id("bench-cam", f"zone-{run}-{i}", "illegal_parking_motor", 1.0, i),
        "class": "illegal_parking_motor", "camera_id": "bench-cam", "zone_id": f"zone-{run}-{i}",
        "zone_kind": "no_parking", "state": "start", "start_s": 1.0, "ts_s": 1.0, "since_s": 0.0,
        "confidence": 0.8, "bbox": (0.1, 0.1, 0.2, 0.2), "label": "car", "track_id": i,
    }) for i in range(count)]
    EventPublisher(bus).publish(events)
    zones = {e.zone_id for e in events}
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=api.base_url, headers=api.auth(), timeout=30) as client:
        while time.monotonic() < deadline:
            items = client.get("/api/cases", params={"status": "new", "page_size": 200}).json()["items"]
            found = [c["id"] for c in items if c["zone_id"] in zones]
            if len(found) == count:
                return found
            time.sleep(0.2)
    raise RuntimeError("the API did not turn the events into cases in time")


async def _listen(api: RunningApi, received: dict[int, float], ready: asyncio.Event, stop: asyncio.Event) -> None:
    async for now, data in live_changes(api, ready.set):
        if data.get("kind") == "transition":
            received[data["change_id"]] = now - datetime.fromisoformat(data["at"]).timestamp()
        if stop.is_set():
            return


def _drive(api: RunningApi, cases: list[int], changes: int, rate_hz: float) -> int:
    """Make `changes` transitions at a steady rate; returns how many the API accepted."""
    made = 0
    with httpx.Client(base_url=api.base_url, headers=api.auth(), timeout=30) as client:
        for n in range(changes):
            case_id, step = cases[n // len(STEPS)], STEPS[n % len(STEPS)]
            started = time.monotonic()
            if client.post(f"/api/cases/{case_id}/transitions", json={"to": step}).status_code == 200:
                made += 1
            time.sleep(max(0.0, 1 / rate_hz - (time.monotonic() - started)))
    return made


async def _run(api: RunningApi, connections: int, changes: int, rate_hz: float) -> LatencyRun:
    cases = await asyncio.to_thread(_make_cases, api, -(-changes // len(STEPS)))
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in range(connections)]
    received: list[dict[int, float]] = [{} for _ in range(connections)]
    tasks = [asyncio.create_task(_listen(api, received[i], readies[i], stop)) for i in range(connections)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 120)
    made = await asyncio.to_thread(_drive, api, cases, changes, rate_hz)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(len(r) < made for r in received):
        await asyncio.sleep(0.1)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = [1000 * v for r in received for v in r.values()]
    if not latencies:
        raise RuntimeError("no change reached any connection")
    return LatencyRun(connections=connections, changes=made, deliveries=len(latencies),
                      lost=made * connections - len(latencies), p50_ms=statistics.median(latencies),
                      p99_ms=percentile(latencies, 0.99), max_ms=max(latencies))


def measure_live(connections: int = 100, changes: int = 100, rate_hz: float = 10.0,
                 database_url: str | None = None) -> LiveReport:
    """The same changes seen by one connection, then by `connections` at once, on one API process."""
    settings = {"verification": {"enabled": False}}
    with running_api(database_url=database_url, api_settings=settings) as api:
        reference = asyncio.run(_run(api, 1, changes, rate_hz))
        loaded = asyncio.run(_run(api, connections, changes, rate_hz))
    return LiveReport(reference=reference, loaded=loaded, p50_ratio=loaded.p50_ms / reference.p50_ms,
                      p99_ratio=loaded.p99_ms / reference.p99_ms,
                      database="sqlite" if database_url is None else database_url.split(":", 1)[0])


def render(report: LiveReport, markdown: bool = False) -> str:
    rows = [("1 (reference)", report.reference), (f"{report.loaded.connections}", report.loaded)]
    lines = ["| connections | changes | deliveries | lost | p50 ms | p99 ms | max ms |",
             "|---|---|---|---|---|---|---|"] if markdown else ["connections  changes  deliveries  lost  p50 ms  "
                                                              "p99 ms  max ms"]
    for name, run in rows:
        cells = [name, str(run.changes), str(run.deliveries), str(run.lost), f"{run.p50_ms:.1f}",
                 f"{run.p99_ms:.1f}", f"{run.max_ms:.1f}"]
        lines.append("| " + " | ".join(cells) + " |" if markdown else "  ".join(cells))
    lines.append(f"ratio to one connection: p50 {report.p50_ratio:.2f}x, p99 {report.p99_ratio:.2f}x "
                 f"({report.database})")
    return "\n".join(lines)

