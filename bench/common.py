"""What every benchmark shares: medians with their spread, the machine they ran on, pinning, tables."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import statistics
import subprocess
from collections.abc import Iterable, Iterator, Sequence

from pydantic import BaseModel


class Stat(BaseModel):
    """A figure measured `n` times: the median, and the lowest and highest run (the spread)."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Stat:
        xs = list(values)
        if not xs:
            raise ValueError("no measurement")
        return cls(median=statistics.median(xs), low=min(xs), high=max(xs), n=len(xs))

    @property
    def spread(self) -> float:
        """(high - low) / median: how much the runs disagree, 0 for a single run."""
        return (self.high - self.low) / self.median if self.median else 0.0

    def fmt(self, digits: int = 3, scale: float = 1.0) -> str:
        """`median (low-high)`, the range left out for a single run."""
        m, lo, hi = self.median * scale, self.low * scale, self.high * scale
        if self.n == 1:
            return f"{m:.{digits}f}"
        return f"{m:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank value at `q` (0..1) of `values`, one of them: p99 of 100 latencies is the 99th slowest."""
    if not values:
        raise ValueError("no measurement")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Machine(BaseModel):
    """Where figures were taken: absolute numbers mean little elsewhere, ratios travel."""

    cpu: str
    cores: int  # os.cpu_count()
    cores_usable: int  # this process's CPU affinity
    load_1min: float | None  # other jobs on the machine when the run started
    python: str
    pyav: str
    pyav_ffmpeg: str  # the FFmpeg libraries PyAV is built with
    ffmpeg: str | None  # the `ffmpeg` program used as the reference; None when not installed

    @classmethod
    def current(cls) -> Machine:
        import av

        return cls(
            cpu=_cpu_model(),
            cores=os.cpu_count() or 1,
            cores_usable=len(_affinity()) if _affinity() else (os.cpu_count() or 1),
            load_1min=os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            python=platform.python_version(),
            pyav=av.__version__,
            pyav_ffmpeg=str(getattr(av, "ffmpeg_version_info", "unknown")),
            ffmpeg=ffmpeg_version(),
        )

    def describe(self) -> str:
        load = f", load {self.load_1min:.2f} at start" if self.load_1min is not None else ""
        ref = f"ffmpeg {self.ffmpeg}" if self.ffmpeg else "no ffmpeg installed"
        return (f"{self.cpu}, {self.cores_usable} of {self.cores} cores usable{load}; Python {self.python}, "
                f"PyAV {self.pyav} (FFmpeg {self.pyav_ffmpeg}); reference {ref}")


def ffmpeg_version() -> str | None:
    exe = shutil.which("ffmpeg")
    if exe is None:
        return None
    try:
        first = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True,
                               timeout=30, check=False).stdout.split("\n", 1)[0]
    except (OSError, subprocess.SubprocessError):
        return None
    parts = first.split()
    return parts[2] if len(parts) > 2 and parts[0] == "ffmpeg" else first.strip() or None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _affinity() -> set[int]:
    getter = getattr(os, "sched_getaffinity", None)
    return set(getter(0)) if getter else set()


def default_cpu() -> int | None:
    """The CPU to pin to: the lowest this process may use; None where pinning is not supported."""
    cpus = _affinity()
    return min(cpus) if cpus and hasattr(os, "sched_setaffinity") else None


@contextlib.contextmanager
def pinned(cpu: int | None) -> Iterator[int | None]:
    """Run the body on one CPU only (children started inside inherit it), then restore the old set.

    FFmpeg's automatic thread count follows the affinity, so a decoder opened inside uses one
    thread and CPU seconds measured inside are seconds of one core. None: no pinning.
    """
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        yield None
        return
    before = os.sched_getaffinity(0)
    if cpu not in before:
        raise ValueError(f"cannot pin to CPU {cpu}: this process may use CPUs {sorted(before)}")
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> str:
    """Rows as a markdown table, or as plain columns for a terminal."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join("{:<" + str(w) + "}" for w in widths)
    return "\n".join(fmt.format(*r).rstrip() for r in [header, *rows])


def fmt_num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
