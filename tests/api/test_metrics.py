"""/metrics: Prometheus figures read from the database and Redis, for a scraper's token or an admin only."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.api_fixture import Api
from tests.helpers import make_event

SCRAPE_TOKEN = "scrape-token-of-the-centre-2026"


def test_metrics_count_cases_and_the_bus_and_need_a_token(make_api):  # type: ignore[no-untyped-def]
    api: Api = make_api(metrics_token=SCRAPE_TOKEN, verification={"enabled": False})
    api.publish_and_wait([make_event("cam-a", f"z{i}", "illegal_parking_motor", float(i)) for i in range(3)])
    api.move(api.cases()[0]["id"], "confirmed")
    assert api.client.get("/metrics").status_code == 401
    assert api.get("/metrics", role="viewer").status_code == 401
    assert api.client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    scraped = api.client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(scraped.text) for s in family.samples}
    assert samples[("streetwatch_cases", (("status", "new"),))] == 2
    assert samples[("streetwatch_cases", (("status", "confirmed"),))] == 1
    assert samples[("streetwatch_consumer_messages_total", (("outcome", "stored"),))] == 3
    assert samples[("streetwatch_consumer_pending", ())] == 0
    assert api.get("/metrics", role="admin").status_code == 200
    assert SCRAPE_TOKEN not in scraped.text
