"""Schemathesis against the API's own OpenAPI schema, over a real server, logged in and not: thousands of
generated requests, no 5xx, every answer's status code, headers and body as the schema says.

Its command line runs the checks (the well-trodden path); a fixed seed and deterministic generation make
a run repeatable, and --max-examples bounds it. The NDJSON report is kept under var/ for the record.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from models.registry import PROJECT_ROOT
from tests.api_fixture import Api
from tests.helpers import make_event

REPORTS = PROJECT_ROOT / "var" / "schemathesis"
SEED = 20261129
EXAMPLES = 60  # per operation and caller; the coverage and stateful phases add their own


def _fuzz(api: Api, caller: str, headers: dict[str, str]) -> tuple[int, int, str]:
    """(requests made, server errors, output) of one schemathesis run."""
    report = REPORTS / f"{caller}.ndjson"
    # The schema is read here, with a patient timeout, and handed over as a file: schemathesis gives its own
    # schema download 10 s, which a busy CI machine can miss.
    schema = REPORTS / "openapi.json"
    schema.write_text(httpx.get(f"{api.base_url}/openapi.json", timeout=120).text, encoding="utf-8")
    binary = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    command = [
        binary, "run", str(schema), "--url", api.base_url, "--checks", "all", "--exclude-path", "/api/live",
        # Schema-valid data the API refuses on its own rules (a cursor it never gave out, a weak password,
        # disabling one's own account) gets a documented 4xx: not a schema violation, so not checked.
        "--exclude-checks", "positive_data_acceptance",
        "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--generation-deterministic",
        "--workers", "1",
        "--request-timeout", "30", "--suppress-health-check", "all", "--no-color",
        "--report", "ndjson", "--report-ndjson-path", str(report),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    requests, server_errors = 0, 0
    for line in report.read_text().splitlines():
        for status in _statuses(json.loads(line)):
            requests += 1
            server_errors += status >= 500
    return requests, server_errors, done.stdout[-6000:] + done.stderr[-2000:] if done.returncode else ""


def _statuses(node: object) -> list[int]:
    """Every response status recorded anywhere in one NDJSON event."""
    found: list[int] = []
    if isinstance(node, dict):
        response = node.get("response")
        if isinstance(response, dict) and isinstance(response.get("status_code"), int):
            found.append(response["status_code"])
        for value in node.values():
            if isinstance(value, dict | list):
                found += _statuses(value)
    elif isinstance(node, list):
        for value in node:
            found += _statuses(value)
    return found


def test_schemathesis_finds_no_server_error_and_no_answer_unlike_the_schema(make_api):  # type: ignore
    api: Api = make_api(serve=True, verification={"enabled": False})
    api.publish_and_wait([make_event("cam-a", f"zone-{i}", "illegal_parking_motor", float(i)) for i in range(3)])
    REPORTS.mkdir(parents=True, exist_ok=True)
    anonymous = _fuzz(api, "anonymous", {})
    admin = _fuzz(api, "admin", api.auth("admin"))
    summary = {"anonymous": anonymous[:2], "admin": admin[:2]}
    (REPORTS / "summary.json").write_text(json.dumps(summary) + "\n")
    assert anonymous[2] == "" and admin[2] == "", anonymous[2] + admin[2]
    assert anonymous[1] == 0 and admin[1] == 0, summary
    assert anonymous[0] + admin[0] >= 2000, summary
