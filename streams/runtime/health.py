"""Health means progress: what /healthz (alive) and /readyz (serving) answer, decided purely.

A worker can look alive while it does nothing: an agent that crashed and was not restarted, a
recovery that never ends (faust-streaming #597, #651, #432), a partition whose input waits while
its applied offset stays put. The worker reports facts here (batches done, offsets applied, the
rebalance state, the input's end offsets) and ``judge`` turns them into an answer that an
orchestrator can act on: restart a worker that is not alive, route nothing to one that is not ready.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

TopicPartition = tuple[str, int]


class Phase(StrEnum):
    STARTING = "starting"  # no partitions assigned yet
    RECOVERING = "recovering"  # rebalancing, or restoring tables from their changelogs
    REWINDING = "rewinding"  # re-reading input offsets that were skipped (see input_ledger)
    PROCESSING = "processing"


@dataclass(frozen=True)
class HealthReport:
    alive: bool
    ready: bool
    phase: Phase
    problems: tuple[str, ...]  # why not alive / not ready, in plain words (no data)
    lag: int  # input messages waiting, over this worker's partitions
    stuck_partitions: tuple[str, ...]
    seconds_since_progress: float | None

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ok" if self.alive and self.ready else ("alive" if self.alive else "dead"),
            "alive": self.alive,
            "ready": self.ready,
            "phase": self.phase.value,
            "problems": list(self.problems),
            "lag": self.lag,
            "stuck_partitions": list(self.stuck_partitions),
            "seconds_since_progress": self.seconds_since_progress,
        }


@dataclass
class WorkerHealth:
    """Facts about progress, reported by the agent and the timers; judged on demand."""

    clock: Callable[[], float]  # monotonic seconds
    stuck_after_seconds: float = 120.0  # input waiting, nothing applied for this long: stuck
    recovery_timeout_seconds: float = 900.0  # rebalancing/recovering longer than this: stuck
    started_at: float = field(init=False)
    fatal: str | None = None  # why the agent died; the worker is on its way out
    _unsettled_since: float | None = None
    _last_progress: float | None = None
    _advanced_at: dict[TopicPartition, float] = field(default_factory=dict)
    _waiting_since: dict[TopicPartition, float] = field(default_factory=dict)
    _next_offsets: dict[TopicPartition, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    def died(self, reason: str) -> None:
        self.fatal = self.fatal or reason

    def settled(self, settled: bool) -> None:
        """Called whenever the worker looks at its rebalance/recovery state."""
        if settled:
            self._unsettled_since = None
        elif self._unsettled_since is None:
            self._unsettled_since = self.clock()

    def applied(self, next_offsets: Mapping[TopicPartition, int]) -> None:
        """The next offsets to apply after a batch (from the input ledger)."""
        self._last_progress = self.clock()
        self.known(next_offsets)

    def known(self, next_offsets: Mapping[TopicPartition, int]) -> None:
        """The next offsets to apply as the input ledger knows them, also from its store (the
        watchdog's check, batch or no batch). A partition no batch came from since the start,
        or since a rebalance, is judged from these, not from the group's committed offset,
        which can run ahead of what was applied; one another worker moved on is not stale."""
        now = self.clock()
        for tp, offset in next_offsets.items():
            if self._next_offsets.get(tp) != offset:
                self._next_offsets[tp] = offset
                self._advanced_at[tp] = now

    def judge(
        self,
        *,
        assigned: set[TopicPartition],
        end_offsets: Mapping[TopicPartition, int | None],
        positions: Mapping[TopicPartition, int | None],
        settled: bool,
        rewinding: bool,
    ) -> HealthReport:
        """``end_offsets``: the input's high watermarks; ``positions``: where the consumer reads,
        else where the log starts (used for partitions without a known applied offset)."""
        now = self.clock()
        self.settled(settled)
        if not settled:
            self._waiting_since.clear()  # a recovery is judged by its own timeout
        problems: list[str] = []
        stuck: list[str] = []
        lag = 0
        if self.fatal:
            problems.append(f"agent died: {self.fatal}")
        unsettled_for = now - self._unsettled_since if self._unsettled_since is not None else 0.0
        if not settled and unsettled_for > self.recovery_timeout_seconds:
            problems.append(f"rebalancing or recovering for {unsettled_for:.0f} s")
        for tp in sorted(assigned):
            end = end_offsets.get(tp)
            applied = self._next_offsets.get(tp, positions.get(tp))
            if end is None or applied is None or end <= applied:
                self._waiting_since.pop(tp, None)  # caught up: nothing is waiting
                continue
            lag += end - applied
            if not settled:
                continue
            # Stuck: input has waited, and the applied offset has not moved, for too long.
            waiting_since = self._waiting_since.setdefault(tp, now)
            since = max(waiting_since, self._advanced_at.get(tp, waiting_since))
            if now - since > self.stuck_after_seconds:
                stuck.append(f"{tp[0]}[{tp[1]}]")
        if stuck:
            problems.append(
                f"input waiting but nothing applied for over {self.stuck_after_seconds:g} s on "
                + ", ".join(stuck)
            )
        alive = not problems
        if not assigned:
            phase = Phase.STARTING
        elif not settled:
            phase = Phase.RECOVERING
        elif rewinding:
            phase = Phase.REWINDING
        else:
            phase = Phase.PROCESSING
        ready = alive and phase is Phase.PROCESSING
        return HealthReport(
            alive=alive,
            ready=ready,
            phase=phase,
            problems=tuple(problems),
            lag=lag,
            stuck_partitions=tuple(stuck),
            seconds_since_progress=(
                round(now - self._last_progress, 3) if self._last_progress is not None else None
            ),
        )
