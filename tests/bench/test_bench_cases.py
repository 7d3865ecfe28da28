"""The case API benchmark, run small for real: PostgreSQL seeded on the server, one API process, wrk.

Figures are never asserted; the report's structure and invariants are: every request of every
scenario answered 200, the deep keyset pages started far down the list, percentiles in order,
and the plans checked for each scenario.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (./dev.sh installs it)")

CASES, REFERENCE = 5_000, 1_000


@pytest.fixture
def bench_prefix() -> Iterator[str]:
    """A database name prefix of its own; the benchmark's databases under it are dropped afterwards."""
    prefix = f"streetwatch_test_bench_{uuid.uuid4().hex[:8]}"
    yield prefix
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for n in (CASES, REFERENCE):
            connection.execute(text(f'DROP DATABASE IF EXISTS "{prefix}_{n}" WITH (FORCE)'))
    admin.dispose()


def test_case_api_benchmark_runs_for_real_and_reports_every_scenario(bench_prefix: str):
    from bench.cases import PAGE_SIZE, measure_cases, render, scenarios
    from bench.cases_seed import seed

    server = make_url(POSTGRES_URL).set(database="postgres").render_as_string(hide_password=False)
    report = measure_cases(CASES, REFERENCE, [2], duration_s=2.0, server_url=server, deep_n=8,
                           prefix=bench_prefix)

    names = set(scenarios([]))
    assert {(r.cases, r.scenario) for r in report.runs} == {(n, s) for n in (CASES, REFERENCE) for s in names}
    for run in report.runs:
        assert run.requests > 0, run
        assert run.non_2xx == 0 and run.socket_errors == 0, run
        assert set(run.statuses) == {"200"}, run  # every scenario's requests were valid and answered
        assert 0 < run.p50_ms <= run.p90_ms <= run.p99_ms, run
        assert run.requests_per_s > 0
    assert report.api_processes == 1
    assert [s["cases"] for s in report.seeds] == [CASES, REFERENCE]
    assert all(0 < s["open_cases"] < s["cases"] * 0.2 for s in report.seeds)  # a few % still open
    # The deep pages really were deep: real cursors that the API gave out, half way and further down the list.
    assert len(report.deep_positions) >= 4
    assert min(report.deep_positions) >= CASES * 0.1 and max(report.deep_positions) >= CASES * 0.9
    assert min(report.deep_positions) > PAGE_SIZE
    assert {p.scenario.split(" (")[0] for p in report.plans} == names  # sorts: one plan per sort order
    assert all("cases" in p.plan for p in report.plans)
    text_report = render(report, markdown=True)
    assert "deep_keyset" in text_report and "p99 ratio" in text_report

    # A second run finds the seed in place and re-uses it.
    again = seed(make_url(server).set(database=f"{bench_prefix}_{REFERENCE}").render_as_string(
        hide_password=False), REFERENCE)
    assert again.reused and again.cases == REFERENCE
