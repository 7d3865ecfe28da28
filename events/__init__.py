"""The event contract between workers and the case API: Redis Streams, evidence files, JSON lines."""

from events.bus import BufferedPublisher, BusConfig, EventConsumer, EventPublisher, redis_client
from events.evidence import EvidenceStore
from events.health import HealthPublisher, read_camera_health
from events.jsonl import event_record, write_jsonl
from events.shards import ShardLease

__all__ = [
    "BufferedPublisher",
    "BusConfig",
    "EventConsumer",
    "EventPublisher",
    "EvidenceStore",
    "HealthPublisher",
    "ShardLease",
    "event_record",
    "read_camera_health",
    "redis_client",
    "write_jsonl",
]
