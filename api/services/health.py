"""What the service's health is made of, read from where it lives (Redis and the database), not from
counters of one process that a restart resets."""

from __future__ import annotations

import time
from typing import Any

import redis
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from api.orm import ChangeRow, WebhookDeliveryRow


class HealthBounds(BaseModel):
    """Past these, health says `degraded` and why."""

    model_config = ConfigDict(extra="forbid")

    max_lag: int = Field(1000, ge=0, description="Events on the stream the API has not read.")
    max_pending: int = Field(1000, ge=0, description="Events read but not yet stored.")
    max_oldest_pending_s: float = Field(120.0, gt=0, description="Age of the oldest event read but not stored.")
    max_unpublished_changes: int = Field(1000, ge=0, description="Case changes not yet on the live feed.")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def stream_figures(client: redis.Redis, stream: str, group: str) -> dict[str, Any]:
    """Lag, pending, age of the oldest pending entry, dead letters and consumers of one stream's group."""
    figures: dict[str, Any] = {"length": int(client.xlen(stream)), "dead_letters": int(client.xlen(f"{stream}:dead")),
                               "group": False, "lag": None, "pending": 0, "oldest_pending_s": None, "consumers": 0}
    try:
        groups = {_text(g["name"]): g for g in client.xinfo_groups(stream)}
    except redis.ResponseError:  # no stream yet
        return figures
    info = groups.get(group)
    if info is None:
        return figures
    figures.update(group=True, lag=info.get("lag"), pending=int(info.get("pending") or 0),
                   consumers=int(info.get("consumers") or 0))
    if figures["pending"]:
        oldest = _text(client.xpending(stream, group)["min"])
        figures["oldest_pending_s"] = round(max(0.0, time.time() - int(oldest.split("-")[0]) / 1000), 1)
    return figures


def database_figures(sessions: sessionmaker) -> dict[str, Any]:
    with sessions() as session:
        session.execute(text("SELECT 1"))
        unpublished = session.scalar(select(func.count()).select_from(ChangeRow).where(
            ChangeRow.published_at.is_(None))) or 0
        failed = session.scalar(select(func.count()).select_from(WebhookDeliveryRow).where(
            WebhookDeliveryRow.status == "failed")) or 0
        waiting = session.scalar(select(func.count()).select_from(WebhookDeliveryRow).where(
            WebhookDeliveryRow.status == "pending")) or 0
    return {"unpublished_changes": int(unpublished), "webhooks_failed": int(failed), "webhooks_pending": int(waiting)}


def problems(bus: dict[str, Any], database: dict[str, Any] | None, bounds: HealthBounds) -> list[str]:
    """Each bound passed, in words an operator can act on."""
    found = []
    if bus.get("lag") is not None and bus["lag"] > bounds.max_lag:
        found.append(f"事件积压 {bus['lag']} 条未读 / {bus['lag']} events not yet read")
    if bus["pending"] > bounds.max_pending:
        found.append(f"{bus['pending']} 条事件未入库 / {bus['pending']} events read but not stored")
    if bus["oldest_pending_s"] is not None and bus["oldest_pending_s"] > bounds.max_oldest_pending_s:
        found.append(f"最早未入库事件已等待 {bus['oldest_pending_s']:.0f} 秒 / the oldest unstored event has waited "
                     f"{bus['oldest_pending_s']:.0f} s")
    if database is not None and database["unpublished_changes"] > bounds.max_unpublished_changes:
        found.append(f"{database['unpublished_changes']} 条变更未推送到实时告警 / changes not yet on the live feed")
    return found
