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


def _lease_keys(redis_bus, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{redis_bus.stream}:shard:{count}:{i}" for i in range(count)]


def test_the_owner_renews_its_lease_to_a_full_ttl(redis_bus):  # type: ignore[no-untyped-def]
    import redis

    from bus import ShardLease

    client = redis.Redis.from_url(redis_bus.redis_url)
    lease = ShardLease(redis_bus, 1, owner="replica-a", ttl_s=60, renew_s=3600)
    try:
        assert lease.claim() == 0
        (key,) = _lease_keys(redis_bus, 1)
        client.pexpire(key, 5_000)  # as if most of the TTL had gone by
        assert lease.renew()
        assert client.pttl(key) > 5_000 and client.get(key) == lease.token.encode()
        assert lease.held and not lease.lost.is_set()
    finally:
        lease.release()
        client.delete(*_lease_keys(redis_bus, 1))


def test_a_renewal_by_one_that_no_longer_owns_the_lease_fails_and_loses_it(redis_bus):  # type: ignore
    import redis

    from bus import ShardLease

    client = redis.Redis.from_url(redis_bus.redis_url)
    lost: list[int] = []
    lease = ShardLease(redis_bus, 1, owner="replica-a", ttl_s=60, renew_s=3600, on_lost=lost.append)
    try:
        assert lease.claim() == 0
        (key,) = _lease_keys(redis_bus, 1)
        client.set(key, "replica-b:its-own-token", px=60_000)  # another replica holds it now
        assert not lease.renew()
        assert client.get(key) == b"replica-b:its-own-token"  # not renewed over, not stolen back
        assert lease.lost.is_set() and not lease.held and lost == [0]
        lease.release()
        assert client.get(key) == b"replica-b:its-own-token"  # release deletes only what is its own
    finally:
        client.delete(*_lease_keys(redis_bus, 1))


def test_an_expired_lease_is_taken_by_the_other_and_its_old_owner_knows(redis_bus):  # type: ignore
    import redis

    from bus import ShardLease
    from tests.helpers import wait_until

    client = redis.Redis.from_url(redis_bus.redis_url)
    (key,) = _lease_keys(redis_bus, 1)
    first = ShardLease(redis_bus, 1, owner="replica-a", ttl_s=1, renew_s=3600)  # a replica that stopped renewing
    second = ShardLease(redis_bus, 1, owner="replica-b", ttl_s=60)
    try:
        assert first.claim() == 0
        with pytest.raises(RuntimeError, match="all 1 shards are taken"):
            ShardLease(redis_bus, 1, owner="replica-b", ttl_s=60).claim()
        wait_until(first.lost.is_set, what="the unrenewed lease to count as lost by its owner")
        wait_until(lambda: not client.exists(key), what="Redis to expire the lease")
        assert second.claim() == 0
        assert not first.renew() and client.get(key) == second.token.encode()
        assert second.renew() and second.held
    finally:
        first.release()
        second.release()
        client.delete(key)
