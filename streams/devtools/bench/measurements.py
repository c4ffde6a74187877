"""What is read about a contender process from /proc, and how its progress becomes figures."""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
POLL_SECONDS = 0.1


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def peak_rss_bytes(pid: int) -> int:
    """The process's high-water resident set size (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def dir_bytes(path: Path) -> int:
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())


@dataclass(frozen=True)
class Throughput:
    events: int
    seconds: float  # wall time from the first processed input seen to the last
    cpu_seconds: float  # the process's CPU time over the same span
    start_to_first: float  # process start to the first processed input seen
    peak_rss_bytes: int

    @property
    def too_fast_to_time(self) -> bool:
        """Done within one poll (a tiny backlog on the ceiling): the rates are lower bounds."""
        return self.seconds < POLL_SECONDS

    @property
    def events_per_second(self) -> float:
        return self.events / max(self.seconds, POLL_SECONDS)

    @property
    def events_per_cpu_second(self) -> float:
        return self.events / max(self.cpu_seconds, 1 / CLOCK_TICKS)  # /proc counts in ticks


def cpu_seconds_of(pids: Sequence[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


async def measure(
    progress: Callable[[], Awaitable[int | None]],
    pids: Sequence[int],
    started_at: float,
    events: int,
    *,
    timeout: float,
    alive: Callable[[], bool],
) -> Throughput:
    """Poll ``progress`` (inputs processed so far) until it reaches ``events``.

    The same poll interval for every contender, so the first/last resolution is the same too.
    A contender of several processes (workers of one group) counts the CPU time of all of them,
    and the sum of their peak RSS.
    """
    deadline = time.monotonic() + timeout
    first_at: float | None = None
    first_cpu = 0.0
    while True:
        count = await progress() or 0
        now = time.monotonic()
        if count > 0 and first_at is None:
            first_at, first_cpu = now, cpu_seconds_of(pids)
        if count >= events and first_at is not None:
            return Throughput(
                events=events,
                seconds=now - first_at,
                cpu_seconds=cpu_seconds_of(pids) - first_cpu,
                start_to_first=first_at - started_at,
                peak_rss_bytes=sum(peak_rss_bytes(pid) for pid in pids),
            )
        if not alive():
            raise RuntimeError(f"a process of {pids} exited after {count} of {events} inputs")
        if now > deadline:
            raise RuntimeError(f"{count} of {events} inputs processed in {timeout:.0f} s")
        await asyncio.sleep(POLL_SECONDS)


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
