"""What a worker does with a control message from the API: verify a zone, or resend what Redis lost."""

from __future__ import annotations

from collections.abc import Callable

from events import SpoolingPublisher
from events.control import ResendRequest, VerifyRequest
from worker.live import Worker


def control_handler(worker: Worker, sink: SpoolingPublisher | None) -> Callable[[VerifyRequest | ResendRequest], None]:
    def handle(message: VerifyRequest | ResendRequest) -> None:
        if isinstance(message, ResendRequest):
            if sink is not None:
                sink.resend(message.since)
        else:
            worker.submit_check(message)

    return handle
