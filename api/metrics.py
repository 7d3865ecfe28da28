"""Prometheus metrics of the API, read at scrape time from where the truth lives (database, Redis, this
process's loops), with the standard client library. Served at /metrics to a scraper holding
`api.metrics_token`, or to a logged-in admin."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from api.auth import optional_principal
from api.orm import CaseRow
from api.services.health import database_figures, stream_figures
from api.services.lifecycle import Role

log = logging.getLogger(__name__)
router = APIRouter(tags=["health 运行状态"])


class ApiCollector(Collector):
    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        state = self.state
        try:
            with state.sessions() as session:
                by_status = dict(session.execute(select(CaseRow.status, func.count()).group_by(CaseRow.status)).all())
            database = database_figures(state.sessions)
        except Exception as exc:  # a scrape during an outage reports what it can
            log.warning("metrics: database: %s", type(exc).__name__)
            by_status, database = {}, None
        cases = GaugeMetricFamily("streetwatch_cases", "Cases by status.", labels=["status"])
        for status, count in sorted(by_status.items()):
            cases.add_metric([status], count)
        yield cases
        if database is not None:
            yield GaugeMetricFamily("streetwatch_changes_unpublished", "Case changes not yet on the live feed.",
                                    value=database["unpublished_changes"])
            hooks = GaugeMetricFamily("streetwatch_webhook_deliveries", "Webhook deliveries waiting or given up.",
                                      labels=["status"])
            hooks.add_metric(["pending"], database["webhooks_pending"])
            hooks.add_metric(["failed"], database["webhooks_failed"])
            yield hooks
        try:
            bus = stream_figures(state.redis, state.bus.stream, state.bus.group)
        except Exception as exc:
            log.warning("metrics: redis: %s", type(exc).__name__)
            bus = None
        if bus is not None:
            yield GaugeMetricFamily("streetwatch_consumer_lag", "Events on the stream not yet read.",
                                    value=bus["lag"] or 0)
            yield GaugeMetricFamily("streetwatch_consumer_pending", "Events read but not yet stored.",
                                    value=bus["pending"])
            yield GaugeMetricFamily("streetwatch_consumer_oldest_pending_seconds", "Age of the oldest such event.",
                                    value=bus["oldest_pending_s"] or 0)
            yield GaugeMetricFamily("streetwatch_dead_letters", "Messages in the dead-letter stream.",
                                    value=bus["dead_letters"])
        consumer = state.consumer
        if consumer is not None:
            handled = CounterMetricFamily("streetwatch_consumer_messages", "Messages this process handled.",
                                          labels=["outcome"])
            handled.add_metric(["stored"], consumer.consumer.handled)
            handled.add_metric(["dead_lettered"], consumer.consumer.dead_lettered)
            handled.add_metric(["vanished"], consumer.consumer.vanished)
            yield handled
        live = getattr(state, "live", None)
        if live is not None:
            yield GaugeMetricFamily("streetwatch_live_connections", "Open live-feed connections on this process.",
                                    value=live.connections)
        yield CounterMetricFamily("streetwatch_webhooks_delivered", "Webhook deliveries this process made.",
                                  value=state.webhook_sender.delivered)


def make_registry(state: Any) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ApiCollector(state))
    return registry


def _allowed(request: Request) -> bool:
    token = request.app.state.api_config.metrics_token
    header = request.headers.get("authorization", "")
    scraper = token is not None and header.lower().startswith("bearer ") and hmac.compare_digest(
        header[7:].strip(), token.get_secret_value())
    if scraper:
        return True
    principal = optional_principal(request)
    return principal is not None and principal.role is Role.ADMIN


@router.get("/metrics", include_in_schema=True, response_class=Response,
            responses={401: {"description": "A scrape token or an admin login is needed"}})
def metrics(request: Request) -> Response:
    """Prometheus 指标 / metrics in the Prometheus text format."""
    if not _allowed(request):
        raise HTTPException(401, "需要抓取令牌或管理员登录 / a scrape token or an admin login is needed",
                            headers={"WWW-Authenticate": "Bearer"})
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
