"""Shard leases on Redis, for replicas that have no ordinal of their own (`docker compose --scale`)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

import redis
from redis.exceptions import LockError, LockNotOwnedError
from redis.lock import Lock

from bus.streams import BusConfig, redis_client

log = logging.getLogger(__name__)

LostHook = Callable[[int], None]


class ShardLease:
    """Holds the lowest free shard index of N as a redis-py `Lock`, renewed only while this owner still holds it.

    Every renewal is owner-checked (the lock's token, unique to this lease), so a replica can never renew a
    lease another has taken since. The lease is lost, once, when a renewal finds another owner or none, or
    when no renewal has succeeded by `ttl_s - margin` after the last one was sent: by then Redis may have let
    it expire and given the index to someone else, so the worker must stop that shard's cameras (`lost` is
    set, `on_lost(index)` runs) before that can happen. A new lease (a restarted worker) claims again.
    """

    def __init__(self, bus: BusConfig, count: int, owner: str, ttl_s: float = 30,
                 client: redis.Redis | None = None, on_lost: LostHook | None = None,
                 renew_s: float | None = None) -> None:
        self.count = count
        self.owner = owner
        self.ttl_s = ttl_s
        self.renew_s = renew_s if renew_s is not None else ttl_s / 3
        self.margin_s = ttl_s / 5  # stop this early: the worker's clock and Redis's may not run quite alike
        # A renewal must give up well before the lease would lapse, so the watchdog is never kept waiting.
        self.client = client or redis_client(bus.redis_url, socket_timeout=max(0.2, ttl_s / 4))
        self.prefix = f"{bus.stream}:shard:{count}"
        self.token = f"{owner}:{uuid.uuid4().hex}"
        self.on_lost = on_lost
        self.index: int | None = None
        self.lost = threading.Event()
        self._lock: Lock | None = None
        self._valid_until = 0.0
        self._cond = threading.Condition()
        self._stop = threading.Event()

    def key(self, index: int) -> str:
        return f"{self.prefix}:{index}"

    def claim(self) -> int:
        """The lowest free index, held from now on; RuntimeError when all are taken."""
        for index in range(self.count):
            lock = Lock(self.client, self.key(index), timeout=self.ttl_s, blocking=False, thread_local=False)
            sent = time.monotonic()
            if lock.acquire(token=self.token):
                self.index, self._lock, self._valid_until = index, lock, sent + self.ttl_s
                threading.Thread(target=self._keep, name="shard-lease", daemon=True).start()
                threading.Thread(target=self._watch, name="shard-lease-watch", daemon=True).start()
                return index
        raise RuntimeError(f"all {self.count} shards are taken; start at most {self.count} workers")

    @property
    def held(self) -> bool:
        return self.index is not None and not self.lost.is_set()

    def renew(self) -> bool:
        """Extend the lease to a full `ttl_s` if this owner still holds it; False when it could not (Redis away
        keeps the lease until its deadline, another owner or none loses it now)."""
        lock = self._lock
        if lock is None or self.lost.is_set():
            return False
        sent = time.monotonic()
        try:
            lock.reacquire()
        except LockNotOwnedError:
            self._lose("另一个副本已持有或租约已过期 taken by another replica, or expired")
            return False
        except (redis.RedisError, LockError) as exc:
            log.warning("分片租约未续期 shard lease %s not renewed: %s", lock.name, exc)
            return False
        with self._cond:
            if not self.lost.is_set():
                self._valid_until = sent + self.ttl_s
        return not self.lost.is_set()

    def release(self) -> None:
        """Give the index back (only if still ours: the lock's release is owner-checked)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        lock, self._lock = self._lock, None
        if lock is None:
            return
        try:
            lock.release()
        except LockNotOwnedError:
            pass  # expired or taken since: nothing of ours to delete
        except (redis.RedisError, LockError) as exc:
            log.warning("分片租约未释放 shard lease %s not released: %s", lock.name, exc)

    def _keep(self) -> None:
        while not self._stop.wait(self.renew_s) and not self.lost.is_set():
            self.renew()

    def _watch(self) -> None:
        """Declares the lease lost at its local deadline, whatever the renewing thread is blocked on."""
        with self._cond:
            while not self._stop.is_set() and not self.lost.is_set():
                remaining = self._valid_until - self.margin_s - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            else:
                return
        self._lose(f"{self.ttl_s - self.margin_s:.1f}s 内未能续期 not renewed in time (Redis unreachable)")

    def _lose(self, reason: str) -> None:
        with self._cond:
            if self.lost.is_set() or self._stop.is_set():
                return
            self.lost.set()
            self._cond.notify_all()
        index = self.index
        log.error("分片租约丢失 shard lease %s:%s lost: %s; stopping its cameras", self.prefix, index, reason)
        if self.on_lost is not None and index is not None:
            self.on_lost(index)
