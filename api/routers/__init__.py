"""One router per resource; `ROUTERS` is what the app includes, in the order the OpenAPI page lists them."""

from api.routers import (
    auth,
    cameras,
    cases,
    classes,
    health,
    labels,
    live,
    map_zones,
    maps,
    media,
    stats,
    users,
    webhooks,
    whatif,
    zones,
)

ROUTERS = [m.router for m in (auth, cases, live, cameras, zones, labels, whatif, map_zones, classes, stats, maps, users,
                              webhooks, health, media)]

__all__ = ["ROUTERS"]
