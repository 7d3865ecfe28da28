"""`streetwatch eval` on the shared clips: the real model, real footage, the labels in tests/data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from matplotlib.image import imread
from typer.testing import CliRunner, Result

from cli.eval_command import enforce_floor
from cli.main import app
from tests.conftest import ASSETS

DATA = Path(__file__).resolve().parents[1] / "data"
TRUTH = DATA / "truth-shared-clips.yaml"
CI_FLOOR = 0.95  # the floor CI runs with (docs/evaluation.md)


@dataclass
class EvalRun:
    result: Result
    out: Path

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.out / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> EvalRun:
    """One evaluation of both clips, shared by the tests that read its report."""
    out = tmp_path_factory.mktemp("eval")
    result = CliRunner().invoke(app, ["eval", str(TRUTH), "--out", str(out), "--min-f1", str(CI_FLOOR)])
    return EvalRun(result, out)


def test_eval_passes_the_ci_floor_and_prints_the_class_table(evaluated: EvalRun):
    assert evaluated.result.exit_code == 0, evaluated.result.output
    output = evaluated.result.output
    for word in ("illegal_parking_motor", "overall", "recall", "precision", "passed"):
        assert word in output
    assert "146/146" in output  # the progress bar counted every analysed frame of the residential clip


def test_report_says_what_was_labelled_and_what_was_raised(evaluated: EvalRun):
    report = evaluated.report
    motor = report["classes"]["illegal_parking_motor"]
    # Six cars parked all clip long (three per curb) and one that leaves after 7.5 s, under the 15 s dwell.
    assert (motor["episodes"], motor["below_dwell"]) == (6, 1)
    assert (motor["events"], motor["hits"], motor["missed"], motor["false_alerts"]) == (6, 6, 0, 0)
    assert motor["recall"] == motor["precision"] == motor["f1"] == 1.0
    assert 0.0 <= motor["alert_delay_s"]["mean"] <= 15.0
    assert report["overall"]["f1"] == 1.0
    residential, highway = report["clips"]
    assert residential["video"] == str(ASSETS / "video" / "residential-street-parked-cars.mp4")
    labels = {t["note"]: t for t in residential["truth"]}
    assert {n for n, t in labels.items() if t["zone"] == "far-curb" and t["status"] == "hit"} == {
        "silver sedan, far curb, left", "red SUV, far curb, middle", "dark sedan, far curb, right"}
    assert labels["white car, leaves at 7.5 s"]["status"] == "below_dwell"
    events = {e["event_id"]: e for e in residential["events"]}
    for label in labels.values():
        if label["status"] == "hit":  # each hit names the alert whose box is on that very vehicle
            x1, y1, x2, y2 = events[label["event_id"]]["bbox"]
            assert x1 <= label["at"][0] <= x2 and y1 <= label["at"][1] <= y2
            assert events[label["event_id"]]["start_s"] >= 15.0
    assert not [e for e in residential["events"] if e["zone"] == "carriageway"]  # waiting traffic is not parking
    assert highway["truth"] == [] and highway["events"] == []
    assert highway["classes"]["illegal_parking_motor"]["false_alerts_per_camera_hour"] == 0.0
    assert residential["rules"]["illegal_parking_motor"]["dwell_s"] == 15.0
    assert highway["rules"]["illegal_parking_motor"]["dwell_s"] == 3.0  # the clip's own override


def test_report_html_timelines_and_evidence_are_written(evaluated: EvalRun):
    report = evaluated.report
    page = (evaluated.out / "report.html").read_text(encoding="utf-8")
    assert "StreetWatch evaluation" in page and "yellow Hummer, near curb" in page
    for clip in report["clips"]:
        picture = evaluated.out / clip["timeline"]
        assert f'src="{clip["timeline"]}"' in page
        assert picture.stat().st_size > 10_000
        pixels = imread(picture)
        assert pixels.shape[1] >= 1000 and pixels.shape[0] >= 300
    # The residential timeline shows labelled episodes (green) and alerts (blue), not an empty frame.
    pixels = (imread(evaluated.out / report["clips"][0]["timeline"])[..., :3] * 255).round().astype(int)
    colours = {tuple(p) for p in pixels.reshape(-1, 3)[::7]}
    assert (0x2E, 0x7D, 0x32) in colours and (0x15, 0x65, 0xC0) in colours
    for event in report["clips"][0]["events"]:
        assert (evaluated.out / event["snapshot"]).stat().st_size > 10_000


def test_a_floor_above_todays_f1_exits_1(evaluated: EvalRun):
    f1 = evaluated.report["overall"]["f1"]
    enforce_floor(f1, f1)  # at the floor passes
    with pytest.raises(typer.Exit) as stopped:
        enforce_floor(f1, f1 + 0.01)
    assert stopped.value.exit_code == 1
    with pytest.raises(typer.Exit):
        enforce_floor(None, 0.5)  # nothing scored cannot pass a floor


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace("zone: far-curb, start_s: 0.0, at: [0.18", "zone: kerb, start_s: 0.0, at: [0.18"),
         "clips[0]: truth[0]: no zone 'kerb' in this clip"),
        (lambda t: t.replace("{class: illegal_parking_motor, zone: far-curb", "{class: parking, zone: far-curb", 1),
         "clips[0].truth[0].class: unknown class 'parking'"),
        (lambda t: t.replace("[[0.08, 0.30], [0.50, 0.20], [0.50, 0.40], [0.12, 0.46]]",
                             "[[0.1, 0.1], [0.5, 0.5], [0.5, 0.1], [0.1, 0.5]]"),
         "clips[0].zones[0].polygon: polygon is not simple"),
        (lambda t: t.replace("video/highway-720p.mp4", "video/no-such-clip.mp4"),
         "clips[1].video: video file not found"),
        (lambda t: t.replace("illegal_parking_motor: {dwell_s: 3,", "illegal_parking_motor: {dwell_s: -3,"),
         "clips[1]: rules.illegal_parking_motor.dwell_s: Input should be greater than 0"),
        (lambda t: t.replace("start_s: 0.0, end_s: 7.5", "start_s: 8.0, end_s: 7.5"),
         "end_s (7.5) must be after start_s (8.0)"),
    ],
)
def test_a_bad_truth_file_exits_2_naming_file_field_and_problem(tmp_path: Path, change, expected: str):  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad-truth.yaml"
    bad.write_text(change(TRUTH.read_text(encoding="utf-8")), encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert str(bad) in result.output and expected in result.output
    assert not (tmp_path / "out" / "report.json").exists()
