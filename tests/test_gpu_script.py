"""deploy/gpu-bench.sh cannot run here (no GPU), but it must stay runnable: valid bash, and every streetwatch
command and option it uses exists, so a renamed option fails CI rather than the next GPU session."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app

SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "gpu-bench.sh"


def _commands() -> list[list[str]]:
    joined = re.sub(r"\\\n\s*", " ", SCRIPT.read_text(encoding="utf-8"))
    found = []
    for line in joined.splitlines():
        line = line.split("|")[0].strip()
        if line.startswith("#") or "streetwatch " not in line:
            continue
        words = shlex.split(line[line.index("streetwatch "):], comments=True)
        found.append(words[1:])
    return found


def test_the_script_is_valid_bash() -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, check=False).returncode == 0


def test_every_command_and_option_the_script_uses_exists() -> None:
    commands = _commands()
    assert {c[0] for c in commands} >= {"models", "export", "bench", "eval"}
    for words in commands:
        path = [w for w in words[:2] if not w.startswith(("-", "$", '"'))]
        if path[:1] == ["bench"] or path[:1] == ["export"] or path[:1] == ["eval"]:
            path = path[:1]
        result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0, (words, result.output)
        for option in (w for w in words if w.startswith("--")):
            assert option in result.output, f"{' '.join(path)}: no option {option}"
