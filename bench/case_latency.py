"""`streetwatch bench latency`: from an event handed to the bus to its case on the centre's live feed, at the
event rate of N cameras, on PostgreSQL.

N cameras' episodes are handed, as a worker hands them, to the worker's spooling publisher on the real Redis;
the real API process (consumer, PostgreSQL, relay) turns them into cases; a dashboard's live-feed connection
(SSE) sees each case appear. Each camera opens episodes at random (Poisson) at a set rate, updates each one
every `update_every_s` and ends it after a random duration, like the rules do. For every episode's start:
hand-over to commit (the change's own server timestamp) and hand-over to the live feed.

The worker's side, a frame's decoding to its events handed over, is `bench pipeline`'s frame age; the two legs
add up to frame to case. Dwell is excluded by construction: an episode starts at the frame that raised it.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
from pydantic import BaseModel

from bench.cases_seed import DEFAULT_SERVER, ensure_database
from bench.common import Machine, percentile
from bench.service import RunningApi, live_changes, running_api
from bus import BusConfig, DiskSpool, EventPublisher, SpoolingPublisher
from zones import Event, ProblemClass, episode_id

_PROBLEMS = [p.value for p in ProblemClass]


class LatencyRun(BaseModel):
    cameras: int
    seconds: float
    events_per_s: float  # all events handed over: starts, updates, ends
    starts: int
    seen: int  # starts whose case reached the live feed
    lost: int
    commit_p50_ms: float
    commit_p99_ms: float
    visible_p50_ms: float
    visible_p99_ms: float
    visible_max_ms: float


class LatencyReport(BaseModel):
    machine: Machine
    database: str
    episodes_per_camera_minute: float
    update_every_s: float
    runs: list[LatencyRun]


def schedule(cameras: int, seconds: float, per_minute: float, update_every_s: float,
             seed: int = 0) -> list[tuple[float, Event]]:
    """Every event of the run with its offset in seconds, in order: Poisson starts, updates, an end."""
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:6]
    planned: list[tuple[float, Event]] = []
    for camera in range(cameras):
        t = rng.expovariate(per_minute / 60)
        while t < seconds:
            zone = f"z-{run}-{camera}-{len(planned)}"  # a zone per episode: every start is a new case, not a merge
            problem = rng.choice(_PROBLEMS)
            base = {"class": problem, "camera_id": f"lat-{camera:04d}", "zone_id": zone, "zone_kind": "general",
                    "start_s": t, "since_s": t - 1, "confidence": 0.8, "bbox": (0.1, 0.2, 0.3, 0.5),
                    "label": "car", "track_id": camera, "event_id": episode_id(f"lat-{camera:04d}", zone, problem,
                                                                             t, camera)}
            planned.append((t, Event.model_validate({**base, "state": "start", "ts_s": t})))
            lasts = rng.uniform(30, 240)
            tick = t + update_every_s
            while tick < min(t + lasts, seconds):
                planned.append((tick, Event.model_validate({**base, "state": "update", "ts_s": tick})))
                tick += update_every_s
            if t + lasts < seconds:
                planned.append((t + lasts, Event.model_validate({**base, "state": "end", "ts_s": t + lasts,
                                                                 "end_s": t + lasts})))
            t += rng.expovariate(per_minute / 60)
    return sorted(planned, key=lambda item: item[0])


def _drive(api: RunningApi, planned: list[tuple[float, Event]], handed: dict[str, float], scratch: Path) -> float:
    """Hand each event over at its time through the worker's publisher; returns the run's wall seconds."""
    sink = SpoolingPublisher(EventPublisher(BusConfig(redis_url=api.redis_url, stream=api.stream)),
                             DiskSpool(scratch / "spool" / "events.db"))
    started = time.monotonic()
    try:
        for offset, event in planned:
            delay = started + offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # a benchmark paces on the wall clock: the cameras are live
            if event.state == "start":
                handed[event.event_id] = time.time()
            sink([event])
    finally:
        sink.close()
    return time.monotonic() - started


async def _listen(api: RunningApi, seen: dict[str, tuple[float, float]], ready: threading.Event,
                  stop: threading.Event) -> None:
    """Each created case's first episode id -> (arrival on the feed, its commit time), both on the wall clock."""
    async for now, data in live_changes(api, ready.set):
        if data.get("kind") == "created":
            seen[data["case"]["event_id"]] = (now, datetime.fromisoformat(data["at"]).timestamp())
        if stop.is_set():
            return


def measure_run(api: RunningApi, cameras: int, seconds: float, per_minute: float, update_every_s: float) -> LatencyRun:
    planned = schedule(cameras, seconds, per_minute, update_every_s)
    handed: dict[str, float] = {}
    seen: dict[str, tuple[float, float]] = {}
    ready, stop = threading.Event(), threading.Event()
    def listen() -> None:
        try:
            asyncio.run(_listen(api, seen, ready, stop))
        except httpx.HTTPError:  # the API going away at the end of the benchmark ends the connection
            if not stop.is_set():
                raise

    listener = threading.Thread(target=listen, name="live-feed", daemon=True)
    listener.start()
    if not ready.wait(60):
        raise RuntimeError("the live feed did not answer")
    with tempfile.TemporaryDirectory(prefix="streetwatch-bench-") as scratch:
        wall = _drive(api, planned, handed, Path(scratch))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not set(handed) <= set(seen):
        time.sleep(0.1)
    stop.set()
    pairs = [(seen[e][0] - at, seen[e][1] - at) for e, at in handed.items() if e in seen]
    if not pairs:
        raise RuntimeError("no case reached the live feed")
    visible, commit = [p[0] for p in pairs], [p[1] for p in pairs]
    return LatencyRun(cameras=cameras, seconds=round(wall, 1), events_per_s=len(planned) / wall, starts=len(handed),
                      seen=len(pairs), lost=len(handed) - len(pairs), commit_p50_ms=1000 * percentile(commit, 0.5),
                      commit_p99_ms=1000 * percentile(commit, 0.99), visible_p50_ms=1000 * percentile(visible, 0.5),
                      visible_p99_ms=1000 * percentile(visible, 0.99), visible_max_ms=1000 * max(visible))


def measure_latency(camera_counts: list[int], seconds: float = 60.0, per_minute: float = 1.0,
                    update_every_s: float = 20.0, server_url: str = DEFAULT_SERVER,
                    redis_url: str = "redis://127.0.0.1:6379/0",
                    progress: Callable[[str], None] = lambda _msg: None) -> LatencyReport:
    """One API process on a fresh PostgreSQL database; one run per camera count, in order."""
    url = ensure_database(server_url, "streetwatch_bench_latency", fresh=True)
    runs = []
    with running_api(database_url=url, redis_url=redis_url, api_settings={"verification": {"enabled": False}}) as api:
        for cameras in camera_counts:
            progress(f"{cameras} cameras, {per_minute} episodes per camera-minute, {seconds:.0f} s")
            run = measure_run(api, cameras, seconds, per_minute, update_every_s)
            progress(f"  {run.events_per_s:.1f} events/s, visible p50 {run.visible_p50_ms:.0f} ms "
                     f"p99 {run.visible_p99_ms:.0f} ms, lost {run.lost}")
            runs.append(run)
    return LatencyReport(machine=Machine.current(), database="postgresql", episodes_per_camera_minute=per_minute,
                         update_every_s=update_every_s, runs=runs)


def render(report: LatencyReport) -> str:
    lines = [f"{report.machine.describe()}; {report.database}; {report.episodes_per_camera_minute} episodes per "
             f"camera-minute, an update every {report.update_every_s:.0f} s", "",
             "| cameras | events/s | starts | seen | lost | to commit p50 / p99 ms | to live feed p50 / p99 / max ms |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.cameras} | {r.events_per_s:.1f} | {r.starts} | {r.seen} | {r.lost} | {r.commit_p50_ms:.0f} / "
              f"{r.commit_p99_ms:.0f} | {r.visible_p50_ms:.0f} / **{r.visible_p99_ms:.0f}** / {r.visible_max_ms:.0f} |"
              for r in report.runs]
    return "\n".join(lines)
