"""The bus between workers and the case API: the Redis Streams that carry events (zones.Event, raised by the
rules) and control messages, the consumer, the workers' spool, camera health, shard leases, zone sets, and the
evidence files both sides share."""

from bus.consumer import Poison, StreamConsumer
from bus.health import HealthPublisher, read_camera_health
from bus.jsonl import event_record, write_jsonl
from bus.shards import ShardLease
from bus.sink import SpoolingPublisher, spooling_sink
from bus.snapshots import SnapshotStore
from bus.spool import DiskSpool
from bus.streams import BusConfig, BusFull, EventPublisher, redis_client

__all__ = [
    "BusConfig",
    "BusFull",
    "DiskSpool",
    "EventPublisher",
    "HealthPublisher",
    "Poison",
    "ShardLease",
    "SnapshotStore",
    "SpoolingPublisher",
    "StreamConsumer",
    "event_record",
    "read_camera_health",
    "redis_client",
    "spooling_sink",
    "write_jsonl",
]
