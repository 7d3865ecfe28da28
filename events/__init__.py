"""The event contract between workers and the case API: Redis Streams, evidence files, JSON lines."""

from events.bus import BusConfig, BusFull, EventPublisher, redis_client
from events.consumer import Poison, StreamConsumer
from events.evidence import EvidenceStore
from events.health import HealthPublisher, read_camera_health
from events.jsonl import event_record, write_jsonl
from events.shards import ShardLease
from events.sink import SpoolingPublisher, spooling_sink
from events.spool import DiskSpool

__all__ = [
    "BusConfig",
    "BusFull",
    "DiskSpool",
    "EventPublisher",
    "EvidenceStore",
    "HealthPublisher",
    "Poison",
    "ShardLease",
    "SpoolingPublisher",
    "StreamConsumer",
    "event_record",
    "read_camera_health",
    "redis_client",
    "spooling_sink",
    "write_jsonl",
]
