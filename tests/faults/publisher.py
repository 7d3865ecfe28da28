"""A worker's event sink in a process of its own, for fault tests that SIGKILL it mid-run.

    python -m tests.faults.publisher REDIS_URL STREAM SPOOL EPISODES TAG [--from N]

Hands over EPISODES episodes (a start and an end each, as tests.faults.conftest.episodes makes them)
from episode N on, through the same SpoolingPublisher and on-disk spool a worker uses, a few at a
time, then waits until Redis has them all (or its spool keeps them) and exits.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bus import BusConfig, DiskSpool, EventPublisher, SpoolingPublisher
from tests.faults.conftest import episodes


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("redis_url")
    parser.add_argument("stream")
    parser.add_argument("spool", type=Path)
    parser.add_argument("episodes", type=int)
    parser.add_argument("tag")
    parser.add_argument("--from", dest="first", type=int, default=0)
    args = parser.parse_args()
    bus = BusConfig(redis_url=args.redis_url, stream=args.stream)
    sink = SpoolingPublisher(EventPublisher(bus), DiskSpool(args.spool), retry_s=0.2)
    events = episodes(args.first + args.episodes, args.tag)[2 * args.first:]
    for at in range(0, len(events), 20):
        sink(events[at:at + 20])
        time.sleep(0.01)  # a worker's pace: a few events at a time
    print(f"handed over {len(events)}", flush=True)
    waiting = sink.close(timeout_s=60)
    print(f"waiting {waiting}", flush=True)
    return 0 if waiting == 0 else 75


if __name__ == "__main__":
    raise SystemExit(main())
