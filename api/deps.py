"""Typed dependencies: what a route uses, by name and type (`store: CaseStoreDep`), instead of untyped reads of
`request.app.state` spread over the routers.

`create_app` still builds every service once and keeps it on the app (the CLI and tests reach them there);
these small providers are the only code in the routers' path that reads that state, so a missing or renamed
service fails here, in one place, and a route's signature says everything it touches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from redis import Redis
from sqlalchemy.orm import sessionmaker

from api.background import Background
from api.config import ApiConfig
from api.consumer import CaseConsumerThread
from api.services.bus_watch import BusWatch
from api.services.cases import CaseStore
from api.services.labels import LabelStore
from api.services.live import LiveHub
from api.services.queries import CaseFinder
from api.services.users import UserStore
from api.services.whatif import WhatIfJobs
from api.services.workflow import Workflow
from api.services.zone_store import ZoneStore
from api.services.zone_sync import Calibrations, ZoneSync
from bus import BusConfig, SnapshotStore

if TYPE_CHECKING:  # the API never imports the worker or the detector at run time (their decoders and models)
    from detector import DetectorConfig
    from worker.config import CameraConfig
    from zones.scene_config import SceneReadingConfig


def _state(request: Request) -> Any:
    return request.app.state


def api_config(request: Request) -> ApiConfig:
    return _state(request).api_config


def bus_config(request: Request) -> BusConfig:
    return _state(request).bus


def redis_client(request: Request) -> Redis:
    return _state(request).redis


def sessions(request: Request) -> sessionmaker:
    return _state(request).sessions


def cameras(request: Request) -> list[CameraConfig]:
    return _state(request).cameras


def detector_config(request: Request) -> DetectorConfig | None:
    return _state(request).detector_config


def scene_config(request: Request) -> SceneReadingConfig | None:
    return _state(request).scene_config


def case_store(request: Request) -> CaseStore:
    return _state(request).case_store


def case_finder(request: Request) -> CaseFinder:
    return _state(request).case_finder


def workflow(request: Request) -> Workflow:
    return _state(request).workflow


def background(request: Request) -> Background:
    return _state(request).background


def snapshots(request: Request) -> SnapshotStore:
    return _state(request).snapshots


def labels(request: Request) -> LabelStore:
    return _state(request).labels


def whatif(request: Request) -> WhatIfJobs:
    return _state(request).whatif


def users(request: Request) -> UserStore:
    return _state(request).users


def zone_store(request: Request) -> ZoneStore:
    return _state(request).zone_store


def zone_sync(request: Request) -> ZoneSync:
    return _state(request).zone_sync


def calibrations(request: Request) -> Calibrations:
    return _state(request).calibrations


def bus_watch(request: Request) -> BusWatch:
    return _state(request).bus_watch


def live_hub(request: Request) -> LiveHub:
    """Made in the lifespan (it needs the running loop), so read per request."""
    return _state(request).live


def consumer(request: Request) -> CaseConsumerThread | None:
    """None when this process does not consume (api.consume: false) or before the lifespan started it."""
    return _state(request).consumer


ConfigDep = Annotated[ApiConfig, Depends(api_config)]
BusDep = Annotated[BusConfig, Depends(bus_config)]
RedisDep = Annotated[Redis, Depends(redis_client)]
SessionsDep = Annotated[sessionmaker, Depends(sessions)]
CaseStoreDep = Annotated[CaseStore, Depends(case_store)]
CaseFinderDep = Annotated[CaseFinder, Depends(case_finder)]
WorkflowDep = Annotated[Workflow, Depends(workflow)]
BackgroundDep = Annotated[Background, Depends(background)]
SnapshotsDep = Annotated[SnapshotStore, Depends(snapshots)]
LabelsDep = Annotated[LabelStore, Depends(labels)]
WhatIfDep = Annotated[WhatIfJobs, Depends(whatif)]
UsersDep = Annotated[UserStore, Depends(users)]
ZoneStoreDep = Annotated[ZoneStore, Depends(zone_store)]
ZoneSyncDep = Annotated[ZoneSync, Depends(zone_sync)]
CalibrationsDep = Annotated[Calibrations, Depends(calibrations)]
BusWatchDep = Annotated[BusWatch, Depends(bus_watch)]
LiveHubDep = Annotated[LiveHub, Depends(live_hub)]
ConsumerDep = Annotated[CaseConsumerThread | None, Depends(consumer)]

if TYPE_CHECKING:  # what a type checker sees; FastAPI, at run time, sees the dependency below
    CamerasDep = list[CameraConfig]
    DetectorConfigDep = DetectorConfig | None
    SceneConfigDep = SceneReadingConfig | None
else:
    CamerasDep = Annotated[list, Depends(cameras)]
    DetectorConfigDep = Annotated[Any, Depends(detector_config)]
    SceneConfigDep = Annotated[Any, Depends(scene_config)]
