"""Shard leases on Redis, for replicas that have no ordinal of their own (`docker compose --scale`)."""

from __future__ import annotations

import logging
import threading

import redis

from bus.streams import BusConfig, redis_client

log = logging.getLogger(__name__)


class ShardLease:
    """Claims the lowest free shard index of N with SET NX and keeps it while the worker lives.

    A replica that dies stops renewing, its lease expires after `ttl_s`, and the next replica
    to start takes its index. Losing Redis later does not change the shard a worker runs.
    """

    def __init__(self, bus: BusConfig, count: int, owner: str, ttl_s: int = 30,
                 client: redis.Redis | None = None) -> None:
        self.count = count
        self.owner = owner
        self.ttl_s = ttl_s
        self.client = client or redis_client(bus.redis_url)
        self.prefix = f"{bus.stream}:shard:{count}"
        self.index: int | None = None
        self._stop = threading.Event()

    def claim(self) -> int:
        for index in range(self.count):
            if self.client.set(f"{self.prefix}:{index}", self.owner, nx=True, ex=self.ttl_s):
                self.index = index
                threading.Thread(target=self._renew, name="shard-lease", daemon=True).start()
                return index
        raise RuntimeError(f"all {self.count} shards are taken; start at most {self.count} workers")

    def release(self) -> None:
        self._stop.set()
        if self.index is not None:
            key = f"{self.prefix}:{self.index}"
            try:
                if self.client.get(key) == self.owner.encode():
                    self.client.delete(key)
            except redis.RedisError as exc:
                log.warning("shard lease %s not released: %s", key, exc)

    def _renew(self) -> None:
        key = f"{self.prefix}:{self.index}"
        while not self._stop.wait(self.ttl_s / 3):
            try:
                self.client.set(key, self.owner, xx=True, ex=self.ttl_s) or self.client.set(
                    key, self.owner, nx=True, ex=self.ttl_s
                )
            except redis.RedisError as exc:
                log.warning("shard lease %s not renewed: %s", key, exc)
