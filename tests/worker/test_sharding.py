from __future__ import annotations

import pytest

from worker import parse_shard, select_shard, shard_of

CAMERAS = [f"cam-{i:03d}" for i in range(237)]


def test_two_shards_take_disjoint_sets_whose_union_is_the_list():
    first = select_shard(CAMERAS, 0, 2, key=str)
    second = select_shard(CAMERAS, 1, 2, key=str)
    assert set(first).isdisjoint(second)
    assert sorted(first + second) == CAMERAS
    assert 90 < len(first) < 147  # a hash, not a split by position: roughly even


def test_shards_are_stable_across_processes_and_spread_over_n():
    assert [shard_of(c, 4) for c in CAMERAS[:8]] == [shard_of(c, 4) for c in CAMERAS[:8]]
    assert shard_of("cam-000", 4) == 1  # pinned: sha256 gives the same on every machine and release
    assert {len(select_shard(CAMERAS, i, 4, key=str)) > 40 for i in range(4)} == {True}


def test_shard_arguments():
    assert parse_shard("1/3") == (1, 3)
    assert parse_shard("auto/4", hostname="streetwatch-worker-2") == (2, 4)
    for bad, message in [("3/3", "below 3"), ("x/2", "I/N"), ("auto/2", "ordinal"), ("0/0", "at least 1")]:
        with pytest.raises(ValueError, match=message):
            parse_shard(bad, hostname="laptop")


def test_replicas_without_ordinals_claim_distinct_shards_through_redis(redis_bus):  # type: ignore[no-untyped-def]
    from bus import ShardLease

    leases = [ShardLease(redis_bus, 3, owner=f"replica-{i}") for i in range(3)]
    try:
        assert sorted(lease.claim() for lease in leases) == [0, 1, 2]
        with pytest.raises(RuntimeError, match="all 3 shards are taken"):
            ShardLease(redis_bus, 3, owner="one-too-many").claim()
        leases[1].release()  # a replica stops: the next one to start takes its shard
        assert ShardLease(redis_bus, 3, owner="replacement").claim() == 1
    finally:
        for lease in leases:
            lease.release()
        import redis

        client = redis.Redis.from_url(redis_bus.redis_url)
        client.delete(*[f"{redis_bus.stream}:shard:3:{i}" for i in range(3)])
