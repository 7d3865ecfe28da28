"""Soak: many cameras replaying in a loop for a long time through a real worker and a real API, watching
memory and counting every event from the worker's hand-over to the database.

    python -m bench.soak --cameras 20 --minutes 60 --database-url postgresql+psycopg://.../soak

The worker and the API run as processes of their own (bench.service for the API). Every `sample_s`
the resident memory of both, the worker's published and spooled events (its Prometheus metrics) and
the rows in the database are recorded; at the end the worker is stopped with SIGTERM (it drains), the
API catches up, and the events the worker published are compared with what was stored.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import create_engine, text

from bench.service import RunningApi, running_api
from models.registry import current_assets_dir

CLIPS = ("residential-street-parked-cars.mp4", "stopline-motorcycles.mp4", "highway-720p.mp4",
         "night-wet-square-240p.mp4", "london-street-1080p.mp4", "city-traffic-1080p-vp9.mp4",
         "pedestrian-street-1080p.mp4")
FAR_CURB = [[0.08, 0.30], [0.50, 0.20], [0.50, 0.40], [0.12, 0.46]]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _metric(body: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}(?:_total)?{re.escape(labels)} ([0-9.e+]+)$", body, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def _cameras(count: int) -> list[dict[str, Any]]:
    video = current_assets_dir() / "video"
    cameras = []
    for i in range(count):
        clip = CLIPS[i % len(CLIPS)]
        zone = FAR_CURB if clip.startswith("residential") else [[0.0, 0.3], [1.0, 0.3], [1.0, 1.0], [0.0, 1.0]]
        cameras.append({
            "id": f"soak-{i:02d}",
            "source": {"url": str(video / clip), "loop": True, "realtime": True, "analysis_fps": 1,
                       "decode": "keyframes" if "1080p" in clip else "all"},
            "zones": [{"id": "watched", "kind": "no_parking", "polygon": zone}],
        })
    return cameras


def _worker_config(api: RunningApi, folder: Path, cameras: int, metrics_port: int) -> Path:
    config = {
        "media_dir": str(api.media_dir),
        "bus": {"redis_url": api.redis_url, "stream": api.stream, "spool_dir": str(folder / "spool")},
        "scheduler": {"metrics_port": metrics_port, "health_every_s": 5},
        "rules": {"illegal_parking_motor": {"dwell_s": 15, "clear_s": 10, "update_every_s": 20},
                  "illegal_parking_nonmotor": {"dwell_s": 15, "clear_s": 10, "update_every_s": 20}},
        "cameras": _cameras(cameras),
    }
    path = folder / "worker.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _stored(database_url: str) -> tuple[int, int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            events = connection.execute(text("SELECT COUNT(*) FROM case_events")).scalar_one()
            cases = connection.execute(text("SELECT COUNT(*) FROM cases")).scalar_one()
        return int(events), int(cases)
    finally:
        engine.dispose()


def soak(cameras: int, minutes: float, database_url: str, sample_s: float = 30.0) -> dict[str, Any]:
    from bench.service import _free_port

    metrics_port = _free_port()
    with running_api(database_url=database_url, api_settings={"verification": {"enabled": False}}) as api:
        folder = api.config_path.parent
        worker_config = _worker_config(api, folder, cameras, metrics_port)
        log = (folder / "worker.log").open("w")
        worker = subprocess.Popen([sys.executable, "-m", "cli.main", "worker", "-c", str(worker_config)],
                                  stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        samples: list[dict[str, Any]] = []
        started = time.monotonic()
        try:
            while time.monotonic() - started < minutes * 60:
                time.sleep(sample_s)
                if worker.poll() is not None:
                    raise RuntimeError(f"the worker exited: {(folder / 'worker.log').read_text()[-2000:]}")
                body = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
                events, cases = _stored(database_url)
                samples.append({
                    "t_min": round((time.monotonic() - started) / 60, 2),
                    "worker_rss_mb": round(_rss_mb(worker.pid), 1), "api_rss_mb": round(_rss_mb(api.pid), 1),
                    "published": _metric(body, "streetwatch_events", '{outcome="published"}'),
                    "spool": _metric(body, "streetwatch_spool_events"), "stored_events": events, "cases": cases,
                })
                print(json.dumps(samples[-1]), flush=True)
        finally:
            worker.send_signal(signal.SIGTERM)
            exit_code = worker.wait(120)
            log.close()
        totals = re.search(r"events: (\d+) handed over, (\d+) published, (\d+) waiting",
                           (folder / "worker.log").read_text())
        handed_over, published, waiting = (int(g) for g in totals.groups()) if totals else (0, 0, 0)
        deadline = time.monotonic() + 120
        while _stored(database_url)[0] < published and time.monotonic() < deadline:
            time.sleep(1)
        final_events, final_cases = _stored(database_url)
    return {"cameras": cameras, "minutes": minutes, "samples": samples, "worker_exit": exit_code,
            "handed_over": handed_over, "published": published, "waiting_in_spool": waiting,
            "stored_events": final_events, "lost": published - final_events, "cases": final_cases,
            "memory": _growth(samples)}


def _growth(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Memory after the first tenth (warm-up: models loaded, queues full) against the end, per hour."""
    if len(samples) < 3:
        return {}
    warm = samples[max(1, len(samples) // 10)]
    last = samples[-1]
    hours = max(1e-9, (last["t_min"] - warm["t_min"]) / 60)
    return {key: {"after_warm_up_mb": warm[key], "end_mb": last[key],
                  "growth_mb_per_hour": round((last[key] - warm[key]) / hours, 1)}
            for key in ("worker_rss_mb", "api_rss_mb")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--sample-s", type=float, default=30)
    parser.add_argument("--database-url", required=True, help="a database of its own (it fills it)")
    parser.add_argument("--out", type=Path, default=Path("var/reliability/soak.json"))
    args = parser.parse_args(argv)
    report = soak(args.cameras, args.minutes, args.database_url, args.sample_s)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "samples"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
