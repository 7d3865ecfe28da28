"""Shard leases when Redis or a worker freezes past the lease's TTL: no camera runs twice, none is left out.

Each participant is a process of its own (tests.faults.shard_member) holding a shard through bus.ShardLease;
Redis is a server of the test's own, frozen and thawed with SIGSTOP and SIGCONT, as is a participant.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from models.registry import PROJECT_ROOT
from tests.helpers import wait_until
from tests.procs import RedisProcess

TTL_S = 2.0


class Members:
    """Participants on one Redis and one stream, writing one shared log."""

    def __init__(self, server: RedisProcess, folder: Path, count: int) -> None:
        self.server, self.count = server, count
        self.stream = f"faults:{uuid.uuid4().hex[:8]}"
        self.log = folder / "shards.log"
        self.log.touch()
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, how_many: int) -> None:
        for _ in range(how_many):
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "tests.faults.shard_member", self.server.url, self.stream, str(self.count),
                 str(TTL_S), str(self.log)], cwd=PROJECT_ROOT))

    def lines(self) -> list[list[str]]:
        return [line.split() for line in self.log.read_text().splitlines()]

    def holders(self) -> dict[int, set[int]]:
        """Who runs each shard now, replaying the log in the order it was written; fails at any overlap."""
        running: dict[int, set[int]] = {i: set() for i in range(self.count)}
        for pid, what, index, *_ in ((int(w[0]), w[1], int(w[2]), *w[3:]) for w in self.lines()):
            if what == "start":
                assert not running[index], f"shard {index} started by {pid} while {running[index]} ran it"
                assert all(pid not in held for held in running.values()), f"{pid} runs two shards"
                running[index].add(pid)
            else:
                running[index].discard(pid)
        return running

    def balanced(self) -> bool:
        """Every shard run by exactly one participant (no camera orphaned)."""
        return all(len(held) == 1 for held in self.holders().values())

    def tokens(self) -> dict[int, str]:
        """The token each shard's latest holder logged when it started."""
        latest: dict[int, str] = {}
        for words in self.lines():
            if words[1] == "start":
                latest[int(words[2])] = words[3]
        return latest

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.terminate()
        for process in self.processes:
            process.wait(30)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path / "redis").start()
    yield server
    server.stop()


def _keys_match_holders(server: RedisProcess, members: Members) -> bool:
    client = redis.Redis.from_url(server.url)
    tokens = members.tokens()
    stored = {i: client.get(f"{members.stream}:shard:{members.count}:{i}") for i in range(members.count)}
    return all(stored[i] is not None and stored[i].decode() == tokens.get(i) for i in range(members.count))


def test_redis_frozen_past_the_ttl_stops_every_holder_then_the_shards_are_taken_again_once_each(
        own_redis, tmp_path):  # type: ignore[no-untyped-def]
    members = Members(own_redis, tmp_path, count=2)
    members.start(3)  # two shards, three replicas: one waits for a free shard
    try:
        wait_until(members.balanced, timeout_s=60, what="both shards to be held")
        before = {pid for held in members.holders().values() for pid in held}
        own_redis.freeze()
        # No renewal can succeed: each holder must stop its cameras on its own, before Redis may hand them on.
        wait_until(lambda: not any(members.holders().values()), timeout_s=60,
                   what="every holder to stop its shard while Redis is frozen")
        time.sleep(TTL_S)  # past the TTL on Redis's clock too: the leases are expired when it wakes
        own_redis.thaw()
        wait_until(members.balanced, timeout_s=60, what="both shards to be held again after Redis is back")
        wait_until(lambda: _keys_match_holders(own_redis, members), timeout_s=30,
                   what="each shard's key to hold its running owner's token")
        assert len(before) == 2
        members.holders()  # replays the whole log: no shard ever ran on two participants at once
    finally:
        members.stop()


def test_a_frozen_holder_whose_lease_was_taken_gives_it_up_when_it_wakes(own_redis, tmp_path):  # type: ignore
    members = Members(own_redis, tmp_path, count=1)
    members.start(1)
    wait_until(members.balanced, timeout_s=60, what="the shard to be held")
    members.start(1)  # a second replica, waiting for the shard
    try:
        (first,) = members.holders()[0]
        os.kill(first, signal.SIGSTOP)  # a stalled worker (a VM pause, a long GC): it cannot renew
        wait_until(lambda: len(_running(members)) == 2, timeout_s=60,
                   what="the waiting replica to take the expired lease")
        os.kill(first, signal.SIGCONT)
        # Awake, the first must find the lease gone and stop that shard, not renew someone else's.
        wait_until(lambda: first not in _running(members), timeout_s=60,
                   what="the woken holder to give the shard up")
        wait_until(lambda: len(_running(members)) == 1 and _keys_match_holders(own_redis, members),
                   timeout_s=30, what="one holder whose token is the shard's")
        assert (second := next(iter(_running(members)))) != first, second
    finally:
        members.stop()


def _running(members: Members) -> set[int]:
    """Who runs shard 0 now; a frozen holder still counts until it says it stopped (its cameras resume)."""
    running: set[int] = set()
    for words in members.lines():
        (running.add if words[1] == "start" else running.discard)(int(words[0]))
    return running

