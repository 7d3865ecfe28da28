"""Case changes to the centre's other systems (the 12345 hotline platform, a city-operations platform).

Each configured receiver gets every change as a signed JSON POST, in the order the changes
happened: a receiver that is down holds its queue (with backoff) and gets everything once it is
back. Every attempt is recorded on the delivery row. Receivers verify

    X-StreetWatch-Signature: sha256=HEX(HMAC-SHA256(secret, f"{X-StreetWatch-Timestamp}.{body}"))

and may drop repeats by `X-StreetWatch-Delivery` (an attempt that timed out may have arrived).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from api.orm import ChangeRow, WebhookDeliveryRow, utcnow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    url: HttpUrl
    secret: SecretStr = Field(description="Shared HMAC key; write ${ENV_VAR} rather than the key itself.")
    kinds: list[str] = Field(default_factory=list, description="Change kinds to send; empty: all of them.")
    timeout_s: float = Field(5.0, gt=0, le=60)
    max_attempts: int = Field(50, ge=1, le=1000)
    backoff_max_s: float = Field(300.0, gt=0)

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def delivery_body(change: ChangeRow) -> str:
    """What a receiver gets: the change, the case, and its national event code up front."""
    case = change.payload.get("case", {})
    body: dict[str, Any] = {
        "change_id": change.id,
        "kind": change.kind,
        "at": change.payload.get("at"),
        "actor": change.payload.get("actor"),
        "from_status": change.payload.get("from_status"),
        "note": change.payload.get("note"),
        "national_event_code": case.get("code_gbt_47678_5"),
        "case": case,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True)


def fan_out(session: Session, changes: list[ChangeRow], webhooks: list[WebhookConfig], now: datetime) -> int:
    """One delivery row per change and receiver that wants it, in the transaction that marks the changes."""
    made = 0
    for change in changes:
        for hook in webhooks:
            if hook.wants(change.kind):
                session.add(WebhookDeliveryRow(change_id=change.id, case_id=change.case_id, webhook=hook.name,
                                               status="pending", attempts=0, next_attempt_at=now,
                                               body=delivery_body(change), created_at=now))
                made += 1
        change.webhooks_at = now
    return made


class WebhookSender:
    def __init__(self, sessions: sessionmaker, webhooks: list[WebhookConfig], clock: Clock = utcnow,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.sessions = sessions
        self.webhooks = {hook.name: hook for hook in webhooks}
        self.clock = clock
        self.client = httpx.Client(transport=transport, follow_redirects=False)
        self.delivered = 0
        self.failed_attempts = 0

    def run_once(self, per_hook: int = 100) -> int:
        """Send what is due, oldest first per receiver, stopping at a receiver's first failure; returns sends."""
        sent = 0
        for hook in self.webhooks.values():
            for _ in range(per_hook):
                outcome = self._send_next(hook)
                if outcome is None:
                    break
                sent += outcome
                if not outcome:
                    break
        return sent

    def _send_next(self, hook: WebhookConfig) -> bool | None:
        """None: nothing due (or another replica holds it); True: delivered; False: failed, will retry."""
        now = self.clock()
        try:
            with self.sessions.begin() as session:
                row = session.scalar(
                    select(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook == hook.name,
                                                     WebhookDeliveryRow.status == "pending")
                    .order_by(WebhookDeliveryRow.id).limit(1).with_for_update(nowait=True)
                )
                if row is None or _aware(row.next_attempt_at) > now:
                    return None
                ok = self._post(hook, row, now)
                return ok
        except OperationalError:  # locked by another replica's sender: its turn
            return None

    def _post(self, hook: WebhookConfig, row: WebhookDeliveryRow, now: datetime) -> bool:
        body = row.body.encode()
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "StreetWatch-Webhook/1",
            "X-StreetWatch-Delivery": str(row.id),
            "X-StreetWatch-Timestamp": timestamp,
            "X-StreetWatch-Signature": sign(hook.secret.get_secret_value(), timestamp, body),
        }
        row.attempts += 1
        try:
            response = self.client.post(str(hook.url), content=body, headers=headers, timeout=hook.timeout_s)
            row.last_status_code = response.status_code
            ok = 200 <= response.status_code < 300
            row.last_error = None if ok else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok = False
            row.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
        if ok:
            row.status, row.delivered_at = "delivered", now
            self.delivered += 1
            return True
        self.failed_attempts += 1
        if row.attempts >= hook.max_attempts:
            row.status = "failed"
            log.error("webhook %s: delivery %d given up after %d attempts: %s", hook.name, row.id, row.attempts,
                      row.last_error)
        else:
            delay = min(hook.backoff_max_s, 2 ** min(row.attempts - 1, 20))
            row.next_attempt_at = now + timedelta(seconds=delay)
            log.warning("webhook %s: delivery %d failed (%s); retry in %.0fs", hook.name, row.id, row.last_error,
                        delay)
        return False

    def close(self) -> None:
        self.client.close()


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
