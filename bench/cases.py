"""The case API at a city's scale: wrk against one real API process on a million cases, and on 10,000.

What a dispatch centre does all day is list, filter and page the case queue. This seeds PostgreSQL
on the server (bench.cases_seed), starts `streetwatch api` (one uvicorn process) on it, and loads it
with wrk, a real HTTP load tool, one scenario at a time and at several connection counts. The same
requests against a small database in the same run make the figure a ratio (1M against 10k p99),
since absolute latencies say more about the machine than about the queries.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel
from sqlalchemy import event, text

from api.db import make_engine, session_factory
from api.orm import CaseRow
from api.services.queries import CaseFinder, CaseQuery, cursor_after
from bench.cases_seed import CAMERAS, DEFAULT_SERVER, GRIDS, PROBLEMS, SeedInfo, ensure_database, explain, seed
from bench.common import fmt_num, table
from bench.service import running_api

PAGE_SIZE = 50
OPEN = ["new", "confirmed", "dispatched", "reopened"]
SORTS = ["-priority", "deadline", "-updated_at", "created_at"]
DEEP_CURSORS = 32
Progress = Callable[[str], None]


class BenchToolError(RuntimeError):
    """A tool the benchmark needs (wrk) is missing or failed; the message is one line for the user."""


class WrkRun(BaseModel):
    """One wrk run: one scenario at one connection count for a fixed duration."""

    cases: int  # in the database loaded
    scenario: str
    connections: int
    duration_s: float
    requests: int
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    statuses: dict[str, int]  # HTTP status -> responses, counted by the Lua script
    non_2xx: int
    socket_errors: int


class PlanCheck(BaseModel):
    scenario: str
    seq_scan: bool
    sort: bool  # a Sort node: rows sorted after fetching, not read in index order
    execution: str
    plan: str


class CasesReport(BaseModel):
    cases: int
    reference_cases: int
    api_processes: int
    machine: str
    seeds: list[dict[str, Any]]
    deep_positions: list[int]  # where the deep-page cursors start, in rows from the top of the default list
    runs: list[WrkRun]
    plans: list[PlanCheck]


def scenarios(deep: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each scenario's requests (query parameters); the Lua script rotates through them."""
    first = {"cursor": "", "page_size": PAGE_SIZE}
    return {
        "first_page": [first],
        "total_page1": [{"page": 1, "page_size": PAGE_SIZE}],  # what the dashboard sends: counts the total
        "open": [{**first, "status": OPEN}],
        "problem": [{**first, "class": name} for name, _ in PROBLEMS],
        "camera": [{**first, "camera_id": f"cam-{c:03d}"} for c in range(1, CAMERAS + 1, 7)],
        "grid": [{**first, "grid": f"grid-{g:02d}"} for g in range(1, GRIDS + 1)],
        "overdue": [{**first, "overdue": "true"}],
        "sorts": [{**first, "sort": s} for s in SORTS],
        "deep_keyset": [{"cursor": c, "page_size": PAGE_SIZE} for c in deep],
    }


def path_of(params: dict[str, Any]) -> str:
    return "/api/cases?" + urlencode(params, doseq=True)


def query_of(params: dict[str, Any]) -> CaseQuery:
    overdue = params.get("overdue")
    return CaseQuery(status=tuple(params.get("status", ())), problem=params.get("class"),
                     camera_id=params.get("camera_id"), grid=params.get("grid"),
                     overdue=None if overdue is None else overdue == "true", sort=params.get("sort", "-created_at"))


def deep_cursors(db_url: str, base_url: str, headers: dict[str, str], n: int) -> tuple[list[str], list[int]]:
    """Real cursors deep in the default list: rows picked from 10% to the end, then each page after them asked
    of the API, whose `next_cursor` is kept (a cursor the API itself gave out, far down the list)."""
    engine = make_engine(db_url, statement_timeout_s=300)
    sessions = session_factory(engine)
    try:
        with sessions() as session:
            total = session.execute(text("SELECT count(*) FROM cases")).scalar_one()
            span = max(1, total - 2 * PAGE_SIZE)
            positions = sorted({max(1, int(span * (0.1 + 0.9 * k / max(1, n - 1)))) for k in range(n)})
            ranked = session.execute(text(
                "SELECT id, rn FROM (SELECT id, row_number() OVER (ORDER BY created_at DESC, id DESC) AS rn "
                "FROM cases) AS s WHERE rn = ANY(:positions)"), {"positions": positions}).all()
            rows = {r.id: r for r in session.query(CaseRow).filter(CaseRow.id.in_([i for i, _ in ranked]))}
    finally:
        engine.dispose()
    cursors, starts = [], []
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        for case_id, rn in sorted(ranked, key=lambda r: r[1]):
            reply = client.get("/api/cases", params={"cursor": cursor_after(rows[case_id], "-created_at"),
                                                     "page_size": PAGE_SIZE})
            reply.raise_for_status()
            page = reply.json()
            if page["next_cursor"]:
                cursors.append(page["next_cursor"])
                starts.append(int(rn) + PAGE_SIZE)
    return cursors, starts


LUA = """
local paths = {paths}
local token = {token}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {{}}; turn = 0 end
function request()
  turn = turn + 1
  return wrk.format("GET", paths[(turn % #paths) + 1], {{["Authorization"] = "Bearer " .. token}})
end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {{}}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end
  end
  io.write("STATUSES")
  for k, v in pairs(total) do io.write(" " .. k .. "=" .. v) end
  io.write("\\n")
end
"""


def lua_script(paths: list[str], token: str) -> str:
    quoted = "{" + ", ".join(json.dumps(p) for p in paths) + "}"
    return LUA.format(paths=quoted, token=json.dumps(token))


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/s, the latency distribution (--latency), errors and the Lua script's status counts."""
    try:
        percentiles = {int(p): _ms(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", output, re.M)}
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
        requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
        status_line = re.search(r"^STATUSES(.*)$", output, re.M).group(1)  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        raise BenchToolError(f"could not read wrk's output: {output.strip()[-300:]!r}") from None
    statuses = dict(item.split("=") for item in status_line.split())
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {"requests": requests, "requests_per_s": rps, "p50_ms": percentiles[50], "p90_ms": percentiles[90],
            "p99_ms": percentiles[99], "statuses": {k: int(v) for k, v in statuses.items()},
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
            "socket_errors": sum(int(x) for x in socket.groups()) if socket else 0}


def run_wrk(base_url: str, script: Path, connections: int, duration_s: float) -> dict[str, Any]:
    exe = shutil.which("wrk")
    if exe is None:
        raise BenchToolError("wrk is not installed (apt-get install -y wrk, or ./dev.sh)")
    threads = max(1, min(connections, 2))
    command = [exe, "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{duration_s:g}s",
               "--timeout", "30s", "-s", str(script), f"{base_url}/api/cases"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 60, check=False)
    if done.returncode != 0:
        raise BenchToolError(f"wrk failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-300:]}")
    return parse_wrk(done.stdout)


def capture_sql(db_url: str, params: dict[str, Any]) -> list[tuple[str, Any]]:
    """The statements the API's CaseFinder sends for one request, exactly, with their parameters."""
    engine = make_engine(db_url)
    seen: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _keep(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    finder, now = CaseFinder(session_factory(engine)), datetime.now(UTC)
    try:
        if "cursor" in params:
            finder.after(query_of(params), params["cursor"] or None, int(params["page_size"]), now)
        else:
            finder.page(query_of(params), 0, int(params["page_size"]), now)
    finally:
        engine.dispose()
    return [(s, p) for s, p in seen if "FROM cases" in s]


def check_plans(db_url: str, plan: dict[str, list[dict[str, Any]]]) -> list[PlanCheck]:
    """Each scenario's statements explained once per shape (its filters and sort), on the seeded database."""
    checks, seen = [], set()
    for name, requests in plan.items():
        # A cursor with a value is another statement (a row comparison) than the first page's empty one.
        shapes = {(tuple(sorted(r)), r.get("sort"), bool(r.get("cursor"))): r for r in requests}
        for shape, request in shapes.items():
            if shape in seen:
                continue
            seen.add(shape)
            label = f"{name} ({request['sort']})" if "sort" in request else name
            for statement, parameters in capture_sql(db_url, request):
                checks.append(PlanCheck(scenario=label, **explain(db_url, statement, parameters)))
    return checks


def load_database(seed_info: SeedInfo, connection_counts: list[int], duration_s: float, deep_n: int,
                  progress: Progress) -> tuple[list[WrkRun], list[int], dict[str, list[dict[str, Any]]]]:
    """Start one API process on the seeded database and run every scenario at every connection count."""
    runs: list[WrkRun] = []
    with running_api(database_url=seed_info.url) as api, tempfile.TemporaryDirectory() as folder:
        deep, starts = deep_cursors(seed_info.url, api.base_url, api.auth(), deep_n)
        plan = scenarios(deep)
        for name, requests in plan.items():
            script = Path(folder) / f"{name}.lua"
            script.write_text(lua_script([path_of(r) for r in requests], api.token), encoding="utf-8")
            for connections in connection_counts:
                figures = run_wrk(api.base_url, script, connections, duration_s)
                progress(f"{seed_info.cases:>9,} cases  {name:<12} c={connections:<3} "
                         f"{figures['requests_per_s']:8.1f} req/s  p50 {figures['p50_ms']:7.2f} ms  "
                         f"p99 {figures['p99_ms']:7.2f} ms")
                runs.append(WrkRun(cases=seed_info.cases, scenario=name, connections=connections,
                                   duration_s=duration_s, **figures))
    return runs, starts, plan


def measure_cases(cases: int = 1_000_000, reference_cases: int = 10_000, connection_counts: list[int] | None = None,
                  duration_s: float = 5.0, server_url: str = DEFAULT_SERVER, deep_n: int = DEEP_CURSORS,
                  progress: Progress | None = None, prefix: str = "streetwatch_bench") -> CasesReport:
    """Seed (or re-use) databases `{prefix}_{cases}` and `{prefix}_{reference_cases}`, load each with wrk."""
    say = progress or (lambda _m: None)
    counts = connection_counts or [1, 8, 32]
    if shutil.which("wrk") is None:
        raise BenchToolError("wrk is not installed (apt-get install -y wrk, or ./dev.sh)")
    seeds, runs, starts, plans = [], [], [], []
    for n in (cases, reference_cases):
        info = seed(ensure_database(server_url, f"{prefix}_{n}"), n, say)
        seeds.append({"cases": info.cases, "open_cases": info.open_cases, "reused": info.reused,
                      "seconds": round(info.seconds, 1), "database": info.url.rsplit("/", 1)[-1]})
        done, where, plan = load_database(info, counts, duration_s, deep_n, say)
        runs += done
        if n == cases:
            starts = where
            say("EXPLAIN (ANALYZE, BUFFERS) of each scenario's statements")
            plans = check_plans(info.url, plan)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    machine = f"{os.cpu_count()} cores, load {load:.2f} at the end; wrk, the API and PostgreSQL share them"
    return CasesReport(cases=cases, reference_cases=reference_cases, api_processes=1, machine=machine,
                       seeds=seeds, deep_positions=starts, runs=runs, plans=plans)


def render(report: CasesReport, markdown: bool) -> str:
    by_key = {(r.cases, r.scenario, r.connections): r for r in report.runs}
    rows = []
    for r in (r for r in report.runs if r.cases == report.cases):
        ref = by_key.get((report.reference_cases, r.scenario, r.connections))
        ratio = r.p99_ms / ref.p99_ms if ref and ref.p99_ms else None
        rows.append([r.scenario, str(r.connections), f"{r.requests_per_s:.0f}", fmt_num(r.p50_ms), fmt_num(r.p99_ms),
                     f"{ref.requests_per_s:.0f}" if ref else "-", fmt_num(ref.p99_ms) if ref else "-",
                     fmt_num(ratio)])
    header = ["scenario", "conns", f"req/s ({report.cases:,})", "p50 ms", "p99 ms",
              f"req/s ({report.reference_cases:,})", "p99 ms (ref)", "p99 ratio"]
    plans = [[p.scenario, "yes" if p.seq_scan else "no", "yes" if p.sort else "no", p.execution]
             for p in report.plans]
    deep = report.deep_positions
    lines = [f"One API process (uvicorn, one worker); {report.machine}.",
             "Seeds: " + "; ".join(f"{s['cases']:,} cases ({s['open_cases']:,} open) in {s['database']}, "
                                   f"{'re-used' if s['reused'] else 'seeded'} in {s['seconds']} s"
                                   for s in report.seeds),
             f"Deep keyset pages start {min(deep):,} to {max(deep):,} rows down the list." if deep else "",
             "", table(header, rows, markdown)]
    if plans:
        lines += ["", table(["scenario", "seq scan", "sort", "execution"], plans, markdown)]
    return "\n".join(lines)
