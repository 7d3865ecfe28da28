"""A sharding participant in a process of its own, for fault tests that freeze Redis or the participant.

    python -m tests.faults.shard_member REDIS_URL STREAM COUNT TTL_S LOG

Claims a free shard through bus.ShardLease as `streetwatch worker --shard claim/N` does and "runs its
cameras" until the lease is lost, then claims again as the restarted worker would (all taken: it tries
again, as a replica its orchestrator restarts). It appends `PID start INDEX TOKEN` once it holds a shard and
`PID stop INDEX` once it has stopped it to LOG, one O_APPEND write each, so the file's order is the order
things happened in across all participants. SIGTERM ends it.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading

import redis

from bus import BusConfig, ShardLease


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("redis_url")
    parser.add_argument("stream")
    parser.add_argument("count", type=int)
    parser.add_argument("ttl_s", type=float)
    parser.add_argument("log")
    args = parser.parse_args()
    bus = BusConfig(redis_url=args.redis_url, stream=args.stream)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    out = os.open(args.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    def note(*words: object) -> None:
        os.write(out, (" ".join(str(w) for w in (os.getpid(), *words)) + "\n").encode())

    while not stop.is_set():
        # The worker stops its cameras from the lease's own thread the moment it is lost (cli.main).
        lease = ShardLease(bus, args.count, owner=f"member-{os.getpid()}", ttl_s=args.ttl_s,
                           on_lost=lambda lost: note("stop", lost))
        try:
            index = lease.claim()
        except (RuntimeError, redis.RedisError):
            stop.wait(0.1)
            continue
        note("start", index, lease.token)
        while not stop.is_set() and not lease.lost.wait(0.05):
            pass
        if not lease.lost.is_set():
            note("stop", index)
        lease.release()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
