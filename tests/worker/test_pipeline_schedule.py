"""Zone schedules: a school-gate zone is armed only in school hours, by the frames' own clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from pydantic import ValidationError

from detector import Detections, TrackerConfig
from streams import Frame, SourceConfig
from tests.conftest import RESIDENTIAL
from worker import CameraConfig, CameraPipeline
from zones import EventState, RulesConfig

SHANGHAI = ZoneInfo("Asia/Shanghai")
GATE = {
    "id": "school-gate", "kind": "school", "classes": ["illegal_parking_motor"],
    "polygon": [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]],
    "schedule": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "09:00"}],
}
RULES = RulesConfig.model_validate({"illegal_parking_motor": {"dwell_s": 5, "clear_s": 3, "cooldown_s": 0}})
IMAGE = np.zeros((1000, 1000, 3), dtype=np.uint8)
CAR = Detections(np.array([[100.0, 600.0, 300.0, 700.0]]), [0.9], ["car"])


def replay_states(start_time: datetime, seconds: int = 40) -> list[tuple[float, EventState]]:
    source = SourceConfig(url=str(RESIDENTIAL), start_time=start_time)
    camera = CameraConfig(id="gate-cam", source=source, zones=[GATE])
    pipeline = CameraPipeline(camera, RULES, TrackerConfig(), {"car", "person"})
    events = []
    for seq in range(seconds * 2):
        ts = seq * 0.5
        events += pipeline.process(Frame("gate-cam", ts, seq, IMAGE), CAR)
    return [(e.ts_s, e.state) for e in events]


def test_a_car_at_the_gate_raises_in_school_hours_and_the_zone_disarms_at_nine():
    # Monday 08:59:40: the car has stood 5 s at 08:59:45; at 09:00:00 the zone is no longer armed.
    states = replay_states(datetime(2026, 11, 23, 8, 59, 40, tzinfo=SHANGHAI))
    assert states[0][1] is EventState.START and states[0][0] == pytest.approx(5.0, abs=0.6)
    assert states[-1] == (pytest.approx(22.5, abs=0.6), EventState.END)  # gone from 20 s + clear 3 s


def test_the_same_car_outside_school_hours_or_at_the_weekend_raises_nothing():
    assert replay_states(datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)) == []
    assert replay_states(datetime(2026, 11, 22, 8, 0, tzinfo=SHANGHAI)) == []  # a Sunday


def test_a_scheduled_zone_on_a_clip_without_start_time_is_a_configuration_error():
    with pytest.raises(ValidationError, match=r"needs source\.start_time"):
        CameraConfig(id="gate-cam", source=SourceConfig(url=str(RESIDENTIAL)), zones=[GATE])
