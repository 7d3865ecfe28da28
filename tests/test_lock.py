"""deploy/requirements.lock agrees with pyproject.toml, and the Dockerfile installs from it.

The lock is what the images run; pyproject.toml is what the code asks for. A dependency added or
raised in pyproject without regenerating the lock (command on the lock's first lines) fails here,
before an image is built from a lock that lacks it.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "deploy" / "requirements.lock"
CONSTRAINTS = ROOT / "deploy" / "lock-constraints.txt"
IMAGE_EXTRAS = ("triton",)  # the extras the Dockerfile installs beside `dependencies`
# What the images are: Linux x86_64, CPython 3.11 (the lock is compiled for exactly this).
IMAGE_ENV = {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
             "python_version": "3.11", "python_full_version": "3.11.11", "implementation_name": "cpython",
             "platform_python_implementation": "CPython", "os_name": "posix"}


def read_lock(text: str) -> dict[str, tuple[Version, int]]:
    """Package -> (pinned version, number of hashes), from a pip requirements file with `==` pins and hashes."""
    pins: dict[str, tuple[Version, int]] = {}
    name = ""
    for line in text.splitlines():
        if match := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*\\?$", line):
            name = canonicalize_name(match[1])
            assert name not in pins, f"{name} pinned twice"
            pins[name] = (Version(match[2]), 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            pins[name] = (pins[name][0], pins[name][1] + 1)
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(f"unexpected line in the lock: {line!r}")
    return pins


def image_requirements(pyproject: dict) -> list[Requirement]:  # type: ignore[type-arg]
    project = pyproject["project"]
    extras = [r for extra in IMAGE_EXTRAS for r in project["optional-dependencies"][extra]]
    return [Requirement(r) for r in project["dependencies"] + extras]


def disagreements(pins: dict[str, tuple[Version, int]], requirements: list[Requirement]) -> list[str]:
    """Every requirement (and the extras it names, where the package's metadata is at hand) the lock fails."""
    problems = []
    for req in requirements:
        if req.marker and not req.marker.evaluate(IMAGE_ENV):
            continue
        name = canonicalize_name(req.name)
        if name not in pins:
            problems.append(f"{req}: not in the lock")
            continue
        if not req.specifier.contains(pins[name][0], prereleases=True):
            problems.append(f"{req}: the lock pins {pins[name][0]}")
        if req.extras:
            problems += [f"{req}: {p}" for p in disagreements(pins, _extra_requirements(req, pins[name][0]))]
    return problems


def _extra_requirements(req: Requirement, pinned: Version) -> list[Requirement]:
    """What `pkg[extra]` adds, from the installed package's metadata when it is the pinned release (else none)."""
    try:
        if Version(metadata.version(req.name)) != pinned:
            return []
        declared = metadata.requires(req.name) or []
    except metadata.PackageNotFoundError:
        return []
    added = []
    for line in declared:
        dep = Requirement(line)
        if dep.marker and any(dep.marker.evaluate({**IMAGE_ENV, "extra": e}) for e in req.extras) \
                and not dep.marker.evaluate({**IMAGE_ENV, "extra": ""}):
            dep.marker = None
            added.append(dep)
    return added


@pytest.fixture(scope="module")
def pins() -> dict[str, tuple[Version, int]]:
    return read_lock(LOCK.read_text(encoding="utf-8"))


def test_every_image_dependency_is_pinned_within_its_range(pins: dict[str, tuple[Version, int]]):
    requirements = image_requirements(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8")))
    assert disagreements(pins, requirements) == []
    assert {"ultralytics", "torch", "tritonclient", "geventhttpclient", "uvloop", "psycopg-binary"} <= set(pins)


def test_the_check_catches_a_range_the_lock_misses(pins: dict[str, tuple[Version, int]]):
    numpy = pins["numpy"][0]
    found = disagreements(pins, [Requirement(f"numpy>{numpy}"), Requirement("not-in-the-lock>=1"),
                                 Requirement("onnx; sys_platform == 'win32'")])
    assert found == [f"numpy>{numpy}: the lock pins {numpy}", "not-in-the-lock>=1: not in the lock"]


def test_every_pin_has_hashes_and_the_constraints_hold(pins: dict[str, tuple[Version, int]]):
    assert [name for name, (_, hashes) in pins.items() if hashes == 0] == []
    held = [Requirement(line) for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    assert held and disagreements(pins, held) == []
    assert "uv pip compile pyproject.toml" in LOCK.read_text(encoding="utf-8").splitlines()[1]  # how to regenerate


def test_the_dockerfile_installs_from_the_lock():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    commands = re.sub(r"\\\n", " ", text)
    installs = [c for c in re.findall(r"pip install[^;&\n]*", commands) if "--no-deps ." not in c]
    assert installs, "no pip install of the dependencies"
    for install in installs:  # each path: the lock hash-checked, or its versions as constraints
        assert ("--require-hashes" in install and "-r deploy/requirements.lock" in install) \
            or "-c /tmp/constraints.txt" in install, install
    assert "COPY deploy/requirements.lock" in text and "deploy/requirements.lock > /tmp/constraints.txt" in text
    for extra in IMAGE_EXTRAS:
        assert f"['optional-dependencies']['{extra}']" in text
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignored.index("!deploy/requirements.lock") > ignored.index("deploy")  # the lock is in the build context
