"""The event contract between workers and the case API: Redis Streams, evidence files, JSON lines."""

from events.bus import BufferedPublisher, BusConfig, EventConsumer, EventPublisher, redis_client
from events.evidence import EvidenceStore
from events.jsonl import event_record, write_jsonl

__all__ = [
    "BufferedPublisher",
    "BusConfig",
    "EventConsumer",
    "EventPublisher",
    "EvidenceStore",
    "event_record",
    "redis_client",
    "write_jsonl",
]
